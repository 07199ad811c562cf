"""Sales and returns (API.md §5): one database transaction over the ledger, totals, prices, returns."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
from fastapi.testclient import TestClient

from tests.sales.helpers import (
    TXN,
    events,
    item,
    make_customer,
    make_item,
    make_location,
    movements,
    sell,
)
from tests.support import OrgContext

UNKNOWN_ITEM = "itm_01JD0000000000000000000000"


def test_sale_of_a_serialized_piece(client: TestClient, org: OrgContext) -> None:
    loc = make_location(client, org)
    ring = make_item(client, org, loc, price="12499.99")
    customer = make_customer(client, org)
    response = sell(client, org, loc, [{"inventory_id": ring["id"], "quantity": 1}], customer_id=customer["id"],
                    reference="POS-1")
    assert response.status_code == 201, response.text
    txn = response.json()["data"]
    assert txn["id"].startswith("txn_") and txn["type"] == "sale" and txn["status"] == "completed"
    assert txn["customer_id"] == customer["id"] and txn["location_id"] == loc
    assert (txn["subtotal"], txn["total"], txn["currency"]) == ("12499.99", "12499.99", "USD")
    assert txn["line_count"] == 1 and txn["unit_count"] == 1
    [line] = txn["lines"]
    assert line["inventory_id"] == ring["id"] and line["unit_price"] == "12499.99"
    assert line["price_source"] == "item" and line["movement_id"].startswith("mov_")
    sold = item(client, org, ring["id"])
    assert sold["status"] == "sold" and sold["quantity"] == 0
    latest = movements(client, org, ring["id"])[0]
    assert latest["reason_code"] == "SALE" and latest["quantity_change"] == -1 and latest["id"] == line["movement_id"]
    assert [e["id"] for e in events(client, org, "inventory.sold")] == [ring["id"]]
    [completed] = events(client, org, "transaction.completed")
    assert completed["id"] == txn["id"] and completed["total"] == "12499.99"
    assert client.get(f"{TXN}/{txn['id']}", headers=org.headers).json()["data"] == txn


def test_multi_line_bulk_sale_totals_and_prices(client: TestClient, org: OrgContext) -> None:
    loc = make_location(client, org)
    chain = make_item(client, org, loc, tracking="bulk", quantity=10, price="19.99")
    ring = make_item(client, org, loc, price="100.00")
    response = sell(client, org, loc, [{"inventory_id": chain["id"], "quantity": 3},
                                       {"inventory_id": ring["id"], "quantity": 1, "unit_price": 80.10}])
    assert response.status_code == 201, response.text
    txn = response.json()["data"]
    assert [(ln["amount"], ln["price_source"]) for ln in txn["lines"]] == [("59.97", "item"), ("80.10", "request")]
    assert txn["subtotal"] == txn["total"] == "140.07" and txn["unit_count"] == 4
    assert item(client, org, chain["id"])["quantity"] == 7
    assert item(client, org, chain["id"])["status"] == "active"


def test_sale_by_external_id(client: TestClient, org: OrgContext) -> None:
    loc = make_location(client, org)
    ring = make_item(client, org, loc, external_id="JWL-12345")
    response = sell(client, org, loc, [{"inventory_id": "JWL-12345"}])
    assert response.status_code == 201, response.text
    assert response.json()["data"]["lines"][0]["inventory_id"] == ring["id"]


def test_short_last_line_changes_nothing(client: TestClient, org: OrgContext) -> None:
    loc = make_location(client, org)
    a = make_item(client, org, loc, tracking="bulk", quantity=5, price="10.00")
    b = make_item(client, org, loc, price="20.00")
    c = make_item(client, org, loc, tracking="bulk", quantity=2, price="30.00")
    response = sell(client, org, loc, [{"inventory_id": a["id"], "quantity": 2},
                                       {"inventory_id": b["id"], "quantity": 1},
                                       {"inventory_id": c["id"], "quantity": 3}])
    assert response.status_code == 409, response.text
    assert response.json()["error"]["code"] == "ITEM_NOT_AVAILABLE"
    assert response.json()["error"]["details"]["path"] == "$.lines[2]"
    assert [item(client, org, x["id"])["quantity"] for x in (a, b, c)] == [5, 1, 2]
    assert item(client, org, b["id"])["status"] == "active"
    assert all(len(movements(client, org, x["id"])) == 1 for x in (a, b, c))
    assert client.get(TXN, headers=org.headers).json()["data"] == []
    assert events(client, org, "inventory.sold") == [] and events(client, org, "transaction.completed") == []


def test_sold_piece_cannot_be_sold_again(client: TestClient, org: OrgContext) -> None:
    loc = make_location(client, org)
    ring = make_item(client, org, loc)
    assert sell(client, org, loc, [{"inventory_id": ring["id"]}]).status_code == 201
    again = sell(client, org, loc, [{"inventory_id": ring["id"]}])
    assert again.status_code == 409 and again.json()["error"]["code"] == "ITEM_NOT_AVAILABLE"
    twice_in_one = sell(client, org, loc, [{"inventory_id": make_item(client, org, loc)["id"]}] * 2)
    assert twice_in_one.status_code == 409


def test_mixed_currencies_are_422(client: TestClient, org: OrgContext) -> None:
    loc = make_location(client, org)
    usd = make_item(client, org, loc, price="10.00", currency="USD")
    eur = make_item(client, org, loc, price="10.00", currency="EUR")
    response = sell(client, org, loc, [{"inventory_id": usd["id"]}, {"inventory_id": eur["id"]}])
    assert response.status_code == 422 and response.json()["error"]["code"] == "CURRENCY_MISMATCH"
    assert response.json()["error"]["details"]["errors"][0]["path"] == "$.lines[1].inventory_id"
    wrong = sell(client, org, loc, [{"inventory_id": eur["id"]}], currency="USD")
    assert wrong.status_code == 422
    assert item(client, org, usd["id"])["quantity"] == 1 and item(client, org, eur["id"])["quantity"] == 1
    implied = sell(client, org, loc, [{"inventory_id": eur["id"]}], currency=None)
    assert implied.status_code == 201 and implied.json()["data"]["currency"] == "EUR"


def test_bad_lines_are_422(client: TestClient, org: OrgContext) -> None:
    loc = make_location(client, org)
    ring = make_item(client, org, loc)
    for line, path in (({"inventory_id": ring["id"], "quantity": 0}, "$.lines[0].quantity"),
                       ({"inventory_id": ring["id"], "quantity": -1}, "$.lines[0].quantity"),
                       ({"inventory_id": ring["id"], "unit_price": "-1"}, "$.lines[0].unit_price"),
                       ({"inventory_id": ring["id"], "unit_price": "abc"}, "$.lines[0].unit_price"),
                       ({"quantity": 1}, "$.lines[0].inventory_id")):
        response = sell(client, org, loc, [line])
        assert response.status_code == 422, (line, response.text)
        assert path in [e["path"] for e in response.json()["error"]["details"]["errors"]]
    assert sell(client, org, loc, []).status_code == 422
    assert client.post(TXN, json={"type": "gift", "lines": [{"inventory_id": ring["id"]}]},
                       headers=org.headers).status_code == 422
    assert item(client, org, ring["id"])["quantity"] == 1


def test_unknown_references_are_404(client: TestClient, org: OrgContext) -> None:
    loc = make_location(client, org)
    ring = make_item(client, org, loc)
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"lines": [{"inventory_id": UNKNOWN_ITEM}]}, "ITEM_NOT_FOUND", "$.lines[0].inventory_id"),
        ({"lines": [{"inventory_id": ring["id"]}], "customer_id": "cus_01JD0000000000000000000000"},
         "CUSTOMER_NOT_FOUND", "$.customer_id"),
        ({"lines": [{"inventory_id": ring["id"]}], "location_id": "loc_01JD0000000000000000000000"},
         "LOCATION_NOT_FOUND", "$.location_id"),
    ]
    for fields, code, path in cases:
        response = client.post(TXN, json={"type": "sale", "location_id": loc, **fields}, headers=org.headers)
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == code and response.json()["error"]["details"]["path"] == path
    assert item(client, org, ring["id"])["quantity"] == 1


def test_item_without_price_sells_at_the_given_price_or_zero(client: TestClient, org: OrgContext) -> None:
    loc = make_location(client, org)
    given, unpriced = make_item(client, org, loc, price=None), make_item(client, org, loc, price=None)
    response = sell(client, org, loc, [{"inventory_id": given["id"], "unit_price": "5"},
                                       {"inventory_id": unpriced["id"]}])
    assert response.status_code == 201, response.text
    lines = response.json()["data"]["lines"]
    assert [(ln["unit_price"], ln["price_source"]) for ln in lines] == [("5.00", "request"), ("0.00", "unpriced")]
    assert response.json()["data"]["total"] == "5.00"
    assert item(client, org, unpriced["id"])["status"] == "sold"


def test_return_of_a_sold_piece(client: TestClient, org: OrgContext) -> None:
    loc = make_location(client, org)
    ring = make_item(client, org, loc, price="500.00")
    customer = make_customer(client, org)
    sale = sell(client, org, loc, [{"inventory_id": ring["id"]}], customer_id=customer["id"]).json()["data"]
    response = client.post(TXN, json={"type": "return", "location_id": loc, "lines": [{"inventory_id": ring["id"]}],
                                      "payment_method": "card"}, headers=org.headers)
    assert response.status_code == 201, response.text
    ret = response.json()["data"]
    assert ret["type"] == "return" and ret["customer_id"] == customer["id"]  # credited to the sale's customer
    [line] = ret["lines"]
    assert line["sale_line_id"] == sale["lines"][0]["id"] and line["unit_price"] == "500.00"
    assert line["price_source"] == "sale" and ret["total"] == "500.00"
    back = item(client, org, ring["id"])
    assert back["status"] == "active" and back["quantity"] == 1
    assert movements(client, org, ring["id"])[0]["reason_code"] == "RETURN"
    sold_line = client.get(f"{TXN}/{sale['id']}", headers=org.headers).json()["data"]["lines"][0]
    assert sold_line["returned_quantity"] == 1
    again = client.post(TXN, json={"type": "return", "lines": [{"inventory_id": ring["id"]}]}, headers=org.headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "RETURN_EXCEEDS_SALE"
    # Sold again, it can come back again.
    assert sell(client, org, loc, [{"inventory_id": ring["id"]}]).status_code == 201
    assert client.post(TXN, json={"type": "return", "lines": [{"inventory_id": ring["id"]}]},
                       headers=org.headers).status_code == 201


def test_partial_bulk_returns_cannot_exceed_the_sale(client: TestClient, org: OrgContext) -> None:
    loc = make_location(client, org)
    chain = make_item(client, org, loc, tracking="bulk", quantity=10, price="20.00")
    sale = sell(client, org, loc, [{"inventory_id": chain["id"], "quantity": 4}]).json()["data"]
    sale_line = sale["lines"][0]["id"]

    def give_back(quantity: int, **line: object) -> httpx.Response:
        return client.post(TXN, json={"type": "return", "lines": [{"inventory_id": chain["id"],
                                                                   "quantity": quantity, **line}]},
                           headers=org.headers)

    assert give_back(3, sale_line_id=sale_line).status_code == 201
    too_many = give_back(2)
    assert too_many.status_code == 409 and too_many.json()["error"]["code"] == "RETURN_EXCEEDS_SALE"
    assert too_many.json()["error"]["details"]["returnable"] == 1
    assert too_many.json()["error"]["details"]["path"] == "$.lines[0].quantity"
    assert give_back(1).status_code == 201
    assert item(client, org, chain["id"])["quantity"] == 10


def test_return_of_a_piece_never_sold(client: TestClient, org: OrgContext) -> None:
    loc = make_location(client, org)
    ring = make_item(client, org, loc)
    other = make_item(client, org, loc)
    sale = sell(client, org, loc, [{"inventory_id": other["id"]}]).json()["data"]
    response = client.post(TXN, json={"type": "return", "lines": [{"inventory_id": ring["id"]}]},
                           headers=org.headers)
    assert response.status_code == 409 and response.json()["error"]["code"] == "RETURN_WITHOUT_SALE"
    assert response.json()["error"]["details"]["path"] == "$.lines[0].inventory_id"
    wrong_line = client.post(TXN, json={"type": "return", "lines": [
        {"inventory_id": ring["id"], "sale_line_id": sale["lines"][0]["id"]}]}, headers=org.headers)
    assert wrong_line.status_code == 409
    assert item(client, org, ring["id"])["quantity"] == 1
    assert len(client.get(TXN, headers=org.headers).json()["data"]) == 1


def test_list_filters(client: TestClient, org: OrgContext) -> None:
    here, there = make_location(client, org), make_location(client, org)
    customer = make_customer(client, org)
    a = make_item(client, org, here)
    b = make_item(client, org, there)
    first = sell(client, org, here, [{"inventory_id": a["id"]}], customer_id=customer["id"]).json()["data"]
    second = sell(client, org, there, [{"inventory_id": b["id"]}]).json()["data"]
    ret = client.post(TXN, json={"type": "return", "location_id": here, "lines": [{"inventory_id": a["id"]}]},
                      headers=org.headers).json()["data"]

    def ids(**params: str) -> list[str]:
        response = client.get(TXN, params=params, headers=org.headers)
        assert response.status_code == 200, response.text
        return [t["id"] for t in response.json()["data"]]

    assert ids() == [ret["id"], second["id"], first["id"]]
    assert ids(type="sale") == [second["id"], first["id"]]
    assert ids(type="return") == [ret["id"]]
    assert ids(customer_id=customer["id"]) == [ret["id"], first["id"]]
    assert ids(location_id=there) == [second["id"]]
    assert ids(inventory_id=a["id"]) == [ret["id"], first["id"]]
    assert ids(**{"from": second["created_at"]}) == [ret["id"], second["id"]]
    assert ids(to=first["created_at"]) == [first["id"]]
    assert ids(**{"from": "2000-01-01", "to": "2000-12-31"}) == []
    today = first["created_at"][:10]
    assert len(ids(**{"from": today, "to": "2999-01-01"})) == 3
    assert client.get(TXN, params={"from": "yesterday"}, headers=org.headers).status_code == 422
    assert client.get(TXN, params={"type": "gift"}, headers=org.headers).status_code == 422
    page = client.get(TXN, params={"limit": 2, "offset": 2}, headers=org.headers)
    assert [t["id"] for t in page.json()["data"]] == [first["id"]]
    assert page.json()["pagination"] == {"limit": 2, "offset": 2, "total": 3}


def test_deleting_a_customer_with_sales_anonymises_it(client: TestClient, org: OrgContext) -> None:
    loc = make_location(client, org)
    customer = make_customer(client, org, phone="555-0100", notes="likes emeralds", external_id="POS-7")
    sale = sell(client, org, loc, [{"inventory_id": make_item(client, org, loc)["id"]}],
                customer_id=customer["id"]).json()["data"]
    assert sale["customer"] == {"id": customer["id"], "name": "Jon Doe", "anonymized": False}
    assert client.delete(f"/api/v1/customers/{customer['id']}", headers=org.headers).status_code == 204
    assert client.get(f"/api/v1/customers/{customer['id']}", headers=org.headers).status_code == 404
    kept = client.get(f"{TXN}/{sale['id']}", headers=org.headers).json()["data"]
    assert kept["customer_id"] == customer["id"] and kept["total"] == sale["total"]
    assert kept["customer"] == {"id": customer["id"], "name": None, "anonymized": True}
    assert events(client, org, "customer.deleted") == [{"id": customer["id"], "anonymized": True}]
    # Personal fields are gone from storage too, and the external id is free again.
    assert client.get("/api/v1/customers", params={"q": "jon"}, headers=org.headers).json()["data"] == []
    assert make_customer(client, org, external_id="POS-7")["external_id"] == "POS-7"


def test_idempotent_retry_sells_once(client: TestClient, org: OrgContext) -> None:
    loc = make_location(client, org)
    chain = make_item(client, org, loc, tracking="bulk", quantity=5, price="1.00")
    body = {"type": "sale", "location_id": loc, "lines": [{"inventory_id": chain["id"], "quantity": 2}]}
    headers = org.headers | {"Idempotency-Key": "sale-42"}
    first = client.post(TXN, json=body, headers=headers)
    retry = client.post(TXN, json=body, headers=headers)
    assert first.status_code == retry.status_code == 201
    assert retry.headers.get("Idempotent-Replayed") == "true" and retry.json() == first.json()
    assert item(client, org, chain["id"])["quantity"] == 3


def test_get_unknown_transaction(client: TestClient, org: OrgContext) -> None:
    response = client.get(f"{TXN}/txn_01JD0000000000000000000000", headers=org.headers)
    assert response.status_code == 404 and response.json()["error"]["code"] == "TRANSACTION_NOT_FOUND"


def test_tenancy(client: TestClient, org: OrgContext, other_org: OrgContext) -> None:
    loc = make_location(client, org)
    ring = make_item(client, org, loc)
    customer = make_customer(client, org)
    sale = sell(client, org, loc, [{"inventory_id": ring["id"]}], customer_id=customer["id"]).json()["data"]
    assert client.get(f"{TXN}/{sale['id']}", headers=other_org.headers).status_code == 404
    assert client.get(TXN, headers=other_org.headers).json()["data"] == []
    theirs_loc = make_location(client, other_org)
    theirs = make_item(client, other_org, theirs_loc)
    # Another organization's item, customer or sale line cannot be used.
    assert sell(client, other_org, theirs_loc, [{"inventory_id": ring["id"]}]).status_code == 404
    assert sell(client, other_org, theirs_loc, [{"inventory_id": theirs["id"]}],
                customer_id=customer["id"]).status_code == 404
    steal_return = client.post(TXN, json={"type": "return", "lines": [
        {"inventory_id": theirs["id"], "sale_line_id": sale["lines"][0]["id"]}]}, headers=other_org.headers)
    assert steal_return.status_code == 409
    assert item(client, other_org, theirs["id"])["quantity"] == 1


def test_read_key_cannot_sell(client: TestClient, org: OrgContext) -> None:
    loc = make_location(client, org)
    ring = make_item(client, org, loc)
    reader = org.make_headers(["read"])
    response = client.post(TXN, json={"type": "sale", "location_id": loc, "lines": [{"inventory_id": ring["id"]}]},
                           headers=reader)
    assert response.status_code == 403
    assert item(client, org, ring["id"])["quantity"] == 1
    assert client.get(TXN, headers=reader).json()["data"] == []


def test_amounts_are_exact_decimals(client: TestClient, org: OrgContext) -> None:
    loc = make_location(client, org)
    chain = make_item(client, org, loc, tracking="bulk", quantity=100, price="0.10")
    txn = sell(client, org, loc, [{"inventory_id": chain["id"], "quantity": 3}]).json()["data"]
    assert txn["total"] == "0.30" and Decimal(txn["total"]) == Decimal("0.3")


def test_references_and_amounts_are_checked(client: TestClient, org: OrgContext, other_org: OrgContext) -> None:
    loc = make_location(client, org)
    chain = make_item(client, org, loc, tracking="bulk", quantity=10, price="10.00")
    sale = sell(client, org, loc, [{"inventory_id": chain["id"]}]).json()["data"]
    theirs_loc = make_location(client, other_org)
    theirs = sell(client, other_org, theirs_loc, [{"inventory_id": make_item(client, other_org, theirs_loc)["id"]}])
    foreign = client.post(TXN, json={"type": "return", "original_transaction_id": theirs.json()["data"]["id"],
                                     "lines": [{"inventory_id": chain["id"]}]}, headers=org.headers)
    assert foreign.status_code == 404 and foreign.json()["error"]["details"]["path"] == "$.original_transaction_id"
    for fields, path in (({"original_transaction_id": sale["id"]}, "$.original_transaction_id"),
                         ({"lines": [{"inventory_id": chain["id"], "sale_line_id": sale["lines"][0]["id"]}]},
                          "$.lines[0].sale_line_id"),
                         ({"lines": [{"inventory_id": chain["id"], "quantity": 2, "unit_price": "999999999999"}]},
                          "$.lines[0].quantity"),
                         ({"lines": [{"inventory_id": chain["id"], "unit_price": "999999999999"},
                                     {"inventory_id": chain["id"], "unit_price": "1"}]}, "$.lines")):
        body = {"type": "sale", "lines": [{"inventory_id": chain["id"]}]} | fields
        response = client.post(TXN, json=body, headers=org.headers)
        assert response.status_code == 422, response.text
        assert [e["path"] for e in response.json()["error"]["details"]["errors"]] == [path]
    assert item(client, org, chain["id"])["quantity"] == 9
    by_sale = client.post(TXN, json={"type": "return", "original_transaction_id": sale["id"],
                                     "lines": [{"inventory_id": chain["id"]}]}, headers=org.headers)
    assert by_sale.status_code == 201, by_sale.text
    assert by_sale.json()["data"]["lines"][0]["sale_line_id"] == sale["lines"][0]["id"]
