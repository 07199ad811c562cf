"""Adjustments (PATCH, bulk-update), movements, transfers and reservations over HTTP (API.md §3, seed 004)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.inventory.conftest import INV, Maker
from tests.support import OrgContext, wait_until
from vitrina.core.models import OutboxEvent
from vitrina.core.time import to_rfc3339, utcnow
from vitrina.db.session import Database
from vitrina.inventory import service
from vitrina.inventory.checks import run_checks


def _errors(response: Any) -> list[dict[str, Any]]:
    return list(response.json()["error"]["details"]["errors"])


def _event_count(database: Database, org_id: str, type_: str) -> int:
    with database.unit_of_work(write=False) as session:
        return session.scalar(select(func.count()).select_from(OutboxEvent).where(
            OutboxEvent.organization_id == org_id, OutboxEvent.type == type_)) or 0


def _assert_ledger_consistent(database: Database, org_id: str) -> None:
    with database.unit_of_work(write=False) as session:
        assert run_checks(session, organization_id=org_id) == []


def test_patch_with_seed_body(client: TestClient, org: OrgContext, make_item: Maker, database: Database) -> None:
    item = make_item(tracking="bulk", quantity=45, low_stock_threshold=40)
    response = client.patch(f"{INV}/{item['id']}", headers=org.headers, json={
        "quantity_change": -5,
        "reason_code": "SALE",
        "notes": "Regular sale transaction",
    })
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["item"]["quantity"] == 40 and data["item"]["low_stock"] is True
    movement = data["movement"]
    assert (movement["quantity_change"], movement["quantity_after"], movement["reason_code"], movement["notes"]) \
        == (-5, 40, "SALE", "Regular sale transaction")
    assert response.headers["etag"] == '"2"'
    assert _event_count(database, org.id, "inventory.updated") == 1
    assert _event_count(database, org.id, "inventory.sold") == 1
    assert _event_count(database, org.id, "inventory.low_stock") == 1
    client.patch(f"{INV}/{item['id']}", json={"quantity_change": -1, "reason_code": "SALE"}, headers=org.headers)
    assert _event_count(database, org.id, "inventory.low_stock") == 1  # only when crossing


def test_patch_errors(client: TestClient, org: OrgContext, make_item: Maker) -> None:
    bulk = make_item(tracking="bulk", quantity=3)
    piece = make_item()
    url = f"{INV}/{bulk['id']}"
    invalid = [
        ({"quantity_change": -1, "reason_code": "LOST"}, "$.reason_code"),
        ({"quantity_change": 0, "reason_code": "AUDIT"}, "$.quantity_change"),
        ({"quantity_change": 1.5, "reason_code": "AUDIT"}, "$.quantity_change"),
        ({"quantity_change": "a", "reason_code": "AUDIT"}, "$.quantity_change"),
        ({"reason_code": "AUDIT"}, "$.quantity_change"),
        ({"quantity_change": 2, "reason_code": "SALE"}, "$.quantity_change"),
        ({"quantity_change": -2, "reason_code": "RETURN"}, "$.quantity_change"),
        ({"quantity_change": -1, "reason_code": "AUDIT", "expected_quantity": -1}, "$.expected_quantity"),
    ]
    for body, path in invalid:
        response = client.patch(url, json=body, headers=org.headers)
        assert response.status_code == 422, (body, response.text)
        assert path in [e["path"] for e in _errors(response)], (body, response.text)
    short = client.patch(url, json={"quantity_change": -4, "reason_code": "DAMAGE"}, headers=org.headers)
    assert short.status_code == 409 and short.json()["error"]["code"] == "INSUFFICIENT_STOCK"
    assert short.json()["error"]["details"]["available_quantity"] == 3
    stale = client.patch(url, json={"quantity_change": -1, "reason_code": "AUDIT", "expected_quantity": 2},
                         headers=org.headers)
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "QUANTITY_CHANGED"
    assert client.patch(url, json={"quantity_change": -1, "reason_code": "AUDIT", "expected_quantity": 3},
                        headers=org.headers).status_code == 200
    assert client.patch(url, json={"quantity_change": 1, "reason_code": "AUDIT"},
                        headers=org.headers | {"If-Match": '"1"'}).status_code == 412
    over = client.patch(f"{INV}/{piece['id']}", json={"quantity_change": 1, "reason_code": "RECEIVED"},
                        headers=org.headers)
    assert over.status_code == 409 and over.json()["error"]["code"] == "QUANTITY_OUT_OF_RANGE"
    two = client.patch(f"{INV}/{piece['id']}", json={"quantity_change": -2, "reason_code": "THEFT"},
                       headers=org.headers)
    assert two.status_code == 422
    reserved = make_item(tracking="bulk", quantity=2)
    client.post(f"{INV}/{reserved['id']}/reserve", json={"quantity": 2}, headers=org.headers)
    below = client.patch(f"{INV}/{reserved['id']}", json={"quantity_change": -1, "reason_code": "DAMAGE"},
                         headers=org.headers)
    assert below.status_code == 409 and below.json()["error"]["code"] == "INSUFFICIENT_STOCK"
    movements = client.get(f"{url}/movements", headers=org.headers).json()
    assert movements["pagination"]["total"] == 2  # RECEIVED and the one good adjustment


def test_movements_newest_first(client: TestClient, org: OrgContext, make_item: Maker) -> None:
    item = make_item(tracking="bulk", quantity=10)
    url = f"{INV}/{item['id']}"
    for change in (-1, -2, 5):
        client.patch(url, json={"quantity_change": change, "reason_code": "ADJUSTMENT", "reference": f"r{change}"},
                     headers=org.headers)
    response = client.get(f"{url}/movements", params={"limit": 2}, headers=org.headers)
    data = response.json()["data"]
    assert [m["quantity_after"] for m in data] == [12, 7]
    assert set(data[0]) >= {"id", "quantity_change", "quantity_after", "reason_code", "notes", "reference", "actor",
                            "created_at"}
    assert response.headers["x-total-count"] == "4" and 'rel="next"' in response.headers["link"]
    only = client.get(f"{url}/movements", params={"reason_code": "RECEIVED"}, headers=org.headers).json()["data"]
    assert [m["quantity_change"] for m in only] == [10]
    by_external = make_item(external_id="EXT-9")
    assert client.get(f"{INV}/EXT-9/movements", headers=org.headers).json()["data"][0]["item_id"] == \
        by_external["id"]


def test_bulk_update_with_seed_body(client: TestClient, org: OrgContext, make_item: Maker) -> None:
    first = make_item(tracking="bulk", quantity=10)
    second = make_item(tracking="bulk", quantity=0, external_id="inv-uuid-2")
    response = client.post(f"{INV}/bulk-update", headers=org.headers, json={
        "updates": [
            {"id": first["id"], "quantity_change": -2, "reason_code": "SALE"},
            {"id": "inv-uuid-2", "quantity_change": 10, "reason_code": "TRANSFER"},
        ]
    })
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["count"] == 2
    assert [(r["item"]["quantity"], r["movement"]["reason_code"]) for r in data["results"]] == \
        [(8, "SALE"), (10, "TRANSFER")]
    assert client.get(f"{INV}/{second['id']}", headers=org.headers).json()["data"]["quantity"] == 10


def test_bulk_update_is_all_or_nothing(client: TestClient, org: OrgContext, make_item: Maker,
                                       database: Database) -> None:
    items = [make_item(tracking="bulk", quantity=5) for _ in range(3)]
    lines = [{"id": items[0]["id"], "quantity_change": -1, "reason_code": "SALE"},
             {"id": items[1]["id"], "quantity_change": -9, "reason_code": "SALE"},
             {"id": items[2]["id"], "quantity_change": -1, "reason_code": "AUDIT", "expected_quantity": 4}]
    refused = client.post(f"{INV}/bulk-update", json={"updates": lines}, headers=org.headers)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "BULK_UPDATE_FAILED"
    failing = _errors(refused)
    assert [(e["index"], e["code"]) for e in failing] == [(1, "INSUFFICIENT_STOCK"), (2, "QUANTITY_CHANGED")]
    invalid = client.post(f"{INV}/bulk-update", headers=org.headers, json={"updates": [
        lines[0], {"id": "missing", "quantity_change": 1, "reason_code": "AUDIT"},
        {"id": items[1]["id"], "quantity_change": 0, "reason_code": "AUDIT"},
        {"id": items[2]["id"], "quantity_change": 1, "reason_code": "NOPE"},
        {"id": items[0]["id"], "quantity_change": 1, "reason_code": "AUDIT"}]})
    assert invalid.status_code == 422
    paths = {e["path"] for e in _errors(invalid)}
    assert paths == {"$.updates[2].quantity_change", "$.updates[3].reason_code"}  # schema errors come first
    semantic = client.post(f"{INV}/bulk-update", headers=org.headers, json={"updates": [
        lines[0], {"id": "missing", "quantity_change": 1, "reason_code": "AUDIT"},
        {"id": items[0]["id"], "quantity_change": 1, "reason_code": "AUDIT"}]})
    assert semantic.status_code == 422
    assert [(e["index"], e["code"]) for e in _errors(semantic)] == [(1, "ITEM_NOT_FOUND"), (2, "DUPLICATE_ID")]
    too_many = {"updates": [lines[0]] * 1001}
    response = client.post(f"{INV}/bulk-update", json=too_many, headers=org.headers)
    assert response.status_code == 422 and _errors(response)[0]["path"] == "$.updates"
    assert client.post(f"{INV}/bulk-update", json={"updates": []}, headers=org.headers).status_code == 422
    for item in items:  # nothing was applied
        assert client.get(f"{INV}/{item['id']}", headers=org.headers).json()["data"]["version"] == 1
    assert _event_count(database, org.id, "inventory.updated") == 0


def test_bulk_update_of_a_thousand_lines(client: TestClient, org: OrgContext, database: Database) -> None:
    rows = [{"external_id": f"B-{n}", "sku": f"S-{n}", "name": "Bead", "tracking": "bulk", "quantity": 5}
            for n in range(1000)]
    with database.unit_of_work(organization_id=org.id) as session:
        service.receive_many(session, organization_id=org.id, actor="test", rows=rows)
    lines = [{"id": f"B-{n}", "quantity_change": -1, "reason_code": "SALE"} for n in range(1000)]
    response = client.post(f"{INV}/bulk-update", json={"updates": lines}, headers=org.headers)
    assert response.status_code == 200, response.text[:500]
    assert response.json()["data"]["count"] == 1000
    assert {r["item"]["quantity"] for r in response.json()["data"]["results"]} == {4}
    lines[999] = {"id": "B-999", "quantity_change": -5, "reason_code": "SALE"}
    refused = client.post(f"{INV}/bulk-update", json={"updates": lines}, headers=org.headers)
    assert refused.status_code == 409 and [e["index"] for e in _errors(refused)] == [999]
    assert client.get(f"{INV}/B-0", headers=org.headers).json()["data"]["quantity"] == 4
    _assert_ledger_consistent(database, org.id)


def test_transfer_serialized_piece(client: TestClient, org: OrgContext, make_item: Maker, make_location: Maker,
                                   database: Database) -> None:
    flagship, vault = make_location("Flagship"), make_location("Vault")
    piece = make_item(location_id=flagship["id"], cert_number="GIA-1")
    response = client.post(f"{INV}/{piece['id']}/transfer", headers=org.headers,
                           json={"to_location_id": vault["id"], "to_room_type": "vault", "quantity": 1})
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["source"]["id"] == data["target"]["id"] == piece["id"]
    assert (data["target"]["location_id"], data["target"]["room_type"], data["target"]["quantity"]) == \
        (vault["id"], "vault", 1)
    assert [(m["quantity_change"], m["quantity_after"], m["location_id"], m["reason_code"])
            for m in data["movements"]] == [(-1, 0, flagship["id"], "TRANSFER"), (1, 1, vault["id"], "TRANSFER")]
    ledger = client.get(f"{INV}/{piece['id']}/movements", headers=org.headers).json()["data"]
    assert [m["quantity_change"] for m in ledger] == [1, -1, 1]
    room_only = client.post(f"{INV}/{piece['id']}/transfer", json={"to_room_type": "sales_floor"},
                            headers=org.headers)
    assert room_only.json()["data"]["target"]["location_id"] == vault["id"]
    _assert_ledger_consistent(database, org.id)


def test_transfer_bulk_splits_then_merges(client: TestClient, org: OrgContext, make_item: Maker,
                                          make_location: Maker, database: Database) -> None:
    a, b = make_location("A"), make_location("B")
    source = make_item(tracking="bulk", quantity=10, location_id=a["id"], sku="BEAD-4MM", external_id="BEADS-A")
    body = {"to_location_id": b["id"], "to_room_type": "sales_floor", "quantity": 4}
    first = client.post(f"{INV}/{source['id']}/transfer", json=body, headers=org.headers).json()["data"]
    target = first["target"]
    assert target["id"] != source["id"] and (target["sku"], target["quantity"]) == ("BEAD-4MM", 4)
    assert target["external_id"] is None and first["source"]["quantity"] == 6
    second = client.post(f"{INV}/{source['id']}/transfer", json=body | {"quantity": 6}, headers=org.headers)
    merged = second.json()["data"]
    assert merged["target"]["id"] == target["id"] and merged["target"]["quantity"] == 10
    assert merged["source"]["quantity"] == 0
    back = client.post(f"{INV}/{target['id']}/transfer", json={"to_location_id": a["id"], "quantity": 3},
                       headers=org.headers).json()["data"]
    assert back["target"]["id"] == source["id"] and back["target"]["quantity"] == 3
    _assert_ledger_consistent(database, org.id)


def test_transfer_errors(client: TestClient, org: OrgContext, make_item: Maker, make_location: Maker,
                         other_org: OrgContext) -> None:
    here = make_location()
    theirs = client.post("/api/v1/locations", json={"name": "T", "code": "T"}, headers=other_org.headers)
    bulk = make_item(tracking="bulk", quantity=2, location_id=here["id"])
    piece = make_item(location_id=here["id"])
    url = f"{INV}/{bulk['id']}/transfer"
    cases = [({"to_location_id": "loc_missing"}, 422, "$.to_location_id"),
             ({"to_location_id": theirs.json()["data"]["id"]}, 422, "$.to_location_id"),
             ({"to_location_id": here["id"], "to_room_type": "sales_floor"}, 422, "$.to_location_id"),
             ({}, 422, "$.to_location_id"),
             ({"to_room_type": "attic"}, 422, "$.to_room_type"),
             ({"to_room_type": "vault", "quantity": 0}, 422, "$.quantity")]
    for body, status, path in cases:
        response = client.post(url, json=body, headers=org.headers)
        assert response.status_code == status, (body, response.text)
        assert path in [e["path"] for e in _errors(response)], (body, response.text)
    short = client.post(url, json={"to_room_type": "vault", "quantity": 3}, headers=org.headers)
    assert short.status_code == 409 and short.json()["error"]["code"] == "INSUFFICIENT_STOCK"
    two = client.post(f"{INV}/{piece['id']}/transfer", json={"to_room_type": "vault", "quantity": 2},
                      headers=org.headers)
    assert two.status_code == 422
    client.patch(f"{INV}/{piece['id']}", json={"quantity_change": -1, "reason_code": "SALE"}, headers=org.headers)
    sold = client.post(f"{INV}/{piece['id']}/transfer", json={"to_room_type": "vault"}, headers=org.headers)
    assert sold.status_code == 409 and sold.json()["error"]["code"] == "ITEM_NOT_AVAILABLE"
    assert client.get(f"{INV}/{bulk['id']}/movements", headers=org.headers).json()["pagination"]["total"] == 1


def test_reserve_and_release(client: TestClient, org: OrgContext, make_item: Maker, database: Database) -> None:
    item = make_item(tracking="bulk", quantity=5, low_stock_threshold=1)
    url = f"{INV}/{item['id']}"
    response = client.post(f"{url}/reserve", json={"quantity": 4, "reference": "ord_9"}, headers=org.headers)
    assert response.status_code == 201, response.text
    hold = response.json()["data"]
    assert hold["id"].startswith("rsv_") and hold["status"] == "active" and hold["item"]["available_quantity"] == 1
    assert hold["item"]["reserved_quantity"] == 4 and _event_count(database, org.id, "inventory.low_stock") == 1
    short = client.post(f"{url}/reserve", json={"quantity": 2}, headers=org.headers)
    assert short.status_code == 409 and short.json()["error"]["code"] == "INSUFFICIENT_STOCK"
    sale = client.patch(url, json={"quantity_change": -2, "reason_code": "SALE"}, headers=org.headers)
    assert sale.status_code == 409
    assert client.delete(f"{url}/reserve/{hold['id']}", headers=org.headers).status_code == 204
    assert client.delete(f"{url}/reserve/{hold['id']}", headers=org.headers).status_code == 204  # idempotent
    missing = client.delete(f"{url}/reserve/rsv_missing", headers=org.headers)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "RESERVATION_NOT_FOUND"
    assert client.get(url, headers=org.headers).json()["data"]["available_quantity"] == 5
    piece = make_item()
    client.post(f"{INV}/{piece['id']}/reserve", json={}, headers=org.headers)
    shown = client.get(f"{INV}/{piece['id']}", headers=org.headers).json()["data"]
    assert shown["status"] == "reserved"
    assert [i["id"] for i in client.get(INV, params={"status": "reserved"}, headers=org.headers).json()["data"]] \
        == [piece["id"]]
    for body, path in (({"quantity": 0}, "$.quantity"), ({"expires_at": "2001-01-01T00:00:00Z"}, "$.expires_at"),
                       ({"expires_at": "tomorrow"}, "$.expires_at")):
        bad = client.post(f"{url}/reserve", json=body, headers=org.headers)
        assert bad.status_code == 422 and path in [e["path"] for e in _errors(bad)], bad.text
    _assert_ledger_consistent(database, org.id)


def test_expired_reservation_releases_itself(client: TestClient, org: OrgContext, make_item: Maker,
                                             database: Database) -> None:
    item = make_item(tracking="bulk", quantity=2)
    url = f"{INV}/{item['id']}"
    expires = to_rfc3339(utcnow() + timedelta(seconds=1))
    hold = client.post(f"{url}/reserve", json={"quantity": 2, "expires_at": expires}, headers=org.headers)
    assert hold.json()["data"]["expires_at"] == expires
    assert client.patch(url, json={"quantity_change": -1, "reason_code": "SALE"}, headers=org.headers).status_code \
        == 409

    def released() -> bool:
        return bool(client.get(url, headers=org.headers).json()["data"]["available_quantity"] == 2)

    wait_until(released, timeout=5, message="the hold to expire")
    assert client.patch(url, json={"quantity_change": -2, "reason_code": "SALE"}, headers=org.headers).status_code \
        == 200
    _assert_ledger_consistent(database, org.id)
