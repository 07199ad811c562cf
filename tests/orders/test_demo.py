"""The orders demo (``vitrina seed-demo``) runs through the real services on top of the catalog demo."""

from __future__ import annotations

from fastapi.testclient import TestClient
from rich.console import Console

from tests.orders.catalog_setup import FULL_ORDER_DATA, require_catalog
from tests.support import OrgContext
from vitrina.db.session import Database
from vitrina.orders import demo


def test_demo_orders(client: TestClient, org: OrgContext, database: Database) -> None:
    require_catalog()
    from vitrina.catalog import demo as catalog_demo

    location = client.post("/api/v1/locations", json={"name": "Shop", "code": "SHOP"}, headers=org.headers)
    assert location.status_code == 201, location.text
    console = Console(quiet=True)
    with database.unit_of_work(organization_id=org.id) as session:
        catalog_demo.seed(session, organization_id=org.id, console=console)
        result = demo.seed(session, organization_id=org.id, console=console)
    assert result == {"orders": len(demo.DEMO_ORDERS), "received_pieces": 1}
    orders = client.get("/api/v1/orders", headers=org.headers).json()["data"]
    assert sorted(o["order_status"] for o in orders) == [1, 5, 9]
    finished = next(o for o in orders if o["order_status"] == 9)
    [piece_id] = finished["items"][0]["inventory_ids"]
    piece = client.get(f"/api/v1/inventory/{piece_id}", headers=org.headers).json()["data"]
    assert piece["configuration_id"] == finished["items"][0]["configuration_id"] and piece["room_type"] == "vault"
    # WJ's "Full Order Data" example, as written, against the shipped demo catalog.
    response = client.post("/api/v1/orders", json=FULL_ORDER_DATA, headers=org.headers)
    assert response.status_code == 201, response.text
    assert response.json()["data"]["items"][0]["configuration_id"].startswith("RPD104-")
