"""Items over HTTP: create, read, list (filters, sort, both pagination styles), update, archive (API.md §3)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event, select

from tests.inventory.conftest import INV, Maker
from tests.support import OrgContext, wait_until
from vitrina.core.models import OutboxEvent
from vitrina.db.session import Database

JEWELTAG_CREATE = {  # seed 000, exactly as documented
    "sku": "DIA-002",
    "name": "Emerald Pendant",
    "category": "pendants",
    "price": 8499.99,
    "cost": 4200.00,
    "supplier_id": "SUP-789",
    "certification": "IGI",
    "description": "18K gold emerald pendant with diamonds",
}


def _events(database: Database, org_id: str, type_: str) -> list[dict[str, Any]]:
    with database.unit_of_work(write=False) as session:
        return [e.data for e in session.scalars(select(OutboxEvent).where(
            OutboxEvent.organization_id == org_id, OutboxEvent.type == type_).order_by(OutboxEvent.seq))]


def test_create_with_jeweltag_body(client: TestClient, org: OrgContext, database: Database) -> None:
    response = client.post(INV, json=JEWELTAG_CREATE, headers=org.headers)
    assert response.status_code == 201, response.text
    item = response.json()["data"]
    assert item["id"].startswith("itm_") and response.headers["etag"] == '"1"'
    assert (item["price"], item["cost"], item["currency"]) == ("8499.99", "4200.00", "USD")
    assert (item["tracking"], item["quantity"], item["room_type"], item["status"]) == \
        ("serialized", 1, "sales_floor", "active")
    assert (item["certification"], item["supplier_id"], item["available_quantity"]) == ("IGI", "SUP-789", 1)
    assert item["created_at"].endswith("Z")
    movements = client.get(f"{INV}/{item['id']}/movements", headers=org.headers).json()["data"]
    assert [(m["reason_code"], m["quantity_change"], m["quantity_after"]) for m in movements] == \
        [("RECEIVED", 1, 1)]
    assert movements[0]["actor"].startswith("key_")
    assert [e["id"] for e in _events(database, org.id, "inventory.created")] == [item["id"]]


def test_create_bulk_with_all_fields(client: TestClient, org: OrgContext, make_location: Maker) -> None:
    location = make_location()
    body = {"external_id": "POS-77", "sku": "FIND-CLASP", "name": "Lobster clasp 14K", "tracking": "bulk",
            "quantity": 250, "low_stock_threshold": 20, "location_id": location["id"], "room_type": "vault",
            "price": "12.5", "cost": 3, "currency": "eur", "product_id": "prd_x", "configuration_id": "cfg_y",
            "attributes": {"metal": "gold", "karat": 14, "weight_g": 0.4}}
    item = client.post(INV, json=body, headers=org.headers).json()["data"]
    assert (item["quantity"], item["price"], item["cost"], item["currency"]) == (250, "12.50", "3.00", "EUR")
    assert item["attributes"]["karat"] == 14 and item["location_id"] == location["id"]
    assert client.get(f"{INV}/POS-77", headers=org.headers).json()["data"]["id"] == item["id"]
    camel = {"sku": "X", "productName": "Camel", "externalId": "C-1", "unitPrice": 5, "certNumber": "N1",
             "roomType": "vault", "lowStockThreshold": 1}
    created = client.post(INV, json=camel, headers=org.headers).json()["data"]
    assert (created["name"], created["external_id"], created["price"], created["room_type"]) == \
        ("Camel", "C-1", "5.00", "vault")


def test_create_errors(client: TestClient, org: OrgContext, make_item: Maker) -> None:
    make_item(external_id="JWL-12345", sku="DIA-001", certification="GIA", cert_number="GIA-123456789")
    duplicate = client.post(INV, json={"sku": "A", "name": "A", "external_id": "JWL-12345"}, headers=org.headers)
    assert duplicate.status_code == 409 and duplicate.json()["error"]["code"] == "EXTERNAL_ID_TAKEN"
    same_cert = client.post(INV, json={"sku": "DIA-001", "name": "B", "cert_number": "GIA-123456789"},
                            headers=org.headers)
    assert same_cert.status_code == 409 and same_cert.json()["error"]["code"] == "CERTIFICATE_TAKEN"
    cases = [
        ({"name": "no sku"}, "$.sku"),
        ({"sku": "S", "name": "N", "quantity": 2}, "$.quantity"),
        ({"sku": "S", "name": "N", "price": "-1"}, "$.price"),
        ({"sku": "S", "name": "N", "currency": "XXX"}, "$.currency"),
        ({"sku": "S", "name": "N", "room_type": "attic"}, "$.room_type"),
        ({"sku": "S", "name": "N", "certification": "ABC"}, "$.certification"),
        ({"sku": "S", "name": "N", "tracking": "bulk", "quantity": 1.5}, "$.quantity"),
        ({"sku": "S", "name": "N", "location_id": "loc_missing"}, "$.location_id"),
        ({"sku": "S", "name": "N", "colour": "red"}, "$.colour"),
    ]
    for body, path in cases:
        response = client.post(INV, json=body, headers=org.headers)
        assert response.status_code == 422, (body, response.text)
        assert path in [e["path"] for e in response.json()["error"]["details"]["errors"]], (body, response.text)


def test_list_filters_sort_and_pagination(client: TestClient, org: OrgContext, make_item: Maker,
                                          make_location: Maker) -> None:
    store = make_location()
    ring = make_item(sku="RING-1", name="Solitaire ring", category="rings", price="5000", cert_number="GIA-555",
                     location_id=store["id"])
    make_item(sku="PEND-1", name="Emerald pendant", category="pendants", price="800", room_type="vault",
              description="green stone", product_id="prd_1")
    chain = make_item(sku="CHAIN-1", name="Chain", category="chains", tracking="bulk", quantity=3,
                      low_stock_threshold=5, price=None)
    headers = org.headers

    def ids(**params: Any) -> list[str]:
        response = client.get(INV, params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["data"]]

    assert ids(category="rings") == [ring["id"]]
    assert ids(location_id=store["id"]) == [ring["id"]]
    assert len(ids(room_type="vault")) == 1
    assert ids(low_stock="true") == [chain["id"]]
    assert ring["id"] in ids(low_stock="false") and chain["id"] not in ids(low_stock="false")
    assert ids(sku="CHAIN-1") == [chain["id"]]
    assert ids(q="GIA-555") == [ring["id"]] and ids(q="green") != [] and ids(q="solitaire") == [ring["id"]]
    assert ids(q="100%") == []
    assert len(ids(product_id="prd_1")) == 1 and ids(tracking="bulk") == [chain["id"]]
    assert len(ids(status="active")) == 3 and ids(status="sold") == []
    assert len(ids(updated_since="2000-01-01T00:00:00Z")) == 3 and ids(updated_since="2999-01-01T00:00:00Z") == []
    assert ids(sort="price")[:2] == [ids(sku="PEND-1")[0], ring["id"]] and ids(sort="price")[-1] == chain["id"]
    assert ids(sort="-price")[0] == ring["id"]
    assert ids(sort="sku")[0] == chain["id"]
    assert ids(sort="-created_at")[0] == chain["id"]

    page = client.get(INV, params={"limit": 2, "offset": 2}, headers=headers)
    assert page.headers["x-total-count"] == "3" and len(page.json()["data"]) == 1
    assert page.json()["pagination"] == {"limit": 2, "offset": 2, "total": 3}
    paged = client.get(INV, params={"page": 2, "limit": 2}, headers=headers)
    assert paged.json()["pagination"]["page"] == 2 and 'rel="first"' in paged.headers["link"]
    for bad in ({"limit": 201}, {"status": "lost"}, {"sort": "name"}, {"low_stock": "maybe"}):
        assert client.get(INV, params=bad, headers=headers).status_code == 422, bad


def test_seed_004_list_fields(client: TestClient, org: OrgContext, make_item: Maker) -> None:
    make_item(tracking="bulk", quantity=45, price="45.00", cost="25.00")
    item = client.get(INV, params={"page": 1, "limit": 50}, headers=org.headers).json()["data"][0]
    for name in ("product_name", "sku", "location_id", "room_type", "quantity", "reserved_quantity",
                 "available_quantity", "unit_cost", "unit_price"):
        assert name in item
    assert (item["unit_price"], item["unit_cost"], item["available_quantity"]) == ("45.00", "25.00", 45)


def test_update(client: TestClient, org: OrgContext, make_item: Maker, database: Database) -> None:
    item = make_item(tracking="bulk", quantity=10, low_stock_threshold=2)
    url = f"{INV}/{item['id']}"
    response = client.put(url, json={"name": "Renamed", "price": 150, "attributes": {"metal": "platinum"}},
                          headers=org.headers | {"If-Match": '"1"'})
    assert response.status_code == 200, response.text
    updated = response.json()["data"]
    assert (updated["name"], updated["price"], updated["version"]) == ("Renamed", "150.00", 2)
    assert response.headers["etag"] == '"2"'
    assert client.put(url, json={"name": "x"}, headers=org.headers | {"If-Match": '"1"'}).status_code == 412
    for body, code in (({"quantity": 5}, "USE_ADJUSTMENT"), ({"location_id": "loc_x"}, "USE_TRANSFER"),
                       ({"room_type": "vault"}, "USE_TRANSFER")):
        refused = client.put(url, json=body, headers=org.headers)
        assert refused.status_code == 422 and refused.json()["error"]["code"] == code, refused.text
    assert client.put(url, json={"status": "sold"}, headers=org.headers).status_code == 422
    assert client.put(url, json={"status": "repair"}, headers=org.headers).json()["data"]["status"] == "repair"
    assert client.put(url, json={"low_stock_threshold": 10}, headers=org.headers).status_code == 200
    assert len(_events(database, org.id, "inventory.low_stock")) == 1
    assert client.get(url, headers=org.headers).json()["data"]["quantity"] == 10
    assert len(_events(database, org.id, "inventory.updated")) == 3


def test_status_lifecycle_and_archive(client: TestClient, org: OrgContext, make_item: Maker) -> None:
    item = make_item()
    url = f"{INV}/{item['id']}"
    client.patch(url, json={"quantity_change": -1, "reason_code": "SALE"}, headers=org.headers)
    assert client.get(url, headers=org.headers).json()["data"]["status"] == "sold"
    refused = client.put(url, json={"status": "active"}, headers=org.headers)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "INVALID_TRANSITION"
    assert refused.json()["error"]["details"]["allowed"] == ["archived"]
    assert client.patch(url, json={"quantity_change": 1, "reason_code": "RETURN"},
                        headers=org.headers).json()["data"]["item"]["status"] == "active"
    assert client.delete(url, headers=org.headers | {"If-Match": '"99"'}).status_code == 412
    assert client.delete(url, headers=org.headers).status_code == 204
    archived = client.get(url, headers=org.headers).json()["data"]
    assert archived["status"] == "archived" and archived["quantity"] == 1
    assert client.get(INV, headers=org.headers).json()["data"] == []
    assert [i["id"] for i in client.get(INV, params={"status": "archived"}, headers=org.headers).json()["data"]] \
        == [item["id"]]
    adjust = client.patch(url, json={"quantity_change": -1, "reason_code": "DAMAGE"}, headers=org.headers)
    assert adjust.status_code == 409 and adjust.json()["error"]["code"] == "ITEM_ARCHIVED"
    assert client.delete(url, headers=org.headers).status_code == 204  # idempotent
    assert client.put(url, json={"status": "active"}, headers=org.headers).json()["data"]["status"] == "active"


def test_archive_refused_while_reserved(client: TestClient, org: OrgContext, make_item: Maker) -> None:
    item = make_item()
    hold = client.post(f"{INV}/{item['id']}/reserve", json={"reference": "ord_1"}, headers=org.headers).json()
    refused = client.delete(f"{INV}/{item['id']}", headers=org.headers)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "ITEM_RESERVED"
    client.delete(f"{INV}/{item['id']}/reserve/{hold['data']['id']}", headers=org.headers)
    assert client.delete(f"{INV}/{item['id']}", headers=org.headers).status_code == 204


def test_location_with_stock_cannot_be_deleted(client: TestClient, org: OrgContext, make_item: Maker,
                                               make_location: Maker) -> None:
    location = make_location()
    item = make_item(location_id=location["id"])
    response = client.delete(f"/api/v1/locations/{location['id']}", headers=org.headers)
    assert response.status_code == 409 and response.json()["error"]["code"] == "LOCATION_HOLDS_STOCK"
    client.patch(f"{INV}/{item['id']}", json={"quantity_change": -1, "reason_code": "SALE"}, headers=org.headers)
    assert client.delete(f"/api/v1/locations/{location['id']}", headers=org.headers).status_code == 204


def test_unknown_item_is_404(client: TestClient, org: OrgContext) -> None:
    for method, path, body in (("get", "itm_01JD0000000000000000000000", None), ("put", "nope", {"name": "x"}),
                               ("patch", "nope", {"quantity_change": 1, "reason_code": "AUDIT"}),
                               ("delete", "nope", None), ("get", "nope/movements", None),
                               ("post", "nope/transfer", {"to_room_type": "vault"}),
                               ("post", "nope/reserve", {})):
        response = client.request(method, f"{INV}/{path}", json=body, headers=org.headers)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["error"]["code"] == "ITEM_NOT_FOUND"


def test_tenancy(client: TestClient, org: OrgContext, other_org: OrgContext, make_item: Maker) -> None:
    item = make_item(external_id="MINE-1", tracking="bulk", quantity=5)
    theirs = other_org.headers
    for ref in (item["id"], "MINE-1"):
        assert client.get(f"{INV}/{ref}", headers=theirs).status_code == 404
    attempts = [("put", "", {"name": "stolen"}), ("patch", "", {"quantity_change": -1, "reason_code": "THEFT"}),
                ("delete", "", None), ("get", "/movements", None), ("post", "/transfer", {"to_room_type": "vault"}),
                ("post", "/reserve", {"quantity": 1})]
    for method, suffix, body in attempts:
        response = client.request(method, f"{INV}/{item['id']}{suffix}", json=body, headers=theirs)
        assert response.status_code == 404, (method, suffix)
    bulk = client.post(f"{INV}/bulk-update", json={"updates": [
        {"id": item["id"], "quantity_change": -1, "reason_code": "SALE"}]}, headers=theirs)
    assert bulk.status_code == 422
    assert client.get(INV, headers=theirs).json()["data"] == []
    snap = client.get(f"{INV}/snapshot", headers=theirs).json()
    assert snap["data"] == [] and snap["totals"]["count"] == 0
    # The other organization may use the same external_id.
    assert client.post(INV, json={"sku": "S", "name": "N", "external_id": "MINE-1"}, headers=theirs).status_code == 201
    mine = client.get(f"{INV}/{item['id']}", headers=org.headers).json()["data"]
    assert (mine["name"], mine["quantity"], mine["version"]) == (item["name"], 5, 1)


def test_read_key_cannot_write(client: TestClient, org: OrgContext, make_item: Maker) -> None:
    item = make_item(tracking="bulk", quantity=5)
    reader = org.make_headers(["read"])
    url = f"{INV}/{item['id']}"
    attempts = [("post", INV, {"sku": "S", "name": "N"}), ("put", url, {"name": "x"}),
                ("patch", url, {"quantity_change": -1, "reason_code": "SALE"}), ("delete", url, None),
                ("post", f"{url}/transfer", {"to_room_type": "vault"}), ("post", f"{url}/reserve", {}),
                ("post", f"{INV}/bulk-update", {"updates": [{"id": item["id"], "quantity_change": 1,
                                                             "reason_code": "AUDIT"}]})]
    for method, path, body in attempts:
        response = client.request(method, path, json=body, headers=reader)
        assert response.status_code == 403, (method, path)
    assert client.get(url, headers=reader).json()["data"]["version"] == 1
    assert client.get(f"{url}/movements", headers=reader).json()["pagination"]["total"] == 1
    assert client.get(INV, headers=reader).json()["pagination"]["total"] == 1
    assert client.get(INV, headers={}).status_code == 401


def test_update_refuses_nulls_for_required_fields(client: TestClient, org: OrgContext, make_item: Maker) -> None:
    item = make_item()
    response = client.put(f"{INV}/{item['id']}", json={"name": None, "sku": None}, headers=org.headers)
    assert response.status_code == 422
    assert {e["path"] for e in response.json()["error"]["details"]["errors"]} == {"$.name", "$.sku"}
    cleared = client.put(f"{INV}/{item['id']}", json={"attributes": None, "category": None}, headers=org.headers)
    assert cleared.status_code == 200 and cleared.json()["data"]["attributes"] == {}


def test_list_runs_a_constant_number_of_queries(client: TestClient, org: OrgContext, make_item: Maker,
                                                app: FastAPI) -> None:
    engine = app.state.db.engine
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    def queries_for_list() -> int:
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            assert client.get(INV, params={"limit": 200}, headers=org.headers).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(statements)

    for _ in range(3):
        item = make_item(tracking="bulk", quantity=3)
        client.post(f"{INV}/{item['id']}/reserve", json={"quantity": 1}, headers=org.headers)
    few = queries_for_list()
    for _ in range(12):
        item = make_item(tracking="bulk", quantity=3)
        client.post(f"{INV}/{item['id']}/reserve", json={"quantity": 1}, headers=org.headers)
    assert queries_for_list() == few <= 8


def test_idempotent_adjustment(client: TestClient, org: OrgContext, make_item: Maker) -> None:
    item = make_item(tracking="bulk", quantity=5)
    headers = org.headers | {"Idempotency-Key": "adjust-once"}
    body = {"quantity_change": -2, "reason_code": "SALE"}
    first = client.patch(f"{INV}/{item['id']}", json=body, headers=headers)
    again = client.patch(f"{INV}/{item['id']}", json=body, headers=headers)
    assert first.status_code == again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert client.get(f"{INV}/{item['id']}", headers=org.headers).json()["data"]["quantity"] == 3
    reused = client.patch(f"{INV}/{item['id']}", json=body | {"quantity_change": -1}, headers=headers)
    assert reused.status_code == 422 and reused.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_metrics_show_the_ledger_size(client: TestClient, org: OrgContext, make_item: Maker) -> None:
    make_item()

    def ledger_size() -> float:
        body = client.get("/metrics").text
        line = next(line for line in body.splitlines() if line.startswith("vitrina_inventory_movements"))
        return float(line.split()[-1])

    # PostgreSQL publishes its row statistics about once a second.
    wait_until(lambda: ledger_size() >= 1, timeout=10, message="the ledger size gauge")
