"""``GET /events/stream``: replay (``Last-Event-ID``, ``since``), live pushes from a real server, across two
server processes through Redis, and a server that stops promptly with streams open."""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from fastapi.testclient import TestClient

from tests.events.conftest import create_location
from tests.support import LiveServer, OrgContext, start_server, stop_server, wait_until
from vitrina.config import Settings
from vitrina.core.time import to_rfc3339, utcnow

REDIS_URL = os.environ.get("VITRINA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
LIVE = {"Accept": "text/event-stream"}


def parse_frames(text: str) -> list[dict[str, Any]]:
    frames = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if line and not line.startswith(":")
                      and ": " in line)
        if "id" in fields:
            frames.append({"id": fields["id"], "event": fields["event"], "data": json.loads(fields["data"])})
    return frames


# --- replay (the test client: responses that end) -----------------------------------------------------------

def test_replay_since_and_after_last_event_id(client: TestClient, org: OrgContext) -> None:
    since = to_rfc3339(utcnow() - timedelta(seconds=1))
    first, second = create_location(client, org, "SSE-1"), create_location(client, org, "SSE-2")
    response = client.get("/api/v1/events/stream", params={"since": since}, headers=org.headers)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    assert response.text.startswith("retry: ")
    frames = parse_frames(response.text)
    assert [f["data"]["data"]["id"] for f in frames] == [first["id"], second["id"]]
    assert all(f["event"] == "location.created" and f["id"] == f["data"]["id"] for f in frames)
    after = client.get("/api/v1/events/stream", headers=org.headers | {"Last-Event-ID": frames[0]["id"]})
    assert [f["id"] for f in parse_frames(after.text)] == [frames[1]["id"]]
    filtered = client.get("/api/v1/events/stream", params={"since": since, "type": "inventory.*"},
                          headers=org.headers)
    assert parse_frames(filtered.text) == []
    for headers in ({"Last-Event-ID": "evt_01ARZ3NDEKTSV4RRFFQ69G5FAV"}, {"Last-Event-ID": "garbage"}, {}):
        assert parse_frames(client.get("/api/v1/events/stream", headers=org.headers | headers).text) == []


def test_stream_needs_credentials_and_valid_filters(client: TestClient, org: OrgContext,
                                                    other_org: OrgContext) -> None:
    assert client.get("/api/v1/events/stream").status_code == 401
    assert client.get("/api/v1/events/stream", params={"type": "Bad"}, headers=org.headers).status_code == 422
    since = to_rfc3339(utcnow() - timedelta(seconds=1))
    create_location(client, org, "SSE-T")
    assert parse_frames(client.get("/api/v1/events/stream", params={"since": since},
                                   headers=other_org.headers).text) == []


# --- live ---------------------------------------------------------------------------------------------------

@dataclass
class StreamReader:
    """Reads a live stream in a thread and collects its events."""

    url: str
    headers: dict[str, str]
    frames: list[dict[str, Any]] = field(default_factory=list)
    connected: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=httpx.Timeout(30, connect=5)))

    def start(self) -> StreamReader:
        threading.Thread(target=self._read, daemon=True).start()
        assert self.connected.wait(10), "the stream did not open"
        return self

    def _read(self) -> None:
        try:
            with self.client.stream("GET", self.url, headers=self.headers | LIVE) as response:
                assert response.status_code == 200
                block: list[str] = []
                for line in response.iter_lines():
                    if line == ": live":
                        self.connected.set()
                    if line:
                        block.append(line)
                        continue
                    self.frames.extend(parse_frames("\n".join(block)))
                    block = []
        except httpx.HTTPError:
            pass
        finally:
            self.finished.set()

    def close(self) -> None:
        self.client.close()


@pytest.fixture
def own_server(settings: Settings, tmp_path: Path) -> Iterator[LiveServer]:
    server = start_server(settings, log_path=tmp_path / "server.log")
    yield server
    stop_server(server)


def test_live_events_arrive_as_they_commit(own_server: LiveServer, org: OrgContext) -> None:
    reader = StreamReader(f"{own_server.url}/api/v1/events/stream?type=location.*", org.headers).start()
    try:
        with own_server.client(org.headers) as api:
            created = [api.post("/api/v1/locations", json={"name": f"Live {n}", "code": f"LIVE-{n}"}).json()["data"]
                       for n in range(3)]
            api.post("/api/v1/locations", json={"name": "dup", "code": "LIVE-0"})  # 409: rolled back, no event
        wait_until(lambda: len(reader.frames) >= 3, message="three live events")
        assert [f["data"]["data"]["id"] for f in reader.frames] == [c["id"] for c in created]
        assert [f["event"] for f in reader.frames] == ["location.created"] * 3
    finally:
        reader.close()


def test_a_server_with_open_streams_stops_promptly(settings: Settings, org: OrgContext, tmp_path: Path) -> None:
    server = start_server(settings, log_path=tmp_path / "server.log")
    reader = StreamReader(f"{server.url}/api/v1/events/stream", org.headers).start()
    try:
        server.process.terminate()
        server.process.wait(timeout=10)  # uvicorn waits for open responses: the stream must end by itself
        assert reader.finished.wait(5)
    finally:
        reader.close()
        stop_server(server)


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is unreachable in CI: {exc}")
        pytest.skip(f"Redis is unreachable: {exc}")
    yield f"vitrina-test-events-{uuid.uuid4().hex[:8]}:"


def test_live_events_cross_server_processes_through_redis(settings: Settings, org: OrgContext, tmp_path: Path,
                                                          redis_prefix: str) -> None:
    env = {"VITRINA_REDIS_URL": REDIS_URL, "VITRINA_REDIS_PREFIX": redis_prefix}
    servers = [start_server(settings, extra_env=env, log_path=tmp_path / f"server-{n}.log") for n in range(2)]
    reader = StreamReader(f"{servers[0].url}/api/v1/events/stream", org.headers).start()
    try:
        with servers[1].client(org.headers) as api:  # written through the other process
            created = api.post("/api/v1/locations", json={"name": "Far", "code": "FAR-1"}).json()["data"]
        wait_until(lambda: reader.frames, message="an event from the other process")
        assert reader.frames[0]["data"]["data"]["id"] == created["id"]
    finally:
        reader.close()
        for server in servers:
            stop_server(server)
