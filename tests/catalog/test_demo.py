"""The demo catalog: realistic tables, every demo product priceable, its seed examples valid."""

from __future__ import annotations

import io

from fastapi.testclient import TestClient
from rich.console import Console

from tests.catalog.conftest import PRODUCTS, quote
from tests.support import OrgContext
from vitrina.catalog import checks, demo
from vitrina.db.session import Database


def test_seed(client: TestClient, database: Database, org: OrgContext) -> None:
    with database.unit_of_work(organization_id=org.id) as session:
        summary = demo.seed(session, organization_id=org.id, console=Console(file=io.StringIO()))
    assert summary["products"] == len(demo.PRODUCTS) and summary["metals"] == 7
    metals = client.get("/api/v1/directories/metalLock", headers=org.headers).json()["data"]["list"]
    by_sku = {m["material_sku"]: m for m in metals}
    assert set(by_sku) == {"c", "k", "f", "q", "s", "r", "p"}
    assert (by_sku["f"]["purity"], by_sku["f"]["density_g_cm3"]) == ("0.585", "13.07")
    assert (by_sku["p"]["purity"], by_sku["p"]["density_g_cm3"]) == ("0.95", "20.7")
    stones = client.get("/api/v1/directories/stoneLock", headers=org.headers).json()["data"]["list"]
    assert {s["material_sku"] for s in stones} >= {"dmnd", "sphr", "jsp", "fsa"}
    for product in client.get(PRODUCTS, headers=org.headers).json()["data"]:
        assert product["retail_start"] is not None, product["vendor_model"]
    for model, configuration in demo.EXAMPLES.values():
        assert quote(client, org.headers, model, configuration).status_code == 200
    with database.unit_of_work() as session:
        assert checks.run_checks(session, organization_id=org.id) == []
