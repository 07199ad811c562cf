"""Made-to-order orders: WJ's create body, pricing, the status lifecycle and history (API.md §6)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.orders.catalog_setup import FULL_ORDER_DATA, CatalogProduct, full_order_data_from_seed, make_product
from tests.support import OrgContext

ORD = "/api/v1/orders"


@pytest.fixture
def product(client: TestClient, org: OrgContext) -> CatalogProduct:
    return make_product(client, org)


def _order_body(product: CatalogProduct, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "external_order_id": "MAG-1001", "order_date": 1559229507, "customer_name": "Jon Doe",
        "customer_email": "abc@gmail.com", "customer_phone": "34124", "shipping_address": "City, Country",
        "billing_address": "Country, City", "currency": "USD", "payment_status": 1, "pay_method": 2,
        "order_type": 1, "order_purpose": 1, "order_status": 1,
        "items": {"qty": 1, "vendor_model": product.vendor_model, "configuration": product.configuration,
                  "size": product.size},
    }
    return body | fields


def _create(client: TestClient, org: OrgContext, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(ORD, json=body, headers=org.headers)
    assert response.status_code == 201, response.text
    return dict(response.json()["data"])


def _events(client: TestClient, org: OrgContext, type: str) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from vitrina.core.models import OutboxEvent

    database = client.app.state.db  # type: ignore[attr-defined]
    with database.unit_of_work(organization_id=org.id, write=False) as session:
        rows = session.scalars(select(OutboxEvent).where(OutboxEvent.type == type).order_by(OutboxEvent.seq))
        return [dict(row.data) for row in rows]


def test_full_order_data_example_creates_an_order(client: TestClient, org: OrgContext,
                                                  product: CatalogProduct) -> None:
    """WJ's "Full Order Data" body, read from the seed, creates the order it describes: every field kept, the
    item priced by the catalog's configuration pricing (the same quote POST /product-configurations gives) and
    frozen at that price when the catalog's metal price later rises."""
    body = full_order_data_from_seed()
    assert body == FULL_ORDER_DATA  # the constant other tests use is a faithful copy
    response = client.post(ORD, json=body, headers=org.headers)
    assert response.status_code == 201, response.text
    order = response.json()["data"]
    assert order["id"].startswith("ord_") and order["external_order_id"] is None
    assert order["order_date"] == "2019-05-30T15:18:27Z"  # 1559229507
    assert (order["order_purpose"], order["order_type"]) == (1, 1)
    assert order["order_status"] == 2 and order["order_status_name"] == "Confirmed"  # WJ: "Set 3 as Confirmed"
    assert order["payment_status"] == 2 and order["payment_status_name"] == "Process"
    assert order["pay_method"] == 0 and order["currency"] == "USD"  # currency 1 of WJ's directory
    assert order["customer"] == {"id": order["customer_id"], "name": "Jon Doe", "email": "abc@gmail.com",
                                 "phone": "34124"}
    assert order["shipping_address"] == "City, Country" and order["billing_address"] == "Country, City"
    assert [(h["from_status"], h["to_status"]) for h in order["status_history"]] == [(None, 2)]
    [item] = order["items"]
    assert (item["vendor_model"], item["qty"], item["size"]) == ("RPD104", 1, None)
    assert item["configuration"] == body["items"]["configuration"]
    quote = client.post("/api/v1/product-configurations", headers=org.headers, json={"items": {
        "qty": 1, "vendor_model": "RPD104", "configuration": body["items"]["configuration"]}}).json()["data"]
    assert item["configuration_id"] == quote["ci"] and item["configuration_id"].startswith("RPD104-")
    assert item["unit_price"] == item["amount"] == order["subtotal"] == order["total"] == quote["retail"]
    assert Decimal(item["unit_price"]) > 0 and item["currency"] == quote["currency"] == "USD"
    [created] = _events(client, org, "order.created")
    assert created["id"] == order["id"] and created["total"] == order["total"]
    # The customer was created, remembering WJ's customer id as its external_id; a second order finds it.
    customer = client.get(f"/api/v1/customers/{order['customer_id']}", headers=org.headers).json()["data"]
    assert customer["external_id"] == "19" and customer["email"] == "abc@gmail.com"
    again = _create(client, org, full_order_data_from_seed())
    assert again["customer_id"] == order["customer_id"]
    # A dearer metal changes the catalog's quote, not the order placed before it.
    product.raise_prices(client, org)
    requote = client.post("/api/v1/product-configurations", headers=org.headers, json={"items": {
        "qty": 1, "vendor_model": "RPD104", "configuration": body["items"]["configuration"]}}).json()["data"]
    assert Decimal(requote["retail"]) > Decimal(quote["retail"])
    kept = client.get(f"{ORD}/{order['id']}", headers=org.headers).json()["data"]
    assert kept["items"][0]["unit_price"] == kept["total"] == quote["retail"]


