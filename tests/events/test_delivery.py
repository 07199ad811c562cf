"""The delivery worker against a real receiver on 127.0.0.1: signatures, retries, failure, manual retry,
SSRF at delivery, crash recovery (lease expiry), disabling failing subscriptions, pruning."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from standardwebhooks import Webhook

from tests.events.conftest import FAST, Receiver, create_location, create_webhook
from tests.support import OrgContext, wait_until
from vitrina.config import Settings
from vitrina.core.models import OutboxEvent
from vitrina.core.outbox import emit
from vitrina.core.time import utcnow
from vitrina.db.session import Database
from vitrina.events.models import WebhookDelivery, WebhookSubscription
from vitrina.events.worker import Outcome, Worker, WorkerOptions, prune


def deliveries(client: TestClient, org: OrgContext, hook_id: str, **params: Any) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/webhooks/{hook_id}/deliveries", params={"limit": 200, **params},
                          headers=org.headers)
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


def status_of_first(client: TestClient, org: OrgContext, hook_id: str) -> str | None:
    found = deliveries(client, org, hook_id)
    return found[0]["status"] if found else None


def attempts_of_first(client: TestClient, org: OrgContext, hook_id: str) -> list[dict[str, Any]]:
    found = deliveries(client, org, hook_id)
    return list(found[0]["attempts"]) if found else []


def event_ids(client: TestClient, org: OrgContext, type_: str) -> list[str]:
    events = client.get("/api/v1/events", params={"type": type_, "limit": 200}, headers=org.headers).json()["data"]
    return [e["id"] for e in events]


def test_deliveries_are_signed_standard_webhooks(client: TestClient, org: OrgContext, receiver: Receiver,
                                                 start_worker: Callable[..., Worker]) -> None:
    hook = create_webhook(client, org, receiver.url(), ["location.*"])
    location = create_location(client, org, "SIG-1")
    start_worker()
    [got] = receiver.wait_for(1)
    payload = Webhook(hook["secret"]).verify(got.body, got.headers)
    assert set(payload) == {"type", "timestamp", "data"}
    assert payload["type"] == "location.created" and payload["data"]["id"] == location["id"]
    assert payload["timestamp"].endswith("Z")
    assert got.event_id == event_ids(client, org, "location.created")[0]
    assert got.headers["content-type"] == "application/json"
    assert got.headers["webhook-signature"].startswith("v1,")
    wait_until(lambda: status_of_first(client, org, hook["id"]) == "succeeded", message="succeeded")
    [delivery] = deliveries(client, org, hook["id"])
    assert delivery["event_id"] == got.event_id and delivery["last_status_code"] == 200
    [attempt] = delivery["attempts"]
    assert attempt["succeeded"] and attempt["status_code"] == 200 and attempt["response_body"] == "ok"
    assert attempt["latency_ms"] >= 0 and attempt["error"] is None


def test_filters_decide_what_a_subscription_receives(client: TestClient, org: OrgContext, receiver: Receiver,
                                                     start_worker: Callable[..., Worker]) -> None:
    create_webhook(client, org, receiver.url("/inventory"), ["inventory.*"])
    create_webhook(client, org, receiver.url("/exact"), ["location.created"])
    create_webhook(client, org, receiver.url("/all"), ["*"])
    create_location(client, org, "FIL-1")
    test_hook = create_webhook(client, org, receiver.url("/test"), ["inventory.sold"])
    client.post(f"/api/v1/webhooks/{test_hook['id']}/test", headers=org.headers)
    start_worker()
    assert [r.json["type"] for r in receiver.wait_for(1, path="/exact")] == ["location.created"]
    assert [r.json["type"] for r in receiver.wait_for(1, path="/all")] == ["location.created"]
    [test] = receiver.wait_for(1, path="/test")
    assert test.json["type"] == "webhook.test" and test.json["data"]["webhook_id"] == test_hook["id"]
    Webhook(test_hook["secret"]).verify(test.body, test.headers)
    assert receiver.for_path("/inventory") == []


def test_receiver_down_then_up_loses_nothing_and_keeps_order(client: TestClient, org: OrgContext,
                                                             receiver: Receiver,
                                                             start_worker: Callable[..., Worker]) -> None:
    receiver.down()
    hook = create_webhook(client, org, receiver.url(), ["location.*"])
    for number in range(5):
        create_location(client, org, f"DOWN-{number}")
    expected = event_ids(client, org, "location.created")
    start_worker()

    def all_tried() -> list[dict[str, Any]] | None:
        found = deliveries(client, org, hook["id"])
        return found if len(found) == 5 and all(d["attempts"] for d in found) else None

    failed_first = wait_until(all_tried, message="first attempts fail")
    assert all(not d["attempts"][0]["succeeded"] and "connection" in d["attempts"][0]["error"] for d in failed_first)
    assert all(d["status"] == "pending" and d["next_attempt_at"] for d in failed_first)
    receiver.up()
    received = receiver.wait_for(5)
    assert [r.event_id for r in received] == expected  # every event, in order
    wait_until(lambda: {d["status"] for d in deliveries(client, org, hook["id"])} == {"succeeded"},
               message="all succeeded")
    for delivery in deliveries(client, org, hook["id"]):
        assert delivery["attempts"][-1]["succeeded"] and not delivery["attempts"][0]["succeeded"]
        # the webhook-id is the event id on every attempt
        assert delivery["event_id"] in expected
    assert len(receiver.received) == 5


def test_exhausted_schedule_fails_then_manual_retry_succeeds(client: TestClient, org: OrgContext,
                                                             receiver: Receiver, settings: Settings,
                                                             start_worker: Callable[..., Worker]) -> None:
    receiver.status, receiver.reply = 503, b"x" * 5000
    hook = create_webhook(client, org, receiver.url(), ["location.*"])
    create_location(client, org, "FAIL-1")
    start_worker()
    attempts_allowed = len(settings.webhook_retry_schedule.split(",")) + 1
    wait_until(lambda: status_of_first(client, org, hook["id"]) == "failed", timeout=30,
               message="the delivery fails")
    [delivery] = deliveries(client, org, hook["id"])
    assert len(delivery["attempts"]) == attempts_allowed == delivery["attempt_count"]
    assert all(a["status_code"] == 503 and a["error"] == "HTTP 503" for a in delivery["attempts"])
    assert all(len(a["response_body"]) == 1024 for a in delivery["attempts"])
    assert delivery["next_attempt_at"] is None and delivery["last_status_code"] == 503
    assert len({r.event_id for r in receiver.received}) == 1 and len(receiver.received) == attempts_allowed

    receiver.status, receiver.reply = 200, b"thanks"
    retried = client.post(f"/api/v1/webhooks/{hook['id']}/deliveries/{delivery['id']}/retry", headers=org.headers)
    assert retried.status_code == 202 and retried.json()["data"]["status"] == "pending"
    wait_until(lambda: status_of_first(client, org, hook["id"]) == "succeeded", message="retried")
    [after] = deliveries(client, org, hook["id"])
    assert len(after["attempts"]) == attempts_allowed + 1 and after["attempt_count"] == 1
    assert receiver.received[-1].event_id == delivery["event_id"]
    assert deliveries(client, org, hook["id"], status="failed") == []


def test_ssrf_is_checked_again_at_delivery(client: TestClient, org: OrgContext, receiver: Receiver,
                                           settings: Settings, start_worker: Callable[..., Worker]) -> None:
    hook = create_webhook(client, org, receiver.url(), ["location.*"])  # allowed when created...
    create_location(client, org, "SSRF-1")
    strict = settings.model_copy(update={"webhook_allow_hosts": ""})  # ...but the operator removed the exemption
    start_worker(worker_settings=strict)
    attempt = wait_until(lambda: attempts_of_first(client, org, hook["id"]), message="an attempt")[0]
    assert not attempt["succeeded"] and attempt["status_code"] is None
    assert "SSRF" in attempt["error"] and "loopback" in attempt["error"]
    assert receiver.received == []


def test_a_worker_dying_mid_delivery_loses_nothing(client: TestClient, org: OrgContext, receiver: Receiver,
                                                   settings: Settings, database: Database,
                                                   start_worker: Callable[..., Worker]) -> None:
    hook = create_webhook(client, org, receiver.url(), ["location.*"])
    create_location(client, org, "CRASH-1")
    quick = settings.model_copy(update={"webhook_timeout_seconds": 0.5})
    doomed = Worker(quick, database=database, options=WorkerOptions(lease=timedelta(seconds=1)))
    try:
        doomed.fan_out()
        claimed = [c for c in doomed.claim() if c.subscription_id == hook["id"]]
        assert len(claimed) == 1  # leased, then the worker "dies" before sending
        start_worker()
        [got] = receiver.wait_for(1, timeout=20)
        wait_until(lambda: status_of_first(client, org, hook["id"]) == "succeeded", message="succeeded")
        # The dead worker's late report is dropped: it no longer holds the lease.
        doomed.record(claimed[0], Outcome(False, None, 1, None, "late"))
    finally:
        doomed.close()
    [delivery] = deliveries(client, org, hook["id"])
    assert delivery["status"] == "succeeded" and len(delivery["attempts"]) == 1
    assert got.event_id == delivery["event_id"]


def test_a_stopping_worker_gives_its_leases_back(client: TestClient, org: OrgContext, receiver: Receiver,
                                                 settings: Settings, database: Database) -> None:
    hook = create_webhook(client, org, receiver.url(), ["location.*"])
    create_location(client, org, "STOP-1")
    worker = Worker(settings, database=database, options=FAST)
    try:
        worker.fan_out()
        claimed = [c for c in worker.claim() if c.subscription_id == hook["id"]]
        stop = threading.Event()
        stop.set()
        worker._stopping = stop  # as if `run` had been told to stop while this batch was claimed
        worker.deliver(claimed)
    finally:
        worker.close()
    with database.unit_of_work() as session:
        row = session.get(WebhookDelivery, claimed[0].id)
        assert row is not None and row.lease_token is None and row.leased_until is None and row.status == "pending"
    assert receiver.received == []
    with pytest.raises(ValueError, match="lease"):
        Worker(settings, database=database, options=WorkerOptions(lease=timedelta(seconds=1)))


def test_a_subscription_failing_for_days_is_disabled_with_an_event(client: TestClient, org: OrgContext,
                                                                   settings: Settings, database: Database) -> None:
    hook = create_webhook(client, org, "https://127.0.0.1:9/hook", ["location.*"])
    watcher = create_webhook(client, org, "https://127.0.0.1:9/watch", ["webhook.*"])
    pending = client.post(f"/api/v1/webhooks/{hook['id']}/test", headers=org.headers).json()["data"]
    with database.unit_of_work() as session:
        session.execute(update(WebhookSubscription).where(WebhookSubscription.id == hook["id"])
                        .values(failing_since=utcnow() - timedelta(days=6)))
    worker = Worker(settings, database=database, options=FAST)
    try:
        worker.housekeeping()
        worker.fan_out()
    finally:
        worker.close()
    disabled = client.get(f"/api/v1/webhooks/{hook['id']}", headers=org.headers).json()["data"]
    assert disabled["status"] == "disabled" and "failed for 6.0 days" in disabled["disabled_reason"]
    [announced] = client.get("/api/v1/events", params={"type": "webhook.disabled"}, headers=org.headers).json()["data"]
    assert announced["data"]["id"] == hook["id"] and announced["data"]["url"] == hook["url"]
    [failed] = deliveries(client, org, hook["id"])
    assert failed["id"] == pending["id"] and failed["status"] == "failed"
    assert failed["last_error"].startswith("subscription disabled")
    [told] = deliveries(client, org, watcher["id"])
    assert told["event_type"] == "webhook.disabled"
    retry = client.post(f"/api/v1/webhooks/{hook['id']}/deliveries/{pending['id']}/retry", headers=org.headers)
    assert retry.status_code == 409 and retry.json()["error"]["code"] == "WEBHOOK_DISABLED"


def test_old_events_and_finished_deliveries_are_pruned(client: TestClient, org: OrgContext,
                                                       database: Database) -> None:
    hook = create_webhook(client, org, "https://127.0.0.1:9/hook")
    old_delivery = client.post(f"/api/v1/webhooks/{hook['id']}/test", headers=org.headers).json()["data"]
    long_ago = utcnow() - timedelta(days=31)
    with database.unit_of_work() as session:
        old = emit(session, organization_id=org.id, type="prune.old", data={})
        emit(session, organization_id=org.id, type="prune.new", data={})
        session.flush()
        session.execute(update(OutboxEvent).where(OutboxEvent.id == old.id).values(created_at=long_ago))
        session.execute(update(WebhookDelivery).where(WebhookDelivery.id == old_delivery["id"])
                        .values(status="succeeded", updated_at=long_ago))
    with database.unit_of_work() as session:
        assert prune(session, before=utcnow() - timedelta(days=30)) >= 2
    with database.unit_of_work() as session:
        types = set(session.scalars(select(OutboxEvent.type).where(OutboxEvent.organization_id == org.id)))
        assert "prune.old" not in types and "prune.new" in types
        assert session.get(WebhookDelivery, old_delivery["id"]) is None
