"""Parallel status changes of one order against a live server (two worker processes): one wins, the rest 409."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from tests.orders.catalog_setup import FULL_ORDER_DATA, make_product
from tests.support import LiveServer, OrgContext

RACERS = 6


def _race(live_server: LiveServer, org: OrgContext, call: Any) -> list[httpx.Response]:
    barrier = threading.Barrier(RACERS)

    def attempt(_: int) -> httpx.Response:
        with live_server.client(org.headers) as http:
            barrier.wait(timeout=30)
            response: httpx.Response = call(http)
            return response

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        return list(pool.map(attempt, range(RACERS)))


def test_parallel_status_changes_have_one_winner(live_server: LiveServer, org: OrgContext) -> None:
    with live_server.client(org.headers) as http:
        make_product(http, org)
        created = http.post("/api/v1/orders", json=FULL_ORDER_DATA | {"order_status": 1})
        assert created.status_code == 201, created.text
        order = created.json()["data"]
    url = f"/api/v1/orders/{order['id']}"

    same_step = _race(live_server, org, lambda http: http.put(url, json={"order_status": 2}))
    assert sorted(r.status_code for r in same_step) == [200] + [409] * (RACERS - 1), [r.text for r in same_step]
    assert {r.json()["error"]["code"] for r in same_step if r.status_code == 409} == {"INVALID_TRANSITION"}

    next_step = _race(live_server, org, lambda http: http.put(url, json={"order_status": 3, "comment": "go"}))
    assert [r.status_code for r in next_step].count(200) == 1, [r.text for r in next_step]
    with live_server.client(org.headers) as http:
        final = http.get(url).json()["data"]
    assert final["order_status"] == 3
    assert [(h["from_status"], h["to_status"]) for h in final["status_history"]] == [(None, 1), (1, 2), (2, 3)]
    assert final["version"] == 3
