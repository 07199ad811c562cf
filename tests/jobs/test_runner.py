"""The runner: leases, resuming after a crash, giving up, and a worker killed with SIGKILL mid-import."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from tests.jobs.conftest import INV, JOBS, csv_bytes
from tests.support import OrgContext, settings_env, wait_until
from vitrina.config import Settings
from vitrina.core.time import utcnow
from vitrina.db.session import Database
from vitrina.inventory.models import Item, Movement
from vitrina.jobs import runner
from vitrina.jobs.models import Job


def queue_import(client: TestClient, org: OrgContext, content: bytes) -> str:
    response = client.post(f"{INV}/import", files={"file": ("stock.csv", content, "text/csv")}, headers=org.headers)
    assert response.status_code == 202, response.text
    return str(response.json()["data"]["id"])


def rows(count: int, prefix: str = "R") -> bytes:
    return csv_bytes([["external_id", "sku", "name", "tracking", "quantity"]]
                     + [[f"{prefix}-{n:06}", f"SKU-{n % 50}", f"Piece {n}", "bulk", 1 + n % 7] for n in range(count)])


def job_row(database: Database, job_id: str) -> Job:
    with database.unit_of_work(write=False) as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job


def counts(database: Database, organization_id: str) -> tuple[int, int]:
    with database.unit_of_work(write=False) as session:
        items = session.scalar(select(func.count()).select_from(Item).where(Item.organization_id == organization_id))
        moves = session.scalar(select(func.count()).select_from(Movement)
                               .where(Movement.organization_id == organization_id))
        return int(items or 0), int(moves or 0)


def expire_lease(database: Database, job_id: str) -> None:
    """What the passing of time does to a dead runner's lease."""
    with database.unit_of_work() as session:
        session.execute(update(Job).where(Job.id == job_id).values(leased_until=utcnow() - timedelta(seconds=1)))


def test_a_claimed_job_is_not_claimed_twice_until_its_lease_expires(client: TestClient, org: OrgContext,
                                                                   database: Database) -> None:
    job_id = queue_import(client, org, rows(3))
    options = runner.RunnerOptions()
    lease = runner.claim(database, options, job_id=job_id)
    assert lease is not None and lease.attempts == 1
    assert runner.claim(database, options, job_id=job_id) is None
    expire_lease(database, job_id)
    again = runner.claim(database, options, job_id=job_id)
    assert again is not None and again.attempts == 2 and again.token != lease.token
    # The first runner's lease is gone: its writes are refused rather than mixed with the second's.
    stale = runner.JobContext(database, Settings(database_url=database.url), lease, options)
    assert runner.execute(stale) == "running"
    assert job_row(database, job_id).status == "running"


def test_an_interrupted_job_resumes_from_its_checkpoint(client: TestClient, org: OrgContext, database: Database,
                                                        settings: Settings) -> None:
    job_id = queue_import(client, org, rows(10))
    options = runner.RunnerOptions(batch_size=3)
    lease = runner.claim(database, options, job_id=job_id)
    assert lease is not None

    class Crash(BaseException):
        pass

    done: list[int] = []

    def crash_after_two_batches(count: int, _total: int | None) -> None:
        done.append(count)
        if len(done) == 2:
            raise Crash  # like a kill: nothing after the second batch's commit happens

    context = runner.JobContext(database, settings, lease, options, on_progress=crash_after_two_batches)
    with contextlib.suppress(Crash):
        runner.execute(context)
    job = job_row(database, job_id)
    assert job.checkpoint is not None
    assert (job.status, job.progress_done, job.checkpoint["line"]) == ("running", 6, 7)
    assert counts(database, org.id)[0] == 6
    expire_lease(database, job_id)
    assert runner.run_inline(database, settings, job_id, options=options) == "succeeded"
    finished = client.get(f"{JOBS}/{job_id}", headers=org.headers).json()["data"]
    assert (finished["attempts"], finished["progress"]["done"], finished["result"]["created"]) == (2, 10, 10)
    assert counts(database, org.id) == (10, 10)


def test_a_job_that_keeps_dying_is_given_up(client: TestClient, org: OrgContext, database: Database) -> None:
    job_id = queue_import(client, org, rows(2))
    options = runner.RunnerOptions(max_attempts=2)
    for _ in range(2):
        assert runner.claim(database, options, job_id=job_id) is not None
        expire_lease(database, job_id)
    assert runner.claim(database, options, job_id=job_id) is None
    job = client.get(f"{JOBS}/{job_id}", headers=org.headers).json()["data"]
    assert job["status"] == "failed" and "interrupted" in job["message"] and job["finished_at"]


