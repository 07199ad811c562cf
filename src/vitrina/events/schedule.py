"""The retry schedule: how long to wait after each failed delivery attempt.

``VITRINA_WEBHOOK_RETRY_SCHEDULE`` is a comma-separated list of delays; each is seconds (``5``, ``0.5``) or a
number with a unit (``5s``, ``5m``, ``2h``, ``1d``). The default, about 5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
10 h, gives an endpoint a day and a half to recover; after the last delay's attempt fails the delivery is
``failed`` and waits for a manual retry. Tests use a schedule of seconds.
"""

from __future__ import annotations

import re
from datetime import timedelta

from vitrina.config import DEFAULT_RETRY_SCHEDULE

DEFAULT = tuple(timedelta(seconds=s) for s in DEFAULT_RETRY_SCHEDULE)
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_DELAY = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhd]?)$")
MAX_DELAY = timedelta(days=7)


def parse_schedule(text: str) -> tuple[timedelta, ...]:
    """Parse a schedule; an empty text means "no retries" (one attempt, then ``failed``)."""
    delays = []
    for raw in text.split(","):
        part = raw.strip().lower()
        if not part:
            continue
        match = _DELAY.match(part)
        if match is None:
            raise ValueError(f"retry delay {raw.strip()!r} is not a number of seconds or a number with s/m/h/d")
        delay = timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])
        if delay > MAX_DELAY:
            raise ValueError(f"retry delay {raw.strip()!r} is longer than {MAX_DELAY.days} days")
        delays.append(delay)
    return tuple(delays)


def next_delay(schedule: tuple[timedelta, ...], failed_attempts: int) -> timedelta | None:
    """The wait before the next attempt after ``failed_attempts`` failures (≥ 1), or None when exhausted."""
    if failed_attempts < 1:
        raise ValueError("failed_attempts counts the failures so far and starts at 1")
    index = failed_attempts - 1
    return schedule[index] if index < len(schedule) else None


def max_attempts(schedule: tuple[timedelta, ...]) -> int:
    """The first attempt plus one per delay."""
    return len(schedule) + 1
