"""Scale-out: two ``vitrina worker`` processes share one outbox (PostgreSQL: ``--db postgresql``; SQLite too).

A burst of 1,000 events, committed by four threads in interleaved transactions (so sequence numbers commit out
of order on PostgreSQL), reaches each of two subscriptions exactly once while the receiver answers 200.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.events.conftest import Receiver, create_webhook
from tests.support import OrgContext, settings_env
from vitrina.config import Settings
from vitrina.core.outbox import emit
from vitrina.db.session import Database

BURST = 1000
THREADS = 4
PER_TRANSACTION = 10


@pytest.fixture
def two_workers(settings: Settings, tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    env = settings_env(settings) | {"PYTHONUNBUFFERED": "1"}
    workers = []
    for number in range(2):
        with open(tmp_path / f"worker-{number}.log", "wb") as log:
            workers.append(subprocess.Popen([sys.executable, "-m", "vitrina.cli", "worker"], env=env, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True))
    yield workers
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()


def _emit_burst(database: Database, organization_id: str, start: int) -> list[str]:
    ids = []
    for first in range(start, BURST, THREADS * PER_TRANSACTION):
        with database.unit_of_work() as session:
            for number in range(first, first + PER_TRANSACTION):
                ids.append(emit(session, organization_id=organization_id, type="burst.tick",
                                data={"n": number}).id)
    return ids


def test_two_workers_deliver_each_event_once_per_subscription(client: TestClient, org: OrgContext,
                                                              receiver: Receiver, database: Database,
                                                              two_workers: list[subprocess.Popen[bytes]],
                                                              tmp_path: Path) -> None:
    for path in ("/a", "/b"):
        create_webhook(client, org, receiver.url(path), ["burst.*"])
    emitted: list[str] = []
    lock = threading.Lock()

    def produce(start: int) -> None:
        ids = _emit_burst(database, org.id, start)
        with lock:
            emitted.extend(ids)

    threads = [threading.Thread(target=produce, args=(n * PER_TRANSACTION,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(set(emitted)) == BURST

    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if all(len({r.event_id for r in receiver.for_path(p)}) >= BURST for p in ("/a", "/b")):
            break
        assert all(w.poll() is None for w in two_workers), (tmp_path / "worker-0.log").read_text()[-3000:]
        time.sleep(0.2)
    time.sleep(1.5)  # a duplicate would arrive now
    for path in ("/a", "/b"):
        counts = Counter(r.event_id for r in receiver.for_path(path))
        assert set(counts) == set(emitted), f"{path}: {len(set(emitted) - set(counts))} missing"
        doubled = [event_id for event_id, times in counts.items() if times > 1]
        assert not doubled, f"{path}: delivered more than once: {doubled[:5]}"
    logs = "".join((tmp_path / f"worker-{n}.log").read_text() for n in range(2))
    assert "Traceback" not in logs, logs[-3000:]