def test_create_prices_each_item_and_keeps_the_price(client: TestClient, org: OrgContext,
                                                     product: CatalogProduct) -> None:
    items = [{"qty": 2, "vendor_model": product.vendor_model, "configuration": product.configuration,
              "size": product.size},
             {"qty": 1, "vendor_model": product.vendor_model, "configuration": product.configuration,
              "size": product.size},
             {"qty": 1, "vendor_model": product.vendor_model, "configuration": product.configuration}]
    order = _create(client, org, _order_body(product, items=items))
    first, second, unsized = order["items"]
    assert first["configuration_id"] == second["configuration_id"]
    assert unsized["configuration_id"] != first["configuration_id"]  # the size is part of the configuration
    assert first["unit_price"] == second["unit_price"]
    unit = first["unit_price"]
    assert Decimal(first["amount"]) == 2 * Decimal(unit) and Decimal(unit) > 0
    assert Decimal(order["total"]) == 3 * Decimal(unit) + Decimal(unsized["amount"])
    assert order["currency"] == "USD" and first["currency"] == "USD"
    assert order["status_history"][0]["from_status"] is None and order["status_history"][0]["to_status"] == 1
    assert order["status_history"][0]["actor"].startswith("key_")
    [created] = _events(client, org, "order.created")
    assert created["id"] == order["id"] and created["order_status"] == 1
    # Price changes later do not alter the order.
    product.raise_prices(client, org)
    assert client.get(f"{ORD}/{order['id']}", headers=org.headers).json()["data"]["items"][0]["unit_price"] == unit


def test_configuration_id_instead_of_configuration(client: TestClient, org: OrgContext,
                                                   product: CatalogProduct) -> None:
    first = _create(client, org, _order_body(product))
    ci = first["items"][0]["configuration_id"]
    body = _order_body(product, external_order_id="MAG-1002",
                       items=[{"qty": 1, "vendor_model": product.vendor_model, "configuration_id": ci}])
    second = _create(client, org, body)
    assert second["items"][0]["configuration_id"] == ci
    assert second["items"][0]["unit_price"] == first["items"][0]["unit_price"]


