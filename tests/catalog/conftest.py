"""Helpers for the catalog tests: the demo's price tables (through the service, for speed) and its products
(through the HTTP API)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support import OrgContext
from vitrina.catalog import demo, service
from vitrina.db.session import Database

PRODUCTS = "/api/v1/products"
CONFIGS = "/api/v1/product-configurations"
TIERS = "/api/v1/pricing_tiers"


def load_price_tables(database: Database, organization_id: str) -> None:
    with database.unit_of_work(organization_id=organization_id) as session:
        for row in demo.metal_rows():
            service.put_metal_price(session, organization_id=organization_id, material_sku=row["material_sku"],
                                    material_title=row["material_title"],
                                    cost_per_gram=Decimal(row["cost_per_gram"]), currency="USD",
                                    density_g_cm3=Decimal(row["density_g_cm3"]), purity=Decimal(row["purity"]))
        for row in demo.stone_rows():
            service.put_stone_price(session, organization_id=organization_id, material_sku=row["material_sku"],
                                    material_title=row["material_title"], stone_shape=row["stone_shape"],
                                    weight_stone=row["weight_stone"], quality=row["quality"],
                                    weight_from=Decimal(row["weight_from"]), weight_to=Decimal(row["weight_to"]),
                                    cost=Decimal(row["cost"]), currency="USD")


@pytest.fixture
def price_tables(database: Database, org: OrgContext) -> None:
    load_price_tables(database, org.id)


Maker = Callable[..., dict[str, Any]]


@pytest.fixture
def make_product(client: TestClient, org: OrgContext) -> Maker:
    def make(body: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
        response = client.post(PRODUCTS, json=body, headers=headers or org.headers)
        assert response.status_code == 201, response.text
        return dict(response.json()["data"])

    return make


@pytest.fixture
def catalog(price_tables: None, make_product: Maker) -> dict[str, dict[str, Any]]:
    """Every demo product, by vendor_model, in an organization with the demo price tables."""
    return {body["vendor_model"]: make_product(body) for body in demo.PRODUCTS}


def quote(client: TestClient, headers: dict[str, str], vendor_model: str, configuration: Any,
          size: Any = None, qty: int = 1) -> Any:
    item: dict[str, Any] = {"qty": qty, "vendor_model": vendor_model, "configuration": configuration}
    if size is not None:
        item["size"] = size
    return client.post(CONFIGS, json={"items": item}, headers=headers)
