"""Fan-out: turn committed outbox events into one delivery per matching subscription.

One worker at a time holds the cursor row (``FOR UPDATE SKIP LOCKED``: the others skip fan-out and go on
delivering). Reading "every event after ``high_water``" alone would lose events on PostgreSQL: ``seq`` is
taken at INSERT and becomes visible at COMMIT, so a transaction holding ``seq`` 10 may commit after one
holding 11 was read. The missing numbers below the high-water mark are kept as *gaps* (ranges with the time
they were first missed) and looked up again on every pass until their events appear, or until they are older
than ``gap_timeout``, far longer than any transaction that emits events; a rolled-back transaction's numbers
never appear and simply expire. A late event is therefore delivered, at worst, out of order, never lost.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, insert, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from vitrina.core.ids import new_id
from vitrina.core.models import OutboxEvent
from vitrina.core.time import utcnow
from vitrina.events import matching
from vitrina.events.models import ACTIVE, PENDING, FanoutCursor, WebhookDelivery, WebhookSubscription
from vitrina.events.service import payload_bytes

log = logging.getLogger(__name__)

CURSOR_ID = 1
DEFAULT_BATCH = 1000
DEFAULT_GAP_TIMEOUT = timedelta(minutes=10)
MAX_GAP_RANGES = 1000


@dataclass(slots=True)
class Gap:
    low: int
    high: int
    seen: datetime

    def as_json(self) -> list[Any]:
        return [self.low, self.high, self.seen.isoformat()]

    @classmethod
    def of(cls, raw: Sequence[Any]) -> Gap:
        return cls(int(raw[0]), int(raw[1]), datetime.fromisoformat(str(raw[2])))


def fan_out(session: Session, *, batch: int = DEFAULT_BATCH, gap_timeout: timedelta = DEFAULT_GAP_TIMEOUT) -> int:
    """One pass: queue deliveries for up to ``batch`` new events plus any late ones. Returns events read
    (0 when there was nothing, or another worker holds the cursor)."""
    cursor = session.scalar(select(FanoutCursor).where(FanoutCursor.id == CURSOR_ID)
                            .with_for_update(skip_locked=True))
    if cursor is None:
        if session.get(FanoutCursor, CURSOR_ID) is None:  # a database migrated before any event existed
            session.add(FanoutCursor(id=CURSOR_ID, high_water=0, gaps={"ranges": []}))
            session.flush()
        return 0
    now = utcnow()
    gaps = [Gap.of(raw) for raw in (cursor.gaps or {}).get("ranges", [])]
    late = _late_events(session, gaps)
    fresh = list(session.scalars(select(OutboxEvent).where(OutboxEvent.seq > cursor.high_water)
                                 .order_by(OutboxEvent.seq).limit(batch)))
    remaining = _remove_found(gaps, [e.seq for e in late])
    expected = cursor.high_water + 1
    for event in fresh:
        if event.seq > expected:
            remaining.append(Gap(expected, event.seq - 1, now))
        expected = event.seq + 1
    remaining = _expire(remaining, now - gap_timeout)
    if not late and not fresh and len(remaining) == len(gaps):
        return 0  # nothing new: leave the row alone
    _queue_deliveries(session, late + fresh, now)
    if fresh:
        cursor.high_water = fresh[-1].seq
    cursor.gaps = {"ranges": [g.as_json() for g in remaining]}
    cursor.updated_at = now
    return len(late) + len(fresh)


def pending_work(session: Session) -> bool:
    """A cheap read: is there anything for ``fan_out`` to do (new events, or gaps to look into)?"""
    cursor = session.get(FanoutCursor, CURSOR_ID)
    if cursor is None or (cursor.gaps or {}).get("ranges"):
        return True
    newest = session.scalar(select(OutboxEvent.seq).order_by(OutboxEvent.seq.desc()).limit(1))
    return newest is not None and newest > cursor.high_water


def _late_events(session: Session, gaps: list[Gap]) -> list[OutboxEvent]:
    if not gaps:
        return []
    within = or_(*[and_(OutboxEvent.seq >= g.low, OutboxEvent.seq <= g.high) for g in gaps])
    return list(session.scalars(select(OutboxEvent).where(within).order_by(OutboxEvent.seq)))


def _remove_found(gaps: list[Gap], found: list[int]) -> list[Gap]:
    """Split the ranges around the sequence numbers that turned up."""
    if not found:
        return gaps
    present = set(found)
    result: list[Gap] = []
    for gap in gaps:
        start = gap.low
        for seq in sorted(s for s in present if gap.low <= s <= gap.high):
            if seq > start:
                result.append(Gap(start, seq - 1, gap.seen))
            start = seq + 1
        if start <= gap.high:
            result.append(Gap(start, gap.high, gap.seen))
    return result


def _expire(gaps: list[Gap], cutoff: datetime) -> list[Gap]:
    kept = [g for g in gaps if g.seen >= cutoff]
    if len(kept) > MAX_GAP_RANGES:
        log.warning("outbox fan-out: %d open gaps, forgetting the oldest", len(kept))
        kept = sorted(kept, key=lambda g: g.seen)[-MAX_GAP_RANGES:]
    return sorted(kept, key=lambda g: g.low)


def _queue_deliveries(session: Session, events: list[OutboxEvent], now: datetime) -> int:
    if not events:
        return 0
    organizations = {e.organization_id for e in events}
    by_org: dict[str, list[WebhookSubscription]] = defaultdict(list)
    for subscription in session.scalars(select(WebhookSubscription).where(
            WebhookSubscription.organization_id.in_(organizations), WebhookSubscription.status == ACTIVE)):
        by_org[subscription.organization_id].append(subscription)
    rows: list[dict[str, Any]] = []
    for event in events:
        payload: str | None = None
        for subscription in by_org.get(event.organization_id, ()):
            if event.seq <= subscription.start_seq or not matching.matches(subscription.events, event.type):
                continue
            payload = payload or payload_bytes(event.type, event.created_at, event.data).decode()
            rows.append({
                "id": new_id("dlv"), "organization_id": event.organization_id, "subscription_id": subscription.id,
                "event_id": event.id, "event_type": event.type, "event_seq": event.seq, "payload": payload,
                "status": PENDING, "attempt_count": 0, "next_attempt_at": now, "created_at": now, "updated_at": now,
            })
    if rows:
        session.execute(_insert_ignoring_duplicates(session), rows)
    return len(rows)


def _insert_ignoring_duplicates(session: Session) -> Any:
    """A delivery already queued for (subscription, event) is kept as is: fan-out must never fail a pass on a
    duplicate, or the cursor would stop moving."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(WebhookDelivery).on_conflict_do_nothing(
            index_elements=["subscription_id", "event_id"])
    if dialect == "sqlite":
        return sqlite.insert(WebhookDelivery).on_conflict_do_nothing(index_elements=["subscription_id", "event_id"])
    return insert(WebhookDelivery)
