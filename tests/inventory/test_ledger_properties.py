"""Property test: random receive/adjust/transfer/reserve/release sequences keep every ledger invariant, each
outcome is the one a simple model predicts, and a snapshot at any past instant equals the replayed state."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from vitrina.core.errors import ValidationFailed, VitrinaError
from vitrina.core.ids import new_id
from vitrina.core.pagination import Page
from vitrina.db.session import ORG_KEY, Database
from vitrina.inventory import ledger, service
from vitrina.inventory.checks import run_checks

ROOMS = ("sales_floor", "vault")
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


@dataclass
class Held:
    """The model of one item: what the ledger should say."""

    id: str
    serialized: bool
    quantity: int
    location: str
    room: str
    born: int  # step of creation: the oldest item is the merge target
    holds: list[tuple[str, int]] = field(default_factory=list)

    @property
    def reserved(self) -> int:
        return sum(q for _, q in self.holds)


ops = st.lists(st.one_of(
    st.tuples(st.just("receive"), st.integers(0, 9), st.integers(1, 5)),
    st.tuples(st.just("adjust"), st.integers(0, 9), st.integers(-6, 6).filter(bool)),
    st.tuples(st.just("transfer"), st.integers(0, 9), st.tuples(st.integers(0, 1), st.sampled_from(ROOMS)),
              st.integers(1, 4)),
    st.tuples(st.just("reserve"), st.integers(0, 9), st.integers(1, 3)),
    st.tuples(st.just("release"), st.integers(0, 9), st.integers(0, 3)),
), min_size=1, max_size=18)


@contextmanager
def _session(database: Database) -> Iterator[Session]:
    connection = database.engine.connect()
    transaction = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()
        transaction.rollback()
        connection.close()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=ops)
def test_random_sequences_keep_the_ledger(database: Database, steps: list[tuple[object, ...]]) -> None:
    org = new_id("org")
    with _session(database) as session:
        session.info[ORG_KEY] = org  # as in a request: the tenancy guard filters every ORM query
        clock = [T0]
        session.info[ledger.CLOCK_KEY] = lambda: clock[0]
        locations = [service.create_location(session, organization_id=org, name=n, code=n, address=None,
                                             timezone="UTC").id for n in ("A", "B")]
        bulk = service.create_item(session, organization_id=org, actor="t", fields={
            "sku": "BEAD", "name": "Bead", "tracking": "bulk", "quantity": 10, "location_id": locations[0]})
        piece = service.create_item(session, organization_id=org, actor="t", fields={
            "sku": "RING", "name": "Ring", "location_id": locations[0], "cost": "100", "price": "250"})
        model = [Held(bulk.id, False, 10, locations[0], "sales_floor", 0),
                 Held(piece.id, True, 1, locations[0], "sales_floor", 0)]
        history = [(clock[0], copy.deepcopy(model))]
        for step, op in enumerate(steps, start=1):
            clock[0] = T0 + timedelta(minutes=step)
            _apply(session, org, model, locations, step, op)
            history.append((clock[0], copy.deepcopy(model)))
        assert run_checks(session, organization_id=org) == []
        for at, state in history:
            snap = service.take_snapshot(session, organization_id=org, at=at, page=Page(limit=200, offset=0))
            seen = {line.item.id: (line.quantity, line.location_id, line.room_type) for line in snap.lines}
            assert seen == {h.id: (h.quantity, h.location, h.room) for h in state if h.quantity > 0}, at
            assert snap.units == sum(h.quantity for h in state)


def _apply(session: Session, org: str, model: list[Held], locations: list[str], step: int,
           op: tuple[object, ...]) -> None:
    kind, index = op[0], int(op[1])  # type: ignore[call-overload]
    held = model[index % len(model)]
    expected_ok, run = _plan(session, org, model, locations, step, held, op)
    savepoint = session.begin_nested()  # the request boundary: a refused operation leaves nothing behind
    try:
        result = run()
    except VitrinaError as exc:
        savepoint.rollback()
        assert not expected_ok, f"{kind} refused unexpectedly: {exc.code} {exc.details}"
        return
    savepoint.commit()
    assert expected_ok, f"{kind} should have been refused"
    _update_model(model, locations, step, held, op, result)


def _plan(session: Session, org: str, model: list[Held], locations: list[str], step: int, held: Held,
          op: tuple[object, ...]) -> tuple[bool, object]:
    kind = op[0]
    if kind in ("receive", "adjust"):
        delta = int(op[2])  # type: ignore[call-overload]
        after = held.quantity + delta
        ok = after >= held.reserved and (not held.serialized or (abs(delta) == 1 and after <= 1))
        reason = "RECEIVED" if kind == "receive" else "ADJUSTMENT"
        return ok, lambda: service.adjust_quantity(session, organization_id=org, item_id=held.id,
                                                   quantity_change=delta, reason_code=reason, actor="t")
    if kind == "transfer":
        (where, room), quantity = op[2], int(op[3])  # type: ignore[misc, call-overload]
        location = locations[where]
        moves = (location, room) != (held.location, held.room)
        if held.serialized:
            ok = moves and quantity == 1 and held.quantity == 1
        else:
            ok = moves and held.quantity - held.reserved >= quantity
        return ok, lambda: service.transfer_item(session, organization_id=org, item_id=held.id,
                                                 to_location_id=location, to_room_type=room, quantity=quantity,
                                                 actor="t")
    if kind == "reserve":
        quantity = int(op[2])  # type: ignore[call-overload]
        ok = held.quantity - held.reserved >= quantity and (not held.serialized or quantity == 1)
        return ok, lambda: service.reserve_item(session, organization_id=org, item_id=held.id, quantity=quantity,
                                                reference=f"r{step}", expires_at=None, actor="t")
    hold = held.holds[int(op[2]) % len(held.holds)][0] if held.holds else None  # type: ignore[call-overload]
    if hold is None:
        return False, lambda: (_ for _ in ()).throw(ValidationFailed.field("$", "no hold"))
    return True, lambda: service.release_reservation(session, organization_id=org, item_id=held.id,
                                                     reservation_id=hold, actor="t")


def _update_model(model: list[Held], locations: list[str], step: int, held: Held, op: tuple[object, ...],
                  result: object) -> None:
    kind = op[0]
    if kind in ("receive", "adjust"):
        held.quantity += int(op[2])  # type: ignore[call-overload]
    elif kind == "reserve":
        held.holds.append((result.id, int(op[2])))  # type: ignore[attr-defined, call-overload]
    elif kind == "release":
        held.holds = [h for h in held.holds if h[0] != result.id]  # type: ignore[attr-defined]
    else:
        (where, room), quantity = op[2], int(op[3])  # type: ignore[misc, call-overload]
        if held.serialized:
            held.location, held.room = locations[where], room
            return
        held.quantity -= quantity
        candidates = [h for h in model if not h.serialized and (h.location, h.room) == (locations[where], room)]
        if candidates:
            min(candidates, key=lambda h: h.born).quantity += quantity
            assert result.target.id == min(candidates, key=lambda h: h.born).id  # type: ignore[attr-defined]
        else:
            model.append(Held(result.target.id, False, quantity, locations[where], room, step))  # type: ignore[attr-defined]
