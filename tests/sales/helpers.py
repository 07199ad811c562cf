"""Helpers for sales tests: stock, customers and the event log, through the public API."""

from __future__ import annotations

from itertools import count
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.support import OrgContext
from vitrina.core.models import OutboxEvent

TXN = "/api/v1/transactions"
_numbers = count(1)


def make_location(client: TestClient, org: OrgContext, code: str | None = None) -> str:
    code = code or f"L{next(_numbers)}"
    response = client.post("/api/v1/locations", json={"name": f"Store {code}", "code": code}, headers=org.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["id"])


def make_item(client: TestClient, org: OrgContext, location_id: str, **fields: Any) -> dict[str, Any]:
    n = next(_numbers)
    body = {"sku": f"SKU-{n}", "name": f"Piece {n}", "price": "12499.99", "currency": "USD",
            "tracking": "serialized", "quantity": 1, "location_id": location_id} | fields
    response = client.post("/api/v1/inventory", json=body, headers=org.headers)
    assert response.status_code == 201, response.text
    return dict(response.json()["data"])


def make_customer(client: TestClient, org: OrgContext, **fields: Any) -> dict[str, Any]:
    body = {"name": "Jon Doe", "email": "jon@example.com"} | fields
    response = client.post("/api/v1/customers", json=body, headers=org.headers)
    assert response.status_code == 201, response.text
    return dict(response.json()["data"])


def item(client: TestClient, org: OrgContext, item_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/inventory/{item_id}", headers=org.headers)
    assert response.status_code == 200, response.text
    return dict(response.json()["data"])


def movements(client: TestClient, org: OrgContext, item_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/inventory/{item_id}/movements", headers=org.headers)
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


def events(client: TestClient, org: OrgContext, type: str) -> list[dict[str, Any]]:
    database = client.app.state.db  # type: ignore[attr-defined]
    with database.unit_of_work(organization_id=org.id, write=False) as session:
        rows = session.scalars(select(OutboxEvent).where(OutboxEvent.type == type).order_by(OutboxEvent.seq))
        return [dict(row.data) for row in rows]


def sell(client: TestClient, org: OrgContext, location_id: str, lines: list[dict[str, Any]],
         **fields: Any) -> Any:
    body = {"type": "sale", "location_id": location_id, "lines": lines, "currency": "USD",
            "payment_method": "card"} | fields
    return client.post(TXN, json=body, headers=org.headers)
