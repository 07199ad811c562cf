"""The webhook worker (``vitrina worker``): outbox → deliveries → signed POSTs, with retries.

Each pass of the loop:

1. **Fan-out** (``events.fanout``): new outbox events become one delivery per matching subscription.
2. **Claim**: due deliveries are *leased* in a short transaction (``SELECT ... FOR UPDATE SKIP LOCKED`` on
   PostgreSQL, so concurrent workers take disjoint rows; SQLite serialises writers, so there the claim is
   atomic too). The lease (``lease_token``, ``leased_until``) outlives the HTTP timeout; no transaction is
   open while calling out.
3. **Send**: each delivery is signed (Standard Webhooks) and POSTed with httpx through the SSRF guard's
   pinned transport; deliveries of one subscription go one after another in event order, subscriptions in
   parallel.
4. **Record**: in a short transaction, the attempt is stored and the delivery succeeds, is rescheduled on
   the retry schedule, or fails — only if this worker still holds the lease.

A worker killed mid-call loses nothing: its leases expire and another worker retries (at-least-once; the
``webhook-id`` header lets receivers drop the rare duplicate). Every ``housekeeping_every`` seconds a worker
disables subscriptions that have failed for ``disable_after`` (emitting ``webhook.disabled``) and prunes
events and finished deliveries older than ``retention``.

Scaling out: run ``vitrina worker`` on as many hosts as needed over PostgreSQL. On SQLite run one worker
(several are safe, since SQLite serialises writers, but add nothing).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import ColumnElement, Select, delete, func, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from vitrina.config import Settings
from vitrina.core.models import OutboxEvent
from vitrina.core.time import utcnow
from vitrina.db.session import Database
from vitrina.events import fanout, schedule, secretbox, signing
from vitrina.events.models import (
    ACTIVE,
    FAILED,
    PENDING,
    SUCCEEDED,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from vitrina.events.service import disable
from vitrina.events.ssrf import PinnedTransport, Resolver, UnresolvableHost, UnsafeUrl, UrlPolicy, system_resolver

log = logging.getLogger(__name__)

USER_AGENT = "Vitrina-Webhooks/1.0"
PRUNE_CHUNK = 5000


@dataclass(frozen=True, slots=True)
class WorkerOptions:
    batch_size: int = 100
    concurrency: int = 8
    poll_interval: float = 0.5
    lease: timedelta | None = None  # default: three HTTP timeouts, at least a minute
    disable_after: timedelta = timedelta(days=5)
    retention: timedelta = timedelta(days=30)
    housekeeping_every: float = 60.0
    response_body_limit: int = 1024


@dataclass(frozen=True, slots=True)
class Claimed:
    """What a worker needs to send one leased delivery (read in the claim transaction)."""

    id: str
    organization_id: str
    subscription_id: str
    url: str
    secret_sealed: str
    event_id: str
    payload: str
    attempt_count: int
    lease_token: str
    leased_until: datetime


@dataclass(frozen=True, slots=True)
class Outcome:
    succeeded: bool
    status_code: int | None
    latency_ms: int
    response_body: str | None
    error: str | None


class Worker:
    def __init__(self, settings: Settings, *, database: Database | None = None, options: WorkerOptions | None = None,
                 resolve: Resolver = system_resolver, transport: httpx.BaseTransport | None = None) -> None:
        self.settings = settings
        self.options = options or WorkerOptions()
        self.database = database or Database(settings.database_url)
        self._owns_database = database is None
        self.schedule = schedule.parse_schedule(settings.webhook_retry_schedule)
        timeout = settings.webhook_timeout_seconds
        self.lease = self.options.lease or max(timedelta(seconds=3 * timeout), timedelta(minutes=1))
        if self.lease < timedelta(seconds=2 * timeout):
            raise ValueError("the delivery lease must last at least two HTTP timeouts")
        self.client = httpx.Client(
            transport=transport or PinnedTransport(UrlPolicy.from_settings(settings), resolve=resolve),
            timeout=httpx.Timeout(timeout), follow_redirects=False, trust_env=False,
            headers={"user-agent": USER_AGENT},
        )
        self.name = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._pool = ThreadPoolExecutor(max_workers=self.options.concurrency, thread_name_prefix="webhook")
        self._last_housekeeping = 0.0
        self._stopping = threading.Event()

    # --- the loop -------------------------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        log.info("webhook worker %s started", self.name)
        self._stopping = stop
        while not stop.is_set():
            try:
                busy = self.run_once()
                if time.monotonic() - self._last_housekeeping >= self.options.housekeeping_every:
                    self.housekeeping()
            except Exception:  # a database hiccup must not kill the worker: log, back off, go on
                log.exception("webhook worker pass failed")
                busy = False
            if not busy:
                stop.wait(self.options.poll_interval)
        log.info("webhook worker %s stopped", self.name)

    def run_once(self) -> bool:
        """Fan out and deliver one batch; True when there was work (so the loop does not sleep)."""
        fanned = self.fan_out()
        claimed = self.claim()
        if claimed:
            self.deliver(claimed)
        return bool(fanned or claimed)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self.client.close()
        if self._owns_database:
            self.database.dispose()

    # --- steps ----------------------------------------------------------------------------------------------

    def fan_out(self) -> int:
        with self.database.unit_of_work(write=False) as session:
            if not fanout.pending_work(session):
                return 0
        with self.database.unit_of_work() as session:
            return fanout.fan_out(session)

    def claim(self) -> list[Claimed]:
        """Lease up to a batch of due deliveries (a read first, so an idle worker takes no write lock)."""
        now = utcnow()
        token = uuid.uuid4().hex
        with self.database.unit_of_work(write=False) as session:
            if session.scalar(select(WebhookDelivery.id).join(WebhookSubscription).where(*_due(now)).limit(1)) is None:
                return []
        with self.database.unit_of_work() as session:
            rows = session.execute(
                select(WebhookDelivery.id, WebhookDelivery.organization_id, WebhookDelivery.subscription_id,
                       WebhookSubscription.url, WebhookSubscription.secret_sealed, WebhookDelivery.event_id,
                       WebhookDelivery.payload, WebhookDelivery.attempt_count)
                .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
                .where(*_due(now))
                .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.event_seq.asc().nulls_last())
                .limit(self.options.batch_size)
                .with_for_update(skip_locked=True, of=WebhookDelivery)
            ).all()
            if not rows:
                return []
            session.execute(update(WebhookDelivery).where(WebhookDelivery.id.in_([r.id for r in rows]))
                            .values(lease_token=token, leased_until=now + self.lease)
                            .execution_options(synchronize_session=False))
        return [Claimed(*row, lease_token=token, leased_until=now + self.lease) for row in rows]

    def deliver(self, claimed: list[Claimed]) -> None:
        """Send a claimed batch: one subscription's deliveries in order, subscriptions in parallel."""
        by_subscription: dict[str, list[Claimed]] = defaultdict(list)
        for item in claimed:
            by_subscription[item.subscription_id].append(item)
        futures = [self._pool.submit(self._deliver_in_order, items) for items in by_subscription.values()]
        unsent = [item for future in futures for item in future.result()]
        if unsent:
            self.release(unsent)

    def _deliver_in_order(self, items: list[Claimed]) -> list[Claimed]:
        """Send one subscription's deliveries in order; returns those left unsent (stopping, or too little
        lease left for another call: sending past the lease could race a worker that re-claimed it)."""
        margin = timedelta(seconds=self.settings.webhook_timeout_seconds * 1.5)
        for index, item in enumerate(items):
            if self._stopping.is_set() or utcnow() + margin > item.leased_until:
                return items[index:]
            try:
                self.record(item, self.send(item))
            except Exception:  # one broken delivery must not stop its neighbours; its lease will expire
                log.exception("webhook delivery %s could not be recorded", item.id)
        return []

    def release(self, items: list[Claimed]) -> None:
        """Give leases back so the deliveries are due again at once (for this or another worker)."""
        by_lease: dict[str, list[str]] = defaultdict(list)
        for item in items:
            by_lease[item.lease_token].append(item.id)
        with self.database.unit_of_work() as session:
            for lease, ids in by_lease.items():
                session.execute(update(WebhookDelivery).where(
                    WebhookDelivery.id.in_(ids), WebhookDelivery.lease_token == lease,
                ).values(lease_token=None, leased_until=None).execution_options(synchronize_session=False))

    def send(self, item: Claimed) -> Outcome:
        started = time.perf_counter()

        def failed(error: str, status_code: int | None = None, body: str | None = None) -> Outcome:
            return Outcome(False, status_code, _elapsed_ms(started), body, error[:500])

        try:
            whsec = secretbox.unseal(self.settings.signing_secret, subscription_id=item.subscription_id,
                                     sealed=item.secret_sealed)
        except secretbox.SecretUnreadable as exc:
            return failed(f"signing secret unreadable: {exc}")
        body = item.payload.encode()
        headers = signing.signature_headers(whsec, msg_id=item.event_id, body=body)
        headers["content-type"] = "application/json"
        try:
            with self.client.stream("POST", item.url, content=body, headers=headers) as response:
                latency = _elapsed_ms(started)
                text = self._read_start(response)
        except UnresolvableHost as exc:
            return failed(f"DNS: {exc.reason}")
        except UnsafeUrl as exc:
            return failed(f"refused by the SSRF guard: {exc.reason}")
        except httpx.TimeoutException:
            return failed(f"timed out after {self.settings.webhook_timeout_seconds:g} s")
        except httpx.HTTPError as exc:
            return failed(f"connection error: {type(exc).__name__}: {exc}")
        if 200 <= response.status_code < 300:
            return Outcome(True, response.status_code, latency, text, None)
        return Outcome(False, response.status_code, latency, text, f"HTTP {response.status_code}")

    def _read_start(self, response: httpx.Response) -> str | None:
        """The first KiB of the response body (a receiver's error page helps debugging; more is noise)."""
        limit = self.options.response_body_limit
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            chunks.append(chunk)
            size += len(chunk)
            if size >= limit:
                break
        data = b"".join(chunks)[:limit]
        return _storable_text(data.decode("utf-8", errors="replace")) if data else None

    def record(self, item: Claimed, outcome: Outcome) -> None:
        now = utcnow()
        failures = item.attempt_count + 1
        values: dict[str, object] = {"attempt_count": failures, "lease_token": None, "leased_until": None,
                                     "last_status_code": outcome.status_code, "last_error": outcome.error,
                                     "updated_at": now}
        if outcome.succeeded:
            values |= {"status": SUCCEEDED, "succeeded_at": now, "next_attempt_at": None}
        else:
            delay = schedule.next_delay(self.schedule, failures)
            values |= ({"status": FAILED, "next_attempt_at": None} if delay is None
                       else {"status": PENDING, "next_attempt_at": now + delay})
        with self.database.unit_of_work() as session:
            result = session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == item.id, WebhookDelivery.lease_token == item.lease_token)
                .values(**values).execution_options(synchronize_session=False))
            if not getattr(result, "rowcount", 0):
                log.warning("webhook delivery %s: lease lost or delivery deleted; outcome dropped", item.id)
                return
            session.add(WebhookAttempt(
                organization_id=item.organization_id, delivery_id=item.id, attempted_at=now,
                succeeded=outcome.succeeded, status_code=outcome.status_code, latency_ms=outcome.latency_ms,
                response_body=outcome.response_body, error=outcome.error))
            _track_failures(session, item.subscription_id, succeeded=outcome.succeeded, now=now)

    # --- housekeeping ---------------------------------------------------------------------------------------

    def housekeeping(self) -> None:
        self._last_housekeeping = time.monotonic()
        with self.database.unit_of_work() as session:
            disabled = disable_failing(session, older_than=utcnow() - self.options.disable_after)
        with self.database.unit_of_work() as session:
            pruned = prune(session, before=utcnow() - self.options.retention)
        if disabled or pruned:
            log.info("webhook housekeeping: disabled %d subscriptions, pruned %d rows", disabled, pruned)


