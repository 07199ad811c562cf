"""``emit()``: the only way a domain publishes an event.

The row is added to the caller's session, so it commits or rolls back with the change it describes
(no change without its event, no event without its change). After the commit, listeners registered with
``on_commit`` (the live stream's fan-out) receive the committed events.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, cast

from sqlalchemy import Table, event, insert
from sqlalchemy.orm import Session

from vitrina.core.ids import new_id
from vitrina.core.models import OutboxEvent
from vitrina.core.time import utcnow
from vitrina.db.bulk import insert_rows, new_ids

_PENDING = "vitrina_pending_events"
CommitListener = Callable[[list[OutboxEvent]], None]
_listeners: list[CommitListener] = []


def emit(session: Session, *, organization_id: str, type: str, data: dict[str, Any],
         actor: str | None = None) -> OutboxEvent:
    record = OutboxEvent(id=new_id("evt"), organization_id=organization_id, type=type, data=data, actor=actor)
    session.add(record)
    session.info.setdefault(_PENDING, []).append(record)
    return record


def emit_many(session: Session, *, organization_id: str, events: Sequence[tuple[str, dict[str, Any]]],
              actor: str | None = None) -> int:
    """``emit`` for bulk work (imports): one multi-row INSERT in the caller's transaction instead of one ORM
    object per event; committed listeners still receive every event."""
    if not events:
        return 0
    now = utcnow()
    rows = [{"id": event_id, "organization_id": organization_id, "type": type_, "data": data, "actor": actor,
             "created_at": now} for event_id, (type_, data) in zip(new_ids("evt", len(events)), events, strict=True)]
    table = cast(Table, OutboxEvent.__table__)
    if not _listeners:  # nobody in this process needs the sequence numbers back
        insert_rows(session, table, rows)
        return len(rows)
    statement = insert(table).returning(table.c.seq, sort_by_parameter_order=True)
    sequence = session.execute(statement, rows).scalars().all()
    session.info.setdefault(_PENDING, []).extend(
        OutboxEvent(seq=seq, **row) for seq, row in zip(sequence, rows, strict=True))
    return len(rows)


def on_commit(listener: CommitListener) -> None:
    """Register a callback for events after their transaction commits (called in the committing thread)."""
    if listener not in _listeners:
        _listeners.append(listener)


@event.listens_for(Session, "after_commit")
def _publish_committed(session: Session) -> None:
    events = session.info.pop(_PENDING, None)
    if not events or not _listeners:
        return
    for listener in _listeners:
        try:
            listener(events)
        except Exception:  # a broken listener must never fail a committed request
            logging.getLogger(__name__).exception("event listener failed")


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_PENDING, None)
