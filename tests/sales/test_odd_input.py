"""Odd input never reaches the database as a 500: NUL characters, huge integers, wrong JSON types."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.sales.helpers import TXN, item, make_item, make_location
from tests.support import OrgContext

HUGE = 2**70


def _filled(value: Any, item_id: str) -> Any:
    """The case's body with ``{item}`` replaced by the test's item id."""
    if isinstance(value, dict):
        return {key: _filled(v, item_id) for key, v in value.items()}
    if isinstance(value, list):
        return [_filled(v, item_id) for v in value]
    return item_id if value == "{item}" else value


@pytest.mark.parametrize("fields", [
    {"lines": [{"inventory_id": "itm_\x00"}]},
    {"customer_id": "cus_\x00"},
    {"location_id": "loc_\x00"},
    {"type": "return", "original_transaction_id": "txn_\x00"},
    {"type": "return", "lines": [{"inventory_id": "{item}", "sale_line_id": HUGE}]},
    {"lines": [{"inventory_id": "{item}", "quantity": HUGE}]},
    {"lines": [{"inventory_id": "{item}", "unit_price": "1e400"}]},
    {"lines": [{"inventory_id": "{item}", "unit_price": "NaN"}]},
    {"lines": [{"inventory_id": "{item}", "unit_price": True}]},
    {"lines": [{"inventory_id": 12}]},
    {"lines": {"inventory_id": "{item}"}},
    {"currency": 840},
    {"payment_method": "x" * 41},
    {"reference": "\x00"},
])
def test_odd_transaction_bodies_are_4xx(client: TestClient, org: OrgContext, fields: dict[str, Any]) -> None:
    loc = make_location(client, org)
    ring = make_item(client, org, loc)
    body = {"type": "sale", "location_id": loc, "lines": [{"inventory_id": ring["id"]}]} | _filled(fields, ring["id"])
    response = client.post(TXN, json=body, headers=org.headers)
    assert 400 <= response.status_code < 500, response.text
    assert item(client, org, ring["id"])["quantity"] == 1


@pytest.mark.parametrize("path", ["/api/v1/customers/cus_%00", "/api/v1/transactions/txn_%00",
                                  "/api/v1/orders/ord_%00", "/api/v1/customers?q=%00",
                                  "/api/v1/transactions?customer_id=%00", "/api/v1/orders?customer_id=%00"])
def test_nul_in_paths_and_queries(client: TestClient, org: OrgContext, path: str) -> None:
    response = client.get(path, headers=org.headers)
    assert 400 <= response.status_code < 500, response.text
