"""Sales with the neighbouring domains: tier prices from the catalog, ownership on a passport (API.md §5)."""

from __future__ import annotations

import importlib.util

import pytest
from fastapi.testclient import TestClient

from tests.sales.helpers import TXN, make_customer, make_item, make_location, sell
from tests.support import OrgContext


def _require(module: str, why: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is absent: {why}")


def test_customer_tier_prices_a_line_without_unit_price(client: TestClient, org: OrgContext) -> None:
    _require("vitrina.catalog.service", "pricing tiers live in the catalog")
    product = client.post("/api/v1/products", json={"vendor_model": "TIER-RING", "title": "Band", "currency": "USD"},
                          headers=org.headers)
    assert product.status_code == 201, product.text
    tier = client.post("/api/v1/pricing_tiers", json={"name": "Trade"}, headers=org.headers).json()["data"]
    price = client.post(f"/api/v1/pricing_tiers/{tier['id']}/prices",
                        json={"product_id": product.json()["data"]["id"], "amount": "7500.00"}, headers=org.headers)
    assert price.status_code == 201, price.text
    loc = make_location(client, org)
    # The item names its product by vendor_model, as a feed that knows only the model would.
    trade, retail = make_item(client, org, loc, product_id="TIER-RING"), make_item(client, org, loc,
                                                                                  product_id="TIER-RING")
    unpriced = make_item(client, org, loc, product_id="NOT-IN-CATALOG", price="99.00")
    dealer = make_customer(client, org, tier_id=tier["id"])
    walk_in = make_customer(client, org, email="walkin@example.com")

    sale = sell(client, org, loc, [{"inventory_id": trade["id"]}, {"inventory_id": unpriced["id"]}],
                customer_id=dealer["id"])
    assert sale.status_code == 201, sale.text
    lines = sale.json()["data"]["lines"]
    assert [(ln["unit_price"], ln["price_source"]) for ln in lines] == [("7500.00", "tier"), ("99.00", "item")]
    assert sale.json()["data"]["total"] == "7599.00"
    full = sell(client, org, loc, [{"inventory_id": retail["id"]}], customer_id=walk_in["id"]).json()["data"]
    assert (full["lines"][0]["unit_price"], full["lines"][0]["price_source"]) == ("12499.99", "item")


def test_sale_to_a_customer_passes_passport_ownership(client: TestClient, org: OrgContext) -> None:
    _require("vitrina.provenance.service", "passports live in provenance")
    loc = make_location(client, org)
    ring = make_item(client, org, loc)
    passport = client.post("/api/v1/passports", json={"tag_id": "TAG-SALE-1", "product_name": "Solitaire",
                                                      "inventory_id": ring["id"]}, headers=org.headers)
    assert passport.status_code == 201, passport.text
    before = passport.json()["data"]
    customer = make_customer(client, org)
    sale = sell(client, org, loc, [{"inventory_id": ring["id"]}], customer_id=customer["id"])
    assert sale.status_code == 201, sale.text
    after = client.get(f"/api/v1/passports/{before['id']}", headers=org.headers).json()["data"]
    assert after["current_owner"] == customer["id"] and after["current_owner"] != before["current_owner"]
    assert after["transfer_count"] == before["transfer_count"] + 1
    # An anonymous sale (no customer) leaves ownership alone; so does a return.
    back = client.post(TXN, json={"type": "return", "lines": [{"inventory_id": ring["id"]}]}, headers=org.headers)
    assert back.status_code == 201, back.text
    assert sell(client, org, loc, [{"inventory_id": ring["id"]}]).status_code == 201
    still = client.get(f"/api/v1/passports/{before['id']}", headers=org.headers).json()["data"]
    assert still["current_owner"] == customer["id"]
