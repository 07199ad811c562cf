"""Jetbuilt's pricing tiers and prices, their effect on quotes, and the service interface other domains use."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.catalog.conftest import PRODUCTS, TIERS, Maker, quote
from tests.support import OrgContext
from vitrina.catalog import demo, service
from vitrina.core.errors import NotFoundError, ValidationFailed
from vitrina.db.session import Database


def _find_or_create(client: TestClient, headers: dict[str, str], model: str) -> dict[str, Any]:
    found = client.get(PRODUCTS, params={"query": model}, headers=headers).json()["data"]
    exact = [p for p in found if p["vendor_model"] == model]
    if exact:
        return exact[0]
    created = client.post(PRODUCTS, json={"model": model, "short_description": "JB Test product 1",
                                          "part_number": "ABC123", "msrp": "10.0", "mapp": "15.99",
                                          "currency": "EUR"}, headers=headers)
    assert created.status_code == 201
    return dict(created.json()["data"])


def test_manufacturer_and_distributor_workflows(client: TestClient, org: OrgContext, make_product: Maker) -> None:
    # manufacturer: find the product, create it when missing, create a tier, add the price
    product = _find_or_create(client, org.headers, "JBTEST-1")
    assert _find_or_create(client, org.headers, "JBTEST-1")["id"] == product["id"]
    tier = client.post(TIERS, json={"name": "Gold"}, headers=org.headers)
    assert tier.status_code == 201 and tier.json()["data"]["id"].startswith("tier_")
    tier_id = tier.json()["data"]["id"]
    price = client.post(f"{TIERS}/{tier_id}/prices", json={"product_id": product["id"], "amount": "500.5"},
                        headers=org.headers)
    assert price.status_code == 201, price.text
    assert price.json()["data"]["amount"] == "500.50" and price.json()["data"]["product"] == {"id": product["id"]}
    again = client.post(f"{TIERS}/{tier_id}/prices", json={"product_id": "JBTEST-1", "amount": 450},
                        headers=org.headers)
    assert again.status_code == 200 and again.json()["data"]["id"] == price.json()["data"]["id"]
    # distributor: an existing product, a second tier, its price
    existing = make_product({"vendor_model": "SM57-LC", "title": "Microphone", "msrp": "99"})
    found = client.get(PRODUCTS, params={"query": "sm57"}, headers=org.headers).json()["data"]
    assert [p["id"] for p in found] == [existing["id"]]
    tier2 = client.post(TIERS, json={"name": "Tier 2"}, headers=org.headers).json()["data"]["id"]
    assert client.post(f"{TIERS}/{tier2}/prices", json={"product_id": existing["id"], "amount": "80"},
                       headers=org.headers).status_code == 201
    tiers = client.get(TIERS, headers=org.headers)
    assert [t["name"] for t in tiers.json()["data"]] == ["Gold", "Tier 2"] and tiers.headers["X-Total-Count"] == "2"
    listed = client.get(f"{TIERS}/{tier_id}/prices", headers=org.headers).json()["data"]
    assert [(p["product"]["id"], p["amount"], p["currency"]) for p in listed] == [(product["id"], "450.00", "EUR")]
    price_id = listed[0]["id"]
    assert client.delete(f"{TIERS}/{tier2}/prices/{price_id}", headers=org.headers).status_code == 404
    assert client.delete(f"{TIERS}/{tier_id}/prices/{price_id}", headers=org.headers).status_code == 204
    assert client.get(f"{TIERS}/{tier_id}/prices", headers=org.headers).json()["data"] == []
    assert client.delete(f"{TIERS}/{tier_id}/prices/{price_id}", headers=org.headers).status_code == 404


def test_tier_bad_input_and_tenancy(client: TestClient, org: OrgContext, other_org: OrgContext,
                                    make_product: Maker) -> None:
    product = make_product({"vendor_model": "T-1", "msrp": "10"})
    tier_id = client.post(TIERS, json={"name": "Gold"}, headers=org.headers).json()["data"]["id"]
    prices = f"{TIERS}/{tier_id}/prices"
    for body, path in (({"product_id": product["id"], "amount": "-1"}, "$.amount"),
                       ({"product_id": product["id"]}, "$.amount"), ({"amount": 5}, "$.product_id"),
                       ({"product_id": "nope", "amount": 5}, "$.product_id")):
        response = client.post(prices, json=body, headers=org.headers)
        assert response.status_code == 422, body
        assert response.json()["error"]["details"]["errors"][0]["path"] == path
    assert client.post(TIERS, json={"name": ""}, headers=org.headers).status_code == 422
    theirs = client.post(PRODUCTS, json={"vendor_model": "THEIRS"}, headers=other_org.headers).json()["data"]
    assert client.post(prices, json={"product_id": theirs["id"], "amount": 1}, headers=org.headers).status_code == 422
    assert client.post(prices, json={"product_id": product["id"], "amount": 1},
                       headers=other_org.headers).status_code == 404
    assert client.get(prices, headers=other_org.headers).status_code == 404
    assert client.get(TIERS, headers=other_org.headers).json()["data"] == []
    assert client.get(prices, headers=org.headers).json()["data"] == []
    reader = org.make_headers(["read"])
    assert client.post(TIERS, json={"name": "x"}, headers=reader).status_code == 403


def test_a_key_with_a_tier_is_quoted_the_tier_price(client: TestClient, org: OrgContext,
                                                    catalog: dict[str, Any]) -> None:
    tier_id = client.post(TIERS, json={"name": "Trade"}, headers=org.headers).json()["data"]["id"]
    model, configuration = demo.EXAMPLES["ring"]
    assert client.post(f"{TIERS}/{tier_id}/prices", json={"product_id": model, "amount": "999"},
                       headers=org.headers).status_code == 201
    trade = org.make_headers(["read", "write"], tier_id=tier_id)
    quoted = quote(client, trade, model, configuration).json()["data"]
    assert quoted["retail"] == "999.00" and quoted["breakdown"]["tier"]["tier_id"] == tier_id
    retail = quote(client, org.headers, model, configuration).json()["data"]
    assert retail["retail"] != "999.00" and retail["breakdown"]["tier"] is None and retail["ci"] == quoted["ci"]


def test_service_interface(database: Database, org: OrgContext, catalog: dict[str, Any]) -> None:
    model, configuration = demo.EXAMPLES["pendant"]
    with database.unit_of_work(organization_id=org.id) as session:
        tier = service.create_pricing_tier(session, organization_id=org.id, name="Partners")
        assert service.get_pricing_tier(session, organization_id=org.id, tier_id=tier.id).name == "Partners"
        with pytest.raises(NotFoundError):
            service.get_pricing_tier(session, organization_id=org.id, tier_id="tier_nope")
        product_id = catalog[model]["id"]
        assert service.tier_price(session, organization_id=org.id, tier_id=tier.id, product_id=product_id) is None
        service.upsert_tier_price(session, organization_id=org.id, tier_id=tier.id, product_ref=product_id,
                                  amount=Decimal("1500"))
        assert service.tier_price(session, organization_id=org.id, tier_id=tier.id,
                                  product_id=product_id) == Decimal("1500")
        result = service.price_configuration(session, organization_id=org.id, vendor_model=model,
                                             configuration=configuration, size=16, qty=1, tier_id=None)
        assert (result.product_id, result.currency, result.retail) == (product_id, "USD", Decimal("1895.74"))
        assert result.title and result.description and isinstance(result.breakdown, dict)
        tiered = service.price_configuration(session, organization_id=org.id, vendor_model=model,
                                             configuration=configuration, size=16, qty=1, tier_id=tier.id)
        assert tiered.retail == Decimal("1500.00") and tiered.ci == result.ci
        stored = service.get_configuration(session, organization_id=org.id, ci=result.ci)
        assert stored.vendor_model == model and stored.configuration["pendant"]["metal"] == {"sku": "f", "color": "Y"}
        with pytest.raises(NotFoundError):
            service.get_configuration(session, organization_id=org.id, ci="RPD104-NOPE")
        with pytest.raises(NotFoundError) as missing:
            service.price_configuration(session, organization_id=org.id, vendor_model="NOPE", configuration={},
                                        size=None, qty=1, tier_id=None)
        assert missing.value.details["path"] == "$.vendor_model"
        with pytest.raises(ValidationFailed) as invalid:
            service.price_configuration(session, organization_id=org.id, vendor_model=model,
                                        configuration={"ring": {"metal": {"sku": "zz"}}}, size=16, qty=1, tier_id=None)
        assert {e["path"] for e in invalid.value.errors} == {"$.configuration.ring", "$.configuration.chain",
                                                             "$.configuration.pendant"}
        with pytest.raises(ValidationFailed) as no_model:
            service.price_configuration(session, organization_id=org.id, vendor_model=None, configuration={},
                                        size=None, qty=1, tier_id=None)
        assert no_model.value.errors[0]["path"] == "$.vendor_model"
        assert service.currency_code(session, organization_id=org.id, number=1) == "USD"
        assert service.currency_code(session, organization_id=org.id, number=978) == "EUR"
        assert service.currency_code(session, organization_id=org.id, number=12345) is None


def test_checks_find_cross_organization_references(database: Database, org: OrgContext, other_org: OrgContext,
                                                   catalog: dict[str, Any]) -> None:
    from sqlalchemy import delete

    from vitrina.catalog.checks import run_checks
    from vitrina.catalog.models import TierPrice
    from vitrina.core.ids import new_id

    with database.unit_of_work() as session:
        assert run_checks(session, organization_id=org.id) == []
        tier = service.create_pricing_tier(session, organization_id=other_org.id, name="Theirs")
        # written behind the service's back: a price in other_org's tier for org's product
        bad = TierPrice(id=new_id("price"), organization_id=other_org.id, tier_id=tier.id,
                        product_id=catalog["RRG106"]["id"], amount=Decimal(1))
        session.add(bad)
    try:
        with database.unit_of_work() as session:
            problems = run_checks(session, organization_id=other_org.id)
            assert len(problems) == 1 and "its product belongs to" in problems[0]
            assert run_checks(session, organization_id=org.id) == []
    finally:  # the database is shared by the whole run: leave no broken row for `vitrina check` tests
        with database.unit_of_work() as session:
            session.execute(delete(TierPrice).where(TierPrice.id == bad.id))
