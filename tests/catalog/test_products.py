"""Products: CRUD with WJ's and Jetbuilt's names, lookups, search, filters, both pagination styles."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.catalog.conftest import PRODUCTS, Maker
from tests.support import OrgContext
from vitrina.catalog import demo


def test_create_with_jetbuilt_names_and_read_back(client: TestClient, org: OrgContext) -> None:
    body = {"model": "JBTEST-1", "short_description": "JB Test product 1", "part_number": "ABC123", "msrp": "10.0",
            "mapp": 15.99, "currency": "EUR", "long_description": "A longer text"}
    response = client.post(PRODUCTS, json=body, headers=org.headers)
    assert response.status_code == 201, response.text
    product = response.json()["data"]
    assert product["id"].startswith("prd_") and response.headers["ETag"] == '"1"'
    assert (product["vendor_model"], product["title"], product["description"]) == (
        "JBTEST-1", "JB Test product 1", "A longer text")
    assert (product["msrp"], product["mapp"], product["currency"]) == ("10.00", "15.99", "EUR")
    assert product["discontinued"] is False and product["retail_start"] == "10.00"
    assert product["created_at"].endswith("Z")
    for ref in (product["id"], "JBTEST-1", "jbtest-1"):
        fetched = client.get(f"{PRODUCTS}/{ref}", headers=org.headers)
        assert fetched.status_code == 200 and fetched.json()["data"] == product, ref
    events = client.get("/api/v1/events", params={"type": "product.created"}, headers=org.headers).json()["data"]
    assert [e["data"]["product_id"] for e in events] == [product["id"]]


def test_wj_product_with_options(client: TestClient, org: OrgContext, make_product: Maker) -> None:
    body = {k: v for k, v in demo.PENDANT.items() if k != "jewelry_type"} | {"jewelryType": "7"}
    product = make_product(body)
    assert product["jewelry_type"] == 7 and product["options"]["pendant"]["stones_max"] == 7
    assert product["retail_start"] is None  # no price tables yet: nothing can be priced
    by_partner = client.get(f"{PRODUCTS}/WJ-104", headers=org.headers).json()["data"]
    assert by_partner["id"] == product["id"]


def test_update_and_if_match(client: TestClient, org: OrgContext, make_product: Maker) -> None:
    product = make_product({"vendor_model": "X-1", "title": "One", "msrp": "5"})
    url = f"{PRODUCTS}/{product['id']}"
    stale = client.put(url, json={"title": "Two"}, headers={**org.headers, "If-Match": '"9"'})
    assert stale.status_code == 412
    updated = client.put(url, json={"title": "Two", "msrp": "12.99", "partner_id": None},
                         headers={**org.headers, "If-Match": '"1"'})
    assert updated.status_code == 200, updated.text
    data = updated.json()["data"]
    assert (data["title"], data["msrp"], data["version"]) == ("Two", "12.99", 2)
    assert client.put(url, json={"title": None}, headers=org.headers).json()["data"]["title"] == "Two"
    events = client.get("/api/v1/events", params={"type": "product.updated"}, headers=org.headers).json()["data"]
    assert events and events[0]["data"]["product_id"] == product["id"]


def test_vendor_model_unique_per_organization(client: TestClient, org: OrgContext, other_org: OrgContext,
                                              make_product: Maker) -> None:
    make_product({"vendor_model": "DUP-1", "title": "A"})
    clash = client.post(PRODUCTS, json={"vendor_model": "dup-1", "title": "B"}, headers=org.headers)
    assert clash.status_code == 409 and clash.json()["error"]["code"] == "VENDOR_MODEL_TAKEN"
    second = make_product({"vendor_model": "DUP-2", "title": "B"})
    rename = client.put(f"{PRODUCTS}/{second['id']}", json={"vendor_model": "DUP-1"}, headers=org.headers)
    assert rename.status_code == 409
    assert client.post(PRODUCTS, json={"vendor_model": "DUP-1"}, headers=other_org.headers).status_code == 201


def test_bad_input(client: TestClient, org: OrgContext) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"title": "no model"}, "$.vendor_model"),
        ({"vendor_model": "A", "msrp": "-1"}, "$.msrp"),
        ({"vendor_model": "A", "jewelry_type": 99}, "$.jewelry_type"),
        ({"vendor_model": "A", "status": 3}, "$.status"),
        ({"vendor_model": "A", "product_type": 5}, "$.product_type"),
        ({"vendor_model": "A", "currency": "ABC"}, "$.currency"),
        ({"vendor_model": "A", "options": {"ring": "gold"}}, "$.options"),
        ({"vendor_model": "A", "options": {"ring": {"labor": "-3"}}}, "$.options"),
        ({"vendor_model": "A", "unknown": 1}, "$.unknown"),
        ({"vendor_model": "A/B"}, "$.vendor_model"),
    ]
    for body, path in cases:
        response = client.post(PRODUCTS, json=body, headers=org.headers)
        assert response.status_code == 422, body
        paths = [e["path"] for e in response.json()["error"]["details"]["errors"]]
        assert any(p.startswith(path) for p in paths), (body, paths)
    assert client.get(PRODUCTS, headers=org.headers).json()["pagination"]["total"] == 0


def test_search_filters_and_pages(client: TestClient, org: OrgContext, make_product: Maker) -> None:
    for n in range(1, 31):
        make_product({"vendor_model": f"ACME-{n:03}", "title": f"Mic {n}", "part_number": f"P{n:03}A",
                      "jewelry_type": 8 if n % 2 else 7})
    make_product({"vendor_model": "RING-1", "title": "Solitaire 50%_off", "part_number": "SOL-1"})
    found = client.get(PRODUCTS, params={"query": "acme-00"}, headers=org.headers).json()
    assert [p["vendor_model"] for p in found["data"]] == [f"ACME-00{n}" for n in range(1, 10)]
    assert client.get(PRODUCTS, params={"query": "p030a"}, headers=org.headers).json()["data"][0]["title"] == "Mic 30"
    assert client.get(PRODUCTS, params={"query": "solitaire"}, headers=org.headers).json()["pagination"]["total"] == 1
    assert client.get(PRODUCTS, params={"query": "%_"}, headers=org.headers).json()["pagination"]["total"] == 1
    rings = client.get(PRODUCTS, params={"jewelry_type": 8, "limit": 200}, headers=org.headers).json()
    assert rings["pagination"]["total"] == 15
    page = client.get(PRODUCTS, params={"page": 2, "limit": 25}, headers=org.headers)
    assert page.status_code == 200 and page.headers["X-Total-Count"] == "31"
    assert page.json()["pagination"] == {"limit": 25, "offset": 25, "total": 31, "page": 2}
    assert len(page.json()["data"]) == 6
    assert 'rel="prev"' in page.headers["Link"] and "page=1" in page.headers["Link"]
    assert client.get(PRODUCTS, params={"page": 0}, headers=org.headers).status_code == 422
    assert client.get(PRODUCTS, params={"limit": 201}, headers=org.headers).status_code == 422


def test_delete_discontinues(client: TestClient, org: OrgContext, make_product: Maker) -> None:
    product = make_product({"vendor_model": "OLD-1", "title": "Old"})
    assert client.delete(f"{PRODUCTS}/OLD-1", headers=org.headers).status_code == 204
    kept = client.get(f"{PRODUCTS}/{product['id']}", headers=org.headers)
    assert kept.status_code == 200 and kept.json()["data"]["discontinued"] is True
    listed = client.get(PRODUCTS, params={"discontinued": "true"}, headers=org.headers).json()["data"]
    assert [p["id"] for p in listed] == [product["id"]]
    assert client.get(PRODUCTS, params={"discontinued": "false"}, headers=org.headers).json()["data"] == []
    assert client.delete(f"{PRODUCTS}/nope", headers=org.headers).status_code == 404


def test_tenancy_and_scopes(client: TestClient, org: OrgContext, other_org: OrgContext, make_product: Maker) -> None:
    product = make_product({"vendor_model": "MINE-1", "title": "Mine", "partner_id": "P-1"})
    for ref in (product["id"], "MINE-1", "P-1"):
        assert client.get(f"{PRODUCTS}/{ref}", headers=other_org.headers).status_code == 404
    assert client.put(f"{PRODUCTS}/{product['id']}", json={"title": "x"}, headers=other_org.headers).status_code == 404
    assert client.delete(f"{PRODUCTS}/{product['id']}", headers=other_org.headers).status_code == 404
    assert client.get(PRODUCTS, headers=other_org.headers).json()["data"] == []
    reader = org.make_headers(["read"])
    assert client.post(PRODUCTS, json={"vendor_model": "R"}, headers=reader).status_code == 403
    assert client.delete(f"{PRODUCTS}/{product['id']}", headers=reader).status_code == 403
    assert client.get(f"{PRODUCTS}/{product['id']}", headers=reader).json()["data"]["discontinued"] is False


def test_retail_start_is_the_cheapest_valid_configuration(client: TestClient, org: OrgContext,
                                                          catalog: dict[str, Any]) -> None:
    pendant = catalog["RPD104"]
    # sterling silver chain (2.1 g x 10.36/13.07 x $1.05 + $20 labor) and pendant (3.4 g … + $60), no stones
    chain = 2.1 * 10.36 / 13.07 * 1.05 + 20
    body = 3.4 * 10.36 / 13.07 * 1.05 + 60
    assert abs(float(pendant["retail_start"]) - (chain + body) * 2.2) < 0.01
    cheapest = {"chain": {"type": "C1", "metal": {"sku": "s", "color": "W"}},
                "pendant": {"metal": {"sku": "s", "color": "W"}}}
    response = client.post("/api/v1/product-configurations",
                           json={"items": {"vendor_model": "RPD104", "configuration": cheapest}}, headers=org.headers)
    assert response.json()["data"]["retail"] == pendant["retail_start"]
    assert catalog["ACME-123"]["retail_start"] == "123.00"
