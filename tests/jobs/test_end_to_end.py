"""Import, sync, jobs and export through a real server process and a real ``vitrina worker`` process."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.jobs import feed as feeds
from tests.jobs.conftest import csv_bytes
from tests.jobs.test_runner import start_worker
from tests.support import LiveServer, OrgContext, wait_until
from vitrina.config import Settings

API = "/api/v1"


@pytest.fixture
def worker(settings: Settings, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    process = start_worker(settings, tmp_path / "worker.log")
    yield process
    process.terminate()
    assert process.wait(timeout=60) == 0, (tmp_path / "worker.log").read_text()


@pytest.fixture
def feed() -> Iterator[feeds.Feed]:
    yield from feeds.serve()


def finished_job(http: httpx.Client, response: httpx.Response) -> dict[str, Any]:
    """Follow a 202's Location until the worker has finished the job."""
    assert response.status_code == 202, response.text
    location = response.headers["location"]
    assert location == f"{API}/jobs/{response.json()['data']['id']}"

    def done() -> dict[str, Any] | None:
        job = http.get(location).json()["data"]
        return job if job["status"] in ("succeeded", "failed") else None

    return dict(wait_until(done, timeout=120, interval=0.1, message="the worker to finish the job"))


@pytest.mark.usefixtures("worker")
def test_import_sync_and_export_over_http(live_server: LiveServer, org: OrgContext, feed: feeds.Feed) -> None:
    with live_server.client(org.headers) as http:
        location = http.post(f"{API}/locations", json={"name": "Rue de la Paix", "code": "RDP"}).json()["data"]["id"]
        content = csv_bytes([["external_id", "sku", "name", "tracking", "quantity", "location_id", "price"],
                             ["E2E-1", "RING", "=HYPERLINK(\"x\")", "bulk", 3, location, "100"],
                             ["E2E-2", "BAND", "Band", "bulk", "two", location, "50"],
                             ["E2E-3", "CHAIN", "Chain", "bulk", 5, location, "80"]])
        job = finished_job(http, http.post(f"{API}/inventory/import",
                                           files={"file": ("stock.csv", content, "text/csv")}))
        assert job["kind"] == "inventory.import" and job["status"] == "succeeded"
        assert job["progress"] == {"done": 3, "total": 3}
        assert [(e["line"], e["field"]) for e in job["errors"]] == [(3, "quantity")]
        assert (job["result"]["created"], job["result"]["failed"]) == (2, 1)

        feed.pages["/pos"] = (200, {"content-type": "application/json"},
                              json.dumps([{"external_id": "E2E-1", "quantity": 2}]).encode())
        body = {"location_id": location, "sync_type": "full",
                "source": {"kind": "http", "url": feed.url("/pos"), "headers": {"X-POS-Key": "k"}}}
        synced = finished_job(http, http.post(f"{API}/inventory/sync", json=body))
        assert synced["status"] == "succeeded", synced
        assert (synced["result"]["changed"], synced["result"]["zeroed"]) == (2, 1)
        assert feed.requests[-1]["headers"]["X-POS-Key"] == "k"
        event = http.get(f"{API}/events", params={"type": "inventory.sync.completed"}).json()["data"][0]
        assert event["data"]["job_id"] == synced["id"]

        with http.stream("GET", f"{API}/inventory/export", params={"location_id": location}) as exported:
            assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
            text = b"".join(exported.iter_bytes()).decode("utf-8-sig")
        rows = {row["external_id"]: row for row in csv.DictReader(io.StringIO(text))}
        assert (rows["E2E-1"]["quantity"], rows["E2E-3"]["quantity"]) == ("2", "0")
        assert rows["E2E-1"]["name"] == "'=HYPERLINK(\"x\")"
        missing = http.get(f"{API}/jobs/job_01ARZ3NDEKTSV4RRFFQ69G5FAV")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "JOB_NOT_FOUND"
