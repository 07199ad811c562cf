"""The live event stream (``GET /events/stream``): committed events pushed to Server-Sent Events clients.

``core.outbox`` calls our listener after each commit that emitted events. Without Redis the listener hands
them straight to this process's streams. With Redis (``VITRINA_REDIS_URL``) every process publishes to one
channel and every process with open streams listens to it, so a client connected to any app server sees the
events committed by all of them (and by ``vitrina worker``).

A stream first replays what the client missed (after ``Last-Event-ID``, as browsers send on reconnect, or
``since``) from the outbox table, then goes live. A client that cannot keep up is disconnected rather than
buffered without bound; it reconnects with ``Last-Event-ID`` and catches up from the table.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import FrameType
from typing import Any

import orjson
import redis
from starlette.concurrency import run_in_threadpool

from vitrina.config import Settings
from vitrina.core import outbox
from vitrina.core.models import OutboxEvent
from vitrina.core.responses import json_bytes
from vitrina.db.session import Database
from vitrina.events import matching, service
from vitrina.events.schemas import event_dict

log = logging.getLogger(__name__)

QUEUE_SIZE = 1000
HEARTBEAT_SECONDS = 15.0
MAX_STREAM_SECONDS = 3600.0  # then the client reconnects (EventSource does it by itself) and is rebalanced
RECONNECT_MILLISECONDS = 3000
MAX_REPLAY = 1000
REDIS_RETRY_SECONDS = 10.0

# Set when the server process is asked to stop, so open streams end and the server can drain its connections.
shutting_down = threading.Event()


@dataclass(frozen=True, slots=True)
class LiveEvent:
    organization_id: str
    id: str
    type: str
    body: str  # the JSON of ``event_dict``, as the stream's ``data:`` line

    @classmethod
    def of(cls, event: OutboxEvent) -> LiveEvent:
        return cls(event.organization_id, event.id, event.type, json_bytes(event_dict(event)).decode())

    def wire(self) -> bytes:
        return orjson.dumps({"o": self.organization_id, "i": self.id, "t": self.type, "b": self.body})

    @classmethod
    def from_wire(cls, raw: bytes) -> LiveEvent:
        data = orjson.loads(raw)
        return cls(data["o"], data["i"], data["t"], data["b"])


@dataclass(eq=False)
class Subscriber:
    organization_id: str
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[LiveEvent] = field(default_factory=lambda: asyncio.Queue(maxsize=QUEUE_SIZE))
    overflowed: bool = False

    def offer(self, event: LiveEvent) -> None:
        """Runs on the subscriber's event loop."""
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True


class Broker:
    """Committed events → this process's subscribers (directly, or through Redis pub/sub)."""

    def __init__(self, redis_url: str | None, prefix: str) -> None:
        self.channel = f"{prefix}events"
        self._redis = redis.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5) if redis_url \
            else None
        self._subscribers: set[Subscriber] = set()
        self._lock = threading.Lock()
        self._publishing = False
        self._listener: threading.Thread | None = None
        self._closing = threading.Event()
        self._redis_retry_at = 0.0

    @property
    def uses_redis(self) -> bool:
        return self._redis is not None

    def publish_commits(self) -> None:
        """Start receiving committed events from ``core.outbox`` (idempotent)."""
        with self._lock:
            if self._publishing:
                return
            self._publishing = True
        outbox.on_commit(self._on_commit)

    def _on_commit(self, events: list[OutboxEvent]) -> None:
        """Runs in the committing thread, after the commit: it must be quick and must not raise."""
        if self._redis is None:
            with self._lock:
                if not self._subscribers:
                    return
            self.dispatch([LiveEvent.of(e) for e in events])
            return
        live = [LiveEvent.of(e) for e in events]
        if time.monotonic() >= self._redis_retry_at:
            try:
                pipeline = self._redis.pipeline(transaction=False)
                for event in live:
                    pipeline.publish(self.channel, event.wire())
                pipeline.execute()
                return
            except redis.RedisError:
                # Do not make every write wait for a dead Redis: try again in a while, meanwhile stay local.
                self._redis_retry_at = time.monotonic() + REDIS_RETRY_SECONDS
                log.warning("live stream: Redis publish failed; delivering to this process only", exc_info=True)
        self.dispatch(live)

    def dispatch(self, events: Sequence[LiveEvent]) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            mine = [e for e in events if e.organization_id == subscriber.organization_id]
            for event in mine:
                with contextlib.suppress(RuntimeError):  # the subscriber's loop has closed
                    subscriber.loop.call_soon_threadsafe(subscriber.offer, event)

    def subscribe(self, organization_id: str) -> Subscriber:
        """Call on the event loop that will read the subscriber's queue."""
        self.publish_commits()
        if self._redis is not None:
            self._ensure_listener()
        subscriber = Subscriber(organization_id, asyncio.get_running_loop())
        with self._lock:
            self._subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        with self._lock:
            self._subscribers.discard(subscriber)

    def _ensure_listener(self) -> None:
        with self._lock:
            if self._listener is not None and self._listener.is_alive():
                return
            self._listener = threading.Thread(target=self._listen, name="vitrina-live-events", daemon=True)
            self._listener.start()

    def _listen(self) -> None:
        assert self._redis is not None
        while not self._closing.is_set():
            try:
                pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(self.channel)
                try:
                    while not self._closing.is_set():
                        message = pubsub.get_message(timeout=1.0)
                        if message and message.get("type") == "message":
                            self.dispatch([LiveEvent.from_wire(message["data"])])
                finally:
                    pubsub.close()
            except (redis.RedisError, OSError, ValueError, KeyError):
                log.warning("live stream: Redis subscription lost; reconnecting", exc_info=True)
                self._closing.wait(1.0)

    def close(self) -> None:
        self._closing.set()


