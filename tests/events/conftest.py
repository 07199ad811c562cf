"""Fixtures for the events tests: a real webhook receiver on 127.0.0.1 and in-process delivery workers."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support import OrgContext, free_port, wait_until
from vitrina.config import Settings
from vitrina.db.session import Database
from vitrina.events.worker import Worker, WorkerOptions


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def event_id(self) -> str:
        return self.headers["webhook-id"]


@dataclass
class Receiver:
    """A webhook receiver that can be taken down (connection refused) and brought back on the same port."""

    port: int
    status: int = 200
    reply: bytes = b"ok"
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def up(self) -> None:
        if self._server is not None:
            return
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with receiver.lock:
                    receiver.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()},
                                                      body))
                self.send_response(receiver.status)
                self.send_header("content-length", str(len(receiver.reply)))
                self.end_headers()
                self.wfile.write(receiver.reply)

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self._server = server

    def down(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def for_path(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path == path]

    def wait_for(self, count: int, *, path: str = "/hook", timeout: float = 30.0) -> list[Received]:
        wait_until(lambda: len(self.for_path(path)) >= count, timeout=timeout,
                   message=f"{count} deliveries at {path} (got {len(self.for_path(path))})")
        return self.for_path(path)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver(port=free_port())
    receiver.up()
    yield receiver
    receiver.down()


FAST = WorkerOptions(poll_interval=0.05, housekeeping_every=3600, concurrency=4)


@dataclass
class RunningWorker:
    worker: Worker
    stop: threading.Event
    thread: threading.Thread


@pytest.fixture
def start_worker(settings: Settings, database: Database) -> Iterator[Callable[..., Worker]]:
    """Start delivery workers in threads (stopped at the end of the test)."""
    running: list[RunningWorker] = []

    def start(options: WorkerOptions = FAST, worker_settings: Settings | None = None) -> Worker:
        worker = Worker(worker_settings or settings, database=database, options=options)
        stop = threading.Event()
        thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
        thread.start()
        running.append(RunningWorker(worker, stop, thread))
        return worker

    yield start
    for item in running:
        item.stop.set()
    for item in running:
        item.thread.join(timeout=30)
        item.worker.close()


def create_webhook(client: TestClient, org: OrgContext, url: str, events: list[str] | None = None,
                   **extra: Any) -> dict[str, Any]:
    response = client.post("/api/v1/webhooks", json={"url": url, "events": events or ["*"], **extra},
                           headers=org.headers)
    assert response.status_code == 201, response.text
    return dict(response.json()["data"])


def create_location(client: TestClient, org: OrgContext, code: str) -> dict[str, Any]:
    response = client.post("/api/v1/locations", json={"name": f"Store {code}", "code": code}, headers=org.headers)
    assert response.status_code == 201, response.text
    return dict(response.json()["data"])