def test_concurrent_runners_take_each_job_once(client: TestClient, org: OrgContext, database: Database,
                                               settings: Settings) -> None:
    job_ids = [queue_import(client, org, rows(5, prefix=f"C{n}")) for n in range(6)]
    statuses: list[str] = []

    def work() -> None:
        while True:
            lease = runner.claim(database, runner.RunnerOptions())
            if lease is None:
                return
            statuses.append(runner.execute(runner.JobContext(database, settings, lease, runner.RunnerOptions())))

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    mine = [job_row(database, job_id) for job_id in job_ids]
    assert all(job.status == "succeeded" and job.attempts == 1 for job in mine)
    assert counts(database, org.id) == (30, 30)


def test_the_worker_loop_runs_queued_jobs(client: TestClient, org: OrgContext, settings: Settings) -> None:
    job_id = queue_import(client, org, rows(4))
    stop = threading.Event()
    thread = threading.Thread(target=runner.run_loop, args=(settings, stop),
                              kwargs={"options": runner.RunnerOptions(poll_interval=0.05)})
    thread.start()
    try:
        wait_until(lambda: client.get(f"{JOBS}/{job_id}", headers=org.headers).json()["data"]["status"]
                   == "succeeded", timeout=60, message="the job to finish")
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()


def start_worker(settings: Settings, log_path: Path) -> subprocess.Popen[bytes]:
    """A real ``vitrina worker`` process (webhook loop and job runner), as an operator runs it."""
    command = [str(Path(sys.executable).with_name("vitrina")), "worker"]
    with log_path.open("ab") as log:
        return subprocess.Popen(command, env=settings_env(settings), stdout=log, stderr=subprocess.STDOUT)


def api_job(client: TestClient, org: OrgContext, job_id: str) -> dict[str, Any]:
    response = client.get(f"{JOBS}/{job_id}", headers=org.headers)
    assert response.status_code == 200, response.text
    return dict(response.json()["data"])


@pytest.mark.parametrize("total", [12_000, pytest.param(100_000, marks=pytest.mark.slow)])
def test_sigkill_of_the_worker_during_an_import_leaves_whole_batches(
        client: TestClient, org: OrgContext, database: Database, settings: Settings, tmp_path: Path,
        total: int) -> None:
    job_id = queue_import(client, org, rows(total))
    worker = start_worker(settings, tmp_path / "worker.log")
    try:
        wait_until(lambda: job_row(database, job_id).progress_done >= 3000, timeout=240,
                   message="a few batches to commit")
    finally:
        worker.kill()  # SIGKILL: no cleanup, mid-batch most likely
        worker.wait()
    interrupted = api_job(client, org, job_id)
    done = interrupted["progress"]["done"]
    assert interrupted["status"] == "running" and done % 1000 == 0 and done < total
    assert counts(database, org.id) == (done, done), "only whole batches, each item with its movement"
    # The job says exactly which rows are applied: one row per line after the header (line 1).
    assert interrupted["result"] == {"created": done, "updated": 0, "unchanged": 0, "failed": 0, "rows": done,
                                     "applied_through_line": done + 1, "complete": False}
    restarted = start_worker(settings, tmp_path / "worker.log")
    try:  # the restarted worker sees its predecessor's process gone and resumes at once (no lease wait)
        wait_until(lambda: api_job(client, org, job_id)["status"] != "running", timeout=240,
                   message="the restarted worker to finish the job")
    finally:
        restarted.terminate()
        assert restarted.wait(timeout=60) == 0
    finished = api_job(client, org, job_id)
    assert finished["status"] == "succeeded" and finished["attempts"] == 2
    assert finished["result"]["created"] == total and finished["progress"]["done"] == total
    assert finished["result"]["applied_through_line"] == total + 1 and finished["result"]["complete"]
    assert counts(database, org.id) == (total, total)


def test_a_dead_local_runners_job_is_reclaimed_without_waiting_for_its_lease(
        client: TestClient, org: OrgContext, database: Database, settings: Settings) -> None:
    job_id = queue_import(client, org, rows(3))
    lease = runner.claim(database, runner.RunnerOptions(), job_id=job_id)
    assert lease is not None
    assert runner.claim(database, runner.RunnerOptions(), job_id=job_id) is None, "this process is alive"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True)
    with database.unit_of_work() as session:  # the lease of a runner of this host whose process has exited
        token = lease.token[:8] + f"{int(dead.stdout):08x}" + lease.token[16:]
        session.execute(update(Job).where(Job.id == job_id).values(lease_token=token))
    assert runner.run_inline(database, settings, job_id) == "succeeded"
    assert api_job(client, org, job_id)["attempts"] == 2
