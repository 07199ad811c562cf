"""SSRF by redirect: a URL that passes the check at request time (an allowed host) answers with a redirect to an
address it must never reach. The webhook worker and the sync-feed job are run for real (a ``vitrina worker``
process against the live server's database) and the forbidden address must receive nothing.

The allowed host is the loopback address the test settings allow-list (``127.0.0.1``); the forbidden one is
``127.0.0.2`` (loopback too on Linux, but not allow-listed), standing in for ``169.254.169.254`` or an internal
service, which a test cannot bind.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.reliability import figures
from tests.reliability.conftest import collection_doc
from tests.reliability.population import new_org
from tests.reliability.servers import OwnServer
from tests.support import free_port, settings_env, wait_until
from vitrina.config import Settings
from vitrina.db.session import Database

FORBIDDEN_HOST = "127.0.0.2"


@dataclass
class Hits:
    paths: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _serve(host: str, respond: Any) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def _any(self) -> None:
            respond(self)

        do_GET = do_POST = do_PUT = _any  # http.server dispatches on these names

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer((host, free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def forbidden() -> Iterator[tuple[str, Hits]]:
    """A server on an address nothing may reach; it records every request that arrives anyway."""
    hits = Hits()

    def record(handler: BaseHTTPRequestHandler) -> None:
        with hits.lock:
            hits.paths.append(handler.path)
        body = b'{"data": [], "secret": "metadata credentials"}'
        handler.send_response(200)
        handler.send_header("content-type", "application/json")
        handler.send_header("content-length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    try:
        server = _serve(FORBIDDEN_HOST, record)
    except OSError as exc:
        pytest.skip(f"cannot bind {FORBIDDEN_HOST}: {exc}")
    yield f"http://{FORBIDDEN_HOST}:{server.server_port}", hits
    server.shutdown()


@pytest.fixture
def redirector(forbidden: tuple[str, Hits]) -> Iterator[str]:
    """An allowed host whose every answer is a redirect (307 keeps the method and body) to the forbidden one."""
    target = forbidden[0]

    def redirect(handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("content-length") or 0)
        handler.rfile.read(length)
        handler.send_response(307)
        handler.send_header("location", f"{target}/stolen{handler.path}")
        handler.send_header("content-length", "0")
        handler.end_headers()

    server = _serve("127.0.0.1", redirect)
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def worker(settings: Settings, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    with open(tmp_path / "worker.log", "wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "vitrina.cli", "worker"], env=settings_env(settings),
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    yield process
    process.terminate()
    process.wait(timeout=30)


def _require(*routes: str) -> None:
    missing = [r for r in routes if collection_doc().find(*r.split(" ", 1)) is None]
    if missing:
        pytest.skip(f"missing route(s): {', '.join(missing)}")


def test_webhook_redirect_is_not_followed(live_server: OwnServer, database: Database, redirector: str,
                                          forbidden: tuple[str, Hits], worker: subprocess.Popen[bytes]) -> None:
    _require("POST /api/v1/webhooks", "POST /api/v1/webhooks/{}/test", "GET /api/v1/webhooks/{}/deliveries")
    org = new_org(database, "Redirected Webhooks")
    with live_server.client(org.headers) as client:
        hook = client.post("/api/v1/webhooks", json={"url": f"{redirector}/hook", "events": ["*"]})
        assert hook.status_code == 201, hook.text
        hook_id = hook.json()["data"]["id"]
        assert client.post(f"/api/v1/webhooks/{hook_id}/test").status_code == 202

        def attempted() -> list[dict[str, Any]]:
            deliveries = client.get(f"/api/v1/webhooks/{hook_id}/deliveries").json()["data"]
            return [d for d in deliveries if d["attempt_count"] >= 1]

        wait_until(lambda: bool(attempted()), timeout=90, message="a delivery attempt")
        delivery = attempted()[0]
    figures.count("abuse.ssrf_redirects")
    assert forbidden[1].paths == [], f"the worker followed the redirect: {forbidden[1].paths}"
    assert delivery["status"] != "succeeded" and delivery["last_status_code"] == 307, delivery


def test_sync_feed_redirect_is_not_followed(live_server: OwnServer, database: Database, redirector: str,
                                            forbidden: tuple[str, Hits], worker: subprocess.Popen[bytes]) -> None:
    _require("POST /api/v1/inventory/sync", "GET /api/v1/jobs/{}")
    org = new_org(database, "Redirected Feeds")
    with live_server.client(org.headers) as client:
        location = client.post("/api/v1/locations", json={"name": "Feed store", "code": "FEED"}).json()["data"]
        item = client.post("/api/v1/inventory", json={"sku": "KEEP", "name": "Kept ring", "tracking": "bulk",
                                                      "quantity": 7, "location_id": location["id"]})
        assert item.status_code == 201, item.text
        job = client.post("/api/v1/inventory/sync", json={
            "location_id": location["id"], "sync_type": "full",
            "source": {"kind": "http", "url": f"{redirector}/feed"}})
        assert job.status_code == 202, job.text
        job_url = f"/api/v1/jobs/{job.json()['data']['id']}"
        wait_until(lambda: client.get(job_url).json()["data"]["status"] in ("succeeded", "failed"), timeout=90,
                   message="the sync job to end")
        finished = client.get(job_url).json()["data"]
        kept = client.get(f"/api/v1/inventory/{item.json()['data']['id']}").json()["data"]
    figures.count("abuse.ssrf_redirects")
    assert forbidden[1].paths == [], f"the sync job followed the redirect: {forbidden[1].paths}"
    assert finished["status"] == "failed", finished
    assert kept["quantity"] == 7, "a failed full sync changed the location"


def test_forbidden_host_is_really_reachable(forbidden: tuple[str, Hits]) -> None:
    """The control: the forbidden server does answer, so "it received nothing" above means something."""
    assert httpx.get(f"{forbidden[0]}/control", timeout=10).status_code == 200
    assert forbidden[1].paths == ["/control"]
