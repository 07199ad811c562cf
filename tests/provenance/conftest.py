"""Helpers for the provenance tests: register passports over HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support import OrgContext

ZERO_KEY = "00" * 16


@pytest.fixture
def register(client: TestClient, org: OrgContext) -> Callable[..., dict[str, Any]]:
    def make(context: OrgContext | None = None, **fields: Any) -> dict[str, Any]:
        who = context or org
        body = {"tag_id": f"TAG-{uuid.uuid4().hex[:10]}", "product_name": "Solitaire ring", "brand": "Maison",
                "serial_number": "SN-1"} | fields
        response = client.post("/api/v1/passports", json=body, headers=who.headers)
        assert response.status_code == 201, response.text
        return dict(response.json()["data"])

    return make
