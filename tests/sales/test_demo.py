"""The sales demo (``vitrina seed-demo``) sells free demo pieces and takes one back, through the services."""

from __future__ import annotations

from fastapi.testclient import TestClient
from rich.console import Console

from tests.sales.helpers import make_item, make_location
from tests.support import OrgContext
from vitrina.db.session import Database
from vitrina.sales import demo


def test_demo_sales(client: TestClient, org: OrgContext, database: Database) -> None:
    loc = make_location(client, org)
    pieces = [make_item(client, org, loc) for _ in range(len(demo.DEMO_CUSTOMERS) + 1)]
    held = client.post(f"/api/v1/inventory/{pieces[0]['id']}/reserve", json={"quantity": 1, "reference": "web"},
                       headers=org.headers)
    assert held.status_code == 201, held.text
    with database.unit_of_work(organization_id=org.id) as session:
        result = demo.seed(session, organization_id=org.id, console=Console(quiet=True))
    assert result == {"customers": len(demo.DEMO_CUSTOMERS), "transactions": len(demo.DEMO_CUSTOMERS) + 1}
    listed = client.get("/api/v1/transactions", headers=org.headers).json()["data"]
    assert sorted(t["type"] for t in listed) == ["return"] + ["sale"] * len(demo.DEMO_CUSTOMERS)
    sold = {line["inventory_id"] for t in listed if t["type"] == "sale" for line in t["lines"]}
    assert pieces[0]["id"] not in sold  # the held piece was left alone
