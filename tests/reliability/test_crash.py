"""Crash consistency: ``kill -9`` the whole server (every worker) in the middle of a burst of writes, restart it,
and every request that was acknowledged with a 2xx is there, exactly as acknowledged; ``vitrina check`` finds no
broken invariant (ledger sums, outbox, Merkle tree).

Bursts: location creates always; inventory adjustments (``PATCH /inventory/{id}``) and bulk updates
(``POST /inventory/bulk-update``) when those routes exist.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.reliability import figures
from tests.reliability.apimodel import Operation
from tests.reliability.conftest import collection_doc
from tests.reliability.population import Tenant, new_org, populate
from tests.reliability.servers import OwnServer, start_own_server
from tests.support import settings_env, wait_until
from vitrina.config import Settings
from vitrina.db.session import Database

WRITERS = 4
MIN_ACKNOWLEDGED_BEFORE_KILL = 40


# A burst request: given a client, the writer's number and a sequence number, send one write and say how many
# units of change it carries (1 for a create or an adjustment of +1; n for a bulk update of n lines).
Request = Callable[[httpx.Client, int, int], tuple[httpx.Response, int]]


@dataclass
class Burst:
    """Writers hammering a server; what it acknowledged, and how much was merely sent."""

    acknowledged: list[dict[str, Any]] = field(default_factory=list)
    acknowledged_units: int = 0
    sent_units: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self, server: OwnServer, headers: dict[str, str], request: Request) -> list[threading.Thread]:
        def writer(number: int) -> None:
            with server.client(headers, timeout=10) as client:
                sequence = 0
                while not self.stop.is_set():
                    sequence += 1
                    try:
                        response, units = request(client, number, sequence)
                    except httpx.HTTPError:
                        with self.lock:
                            self.sent_units += 2  # at most a bulk update's worth went out unacknowledged
                        continue  # the server died under us: this request was never acknowledged
                    with self.lock:
                        self.sent_units += units
                        if response.status_code < 300:
                            self.acknowledged.append(response.json())
                            self.acknowledged_units += units

        threads = [threading.Thread(target=writer, args=(n,), daemon=True) for n in range(WRITERS)]
        for thread in threads:
            thread.start()
        return threads

    def kill_after(self, server: OwnServer, threads: list[threading.Thread], minimum: int) -> None:
        wait_until(lambda: len(self.acknowledged) >= minimum, timeout=60, message=f"{minimum} acknowledged writes")
        time.sleep(random.uniform(0.05, 0.3))  # land the kill at an arbitrary point of the burst
        server.kill_hard()
        self.stop.set()
        for thread in threads:
            thread.join(timeout=15)
        figures.count("crash.kills")
        figures.count("crash.acknowledged_writes_checked", len(self.acknowledged))


def vitrina_check(settings: Settings) -> dict[str, Any]:
    result = subprocess.run([sys.executable, "-m", "vitrina.cli", "check", "--json"], env=settings_env(settings),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"vitrina check failed:\n{result.stdout}\n{result.stderr[-2000:]}"
    return dict(json.loads(result.stdout))


def _route(method: str, path: str) -> Operation | None:
    return collection_doc().find(method, path)


def _crash_round(settings: Settings, database: Database, log: Path) -> None:
    org = new_org(database, "Crash Jewelers")
    run = uuid.uuid4().hex[:6].upper()
    server = start_own_server(settings, log, workers=2)
    burst = Burst()

    def create_location(client: httpx.Client, writer: int, sequence: int) -> tuple[httpx.Response, int]:
        code = f"K{run}-{writer}-{sequence}"
        return client.post("/api/v1/locations", json={"name": f"Crash {code}", "code": code},
                           headers={"Idempotency-Key": f"crash-{code}"}), 1

    try:
        threads = burst.run(server, org.headers, create_location)
        burst.kill_after(server, threads, MIN_ACKNOWLEDGED_BEFORE_KILL)
    finally:
        server.kill_hard()
    server = start_own_server(settings, log, workers=1)
    try:
        with server.client(org.headers) as client:
            for body in burst.acknowledged:
                acked = body["data"]
                found = client.get(f"/api/v1/locations/{acked['id']}")
                assert found.status_code == 200, f"acknowledged location {acked['code']} is gone"
                assert found.json()["data"]["code"] == acked["code"]
            # A retry of an acknowledged request replays it rather than applying it twice.
            first = burst.acknowledged[0]["data"]
            retry = client.post("/api/v1/locations", json={"name": f"Crash {first['code']}", "code": first["code"]},
                                headers={"Idempotency-Key": f"crash-{first['code']}"})
            assert retry.status_code == 201 and retry.json()["data"]["id"] == first["id"]
    finally:
        server.stop()
    vitrina_check(settings)


def test_kill_9_during_location_burst_loses_nothing(settings: Settings, database: Database, tmp_path: Path) -> None:
    _crash_round(settings, database, tmp_path / "server.log")


@pytest.mark.slow
def test_repeated_crashes_lose_nothing(settings: Settings, database: Database, tmp_path: Path) -> None:
    for round_number in range(5):
        _crash_round(settings, database, tmp_path / f"server-{round_number}.log")


def inventory_item(client: httpx.Client, tenant: Tenant, *, tracking: str = "bulk", quantity: int = 10
                   ) -> dict[str, Any]:
    """A new item of ``tenant`` created through the API (after filling the tenant, for its location)."""
    if not tenant.ids.objects:
        populate(client, collection_doc(), tenant)
    operation = _route("POST", "/api/v1/inventory")
    assert operation is not None and operation.json_body_schema is not None
    body = tenant.synthesizer(collection_doc()).body(operation)
    response = client.post("/api/v1/inventory", json=body | {"tracking": tracking, "quantity": quantity})
    assert response.status_code == 201, response.text
    return dict(response.json()["data"])


def adjustment_body(tenant: Tenant, change: int) -> dict[str, Any]:
    """A valid ``PATCH /inventory/{id}`` body (reason code and all, from the schema) changing by ``change``."""
    operation = _route("PATCH", "/api/v1/inventory/{}")
    assert operation is not None and operation.json_body_schema is not None
    body = dict(tenant.synthesizer(collection_doc()).body(operation))
    # A plain stock correction: the reasons tied to a flow (SALE, RECEIVED, ...) fix the sign of the change.
    return body | {"quantity_change": change, "reason_code": "ADJUSTMENT"}


def test_kill_9_during_inventory_adjustments_loses_nothing(settings: Settings, database: Database,
                                                           tmp_path: Path) -> None:
    if _route("PATCH", "/api/v1/inventory/{}") is None:
        pytest.skip("PATCH /api/v1/inventory/{id} does not exist yet")
    bulk_update = _route("POST", "/api/v1/inventory/bulk-update")
    org = new_org(database, "Adjusting Jewelers")
    tenant = Tenant(org=org, marker=f"ADJ{uuid.uuid4().hex[:6].upper()}")
    server = start_own_server(settings, tmp_path / "server.log", workers=2)
    burst = Burst()
    try:
        with server.client(org.headers) as client:
            item = inventory_item(client, tenant)
        body = adjustment_body(tenant, 1)

        def adjust(client: httpx.Client, writer: int, sequence: int) -> tuple[httpx.Response, int]:
            if bulk_update is not None and sequence % 3 == 0:
                line = {"id": item["id"], "quantity_change": 1, "reason_code": body.get("reason_code")}
                return client.post("/api/v1/inventory/bulk-update", json={"updates": [line, line]}), 2
            return client.patch(f"/api/v1/inventory/{item['id']}", json=body), 1

        threads = burst.run(server, org.headers, adjust)
        burst.kill_after(server, threads, MIN_ACKNOWLEDGED_BEFORE_KILL)
    finally:
        server.kill_hard()
    server = start_own_server(settings, tmp_path / "server.log", workers=1)
    try:
        with server.client(org.headers) as client:
            now = client.get(f"/api/v1/inventory/{item['id']}").json()["data"]
    finally:
        server.stop()
    gained = now["quantity"] - item["quantity"]
    assert gained >= burst.acknowledged_units, f"{burst.acknowledged_units} units acknowledged, {gained} present"
    assert gained <= burst.sent_units, "more units than were ever sent"
    vitrina_check(settings)
