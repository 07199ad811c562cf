"""Crash consistency: ``kill -9`` the whole server (every worker) in the middle of a burst of writes, restart it,
and every request that was acknowledged with a 2xx is there, exactly as acknowledged; ``vitrina check`` finds no
broken invariant (ledger sums, outbox, Merkle tree).

Bursts: location creates always; inventory adjustments (``PATCH /inventory/{id}``) mixed with bulk updates
(``POST /inventory/bulk-update``); card sales (``POST /transactions``); stock-file imports
(``POST /inventory/import``, whose worker is killed too while draining them) — each when its routes exist.
"""

from __future__ import annotations

import json
import os
import random
import signal
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


def _restart(settings: Settings, log: Path) -> OwnServer:
    return start_own_server(settings, log, workers=1)


def test_kill_9_during_sale_burst_loses_no_sale_and_invents_none(settings: Settings, database: Database,
                                                                  tmp_path: Path) -> None:
    """Card sales of one bulk item, each with its own Idempotency-Key. After the crash every acknowledged sale is
    there as acknowledged, a retry replays it, and the stock that left equals the sales recorded: no lost sale,
    no phantom sale, no unit gone without its sale."""
    if _route("POST", "/api/v1/transactions") is None or _route("GET", "/api/v1/transactions/{}") is None:
        pytest.skip("POST /api/v1/transactions or GET /api/v1/transactions/{id} does not exist yet")
    org = new_org(database, "Selling Jewelers")
    run = uuid.uuid4().hex[:6].upper()
    server = start_own_server(settings, tmp_path / "server.log", workers=2)
    burst = Burst()
    try:
        with server.client(org.headers) as client:
            stock = _bulk_stock(client, run, 100_000)

        keys: dict[str, str] = {}  # transaction id -> the Idempotency-Key that created it

        def sell(client: httpx.Client, writer: int, sequence: int) -> tuple[httpx.Response, int]:
            key = f"sale-{run}-{writer}-{sequence}"
            response = client.post("/api/v1/transactions", headers={"Idempotency-Key": key},
                                   json=_sale_of(stock["id"]))
            if response.status_code == 201:
                keys[response.json()["data"]["id"]] = key
            return response, 1

        threads = burst.run(server, org.headers, sell)
        burst.kill_after(server, threads, MIN_ACKNOWLEDGED_BEFORE_KILL)
    finally:
        server.kill_hard()
    server = _restart(settings, tmp_path / "server.log")
    try:
        with server.client(org.headers) as client:
            for body in burst.acknowledged:
                acked = body["data"]
                found = client.get(f"/api/v1/transactions/{acked['id']}")
                assert found.status_code == 200, f"acknowledged sale {acked['id']} is gone"
                assert (found.json()["data"]["total"], found.json()["data"]["unit_count"]) == (acked["total"], 1)
            now = client.get(f"/api/v1/inventory/{stock['id']}").json()["data"]
            recorded = client.get("/api/v1/transactions", params={"limit": 1}).json()["pagination"]["total"]
            first = burst.acknowledged[0]["data"]
            replay = client.post("/api/v1/transactions", json=_sale_of(stock["id"]),
                                 headers={"Idempotency-Key": keys[first["id"]]})
            assert replay.status_code == 201 and replay.json()["data"]["id"] == first["id"], replay.text[:300]
            assert client.get(f"/api/v1/inventory/{stock['id']}").json()["data"]["quantity"] == now["quantity"]
    finally:
        server.stop()
    sold = stock["quantity"] - now["quantity"]
    assert sold == recorded, f"{sold} units left the stock, {recorded} sales are recorded"
    assert burst.acknowledged_units <= recorded <= burst.sent_units, (burst.acknowledged_units, recorded)
    vitrina_check(settings)


def _sale_of(item_id: str) -> dict[str, Any]:
    return {"type": "sale", "payment_method": "card", "lines": [{"inventory_id": item_id, "quantity": 1}]}



def _bulk_stock(client: httpx.Client, run: str, quantity: int) -> dict[str, Any]:
    """A priced bulk item in a new location of its own (nothing else in the organization sells)."""
    location = client.post("/api/v1/locations", json={"name": f"Counter {run}", "code": f"C{run}"})
    assert location.status_code == 201, location.text
    item = client.post("/api/v1/inventory", json={
        "sku": f"BEADS-{run}", "name": "Freshwater pearls", "tracking": "bulk", "quantity": quantity,
        "price": "12.50", "currency": "USD", "location_id": location.json()["data"]["id"]})
    assert item.status_code == 201, item.text
    return dict(item.json()["data"])


