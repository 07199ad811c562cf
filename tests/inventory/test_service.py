"""The service functions other domains call (sales, jobs), tested at the service level in a rolled-back session."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rich.console import Console
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from vitrina.core.errors import ValidationFailed
from vitrina.core.ids import new_id
from vitrina.core.models import OutboxEvent
from vitrina.core.pagination import Page
from vitrina.core.time import utcnow
from vitrina.inventory import demo, ledger, service
from vitrina.inventory.checks import run_checks
from vitrina.inventory.errors import (
    CertificateTaken,
    ExternalIdTaken,
    InsufficientStock,
    ItemNotAvailable,
    ItemNotFound,
    QuantityChanged,
    QuantityOutOfRange,
)
from vitrina.inventory.models import Item, Movement


@pytest.fixture
def org_id() -> str:
    return new_id("org")


def _piece(db: Session, org_id: str, **extra: object) -> Item:
    fields = {"sku": "DIA-001", "name": "Diamond ring", "price": "12499.99", "cost": 6000,
              "certification": "GIA", "cert_number": new_id("req")[-10:]} | extra
    return service.create_item(db, organization_id=org_id, actor="key_test", fields=fields)


def _bulk(db: Session, org_id: str, quantity: int = 50, **extra: object) -> Item:
    fields = {"sku": "CHAIN-18", "name": "18in chain", "tracking": "bulk", "quantity": quantity,
              "price": "120", "cost": "40"} | extra
    return service.create_item(db, organization_id=org_id, actor="key_test", fields=fields)


def _events(db: Session, org_id: str, type_: str) -> int:
    return db.scalar(select(func.count()).select_from(OutboxEvent).where(
        OutboxEvent.organization_id == org_id, OutboxEvent.type == type_)) or 0


def _ledger_sum(db: Session, item_id: str) -> int:
    return db.scalar(select(func.sum(Movement.quantity_change)).where(Movement.item_id == item_id)) or 0


def test_create_writes_received_movement_and_event(db: Session, org_id: str) -> None:
    item = _piece(db, org_id, external_id="JWL-12345")
    assert item.id.startswith("itm_") and item.quantity == 1 and item.currency == "USD"
    assert _ledger_sum(db, item.id) == 1
    assert _events(db, org_id, "inventory.created") == 1
    assert service.get_item(db, organization_id=org_id, ref="JWL-12345") is item
    assert service.get_item(db, organization_id=org_id, ref=item.id) is item
    with pytest.raises(ItemNotFound):
        service.get_item(db, organization_id=new_id("org"), ref=item.id)


def test_create_refuses_duplicates(db: Session, org_id: str) -> None:
    first = _piece(db, org_id, external_id="E1")
    with pytest.raises(ExternalIdTaken):
        _piece(db, org_id, external_id="E1")
    with pytest.raises(CertificateTaken):
        _piece(db, org_id, cert_number=first.cert_number)
    with pytest.raises(ValidationFailed) as exc:
        _piece(db, org_id, quantity=2)
    assert exc.value.errors[0]["path"] == "$.quantity"


def test_adjust_guards(db: Session, org_id: str) -> None:
    item = _bulk(db, org_id, quantity=5)
    item, movement = service.adjust_quantity(db, organization_id=org_id, item_id=item.id, quantity_change=-2,
                                             reason_code="SALE", actor="k")
    assert (item.quantity, movement.quantity_after, movement.reason_code) == (3, 3, "SALE")
    with pytest.raises(InsufficientStock):
        service.adjust_quantity(db, organization_id=org_id, item_id=item.id, quantity_change=-4,
                                reason_code="DAMAGE", actor="k")
    with pytest.raises(QuantityChanged):
        service.adjust_quantity(db, organization_id=org_id, item_id=item.id, quantity_change=1,
                                reason_code="AUDIT", actor="k", expected_quantity=5)
    service.adjust_quantity(db, organization_id=org_id, item_id=item.id, quantity_change=1, reason_code="AUDIT",
                            actor="k", expected_quantity=3)
    assert item.quantity == 4 == _ledger_sum(db, item.id)
    piece = _piece(db, org_id)
    with pytest.raises(QuantityOutOfRange):
        service.adjust_quantity(db, organization_id=org_id, item_id=piece.id, quantity_change=1,
                                reason_code="ADJUSTMENT", actor="k")
    assert run_checks(db, organization_id=org_id) == []


def test_sell_and_return_serialized(db: Session, org_id: str) -> None:
    piece = _piece(db, org_id)
    item, movement = service.sell_item(db, organization_id=org_id, item_id=piece.id, quantity=1, actor="k",
                                       reference="txn_1")
    assert (item.status, item.quantity, movement.reason_code, movement.reference) == ("sold", 0, "SALE", "txn_1")
    assert _events(db, org_id, "inventory.sold") == 1
    with pytest.raises(ItemNotAvailable):
        service.sell_item(db, organization_id=org_id, item_id=piece.id, quantity=1, actor="k", reference="txn_2")
    item, movement = service.return_item(db, organization_id=org_id, item_id=piece.id, quantity=1, actor="k",
                                         reference="txn_3")
    assert (item.status, item.quantity, movement.reason_code) == ("active", 1, "RETURN")
    with pytest.raises(QuantityOutOfRange):
        service.return_item(db, organization_id=org_id, item_id=piece.id, quantity=1, actor="k", reference="x")


def test_sale_respects_reservations_and_consumes_its_own(db: Session, org_id: str) -> None:
    item = _bulk(db, org_id, quantity=3)
    service.reserve_item(db, organization_id=org_id, item_id=item.id, quantity=2, reference="ord_1",
                         expires_at=None, actor="k")
    with pytest.raises(ItemNotAvailable):
        service.sell_item(db, organization_id=org_id, item_id=item.id, quantity=2, actor="k", reference="txn_x")
    service.sell_item(db, organization_id=org_id, item_id=item.id, quantity=2, actor="k", reference="ord_1")
    assert (item.quantity, item.reserved_quantity) == (1, 0)
    assert run_checks(db, organization_id=org_id) == []


def test_expired_reservations_stop_counting(db: Session, org_id: str) -> None:
    item = _bulk(db, org_id, quantity=2)
    start = utcnow()
    db.info[ledger.CLOCK_KEY] = lambda: start
    service.reserve_item(db, organization_id=org_id, item_id=item.id, quantity=2, reference="r",
                         expires_at=start + timedelta(minutes=5), actor="k")
    with pytest.raises(InsufficientStock):
        service.adjust_quantity(db, organization_id=org_id, item_id=item.id, quantity_change=-1,
                                reason_code="DAMAGE", actor="k")
    db.info[ledger.CLOCK_KEY] = lambda: start + timedelta(minutes=6)
    assert service.reserved_now(db, [item]) == {item.id: 0}
    service.adjust_quantity(db, organization_id=org_id, item_id=item.id, quantity_change=-2, reason_code="DAMAGE",
                            actor="k")
    assert (item.quantity, item.reserved_quantity) == (0, 0)
    assert run_checks(db, organization_id=org_id) == []


def test_receive_many_creates_updates_and_audits(db: Session, org_id: str) -> None:
    rows = [{"external_id": f"POS-{n}", "sku": f"SKU-{n}", "name": f"Item {n}", "tracking": "bulk",
             "quantity": n, "price": "10.50"} for n in range(5)]
    outcomes = service.receive_many(db, organization_id=org_id, actor="job", rows=rows)
    assert outcomes == [(f"POS-{n}", "created") for n in range(5)]
    again = service.receive_many(db, organization_id=org_id, actor="job", rows=[
        {"external_id": "POS-1", "quantity": 1}, {"external_id": "POS-2", "quantity": 7},
        {"external_id": "POS-3", "name": "Renamed"}, {"external_id": "POS-9", "sku": "N", "name": "New"}])
    assert again == [("POS-1", "unchanged"), ("POS-2", "updated"), ("POS-3", "updated"), ("POS-9", "created")]
    item = service.get_item(db, organization_id=org_id, ref="POS-2")
    assert item.quantity == 7 == _ledger_sum(db, item.id)
    reasons = db.scalars(select(Movement.reason_code).where(Movement.item_id == item.id)
                         .order_by(Movement.item_version)).all()
    assert reasons == ["RECEIVED", "AUDIT"]
    assert service.get_item(db, organization_id=org_id, ref="POS-3").name == "Renamed"
    assert service.get_item(db, organization_id=org_id, ref="POS-0").quantity == 0
    with pytest.raises(ValidationFailed) as exc:
        service.receive_many(db, organization_id=org_id, actor="job", rows=[{"external_id": "X", "sku": "S"}])
    assert exc.value.errors[0]["path"] == "$[0].name"
    assert run_checks(db, organization_id=org_id) == []


def test_set_location_quantities(db: Session, org_id: str) -> None:
    location = service.create_location(db, organization_id=org_id, name="Store", code="S1", address=None,
                                       timezone="UTC")
    for n in range(3):
        _bulk(db, org_id, quantity=5, external_id=f"P{n}", sku=f"S{n}", location_id=location.id)
    result = service.set_location_quantities(db, organization_id=org_id, location_id=location.id,
                                             targets={"P0": 5, "P1": 2, "NEW": 4}, actor="sync", zero_missing=True)
    assert (result["changed"], result["unchanged"], result["zeroed"], result["unknown"]) == (2, 1, 1, ["NEW"])
    assert [service.get_item(db, organization_id=org_id, ref=f"P{n}").quantity for n in range(3)] == [5, 2, 0]
    assert service.location_holds_stock(db, organization_id=org_id, location_id=location.id)
    assert run_checks(db, organization_id=org_id) == []


def test_checks_report_each_violation(db: Session, org_id: str) -> None:
    item = _bulk(db, org_id, quantity=5)
    piece = _piece(db, org_id)
    db.flush()
    # Corrupt the rows behind the service's back, as a faulty script or a restore might.
    db.execute(update(Item).where(Item.id == item.id).values(quantity=7, reserved_quantity=9))
    db.execute(update(Item).where(Item.id == piece.id).values(quantity=2))
    violations = run_checks(db, organization_id=org_id)
    assert any(item.id in v and "sum to 5" in v for v in violations)
    assert any(item.id in v and "latest movement says 5" in v for v in violations)
    assert any(item.id in v and "reserved 9" in v for v in violations)
    assert any(piece.id in v and "serialized item with quantity 2" in v for v in violations)
    assert any(item.id in v and "open reservations hold 0" in v for v in violations)


def test_release_expired_holds(db: Session, org_id: str) -> None:
    item = _bulk(db, org_id, quantity=3)
    start = utcnow()
    db.info[ledger.CLOCK_KEY] = lambda: start
    service.reserve_item(db, organization_id=org_id, item_id=item.id, quantity=2, reference="r",
                         expires_at=start + timedelta(seconds=30), actor="k")
    service.reserve_item(db, organization_id=org_id, item_id=item.id, quantity=1, reference="r2", expires_at=None,
                         actor="k")
    assert service.release_expired_holds(db, organization_id=org_id) == 0
    db.info[ledger.CLOCK_KEY] = lambda: start + timedelta(minutes=1)
    assert service.release_expired_holds(db, organization_id=org_id) == 2
    assert item.reserved_quantity == 1
    assert run_checks(db, organization_id=org_id) == []


def test_quantities_stay_in_range(db: Session, org_id: str) -> None:
    item = _bulk(db, org_id, quantity=1_000_000_000)
    with pytest.raises(QuantityOutOfRange):
        service.adjust_quantity(db, organization_id=org_id, item_id=item.id, quantity_change=1,
                                reason_code="RECEIVED", actor="k")
    with pytest.raises(ItemNotFound):
        service.get_item(db, organization_id=org_id, ref="bad\x00id")
    with pytest.raises(ValidationFailed):
        service.receive_many(db, organization_id=org_id, actor="job", rows=[
            {"external_id": "X", "sku": "S", "name": "N", "tracking": "bulk", "quantity": 1.5}])


def test_demo_seed_is_consistent(db: Session, org_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo, "SERIALIZED_PIECES", 120)
    result = demo.seed(db, organization_id=org_id, console=Console(quiet=True))
    assert result["inventory_locations"] == 3 and result["inventory_items"] == 120 + 18
    assert result["inventory_movements"] > result["inventory_items"]
    assert run_checks(db, organization_id=org_id) == []
    year_ago = service.take_snapshot(db, organization_id=org_id, at=utcnow() - timedelta(days=360),
                                     page=Page(limit=1, offset=0))
    now = service.take_snapshot(db, organization_id=org_id, at=utcnow(), page=Page(limit=1, offset=0))
    assert 0 < year_ago.count < now.count  # the shipments kept arriving


def test_the_database_refuses_to_rewrite_the_ledger(db: Session, org_id: str) -> None:
    item = _bulk(db, org_id, quantity=5)
    db.flush()
    for statement in (update(Movement).where(Movement.item_id == item.id).values(quantity_change=50),
                      delete(Movement).where(Movement.item_id == item.id)):
        with pytest.raises(DBAPIError, match="append-only"), db.begin_nested():
            db.execute(statement)
    assert _ledger_sum(db, item.id) == 5
