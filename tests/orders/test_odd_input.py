"""Odd order bodies never reach the database as a 500: NUL characters, huge numbers, wrong JSON types."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.orders.catalog_setup import FULL_ORDER_DATA, make_product
from tests.support import OrgContext

ORD = "/api/v1/orders"
HUGE = 2**70


@pytest.mark.parametrize("fields", [
    {"external_order_id": "\x00"},
    {"order_date": HUGE},
    {"order_date": "yesterday"},
    {"customer_id": "cus_\x00"},
    {"customer_id": "\x00"},
    {"customer_email": ["a@b.c"]},
    {"currency": HUGE},
    {"currency": -1},
    {"payment_status": "two"},
    {"items": "RPD104"},
    {"items": [{"qty": HUGE, "vendor_model": "RPD104"}]},
    {"items": [{"qty": 1, "vendor_model": "\x00"}]},
    {"items": [{"qty": 1, "configuration_id": "\x00"}]},
    {"items": [{"qty": 1, "vendor_model": "RPD104", "configuration": []}]},
    {"items": [{"qty": 1, "vendor_model": "RPD104", "configuration": FULL_ORDER_DATA["items"]["configuration"],
                "size": {"ring": 7}}]},
    {"items": [{"qty": 1, "vendor_model": "RPD104", "configuration": FULL_ORDER_DATA["items"]["configuration"],
                "size": HUGE}]},
])
def test_odd_create_bodies_are_4xx(client: TestClient, org: OrgContext, fields: dict[str, Any]) -> None:
    make_product(client, org)
    response = client.post(ORD, json=FULL_ORDER_DATA | fields, headers=org.headers)
    assert 400 <= response.status_code < 500, response.text
    assert client.get(ORD, headers=org.headers).json()["data"] == []


@pytest.mark.parametrize("fields", [
    {"tracking_number": "\x00"}, {"order_status": HUGE}, {"order_status": "5"}, {"payment_status": None},
    {"comment": 12}, {"order_status": None},
])
def test_odd_update_bodies_are_4xx(client: TestClient, org: OrgContext, fields: dict[str, Any]) -> None:
    make_product(client, org)
    order = client.post(ORD, json=FULL_ORDER_DATA, headers=org.headers).json()["data"]
    response = client.put(f"{ORD}/{order['id']}", json=fields, headers=org.headers)
    assert 400 <= response.status_code < 500, response.text
    assert client.get(f"{ORD}/{order['id']}", headers=org.headers).json()["data"]["version"] == order["version"]