IMPORT_ROWS = 3


def _import_csv(run: str, writer: int, sequence: int) -> tuple[bytes, dict[str, int]]:
    """A small stock file with its own external ids; and what each id's quantity must become."""
    expected = {f"IMP-{run}-{writer}-{sequence}-{row}": row + 1 for row in range(IMPORT_ROWS)}
    lines = ["external_id,sku,name,tracking,quantity"]
    lines += [f"{ref},SKU-{ref},Imported chain {ref},bulk,{quantity}" for ref, quantity in expected.items()]
    return ("\n".join(lines) + "\n").encode(), expected


def _start_worker(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as output:
        return subprocess.Popen([sys.executable, "-m", "vitrina.cli", "worker"], env=settings_env(settings),
                                stdout=output, stderr=subprocess.STDOUT, start_new_session=True)


def _kill_group(process: subprocess.Popen[bytes], signal_number: int) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal_number)
    process.wait(timeout=30)


def _job_statuses(client: httpx.Client, job_ids: list[str]) -> dict[str, str]:
    return {job_id: client.get(f"/api/v1/jobs/{job_id}").json()["data"]["status"] for job_id in job_ids}


def test_kill_9_during_import_burst_loses_no_acknowledged_import(settings: Settings, database: Database,
                                                                 tmp_path: Path) -> None:
    """Stock files uploaded in a burst; the server dies mid-burst. Every import acknowledged with 202 is still a
    job after the restart; a worker that is itself killed with SIGKILL while draining them is replaced, and in
    the end every acknowledged file's rows are in stock with their quantities."""
    if _route("POST", "/api/v1/inventory/import") is None or _route("GET", "/api/v1/jobs/{}") is None:
        pytest.skip("POST /api/v1/inventory/import or GET /api/v1/jobs/{id} does not exist yet")
    org = new_org(database, "Importing Jewelers")
    run = uuid.uuid4().hex[:6].upper()
    server = start_own_server(settings, tmp_path / "server.log", workers=2)
    burst = Burst()
    expected: dict[str, dict[str, int]] = {}  # job id -> its rows

    def upload(client: httpx.Client, writer: int, sequence: int) -> tuple[httpx.Response, int]:
        content, rows = _import_csv(run, writer, sequence)
        response = client.post("/api/v1/inventory/import", files={"file": ("stock.csv", content, "text/csv")})
        if response.status_code == 202:
            expected[response.json()["data"]["id"]] = rows
        return response, 1

    try:
        threads = burst.run(server, org.headers, upload)
        burst.kill_after(server, threads, MIN_ACKNOWLEDGED_BEFORE_KILL)
    finally:
        server.kill_hard()
    acknowledged = [body["data"]["id"] for body in burst.acknowledged]
    server = _restart(settings, tmp_path / "server.log")
    worker = _start_worker(settings, tmp_path / "worker.log")
    try:
        with server.client(org.headers) as client:
            assert all(client.get(f"/api/v1/jobs/{job}").status_code == 200 for job in acknowledged)
            wait_until(lambda: "succeeded" in _job_statuses(client, acknowledged).values(), timeout=120,
                       message="a first import to finish")
            _kill_group(worker, signal.SIGKILL)  # mid-drain: some files done, others queued or running
            figures.count("crash.kills")
            worker = _start_worker(settings, tmp_path / "worker.log")
            wait_until(lambda: set(_job_statuses(client, acknowledged).values()) <= {"succeeded", "failed"},
                       timeout=240, message="every acknowledged import to finish")
            statuses = _job_statuses(client, acknowledged)
            exported = client.get("/api/v1/inventory/export", params={"format": "jsonl"})
    finally:
        _kill_group(worker, signal.SIGTERM)
        server.stop()
    assert set(statuses.values()) == {"succeeded"}, statuses
    assert exported.status_code == 200, exported.text[:300]
    stock = {row["external_id"]: row["quantity"] for row in map(json.loads, exported.text.splitlines()) if row}
    for job_id in acknowledged:
        for ref, quantity in expected[job_id].items():
            assert stock.get(ref) == quantity, f"{ref} of acknowledged import {job_id}: {stock.get(ref)}"
    figures.count("crash.acknowledged_writes_checked", len(acknowledged))
    vitrina_check(settings)