_brokers: dict[tuple[str | None, str], Broker] = {}
_brokers_lock = threading.Lock()


def broker_for(settings: Settings) -> Broker:
    """One broker per Redis URL and prefix in a process (several apps in one test process share it)."""
    key = (settings.redis_url, settings.redis_prefix)
    with _brokers_lock:
        broker = _brokers.get(key)
        if broker is None:
            broker = _brokers[key] = Broker(settings.redis_url, settings.redis_prefix)
        return broker


def stop_streams_on_signals() -> None:
    """Chain SIGTERM/SIGINT so open streams end when the server is asked to stop.

    uvicorn waits for open responses before it exits; a live stream never ends by itself, so without this a
    plain ``kill`` would hang the server. Only the main thread may install handlers; elsewhere (the test
    client) this does nothing.
    """
    global _signals_chained
    if _signals_chained or threading.current_thread() is not threading.main_thread():
        return
    _signals_chained = True
    for signum in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(signum)

        def handler(number: int, frame: FrameType | None, previous: Any = previous) -> None:
            shutting_down.set()
            if callable(previous):
                previous(number, frame)
            elif previous == signal.SIG_DFL:
                signal.signal(number, signal.SIG_DFL)
                signal.raise_signal(number)

        signal.signal(signum, handler)


_signals_chained = False


# --- the SSE body -------------------------------------------------------------------------------------------

def frame(event_id: str, event_type: str, body: str) -> bytes:
    return f"id: {event_id}\nevent: {event_type}\ndata: {body}\n\n".encode()


def _replay(database: Database, organization_id: str, after_event_id: str | None,
            since: datetime | None) -> list[LiveEvent]:
    with database.unit_of_work(write=False, organization_id=organization_id) as session:
        events = service.events_after(session, organization_id=organization_id, after_event_id=after_event_id,
                                      since=since, limit=MAX_REPLAY)
        return [LiveEvent.of(e) for e in events]


async def sse_body(*, broker: Broker, database: Database, organization_id: str, patterns: Sequence[str],
                   after_event_id: str | None, since: datetime | None, live: bool) -> AsyncIterator[bytes]:
    """Replay, then (when ``live``) stream until the client leaves, the server stops, or an hour passes."""
    subscriber = broker.subscribe(organization_id) if live else None  # before the replay: nothing slips between
    try:
        yield f"retry: {RECONNECT_MILLISECONDS}\n\n".encode()
        replayed: set[str] = set()
        for event in await run_in_threadpool(_replay, database, organization_id, after_event_id, since):
            replayed.add(event.id)
            if not patterns or matching.matches(patterns, event.type):
                yield frame(event.id, event.type, event.body)
        if subscriber is None:
            return
        yield b": live\n\n"
        async for chunk in _live(subscriber, patterns, replayed):
            yield chunk
    finally:
        if subscriber is not None:
            broker.unsubscribe(subscriber)


async def _live(subscriber: Subscriber, patterns: Sequence[str], replayed: set[str]) -> AsyncIterator[bytes]:
    started = last_write = time.monotonic()
    while not shutting_down.is_set() and not subscriber.overflowed:
        now = time.monotonic()
        if now - started >= MAX_STREAM_SECONDS:
            return
        try:
            event = await asyncio.wait_for(subscriber.queue.get(), timeout=1.0)
        except TimeoutError:
            if now - last_write >= HEARTBEAT_SECONDS:
                last_write = now
                yield b": keep-alive\n\n"
            continue
        if event.id in replayed or (patterns and not matching.matches(patterns, event.type)):
            continue
        last_write = time.monotonic()
        yield frame(event.id, event.type, event.body)
