"""Helpers for the jobs tests: uploads, running queued jobs inline, reading items back."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support import OrgContext
from vitrina.config import Settings
from vitrina.db.session import Database
from vitrina.jobs import runner

INV = "/api/v1/inventory"
JOBS = "/api/v1/jobs"

Importer = Callable[..., dict[str, Any]]


def csv_bytes(rows: list[list[Any]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode()


@pytest.fixture
def run_job(client: TestClient, database: Database, settings: Settings, org: OrgContext) -> Callable[..., Any]:
    """Run a queued job in this thread (as ``vitrina worker`` would) and return it as the API shows it."""

    def run(job_id: str, headers: dict[str, str] | None = None,
            options: runner.RunnerOptions | None = None) -> dict[str, Any]:
        runner.run_inline(database, settings, job_id, options=options)
        response = client.get(f"{JOBS}/{job_id}", headers=headers or org.headers)
        assert response.status_code == 200, response.text
        return dict(response.json()["data"])

    return run


@pytest.fixture
def import_file(client: TestClient, org: OrgContext, run_job: Callable[..., Any]) -> Importer:
    """POST a file to /inventory/import, run the job, return the finished job."""

    def do(content: bytes, filename: str = "stock.csv", headers: dict[str, str] | None = None,
           data: dict[str, str] | None = None, options: runner.RunnerOptions | None = None) -> dict[str, Any]:
        response = client.post(f"{INV}/import", files={"file": (filename, content, "text/csv")}, data=data or {},
                               headers=headers or org.headers)
        assert response.status_code == 202, response.text
        job = response.json()["data"]
        assert job["status"] == "queued" and response.headers["location"] == f"{JOBS}/{job['id']}"
        return dict(run_job(job["id"], headers=headers, options=options))

    return do


@pytest.fixture
def location(client: TestClient, org: OrgContext) -> str:
    response = client.post("/api/v1/locations", json={"name": "Main store", "code": "MAIN"}, headers=org.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["id"])


def item(client: TestClient, org: OrgContext, ref: str) -> dict[str, Any]:
    response = client.get(f"{INV}/{ref}", headers=org.headers)
    assert response.status_code == 200, response.text
    return dict(response.json()["data"])


def movements(client: TestClient, org: OrgContext, ref: str) -> list[dict[str, Any]]:
    response = client.get(f"{INV}/{ref}/movements", headers=org.headers)
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


def all_items(client: TestClient, org: OrgContext, **params: Any) -> list[dict[str, Any]]:
    response = client.get(f"{INV}/export", params={"format": "jsonl", **params}, headers=org.headers)
    assert response.status_code == 200, response.text
    import json

    return [json.loads(line) for line in response.text.splitlines() if line]
