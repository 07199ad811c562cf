"""The CSV import target (100,000 rows at ≥ 20,000 rows/s), measured two ways.

``measure_domain`` times the inventory write path every import shares, in this process: read the CSV, validate
each row as the import job does (``inventory.fields.create_fields``), and apply batches with
``inventory.service.receive_many``, one transaction per batch. It needs only the inventory domain, so it runs
on every tree; ``--profile`` writes a pyinstrument report of it. The API path (``POST /inventory/import`` and
its job) is timed by the harness when that route exists.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path
from typing import Any

from vitrina.db.session import Database

IMPORT_COLUMNS = ["external_id", "sku", "name", "category", "tracking", "quantity", "price", "cost", "currency",
                  "location_id", "certification", "cert_number"]
TARGET_ROWS_PER_SECOND = 20_000


def write_import_csv(path: Path, rows: int, location_id: str, *, prefix: str = "IMP") -> Path:
    """A realistic supplier file: bulk lines and certified serialized pieces, every row new."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(IMPORT_COLUMNS)
        for n in range(rows):
            serialized = n % 3 == 0
            writer.writerow([
                f"{prefix}-{n:07d}", f"{prefix}-PC-{n:07d}" if serialized else f"{prefix}-SKU-{n % 5000:04d}",
                f"Imported piece {n}", "rings" if serialized else "findings", "serialized" if serialized else "bulk",
                1 if serialized else (n % 50) + 1, "1299.00" if serialized else "19.90",
                "610.00" if serialized else "8.10", "USD", location_id, "GIA" if serialized else "none",
                f"GIA-{7_000_000_000 + n}" if serialized else "",
            ])
    return path


def _rows(path: Path) -> list[dict[str, Any]]:
    with path.open(newline="") as handle:
        return [{key: value for key, value in row.items() if value != ""} for row in csv.DictReader(handle)]


def measure_domain(url: str, organization_id: str, path: Path, *, batch: int = 1000,
                   profile_to: Path | None = None) -> dict[str, Any]:
    """Import ``path`` through ``receive_many`` and return rows/s (plus the profile path when asked)."""
    from vitrina.inventory import fields as item_fields
    from vitrina.inventory import service as inventory

    database = Database(url)
    profiler = _profiler() if profile_to else None
    started, cpu_started = time.perf_counter(), time.process_time()
    rows = _rows(path)
    created = 0
    for start in range(0, len(rows), batch):
        chunk = rows[start:start + batch]
        for row in chunk:  # the import job validates every row on its own first, to report errors per line
            item_fields.create_fields(row)
        with database.unit_of_work(organization_id=organization_id) as session:
            outcomes = inventory.receive_many(session, organization_id=organization_id, actor="bench", rows=chunk)
        created += sum(1 for _, outcome in outcomes if outcome == "created")
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    database.dispose()
    # The client's CPU time shows what the Python side costs per row whatever else the shared machine runs.
    result: dict[str, Any] = {"rows": len(rows), "created": created, "batch": batch, "seconds": round(seconds, 2),
                              "rows_per_second": round(len(rows) / seconds), "client_cpu_seconds": round(cpu, 2),
                              "client_cpu_us_per_row": round(cpu / len(rows) * 1e6, 1)}
    result["met"] = created == len(rows) and result["rows_per_second"] >= TARGET_ROWS_PER_SECOND
    if profiler is not None and profile_to is not None:
        profiler.stop()
        profile_to.write_text(profiler.output_text(unicode=True, color=False))
        result["profile"] = str(profile_to)
    return result


def _profiler() -> Any:
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.001)
    profiler.start()
    return profiler


IMPORT_ROUTE = ("post", "/api/v1/inventory/import")


def measure_api(url: str, auth: str, path: Path, *, worker_env: dict[str, str], log: Path,
                timeout_s: float = 900) -> dict[str, Any]:
    """``POST /inventory/import`` of ``path`` and its job run by one ``vitrina worker``, timed from the upload
    to the job's end (API.md §9)."""
    import subprocess
    import sys

    import httpx

    from bench.tools import stop

    worker = subprocess.Popen([str(Path(sys.executable).with_name("vitrina")), "worker"], env=worker_env,
                              stdout=log.open("wb"), stderr=subprocess.STDOUT)
    try:
        headers = {"X-API-Key": auth}
        started = time.perf_counter()
        with path.open("rb") as handle:
            response = httpx.post(f"{url}/api/v1/inventory/import", headers=headers, timeout=300,
                                  files={"file": (path.name, handle, "text/csv")})
        if response.status_code >= 300:
            return {"error": f"upload answered {response.status_code}: {response.text[:300]}", "met": False}
        job_id = _job_id(response.json())
        job = _wait_for_job(url, headers, job_id, deadline=started + timeout_s, worker=worker)
        seconds = time.perf_counter() - started
    finally:
        stop(worker)
    rows = sum(1 for _ in path.open()) - 1
    result: dict[str, Any] = {"rows": rows, "seconds": round(seconds, 2), "rows_per_second": round(rows / seconds),
                              "job_status": job.get("status"), "job_result": job.get("result")}
    result["met"] = job.get("status") == "succeeded" and result["rows_per_second"] >= TARGET_ROWS_PER_SECOND
    return result


def _job_id(body: dict[str, Any]) -> str:
    data = body.get("data", body)
    job = data.get("job", data) if isinstance(data, dict) else {}
    return str(job["id"])


def _wait_for_job(url: str, headers: dict[str, str], job_id: str, *, deadline: float, worker: Any) -> dict[str, Any]:
    import httpx

    while time.perf_counter() < deadline:
        job = httpx.get(f"{url}/api/v1/jobs/{job_id}", headers=headers, timeout=30).json().get("data", {})
        if job.get("status") in ("succeeded", "failed"):
            return dict(job)
        if worker.poll() is not None:
            return {"status": "worker exited", **job}
        time.sleep(0.2)
    return {"status": "timed out"}
