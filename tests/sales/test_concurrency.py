"""No double sale: real parallel requests against a live server (two worker processes)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.support import LiveServer, OrgContext

ROUNDS = 5


def test_parallel_sales_of_one_piece(live_server: LiveServer, org: OrgContext) -> None:
    with live_server.client(org.headers) as http:
        location = http.post("/api/v1/locations", json={"name": "Race", "code": "RACE"})
        assert location.status_code == 201, location.text
        loc = location.json()["data"]["id"]
        pieces = []
        for n in range(ROUNDS):
            created = http.post("/api/v1/inventory", json={
                "sku": f"RACE-{n}", "name": "Solitaire", "price": "9999.00", "currency": "USD",
                "tracking": "serialized", "quantity": 1, "location_id": loc})
            assert created.status_code == 201, created.text
            pieces.append(created.json()["data"]["id"])

    for piece in pieces:
        barrier = threading.Barrier(2)
        body = {"type": "sale", "location_id": loc, "lines": [{"inventory_id": piece, "quantity": 1}],
                "currency": "USD", "payment_method": "card"}

        def attempt(_: int, body: dict[str, Any] = body, barrier: threading.Barrier = barrier) -> Any:
            with live_server.client(org.headers) as http:
                barrier.wait(timeout=30)
                return http.post("/api/v1/transactions", json=body)

        with ThreadPoolExecutor(max_workers=2) as pool:
            responses = list(pool.map(attempt, range(2)))
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [201, 409], [r.text for r in responses]
        loser = next(r for r in responses if r.status_code == 409)
        assert loser.json()["error"]["code"] == "ITEM_NOT_AVAILABLE"

    with live_server.client(org.headers) as http:
        sales = http.get("/api/v1/transactions", params={"limit": 200}).json()
        assert sales["pagination"]["total"] == ROUNDS
        for piece in pieces:
            state = http.get(f"/api/v1/inventory/{piece}").json()["data"]
            assert state["status"] == "sold" and state["quantity"] == 0
            sale_movements = [m for m in http.get(f"/api/v1/inventory/{piece}/movements").json()["data"]
                              if m["reason_code"] == "SALE"]
            assert len(sale_movements) == 1


def test_parallel_multi_line_sales_in_crossed_order_never_oversell(live_server: LiveServer, org: OrgContext) -> None:
    """Racing sales that take two bulk items in opposite line orders: no deadlock (no 5xx), exactly as many
    sales as there is stock succeed, the rest are 409 and change nothing, and each ledger sums to its item."""
    stock, racers = 3, 8
    with live_server.client(org.headers) as http:
        loc = http.post("/api/v1/locations", json={"name": "Cross", "code": "CROSS"}).json()["data"]["id"]
        chains = []
        for sku in ("CROSS-A", "CROSS-B"):
            created = http.post("/api/v1/inventory", json={"sku": sku, "name": "Chain", "price": "50.00",
                                                           "currency": "USD", "tracking": "bulk",
                                                           "quantity": stock, "location_id": loc})
            assert created.status_code == 201, created.text
            chains.append(created.json()["data"]["id"])
    barrier = threading.Barrier(racers)

    def attempt(n: int) -> Any:
        ordered = chains if n % 2 == 0 else chains[::-1]
        body = {"type": "sale", "location_id": loc, "currency": "USD",
                "lines": [{"inventory_id": item, "quantity": 1} for item in ordered]}
        with live_server.client(org.headers) as http:
            barrier.wait(timeout=30)
            return http.post("/api/v1/transactions", json=body)

    with ThreadPoolExecutor(max_workers=racers) as pool:
        responses = list(pool.map(attempt, range(racers)))
    statuses = [r.status_code for r in responses]
    assert statuses.count(201) == stock and statuses.count(409) == racers - stock, [r.text for r in responses]
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {"ITEM_NOT_AVAILABLE"}
    with live_server.client(org.headers) as http:
        for chain in chains:
            assert http.get(f"/api/v1/inventory/{chain}").json()["data"]["quantity"] == 0
            ledger = http.get(f"/api/v1/inventory/{chain}/movements", params={"limit": 200}).json()["data"]
            assert sum(m["quantity_change"] for m in ledger) == 0
            assert [m["reason_code"] for m in ledger].count("SALE") == stock
