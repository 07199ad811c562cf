"""POST /inventory/sync: POS feeds over HTTP (served on 127.0.0.1 by the test) and CSV, full and incremental."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.jobs import feed as feeds
from tests.jobs.conftest import INV, csv_bytes, item, movements
from tests.support import OrgContext
from vitrina.jobs import sync

SYNC = f"{INV}/sync"
JSON = {"content-type": "application/json"}


@pytest.fixture
def feed() -> Iterator[feeds.Feed]:
    yield from feeds.serve()


def page(entries: list[Any], next_url: str | None = None) -> feeds.Page:
    headers = dict(JSON)
    if next_url:
        headers["link"] = f'<{next_url}>; rel="next"'
    return (200, headers, json.dumps(entries).encode())


@pytest.fixture
def start_sync(client: TestClient, org: OrgContext, run_job: Callable[..., Any]) -> Callable[..., dict[str, Any]]:
    def start(location_id: str, source: dict[str, Any], sync_type: str = "full") -> dict[str, Any]:
        response = client.post(SYNC, json={"location_id": location_id, "sync_type": sync_type, "source": source},
                               headers=org.headers)
        assert response.status_code == 202, response.text
        return dict(run_job(response.json()["data"]["id"]))

    return start


def stock(client: TestClient, org: OrgContext, location: str, **extra: Any) -> dict[str, Any]:
    response = client.post(INV, json={"location_id": location, "tracking": "bulk", **extra}, headers=org.headers)
    assert response.status_code == 201, response.text
    return dict(response.json()["data"])


def events(client: TestClient, org: OrgContext, type_: str) -> list[dict[str, Any]]:
    response = client.get("/api/v1/events", params={"type": type_}, headers=org.headers)
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


def test_full_sync_makes_the_location_match_a_paged_feed(client: TestClient, org: OrgContext, location: str,
                                                         feed: feeds.Feed, start_sync: Callable[..., Any]) -> None:
    stock(client, org, location, external_id="POS-1", sku="A", name="Chain", quantity=5)
    stock(client, org, location, external_id="POS-2", sku="B", name="Ring", quantity=2)
    gone = stock(client, org, location, external_id="POS-3", sku="C", name="Old stock", quantity=4)
    feed.pages["/feed"] = page([{"external_id": "POS-1", "sku": "A", "quantity": 7}], next_url="/feed/2")
    feed.pages["/feed/2"] = page([{"external_id": "POS-2", "sku": "B", "quantity": 2},
                                  {"external_id": "POS-9", "sku": "NEW", "product_name": "New bangle",
                                   "quantity": 3, "unit_price": 45.5}])
    job = start_sync(location, {"kind": "http", "url": feed.url("/feed"), "headers": {"Authorization": "Bearer pos"}})
    assert job["status"] == "succeeded", job
    result = job["result"]
    assert (result["entries"], result["received"], result["changed"], result["zeroed"]) == (3, 1, 2, 1)
    assert item(client, org, "POS-1")["quantity"] == 7
    assert item(client, org, gone["id"])["quantity"] == 0
    new = item(client, org, "POS-9")
    assert (new["quantity"], new["name"], new["price"], new["location_id"]) == (3, "New bangle", "45.50", location)
    assert next((m["quantity_change"], m["reason_code"]) for m in movements(client, org, "POS-1")) == (2, "AUDIT")
    assert next((m["quantity_change"], m["reason_code"]) for m in movements(client, org, "POS-3")) == (-4, "AUDIT")
    assert [m["reason_code"] for m in movements(client, org, "POS-9")] == ["RECEIVED"]
    assert all(r["headers"].get("Authorization") == "Bearer pos" for r in feed.requests)
    completed = events(client, org, "inventory.sync.completed")
    assert completed and completed[0]["data"]["received"] == 1 and completed[0]["data"]["job_id"] == job["id"]


def test_incremental_sync_sends_the_cursor_and_keeps_other_items(client: TestClient, org: OrgContext,
                                                                 location: str, feed: feeds.Feed,
                                                                 start_sync: Callable[..., Any]) -> None:
    stock(client, org, location, external_id="I-1", sku="A", name="Chain", quantity=5)
    stock(client, org, location, external_id="I-2", sku="B", name="Ring", quantity=2)
    feed.pages["/changes"] = page([{"external_id": "I-1", "quantity": 4, "updated_at": "2026-01-27T10:30:00Z"}])
    first = start_sync(location, {"kind": "http", "url": feed.url("/changes")}, "incremental")
    assert first["status"] == "succeeded" and first["result"]["cursor"] == "2026-01-27T10:30:00Z"
    assert "since" not in feed.requests[-1]["query"]
    assert (item(client, org, "I-1")["quantity"], item(client, org, "I-2")["quantity"]) == (4, 2)
    feed.pages["/changes"] = page([{"external_id": "I-2", "quantity": 1, "updated_at": "2026-01-28T09:00:00Z"}])
    second = start_sync(location, {"kind": "http", "url": feed.url("/changes")}, "incremental")
    assert feed.requests[-1]["query"]["since"] == ["2026-01-27T10:30:00Z"]
    assert second["result"]["cursor"] == "2026-01-28T09:00:00Z"
    assert (item(client, org, "I-1")["quantity"], item(client, org, "I-2")["quantity"]) == (4, 1)


def test_a_failing_sync_leaves_the_location_as_it_was(client: TestClient, org: OrgContext, location: str,
                                                      feed: feeds.Feed, start_sync: Callable[..., Any]) -> None:
    held = stock(client, org, location, external_id="H-1", sku="A", name="Chain", quantity=5)
    other = stock(client, org, location, external_id="H-2", sku="B", name="Ring", quantity=2)
    reserve = client.post(f"{INV}/{held['id']}/reserve", json={"quantity": 3}, headers=org.headers)
    assert reserve.status_code in (200, 201), reserve.text
    # H-2 would change first, then H-1 below its reserved units must refuse the whole sync.
    feed.pages["/feed"] = page([{"external_id": "H-2", "quantity": 9}, {"external_id": "H-1", "quantity": 1},
                                {"external_id": "H-NEW", "sku": "N", "quantity": 1}])
    job = start_sync(location, {"kind": "http", "url": feed.url("/feed")})
    assert job["status"] == "failed" and "nothing was changed" in job["message"], job
    assert item(client, org, other["id"])["quantity"] == 2 and item(client, org, held["id"])["quantity"] == 5
    assert client.get(f"{INV}/H-NEW", headers=org.headers).status_code == 404
    assert len(movements(client, org, other["id"])) == 1
    assert events(client, org, "inventory.sync.completed") == []


def test_invalid_entries_are_reported_and_nothing_applied(client: TestClient, org: OrgContext, location: str,
                                                          feed: feeds.Feed, start_sync: Callable[..., Any]) -> None:
    stock(client, org, location, external_id="V-1", sku="A", name="Chain", quantity=5)
    feed.pages["/feed"] = page([{"external_id": "V-1", "quantity": 1}, {"external_id": "V-2", "quantity": "many"},
                                {"quantity": 2}, {"external_id": "V-1", "quantity": 3}, "junk"])
    job = start_sync(location, {"kind": "http", "url": feed.url("/feed")})
    assert job["status"] == "failed"
    assert {(e["line"], e["field"]) for e in job["errors"]} == {(2, "quantity"), (3, "external_id"),
                                                                (4, "external_id"), (5, None)}
    assert item(client, org, "V-1")["quantity"] == 5


@pytest.mark.parametrize("bad_page, expected", [
    ((200, {"content-type": "text/html"}, b"<html>login</html>"), "text/html, not JSON"),
    ((500, JSON, b"{}"), "HTTP 500"),
    ((200, JSON, b"[{\"external_id\": "), "not valid JSON"),
    ((200, JSON, b"{\"items\": 1}"), "not a JSON list"),
    ((302, {"location": "http://127.0.0.1:1/"}, b""), "HTTP 302"),
])
def test_misbehaving_feeds_fail_the_job_clearly(client: TestClient, org: OrgContext, location: str,
                                                feed: feeds.Feed, start_sync: Callable[..., Any],
                                                bad_page: feeds.Page, expected: str) -> None:
    kept = stock(client, org, location, external_id="K-1", sku="A", name="Chain", quantity=5)
    feed.pages["/feed"] = page([{"external_id": "K-1", "quantity": 1}], next_url="/bad")
    feed.pages["/bad"] = bad_page
    job = start_sync(location, {"kind": "http", "url": feed.url("/feed")})
    assert job["status"] == "failed" and expected in job["message"] and "page 2" in job["message"], job
    assert item(client, org, kept["id"])["quantity"] == 5


def test_a_feed_that_never_ends_hits_the_size_limit(client: TestClient, org: OrgContext, location: str,
                                                    feed: feeds.Feed, start_sync: Callable[..., Any],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sync, "MAX_FEED_BYTES", 2 * 1024 * 1024)
    feed.pages["/feed"] = feeds.endless
    job = start_sync(location, {"kind": "http", "url": feed.url("/feed")})
    assert job["status"] == "failed" and "too large" in job["message"]


def test_a_looping_next_link_is_refused(org: OrgContext, location: str, feed: feeds.Feed,
                                        start_sync: Callable[..., Any]) -> None:
    feed.pages["/feed"] = page([], next_url="/feed")
    job = start_sync(location, {"kind": "http", "url": feed.url("/feed")})
    assert job["status"] == "failed" and "loop" in job["message"]


def test_csv_source_from_an_upload(client: TestClient, org: OrgContext, location: str,
                                   start_sync: Callable[..., Any]) -> None:
    stock(client, org, location, external_id="CS-1", sku="A", name="Chain", quantity=5)
    content = csv_bytes([["external_id", "sku", "quantity"], ["CS-1", "A", 6], ["CS-2", "B", 2]])
    uploaded = client.post("/api/v1/jobs/uploads", files={"file": ("pos.csv", content, "text/csv")},
                           headers=org.headers)
    assert uploaded.status_code == 201, uploaded.text
    job = start_sync(location, {"kind": "csv", "upload_id": uploaded.json()["data"]["id"]})
    assert job["status"] == "succeeded", job
    assert (item(client, org, "CS-1")["quantity"], item(client, org, "CS-2")["quantity"]) == (6, 2)


def test_requests_are_checked_before_queuing(client: TestClient, org: OrgContext, other_org: OrgContext,
                                             location: str) -> None:
    def post(body: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
        return client.post(SYNC, json=body, headers=headers or org.headers)

    http = {"kind": "http", "url": "https://10.0.0.1/feed"}
    refused = post({"location_id": location, "source": http})
    assert refused.status_code == 422
    assert refused.json()["error"]["details"]["errors"][0]["path"] == "$.source.url"
    for url in ("https://169.254.169.254/latest", "file:///etc/passwd", "https://192.168.1.1/feed"):
        assert post({"location_id": location, "source": {"kind": "http", "url": url}}).status_code == 422
    assert post({"location_id": location, "source": {"kind": "csv", "path": "../../etc/passwd"}}).status_code == 422
    assert post({"location_id": location, "source": {"kind": "csv", "upload_id": "upl_nope"}}).status_code == 404
    assert post({"location_id": location, "source": {"kind": "ftp"}}).status_code == 422
    bad_header = {"kind": "http", "url": "http://127.0.0.1:9/feed", "headers": {"Host": "evil"}}
    assert post({"location_id": location, "source": bad_header}).status_code == 422
    fine = {"kind": "http", "url": "http://127.0.0.1:9/feed"}
    assert post({"location_id": location, "source": fine}, other_org.headers).status_code == 404
    assert post({"location_id": location, "source": fine}, org.make_headers(["read"])).status_code == 403
    assert post({"location_id": location, "sync_type": "sometimes", "source": fine}).status_code == 422


def trickle(handler: Any) -> None:
    """A JSON feed that sends a byte now and then, forever: never silent long enough to time out a read."""
    handler.send_response(200)
    handler.send_header("content-type", "application/json")
    handler.end_headers()
    try:
        handler.wfile.write(b"[")
        while True:
            handler.wfile.write(b" ")
            handler.wfile.flush()
            threading.Event().wait(0.05)
    except OSError:
        pass


def silent(handler: Any) -> None:
    """A feed that accepts the request and never answers."""
    threading.Event().wait(5)


def test_a_feed_that_trickles_forever_hits_the_time_limit(client: TestClient, org: OrgContext, location: str,
                                                          feed: feeds.Feed, start_sync: Callable[..., Any],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    kept = stock(client, org, location, external_id="T-1", sku="A", name="Chain", quantity=5)
    monkeypatch.setattr(sync, "DEADLINE", 1.0)
    feed.pages["/feed"] = trickle
    job = start_sync(location, {"kind": "http", "url": feed.url("/feed")})
    assert job["status"] == "failed" and "took too long" in job["message"], job
    assert item(client, org, kept["id"])["quantity"] == 5


def test_a_silent_feed_times_out(org: OrgContext, location: str, feed: feeds.Feed,
                                 start_sync: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sync, "REQUEST_TIMEOUT", 0.5)
    feed.pages["/feed"] = silent
    job = start_sync(location, {"kind": "http", "url": feed.url("/feed")})
    assert job["status"] == "failed" and "timed out" in job["message"], job


def test_a_next_link_to_a_private_address_is_refused(client: TestClient, org: OrgContext, location: str,
                                                     feed: feeds.Feed, start_sync: Callable[..., Any]) -> None:
    kept = stock(client, org, location, external_id="S-1", sku="A", name="Chain", quantity=5)
    feed.pages["/feed"] = page([{"external_id": "S-1", "quantity": 1}], next_url="http://10.0.0.1/internal")
    job = start_sync(location, {"kind": "http", "url": feed.url("/feed")})
    assert job["status"] == "failed" and "SSRF" in job["message"] and "page 2" in job["message"], job
    assert item(client, org, kept["id"])["quantity"] == 5