def test_items_as_a_list_with_configuration_id_and_size(client: TestClient, org: OrgContext,
                                                         product: CatalogProduct) -> None:
    unsized = _create(client, org, _order_body(product, items={"qty": 1, "vendor_model": product.vendor_model,
                                                               "configuration": product.configuration}))
    ci = unsized["items"][0]["configuration_id"]
    items = [{"qty": 1, "configuration_id": ci, "size": product.size},
             {"qty": 2, "vendor_model": product.vendor_model, "configuration": product.configuration,
              "size": product.size}]
    order = _create(client, org, _order_body(product, external_order_id="LIST-1", items=items))
    by_id, by_configuration = order["items"]
    assert by_id["vendor_model"] == product.vendor_model and by_id["size"] == product.size
    stored = client.get(f"/api/v1/product-configurations/{ci}", headers=org.headers).json()["data"]
    assert by_id["configuration"] == stored["configuration"]  # the catalog's canonical form of the one sent
    assert by_id["configuration_id"] == by_configuration["configuration_id"] != ci  # the size is part of it
    assert by_id["unit_price"] == by_configuration["unit_price"]
    assert Decimal(order["total"]) == 3 * Decimal(by_id["unit_price"])
    for bad_item, path, status in (
            ({"qty": 1, "configuration_id": "RPD104-NOPE"}, "$.items[1].configuration_id", 404),
            ({"qty": 1, "configuration_id": ci, "size": 99}, "$.items[1].size", 422),
            ({"qty": 1, "configuration_id": ci, "vendor_model": "SIZER-1"}, "$.items[1].configuration_id", 422)):
        response = client.post(ORD, json=_order_body(product, external_order_id="LIST-2",
                                                     items=[items[1], bad_item]), headers=org.headers)
        assert response.status_code == status, response.text
        error = response.json()["error"]
        paths = [e["path"] for e in error["details"].get("errors", [])] or [error["details"].get("path")]
        assert path in paths, (bad_item, error)
    assert client.get(ORD, headers=org.headers).json()["pagination"]["total"] == 2


def test_customer_by_id(client: TestClient, org: OrgContext, product: CatalogProduct) -> None:
    customer = client.post("/api/v1/customers", json={"name": "Known"}, headers=org.headers).json()["data"]
    body = _order_body(product, customer_id=customer["id"], customer_name=None, customer_email=None,
                       customer_phone=None)
    order = _create(client, org, body)
    assert order["customer_id"] == customer["id"] and order["customer"]["name"] == "Known"
    missing = _order_body(product, external_order_id="X2", customer_id="cus_01JD0000000000000000000000")
    unknown = client.post(ORD, json=missing, headers=org.headers)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "CUSTOMER_NOT_FOUND"


@pytest.mark.parametrize(("fields", "path"), [
    ({"payment_status": 4}, "$.payment_status"),
    ({"pay_method": -1}, "$.pay_method"),
    ({"order_status": 5}, "$.order_status"),
    ({"order_status": 0}, "$.order_status"),
    ({"items": []}, "$.items"),
    ({"currency": "XXX"}, "$.currency"),
    ({"currency": "\u00b2"}, "$.currency"),
    ({"currency": "9" * 5000}, "$.currency"),
    ({"currency": 99}, "$.currency"),
    ({"currency": "EUR"}, "$.items[0].vendor_model"),
    ({"customer_name": None, "customer_email": None, "customer_phone": None}, "$"),
])
def test_bad_create_bodies(client: TestClient, org: OrgContext, product: CatalogProduct, fields: dict[str, Any],
                           path: str) -> None:
    response = client.post(ORD, json=_order_body(product, **fields), headers=org.headers)
    assert response.status_code == 422, response.text
    assert path in {e["path"] for e in response.json()["error"]["details"]["errors"]}
    assert client.get(ORD, headers=org.headers).json()["data"] == []


