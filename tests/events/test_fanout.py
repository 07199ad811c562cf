"""Fan-out: a sequence number that commits late is still delivered; a gap that never fills expires."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from tests.events.conftest import create_webhook
from tests.support import OrgContext
from vitrina.core.ids import new_id
from vitrina.core.models import OutboxEvent
from vitrina.core.time import utcnow
from vitrina.db.session import Database
from vitrina.events import fanout
from vitrina.events.fanout import Gap
from vitrina.events.models import FanoutCursor, WebhookDelivery


def _insert_event(session: Session, organization_id: str, seq: int, type_: str) -> str:
    """An event with a chosen ``seq``, as a transaction that took its number earlier would commit it."""
    event_id = new_id("evt")
    session.execute(insert(OutboxEvent).values(seq=seq, id=event_id, organization_id=organization_id, type=type_,
                                               data={}, created_at=utcnow()))
    return event_id


@pytest.fixture
def quiet_outbox(database: Database) -> Iterator[None]:
    """Fan out everything pending and forget earlier tests' gaps (e.g. a pruned event) first; afterwards keep
    PostgreSQL's sequence ahead of the numbers chosen here."""
    with database.unit_of_work() as session:
        while fanout.fan_out(session, gap_timeout=timedelta(0)):
            pass
    yield
    if database.engine.dialect.name == "postgresql":
        with database.unit_of_work() as session:
            session.execute(text("SELECT setval(pg_get_serial_sequence('events', 'seq'), "
                                 "(SELECT MAX(seq) FROM events))"))


def test_a_late_commit_is_delivered(client: TestClient, org: OrgContext, database: Database,
                                    quiet_outbox: None) -> None:
    hook = create_webhook(client, org, "https://127.0.0.1:9/hook", ["gap.*"])
    with database.unit_of_work() as session:
        base = session.scalar(select(func.max(OutboxEvent.seq))) or 0
        later = _insert_event(session, org.id, base + 2, "gap.second")
    with database.unit_of_work() as session:
        assert fanout.fan_out(session) == 1
        cursor = session.get(FanoutCursor, fanout.CURSOR_ID)
        assert cursor is not None and cursor.high_water == base + 2
        assert [g[:2] for g in cursor.gaps["ranges"]] == [[base + 1, base + 1]]
    with database.unit_of_work() as session:
        earlier = _insert_event(session, org.id, base + 1, "gap.first")  # the slow transaction commits now
    with database.unit_of_work() as session:
        assert fanout.fan_out(session) == 1
        cursor = session.get(FanoutCursor, fanout.CURSOR_ID)
        assert cursor is not None and cursor.gaps["ranges"] == []
        delivered = set(session.scalars(select(WebhookDelivery.event_id).where(
            WebhookDelivery.subscription_id == hook["id"])))
    assert delivered == {earlier, later}
    with database.unit_of_work() as session:
        assert fanout.fan_out(session) == 0
        assert not fanout.pending_work(session)


def test_a_gap_that_never_fills_expires(database: Database, org: OrgContext, quiet_outbox: None) -> None:
    with database.unit_of_work() as session:
        base = session.scalar(select(func.max(OutboxEvent.seq))) or 0
        _insert_event(session, org.id, base + 3, "gap.lonely")
    with database.unit_of_work() as session:
        fanout.fan_out(session)
        cursor = session.get(FanoutCursor, fanout.CURSOR_ID)
        assert cursor is not None and [g[:2] for g in cursor.gaps["ranges"]] == [[base + 1, base + 2]]
    with database.unit_of_work() as session:
        fanout.fan_out(session, gap_timeout=timedelta(0))
        cursor = session.get(FanoutCursor, fanout.CURSOR_ID)
        assert cursor is not None and cursor.gaps["ranges"] == []


def test_gap_ranges_split_around_found_numbers() -> None:
    now = utcnow()
    gaps = [Gap(10, 20, now), Gap(30, 30, now)]
    left = fanout._remove_found(gaps, [10, 15, 20, 30])
    assert [(g.low, g.high) for g in left] == [(11, 14), (16, 19)]
    assert fanout._expire([Gap(1, 1, now - timedelta(hours=1)), Gap(5, 6, now)], now - timedelta(minutes=10)) == [
        Gap(5, 6, now)]
