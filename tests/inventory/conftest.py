"""Helpers for the inventory tests: small factories over the HTTP API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support import OrgContext

INV = "/api/v1/inventory"
LOC = "/api/v1/locations"

Maker = Callable[..., dict[str, Any]]


@pytest.fixture
def make_location(client: TestClient, org: OrgContext) -> Maker:
    counter = iter(range(1, 10_000))

    def make(name: str = "Store", headers: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
        body = {"name": name, "code": f"L{next(counter)}"} | extra
        response = client.post(LOC, json=body, headers=headers or org.headers)
        assert response.status_code == 201, response.text
        return dict(response.json()["data"])

    return make


@pytest.fixture
def make_item(client: TestClient, org: OrgContext) -> Maker:
    counter = iter(range(1, 10_000))

    def make(headers: dict[str, str] | None = None, **fields: Any) -> dict[str, Any]:
        n = next(counter)
        body: dict[str, Any] = {"sku": f"SKU-{n}", "name": f"Piece {n}", "price": "100.00", "cost": "40.00"}
        body |= fields
        response = client.post(INV, json=body, headers=headers or org.headers)
        assert response.status_code == 201, response.text
        return dict(response.json()["data"])

    return make