def _due(now: datetime) -> tuple[ColumnElement[bool], ...]:
    """Pending, due, not leased by a live worker, and its subscription active."""
    return (WebhookDelivery.status == PENDING, WebhookDelivery.next_attempt_at <= now,
            or_(WebhookDelivery.leased_until.is_(None), WebhookDelivery.leased_until < now),
            WebhookSubscription.status == ACTIVE)


def _track_failures(session: Session, subscription_id: str, *, succeeded: bool, now: datetime) -> None:
    """Start or end the subscription's run of failures. The WHERE makes the common case (already in that
    state) match no row, so a burst of deliveries does not queue on the subscription's row lock."""
    if succeeded:
        statement = update(WebhookSubscription).where(
            WebhookSubscription.id == subscription_id, WebhookSubscription.failing_since.is_not(None)
        ).values(failing_since=None)
    else:
        statement = update(WebhookSubscription).where(
            WebhookSubscription.id == subscription_id, WebhookSubscription.failing_since.is_(None)
        ).values(failing_since=now)
    session.execute(statement.execution_options(synchronize_session=False))


def disable_failing(session: Session, *, older_than: datetime) -> int:
    """Disable active subscriptions whose every attempt since ``older_than`` failed (and tell everyone)."""
    failing = list(session.scalars(
        select(WebhookSubscription).where(WebhookSubscription.status == ACTIVE,
                                          WebhookSubscription.failing_since < older_than)
        .with_for_update(skip_locked=True)))
    for subscription in failing:
        days = (utcnow() - subscription.failing_since).total_seconds() / 86400 if subscription.failing_since else 0
        disable(session, subscription, reason=f"every delivery attempt failed for {days:.1f} days", announce=True)
    return len(failing)


