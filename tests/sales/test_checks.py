"""``vitrina check`` invariants of sales hold after sales and returns, and catch a broken total."""

from __future__ import annotations

from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import update

from tests.sales.helpers import TXN, make_item, make_location, sell
from tests.support import OrgContext
from vitrina.db.session import Database
from vitrina.sales import checks
from vitrina.sales.models import SalesTransaction


def _mine(problems: list[str], prefixes: list[str]) -> list[str]:
    return [p for p in problems if p.startswith(tuple(prefixes))]


def test_checks_hold_and_catch_a_wrong_total(client: TestClient, org: OrgContext, database: Database) -> None:
    loc = make_location(client, org)
    chain = make_item(client, org, loc, tracking="bulk", quantity=10, price="20.00")
    sale = sell(client, org, loc, [{"inventory_id": chain["id"], "quantity": 4}]).json()["data"]
    back = client.post(TXN, json={"type": "return", "lines": [{"inventory_id": chain["id"], "quantity": 3}]},
                       headers=org.headers)
    assert back.status_code == 201, back.text
    ids = [f"transaction {sale['id']}:", f"sale line {sale['lines'][0]['id']}:"]
    with database.unit_of_work(write=False) as session:
        assert _mine(checks.run_checks(session), ids) == []
    with database.unit_of_work() as session:  # corrupt it on purpose, then undo
        session.execute(update(SalesTransaction).where(SalesTransaction.id == sale["id"])
                        .values(total=Decimal("1.00")))
        found = _mine(checks.run_checks(session), ids)
        session.rollback()
    assert len(found) == 1 and "lines sum to 80" in found[0]
