"""The sales demo (``vitrina seed-demo``) sells free demo pieces over the past year, through the services, at
instants that keep every item's ledger in time order."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from rich.console import Console

from tests.sales.helpers import make_item, make_location
from tests.support import OrgContext
from vitrina.core.time import utcnow
from vitrina.db.session import Database
from vitrina.inventory import checks as inventory_checks
from vitrina.sales import checks as sales_checks
from vitrina.sales import demo


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_demo_sales(client: TestClient, org: OrgContext, database: Database) -> None:
    loc = make_location(client, org)
    pieces = [make_item(client, org, loc) for _ in range(30)]
    held = client.post(f"/api/v1/inventory/{pieces[0]['id']}/reserve", json={"quantity": 1, "reference": "web"},
                       headers=org.headers)
    assert held.status_code == 201, held.text
    started = utcnow()
    with database.unit_of_work(organization_id=org.id) as session:
        result = demo.seed(session, organization_id=org.id, console=Console(quiet=True))
    finished = utcnow()
    assert result["customers"] == len(demo.DEMO_CUSTOMERS) and result["transactions"] >= 1
    listed = client.get("/api/v1/transactions", params={"limit": 100}, headers=org.headers).json()["data"]
    assert len(listed) == result["transactions"]
    sold = {line["inventory_id"] for t in listed if t["type"] == "sale" for line in t["lines"]}
    assert pieces[0]["id"] not in sold  # the held piece was left alone
    for txn in listed:
        at = _at(txn["created_at"])
        assert started - timedelta(days=366) <= at <= finished
        item_id = txn["lines"][0]["inventory_id"]
        movements = client.get(f"/api/v1/inventory/{item_id}/movements", headers=org.headers).json()["data"]
        stamped = [_at(m["created_at"]) for m in movements]
        assert at in stamped  # the movement carries the transaction's own instant
        assert stamped == sorted(stamped, reverse=True)  # newest first, and never out of time order
    with database.unit_of_work(organization_id=org.id, write=False) as session:
        assert inventory_checks.run_checks(session, organization_id=org.id) == []
        assert sales_checks.run_checks(session) == []