def prune(session: Session, *, before: datetime) -> int:
    """Delete events and finished deliveries older than ``before``, in chunks (short locks).

    The newest event is always kept: SQLite numbers new rows from the largest ``seq`` present, and the
    fan-out cursor must never see numbers go backwards.
    """
    removed = 0
    newest = session.scalar(select(func.max(OutboxEvent.seq)))
    if newest is not None:
        old_events = select(OutboxEvent.seq).where(OutboxEvent.created_at < before, OutboxEvent.seq < newest)
        removed += _delete_chunked(session, OutboxEvent.seq, old_events)
    old_deliveries = select(WebhookDelivery.id).where(WebhookDelivery.status.in_((SUCCEEDED, FAILED)),
                                                      WebhookDelivery.updated_at < before)
    return removed + _delete_chunked(session, WebhookDelivery.id, old_deliveries)


def _delete_chunked(session: Session, key: InstrumentedAttribute[Any], chosen: Select[Any]) -> int:
    total = 0
    while True:
        ids = list(session.scalars(chosen.limit(PRUNE_CHUNK)))
        if ids:
            session.execute(delete(key.class_).where(key.in_(ids)).execution_options(synchronize_session=False))
            total += len(ids)
        if len(ids) < PRUNE_CHUNK:
            return total


def _elapsed_ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


def _storable_text(text: str) -> str:
    # PostgreSQL text cannot hold NUL.
    return text.replace("\x00", "\ufffd")


def run_worker(settings: Settings, stop_event: threading.Event, *, options: WorkerOptions | None = None,
               on_ready: Callable[[Worker], None] | None = None) -> None:
    """Run the delivery loop until ``stop_event`` is set (the entry point of ``vitrina worker``)."""
    from vitrina.events.stream import broker_for

    if settings.redis_url:  # so the events this worker emits (webhook.disabled) reach the live streams
        broker_for(settings).publish_commits()
    worker = Worker(settings, options=options)
    try:
        if on_ready is not None:
            on_ready(worker)
        worker.run(stop_event)
    finally:
        worker.close()


def main(settings: Settings, stop: threading.Event | None = None) -> None:
    """``vitrina worker`` calls this with its stop event (see ``cli.WORKER_MODULES``); alone, it stops on
    SIGTERM or Ctrl-C."""
    if stop is None:
        import signal

        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
    run_worker(settings, stop)
