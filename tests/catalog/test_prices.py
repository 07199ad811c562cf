"""Directories and the admin-maintained metal and stone price tables (API.md §4)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient

from tests.catalog.conftest import PRODUCTS, quote
from tests.support import OrgContext
from vitrina.catalog import demo

DIR = "/api/v1/directories"
METAL = "/api/v1/prices/metals"
STONES = "/api/v1/prices/stones"
GOLD = {"material_title": "14K GOLD", "cost_per_gram": "51.40", "currency": "USD", "density_g_cm3": "13.07",
        "purity": "0.585"}


def test_static_directories_have_the_seeds_fields(client: TestClient, org: OrgContext) -> None:
    statuses = client.get(f"{DIR}/productStatus", headers=org.headers).json()["data"]["list"]
    assert [s["id"] for s in statuses] == [0, 1, 2, 9, 10]
    currency = client.get(f"{DIR}/currency", headers=org.headers).json()["data"]["list"]
    usd = next(c for c in currency if c["code"] == "USD")
    assert usd == {"id": 1, "code": "USD", "sign": "$", "number": 840, "exponent": 2, "currency": "U.S. dollar",
                   "rate": "1", "default": 1}
    weights = client.get(f"{DIR}/stoneWeight", headers=org.headers).json()["data"]["list"]
    assert {"sku": "e", "title": 0.25, "description": "0.25 ct", "status": 1} in weights
    for name in ("productGender", "productType", "jewelryType"):
        listed = client.get(f"{DIR}/{name}", headers=org.headers).json()["data"]["list"]
        assert listed and all("id" in entry and "title" in entry for entry in listed)
    assert client.get(f"{DIR}/nope", headers=org.headers).status_code == 422
    assert client.get(f"{DIR}/currency").status_code == 401


def test_metal_price_table(client: TestClient, org: OrgContext) -> None:
    created = client.put(f"{METAL}/f", json=GOLD, headers=org.headers)
    assert created.status_code == 201, created.text
    assert created.json()["data"]["cost_per_gram"] == "51.4" and created.json()["data"]["purity"] == "0.585"
    updated = client.put(f"{METAL}/F", json={**GOLD, "cost_per_gram": 55}, headers=org.headers)
    assert updated.status_code == 200 and updated.json()["data"]["material_sku"] == "f"
    table = client.get(f"{DIR}/metalLock", headers=org.headers).json()["data"]["list"]
    assert [(m["material_sku"], m["cost"]) for m in table] == [("f", "55")]
    events = client.get("/api/v1/events", params={"type": "price.updated"}, headers=org.headers).json()["data"]
    assert [e["data"]["cost_per_gram"] for e in events] == ["51.4", "55"]
    assert events[1]["data"]["previous_cost_per_gram"] == "51.4"


def test_metal_price_bad_input_stores_nothing(client: TestClient, org: OrgContext) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({**GOLD, "cost_per_gram": "-1"}, "$.cost_per_gram"), ({**GOLD, "purity": "1.5"}, "$.purity"),
        ({**GOLD, "density_g_cm3": 0}, "$.density_g_cm3"), ({**GOLD, "currency": "XXX"}, "$.currency"),
        ({k: v for k, v in GOLD.items() if k != "material_title"}, "$.material_title"),
    ]
    for body, path in cases:
        response = client.put(f"{METAL}/f", json=body, headers=org.headers)
        assert response.status_code == 422, body
        assert path in [e["path"] for e in response.json()["error"]["details"]["errors"]]
    assert client.put(f"{METAL}/bad%20sku", json=GOLD, headers=org.headers).status_code == 422
    assert client.get(f"{DIR}/metalLock", headers=org.headers).json()["data"]["list"] == []


def test_price_tables_need_admin(client: TestClient, org: OrgContext) -> None:
    writer = org.make_headers(["read", "write"])
    assert client.put(f"{METAL}/f", json=GOLD, headers=writer).status_code == 403
    stone = demo.stone_rows()[0]
    assert client.put(STONES, json=stone, headers=writer).status_code == 403


def test_stone_price_table_upserts_by_key(client: TestClient, org: OrgContext) -> None:
    row = {"material_sku": "dmnd", "material_title": "Diamond", "stone_shape": "rd", "weight_stone": "e",
           "quality": "VS2", "weight_from": 0.25, "weight_to": 0.25, "cost": 350}
    assert client.put(STONES, json=row, headers=org.headers).status_code == 201
    again = client.put(STONES, json={**row, "stone_shape": "RD", "cost": "360.50"}, headers=org.headers)
    assert again.status_code == 200 and again.json()["data"]["cost"] == "360.5"
    other = client.put(STONES, json={**row, "quality": "SI1", "cost": 300}, headers=org.headers)
    assert other.status_code == 201
    table = client.get(f"{DIR}/stoneLock", headers=org.headers).json()["data"]["list"]
    assert sorted((s["quality"], s["cost"]) for s in table) == [("SI1", "300"), ("VS2", "360.5")]
    bad = client.put(STONES, json={**row, "weight_from": 1, "weight_to": 0.5}, headers=org.headers)
    assert bad.status_code == 422 and bad.json()["error"]["details"]["errors"][0]["path"] == "$.weight_to"
    assert client.put(STONES, json={**row, "cost": -5}, headers=org.headers).status_code == 422


def test_price_tables_are_per_organization(client: TestClient, org: OrgContext, other_org: OrgContext) -> None:
    assert client.put(f"{METAL}/f", json=GOLD, headers=org.headers).status_code == 201
    assert client.get(f"{DIR}/metalLock", headers=other_org.headers).json()["data"]["list"] == []


def test_metal_price_change_moves_new_quotes_and_retail_start(client: TestClient, org: OrgContext,
                                                              catalog: dict[str, Any]) -> None:
    model, configuration = demo.EXAMPLES["pendant"]
    before = quote(client, org.headers, model, configuration).json()["data"]
    start = client.get(f"{PRODUCTS}/{model}", headers=org.headers).json()["data"]["retail_start"]
    assert client.put(f"{METAL}/f", json={**GOLD, "cost_per_gram": "60.40"}, headers=org.headers).status_code == 200
    after = quote(client, org.headers, model, configuration).json()["data"]
    assert after["ci"] == before["ci"]
    # 5.5 g of 14K (chain 2.1 g + pendant 3.4 g) x $9 more per gram x markup 2.2
    assert Decimal(after["retail"]) - Decimal(before["retail"]) == Decimal("108.90")
    # the cheapest configuration is in sterling silver: a gold price change leaves retail_start alone
    assert client.get(f"{PRODUCTS}/{model}", headers=org.headers).json()["data"]["retail_start"] == start
