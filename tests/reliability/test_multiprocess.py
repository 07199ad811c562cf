"""Multi-process: two separate server processes sharing Redis enforce one rate limit (the sum of what both
allowed stays within the plan); two webhook workers never deliver one event twice.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import redis

from tests.reliability import figures
from tests.reliability.conftest import collection_doc
from tests.reliability.population import new_org
from tests.reliability.servers import OwnServer, start_own_server
from tests.support import free_port, settings_env, wait_until
from vitrina.config import Settings
from vitrina.db.session import Database

REDIS_URL = os.environ.get("VITRINA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="module")
def redis_prefix() -> Iterator[str]:
    try:
        connection = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        connection.ping()
    except redis.RedisError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is unreachable in CI: {exc}")
        pytest.skip(f"Redis is unreachable: {exc}")
    prefix = f"vitrina-reliability-{uuid.uuid4().hex[:8]}:"
    yield prefix
    for key in connection.scan_iter(f"{prefix}*"):
        connection.delete(key)


@pytest.fixture
def two_servers(settings: Settings, redis_prefix: str, tmp_path: Path) -> Iterator[list[OwnServer]]:
    env = {"VITRINA_REDIS_URL": REDIS_URL, "VITRINA_REDIS_PREFIX": redis_prefix}
    servers: list[OwnServer] = []
    try:
        for number in range(2):
            servers.append(start_own_server(settings, tmp_path / f"server-{number}.log", extra_env=env))
        yield servers
    finally:
        for server in servers:
            server.stop()


def test_two_processes_share_one_rate_limit(two_servers: list[OwnServer], database: Database) -> None:
    per_minute = 25  # enterprise plan: burst 50 per minute
    org = new_org(database, "Shared Limit Jewelers", plan="enterprise", rate_limit_per_minute=per_minute)
    burst = per_minute * 2
    attempts = burst * 2
    statuses: list[int] = []
    lock = threading.Lock()
    servers = itertools.cycle(two_servers)
    targets = [next(servers) for _ in range(attempts)]

    def send(chunk: list[OwnServer]) -> None:
        clients = {server.url: server.client(org.headers) for server in two_servers}
        try:
            for server in chunk:
                response = clients[server.url].get("/api/v1/me")
                with lock:
                    statuses.append(response.status_code)
        finally:
            for client in clients.values():
                client.close()

    threads = [threading.Thread(target=send, args=(targets[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    figures.count("multiprocess.rate_limited_requests", attempts)
    assert set(statuses) <= {200, 429}, Counter(statuses)
    allowed = statuses.count(200)
    # Each process alone would allow the whole burst (2 x 50 = everything sent); shared, the sum is the plan's.
    assert allowed <= burst, f"{allowed} allowed across two processes, the plan allows {burst}"
    assert allowed >= burst - 2, f"only {allowed} of the {burst} allowed"


class _Receiver(BaseHTTPRequestHandler):
    deliveries: list[dict[str, str]] = []
    lock = threading.Lock()

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", 0))
        body = self.rfile.read(length)
        with self.lock:
            self.deliveries.append({"id": self.headers.get("webhook-id", ""), "body": body.decode(errors="replace")})
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_two_webhook_workers_never_double_deliver(settings: Settings, database: Database, tmp_path: Path,
                                                   two_servers: list[OwnServer]) -> None:
    if collection_doc().find("POST", "/api/v1/webhooks") is None:
        pytest.skip("missing route: POST /api/v1/webhooks")
    try:
        import vitrina.events.worker  # noqa: F401
    except ModuleNotFoundError:
        pytest.skip("missing module: vitrina.events.worker")
    _Receiver.deliveries = []
    receiver = ThreadingHTTPServer(("127.0.0.1", free_port()), _Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    org = new_org(database, "Webhook Jewelers")
    api = two_servers[0].client(org.headers)
    workers: list[subprocess.Popen[bytes]] = []
    try:
        hook = api.post("/api/v1/webhooks", json={"url": f"http://127.0.0.1:{receiver.server_port}/hook",
                                                  "events": ["*"]})
        assert hook.status_code == 201, hook.text
        env = settings_env(settings)
        for number in range(2):
            with open(tmp_path / f"worker-{number}.log", "wb") as log:
                workers.append(subprocess.Popen([sys.executable, "-m", "vitrina.cli", "worker"], env=env,
                                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
        count = 30
        for number in range(count):
            response = api.post("/api/v1/locations", json={"name": f"Hook {number}", "code": f"HOOK-{number}"})
            assert response.status_code == 201
        wait_until(lambda: len({d["id"] for d in _Receiver.deliveries}) >= count, timeout=90,
                   message=f"{count} deliveries")
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait(timeout=20)
        receiver.shutdown()
        api.close()
    ids = Counter(d["id"] for d in _Receiver.deliveries)
    figures.count("multiprocess.webhook_deliveries", len(_Receiver.deliveries))
    doubled = [event_id for event_id, times in ids.items() if times > 1]
    assert not doubled, f"delivered more than once: {doubled[:5]}"
    assert all(json.loads(d["body"]).get("type") for d in _Receiver.deliveries)
