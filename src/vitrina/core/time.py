"""UTC time helpers: everything inside is timezone-aware UTC; output is RFC 3339 with ``Z``."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Interpret a naive value as UTC (how the database hands them back) and convert aware ones."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def to_rfc3339(value: datetime | None) -> str | None:
    if value is None:
        return None
    return as_utc(value).isoformat(timespec="seconds" if value.microsecond == 0 else "microseconds").replace(
        "+00:00", "Z"
    )


def end_of_day(day: date) -> datetime:
    """The last instant of a UTC calendar day (a snapshot ``?date=`` means the close of that day)."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC) - timedelta(microseconds=1)


def unix_seconds(value: datetime) -> int:
    return int(as_utc(value).timestamp())