def test_item_without_configuration(client: TestClient, org: OrgContext, product: CatalogProduct) -> None:
    body = _order_body(product, items={"qty": 1, "vendor_model": product.vendor_model})
    response = client.post(ORD, json=body, headers=org.headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"]["errors"][0]["path"] == "$.items[0].configuration"
    nothing = client.post(ORD, json=_order_body(product, items={"qty": 1}), headers=org.headers)
    assert nothing.status_code == 422 and nothing.json()["error"]["details"]["errors"][0]["path"] == "$.items[0]"
    # A simple product (no options) is ordered by its model alone.
    simple = client.post("/api/v1/products", json={"vendor_model": "SIZER-1", "title": "Ring sizer", "msrp": "12.50",
                                                   "currency": "USD"}, headers=org.headers)
    assert simple.status_code == 201, simple.text
    plain = client.post(ORD, json=_order_body(product, external_order_id="S-1",
                                              items={"qty": 2, "vendor_model": "SIZER-1"}), headers=org.headers)
    assert plain.status_code == 201, plain.text
    assert plain.json()["data"]["items"][0]["configuration_id"].startswith("SIZER-1-")
    zero = _order_body(product, items={"qty": 0, "vendor_model": product.vendor_model,
                                       "configuration": product.configuration})
    assert client.post(ORD, json=zero, headers=org.headers).status_code == 422


def test_invalid_configuration_is_422_with_its_path(client: TestClient, org: OrgContext,
                                                    product: CatalogProduct) -> None:
    body = _order_body(product, items=[{"qty": 1, "vendor_model": product.vendor_model,
                                        "configuration": product.invalid_configuration}])
    response = client.post(ORD, json=body, headers=org.headers)
    assert response.status_code == 422, response.text
    paths = [e["path"] for e in response.json()["error"]["details"]["errors"]]
    assert paths and all(p.startswith("$.items[0].configuration") for p in paths), paths
    assert client.get(ORD, headers=org.headers).json()["data"] == []
    assert _events(client, org, "order.created") == []


def test_bad_references_and_quantities_write_nothing(client: TestClient, org: OrgContext,
                                                     product: CatalogProduct) -> None:
    """Each bad item is the *second* of a list whose first item is fine, and each body names a new customer:
    the 4xx names the field, and neither the order, its first item, nor the customer is left behind."""
    good = {"qty": 1, "vendor_model": product.vendor_model, "configuration": product.configuration}
    cases: list[tuple[dict[str, Any], int, str, str]] = [
        ({"items": [good, {"qty": 1, "vendor_model": "NO-SUCH-MODEL", "configuration": product.configuration}]},
         404, "PRODUCT_NOT_FOUND", "$.items[1].vendor_model"),
        ({"items": [good, {"qty": 1, "configuration_id": "RPD104-UNKNOWN"}]},
         404, "CONFIGURATION_NOT_FOUND", "$.items[1].configuration_id"),
        ({"items": [good, {"qty": 1, "vendor_model": product.vendor_model,
                           "configuration": product.invalid_configuration}]},
         422, "VALIDATION_ERROR", "$.items[1].configuration"),
        ({"items": [good, good | {"qty": 0}]}, 422, "VALIDATION_ERROR", "$.items[1].qty"),
        ({"items": [good, good | {"qty": -2}]}, 422, "VALIDATION_ERROR", "$.items[1].qty"),
        ({"customer_id": "cus_01JD0000000000000000000000"}, 404, "CUSTOMER_NOT_FOUND", "$.customer_id"),
        ({"customer_id": "POS-404", "customer_name": None, "customer_email": None, "customer_phone": None},
         404, "CUSTOMER_NOT_FOUND", "$.customer_id"),
    ]
    for fields, status, code, path in cases:
        body = _order_body(product, customer_name="New Buyer", customer_email="new@example.com") | fields
        response = client.post(ORD, json=body, headers=org.headers)
        assert response.status_code == status, (fields, response.text)
        error = response.json()["error"]
        paths = [e["path"] for e in error["details"].get("errors", [])] or [error["details"].get("path")]
        assert error["code"] == code and any(p.startswith(path) for p in paths), (fields, error)
    assert client.get(ORD, headers=org.headers).json()["data"] == []
    assert client.get("/api/v1/customers", headers=org.headers).json()["data"] == []
    assert _events(client, org, "order.created") == [] and _events(client, org, "customer.created") == []


def test_duplicate_external_order_id(client: TestClient, org: OrgContext, product: CatalogProduct) -> None:
    first = _create(client, org, _order_body(product))
    again = client.post(ORD, json=_order_body(product), headers=org.headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "ORDER_EXISTS"
    assert client.get(f"{ORD}/MAG-1001", headers=org.headers).json()["data"]["id"] == first["id"]


def test_list_with_limit_offset_and_status(client: TestClient, org: OrgContext, product: CatalogProduct) -> None:
    ids = [_create(client, org, _order_body(product, external_order_id=f"M-{n}"))["id"] for n in range(3)]
    client.put(f"{ORD}/{ids[0]}", json={"order_status": 2}, headers=org.headers)
    listed = client.get(ORD, params={"limit": 2, "offset": 1}, headers=org.headers)
    assert listed.status_code == 200
    assert [o["id"] for o in listed.json()["data"]] == [ids[1], ids[0]]
    assert listed.json()["pagination"] == {"limit": 2, "offset": 1, "total": 3}
    confirmed = client.get(ORD, params={"status": 2}, headers=org.headers).json()["data"]
    assert [o["id"] for o in confirmed] == [ids[0]]
    assert client.get(ORD, params={"limit": 500}, headers=org.headers).status_code == 422
    assert client.get(ORD, params={"status": 12}, headers=org.headers).status_code == 422


def test_status_walks_the_legal_path_with_history(client: TestClient, org: OrgContext,
                                                  product: CatalogProduct) -> None:
    order = _create(client, org, _order_body(product))
    url = f"{ORD}/{order['id']}"
    for status in range(2, 10):
        response = client.put(url, json={"order_status": status, "comment": f"step {status}"}, headers=org.headers)
        assert response.status_code == 200, response.text
        assert response.json()["data"]["order_status"] == status
    final = client.get(url, headers=org.headers).json()["data"]
    assert [h["to_status"] for h in final["status_history"]] == list(range(1, 10))
    assert [h["from_status"] for h in final["status_history"]] == [None, *range(1, 9)]
    assert all(h["actor"] and h["created_at"].endswith("Z") for h in final["status_history"])
    assert final["status_history"][3]["comment"] == "step 4" and final["allowed_next_statuses"] == []
    changes = _events(client, org, "order.status_changed")
    assert [(e["from_status"], e["to_status"]) for e in changes] == [(s, s + 1) for s in range(1, 9)]
    stuck = client.put(url, json={"order_status": 0}, headers=org.headers)
    assert stuck.status_code == 409 and stuck.json()["error"]["details"]["allowed"] == []


@pytest.mark.parametrize(("walk", "target", "allowed"), [
    ([], 3, [2, 0]),
    ([], 9, [2, 0]),
    ([2, 3, 4, 5], 0, [6]),
    ([2, 3], 2, None),
    ([0], 1, []),
])
def test_illegal_transitions(client: TestClient, org: OrgContext, product: CatalogProduct, walk: list[int],
                             target: int, allowed: list[int] | None) -> None:
    order = _create(client, org, _order_body(product))
    url = f"{ORD}/{order['id']}"
    for status in walk:
        assert client.put(url, json={"order_status": status}, headers=org.headers).status_code == 200
    before = client.get(url, headers=org.headers).json()["data"]
    response = client.put(url, json={"order_status": target, "tracking_number": "T1"}, headers=org.headers)
    if allowed is None:  # moving back is illegal too
        allowed = [4, 0]
    assert response.status_code == 409, response.text
    error = response.json()["error"]
    assert error["code"] == "INVALID_TRANSITION" and error["details"]["allowed"] == allowed
    after = client.get(url, headers=org.headers).json()["data"]
    assert after == before  # nothing half-written: tracking number untouched too


def test_cancel_from_early_statuses(client: TestClient, org: OrgContext, product: CatalogProduct) -> None:
    order = _create(client, org, _order_body(product))
    url = f"{ORD}/{order['id']}"
    assert client.put(url, json={"order_status": 2}, headers=org.headers).status_code == 200
    canceled = client.put(url, json={"order_status": 0}, headers=org.headers).json()["data"]
    assert canceled["order_status"] == 0 and canceled["order_status_name"] == "Canceled"


def test_tracking_payment_and_comment(client: TestClient, org: OrgContext, product: CatalogProduct) -> None:
    order = _create(client, org, _order_body(product))
    url = f"{ORD}/{order['id']}"
    updated = client.put(url, json={"tracking_number": 794643487347, "payment_status": 3, "comment": "paid"},
                         headers=org.headers).json()["data"]
    assert updated["tracking_number"] == "794643487347" and updated["payment_status"] == 3
    assert updated["payment_status_name"] == "Payed" and updated["comment"] == "paid"
    assert updated["order_status"] == 1 and len(updated["status_history"]) == 1
    for bad, path in (({"payment_status": 7}, "$.payment_status"), ({"order_status": 12}, "$.order_status"),
                      ({"order_status": -1}, "$.order_status"), ({"tracking_number": "x" * 101}, "$.tracking_number")):
        response = client.put(url, json=bad, headers=org.headers)
        assert response.status_code == 422, response.text
        assert [e["path"] for e in response.json()["error"]["details"]["errors"]] == [path]
    assert client.put(url, json={}, headers=org.headers).status_code == 422
    stale = client.put(url, json={"comment": "x"}, headers=org.headers | {"If-Match": '"1"'})
    assert stale.status_code == 412
    [event] = _events(client, org, "order.updated")
    assert event["tracking_number"] == "794643487347"


def test_unknown_order_is_404(client: TestClient, org: OrgContext) -> None:
    for method, kwargs in (("get", {}), ("put", {"json": {"comment": "x"}}), ("put", {"json": {}})):
        response = client.request(method, f"{ORD}/ord_01JD0000000000000000000000", headers=org.headers, **kwargs)
        assert response.status_code == 404 and response.json()["error"]["code"] == "ORDER_NOT_FOUND"


def test_tenancy(client: TestClient, org: OrgContext, other_org: OrgContext, product: CatalogProduct) -> None:
    order = _create(client, org, _order_body(product))
    url = f"{ORD}/{order['id']}"
    assert client.get(url, headers=other_org.headers).status_code == 404
    assert client.put(url, json={"order_status": 2}, headers=other_org.headers).status_code == 404
    assert client.post(f"{url}/receive", json={"location_id": "loc_x"}, headers=other_org.headers).status_code == 404
    assert client.get(ORD, headers=other_org.headers).json()["data"] == []
    assert client.get(url, headers=org.headers).json()["data"]["order_status"] == 1


def test_read_key_cannot_write(client: TestClient, org: OrgContext, product: CatalogProduct) -> None:
    order = _create(client, org, _order_body(product))
    url = f"{ORD}/{order['id']}"
    reader = org.make_headers(["read"])
    assert client.post(ORD, json=_order_body(product, external_order_id="R"), headers=reader).status_code == 403
    assert client.put(url, json={"order_status": 2}, headers=reader).status_code == 403
    assert client.post(f"{url}/receive", json={"location_id": "loc_x"}, headers=reader).status_code == 403
    assert client.get(url, headers=reader).json()["data"]["order_status"] == 1
    assert client.get(ORD, headers=reader).json()["pagination"]["total"] == 1


def _walk(client: TestClient, org: OrgContext, order_id: str, to: int) -> None:
    for status in range(2, to + 1):
        response = client.put(f"{ORD}/{order_id}", json={"order_status": status}, headers=org.headers)
        assert response.status_code == 200, response.text


def test_receive_a_finished_order_into_stock(client: TestClient, org: OrgContext, product: CatalogProduct) -> None:
    location = client.post("/api/v1/locations", json={"name": "Shop", "code": "SHOP"}, headers=org.headers)
    loc = location.json()["data"]["id"]
    order = _create(client, org, _order_body(product, items={
        "qty": 2, "vendor_model": product.vendor_model, "configuration": product.configuration}))
    url = f"{ORD}/{order['id']}/receive"
    early = client.post(url, json={"location_id": loc}, headers=org.headers)
    assert early.status_code == 409 and early.json()["error"]["code"] == "ORDER_NOT_RECEIVABLE"
    _walk(client, org, order["id"], 9)
    unknown_loc = client.post(url, json={"location_id": "loc_01JD0000000000000000000000"}, headers=org.headers)
    assert unknown_loc.status_code == 404, unknown_loc.text
    assert unknown_loc.json()["error"]["code"] == "LOCATION_NOT_FOUND"
    assert unknown_loc.json()["error"]["details"]["path"] == "$.location_id"
    assert client.get(f"{ORD}/{order['id']}", headers=org.headers).json()["data"]["received_at"] is None
    response = client.post(url, json={"location_id": loc, "room_type": "vault"}, headers=org.headers)
    assert response.status_code == 201, response.text
    received = response.json()["data"]
    assert len(received["inventory_ids"]) == 2
    assert received["order"]["items"][0]["inventory_ids"] == received["inventory_ids"]
    assert received["order"]["received_at"] is not None
    [ci] = {i["configuration_id"] for i in received["order"]["items"]}
    for item_id in received["inventory_ids"]:
        piece = client.get(f"/api/v1/inventory/{item_id}", headers=org.headers).json()["data"]
        assert piece["tracking"] == "serialized" and piece["quantity"] == 1 and piece["status"] == "active"
        assert piece["configuration_id"] == ci and piece["location_id"] == loc and piece["room_type"] == "vault"
        assert piece["price"] == order["items"][0]["unit_price"] and piece["currency"] == order["currency"]
        moves = client.get(f"/api/v1/inventory/{item_id}/movements", headers=org.headers).json()["data"]
        assert [m["reason_code"] for m in moves] == ["RECEIVED"]
    again = client.post(url, json={"location_id": loc}, headers=org.headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "ORDER_ALREADY_RECEIVED"
    [event] = _events(client, org, "order.received")
    assert event["inventory_ids"] == received["inventory_ids"]
    # The received piece sells like any other.
    sale = client.post("/api/v1/transactions", json={
        "type": "sale", "location_id": loc, "lines": [{"inventory_id": received["inventory_ids"][0]}]},
        headers=org.headers)
    assert sale.status_code == 201, sale.text


def test_deleting_an_ordering_customer_anonymises_it_and_its_orders(client: TestClient, org: OrgContext,
                                                                     product: CatalogProduct) -> None:
    order = _create(client, org, _order_body(product))
    customer_url = f"/api/v1/customers/{order['customer_id']}"
    assert client.delete(customer_url, headers=org.headers).status_code == 204
    assert client.get(customer_url, headers=org.headers).status_code == 404
    kept = client.get(f"{ORD}/{order['id']}", headers=org.headers).json()["data"]
    assert kept["customer"] == {"id": order["customer_id"], "name": None, "email": None, "phone": None}
    assert kept["shipping_address"] is None and kept["billing_address"] is None
    assert kept["items"] == order["items"] and kept["total"] == order["total"]
    assert kept["status_history"] == order["status_history"]
    assert _events(client, org, "customer.deleted") == [{"id": order["customer_id"], "anonymized": True}]
    # Orders stay listable by the (anonymised) customer's id, and status changes still work.
    listed = client.get(ORD, params={"customer_id": order["customer_id"]}, headers=org.headers).json()["data"]
    assert [o["id"] for o in listed] == [order["id"]]
    assert client.put(f"{ORD}/{order['id']}", json={"order_status": 2}, headers=org.headers).status_code == 200


def test_amounts_beyond_storage_are_422(client: TestClient, org: OrgContext, product: CatalogProduct) -> None:
    metal = client.put("/api/v1/prices/metals/f", headers=org.headers, json={
        "material_title": "14K Gold", "cost_per_gram": "90000000000", "currency": "USD", "density_g_cm3": "13.07",
        "purity": "0.585"})
    assert metal.status_code == 200, metal.text
    items = {"qty": 1000, "vendor_model": product.vendor_model, "configuration": product.configuration}
    response = client.post(ORD, json=_order_body(product, items=items), headers=org.headers)
    assert response.status_code == 422, response.text
    assert [e["path"] for e in response.json()["error"]["details"]["errors"]] == ["$.items[0].qty"]
    assert client.get(ORD, headers=org.headers).json()["data"] == []
