"""Real parallel requests against a live server (2 worker processes): no lost update, no oversell."""

from __future__ import annotations

import random
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from tests.support import LiveServer, OrgContext
from vitrina.db.session import Database
from vitrina.inventory.checks import run_checks

INV = "/api/v1/inventory"


def _client(live_server: LiveServer, org: OrgContext) -> httpx.Client:
    return httpx.Client(base_url=live_server.url, headers=org.headers, timeout=60,
                        limits=httpx.Limits(max_connections=64, max_keepalive_connections=64))


def _create(client: httpx.Client, **body: Any) -> dict[str, Any]:
    response = client.post(INV, json={"sku": "CHAIN-18", "name": "Chain", "tracking": "bulk"} | body)
    assert response.status_code == 201, response.text
    return dict(response.json()["data"])


def test_hundred_parallel_decrements_on_fifty(live_server: LiveServer, org: OrgContext, database: Database) -> None:
    with _client(live_server, org) as client:
        item = _create(client, quantity=50)
        url = f"{INV}/{item['id']}"

        def sell(_: int) -> int:
            return client.patch(url, json={"quantity_change": -1, "reason_code": "SALE"}).status_code

        with ThreadPoolExecutor(max_workers=32) as pool:
            statuses = Counter(pool.map(sell, range(100)))
        assert statuses == {200: 50, 409: 50}
        assert client.get(url).json()["data"]["quantity"] == 0
        movements = client.get(f"{url}/movements", params={"limit": 200}).json()
        assert movements["pagination"]["total"] == 51  # RECEIVED + exactly 50 sales
        assert sorted(m["quantity_after"] for m in movements["data"]) == list(range(51))
    with database.unit_of_work(write=False) as session:
        assert run_checks(session, organization_id=org.id) == []


def test_parallel_transfers_and_adjustments_keep_the_ledger(live_server: LiveServer, org: OrgContext,
                                                            database: Database) -> None:
    with _client(live_server, org) as client:
        a = client.post("/api/v1/locations", json={"name": "A", "code": "A"}).json()["data"]
        b = client.post("/api/v1/locations", json={"name": "B", "code": "B"}).json()["data"]
        x = _create(client, quantity=30, location_id=a["id"])
        seeded = client.post(f"{INV}/{x['id']}/transfer", json={"to_location_id": b["id"], "quantity": 5})
        y = seeded.json()["data"]["target"]
        piece = _create(client, tracking="serialized", sku="RING", quantity=1, location_id=a["id"])
        requests: list[tuple[str, str, dict[str, Any]]] = []
        for _ in range(15):
            requests += [
                ("post", f"{INV}/{x['id']}/transfer", {"to_location_id": b["id"], "quantity": 2}),
                ("post", f"{INV}/{y['id']}/transfer", {"to_location_id": a["id"], "quantity": 1}),
                ("patch", f"{INV}/{x['id']}", {"quantity_change": -1, "reason_code": "DAMAGE"}),
                ("patch", f"{INV}/{y['id']}", {"quantity_change": 1, "reason_code": "RETURN"}),
                ("post", f"{INV}/{piece['id']}/transfer",
                 {"to_location_id": random.choice([a["id"], b["id"]]), "to_room_type": "vault"}),
            ]
        random.Random(7).shuffle(requests)

        def send(request: tuple[str, str, dict[str, Any]]) -> tuple[str, int]:
            method, path, body = request
            response = client.request(method, path, json=body)
            return f"{method} {body.get('reason_code', 'transfer')}", response.status_code

        with ThreadPoolExecutor(max_workers=24) as pool:
            outcomes = list(pool.map(send, requests))
        assert {status for _, status in outcomes} <= {200, 409, 422}, outcomes
        damaged = sum(1 for kind, status in outcomes if kind == "patch DAMAGE" and status == 200)
        returned = sum(1 for kind, status in outcomes if kind == "patch RETURN" and status == 200)
        totals = [client.get(f"{INV}/{ref}").json()["data"]["quantity"] for ref in (x["id"], y["id"])]
        assert sum(totals) == 30 - damaged + returned
        snapshot = client.get(f"{INV}/snapshot").json()
        assert snapshot["totals"]["units"] == sum(totals) + 1
    with database.unit_of_work(write=False) as session:
        assert run_checks(session, organization_id=org.id) == []
