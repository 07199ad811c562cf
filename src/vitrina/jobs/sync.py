"""The POS sync job: read a feed (an HTTP JSON feed or a CSV file), then apply it to one location at once.

The whole feed is read and checked first (with time and size limits), then applied in **one** transaction
through the inventory service: ``set_location_quantities`` (``AUDIT`` movements; with ``full``, items missing
from the feed go to 0) and ``receive_many`` for entries the location does not hold yet (``RECEIVED``). Any
problem rolls everything back, so a sync that fails leaves the location as it was. The same transaction
stores the location's cursor, the ``inventory.sync.completed`` event and the job's checkpoint, so a resumed
job never applies a feed twice.

HTTP feeds: ``GET url`` (plus ``since=<cursor>`` for an incremental sync after the first), answering a JSON
list of entries (or ``{"data": [...]}``), further pages by ``Link: <...>; rel="next"``. Every request goes
through the SSRF guard's pinned transport, redirects are not followed, and each answer must be JSON.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from vitrina.core.errors import ValidationFailed, VitrinaError
from vitrina.core.ids import has_prefix
from vitrina.core.outbox import emit
from vitrina.core.time import as_utc, to_rfc3339, utcnow
from vitrina.events import secretbox
from vitrina.events.ssrf import PinnedTransport, UnsafeUrl, UrlPolicy
from vitrina.inventory import fields as item_fields
from vitrina.inventory import service as inventory
from vitrina.inventory.schemas import ItemCreate
from vitrina.jobs import parse
from vitrina.jobs import service as jobs
from vitrina.jobs.errors import JobFailed
from vitrina.jobs.models import SyncCursor
from vitrina.jobs.runner import JobContext

USER_AGENT = "Vitrina-Sync/1.0"
REQUEST_TIMEOUT = 15.0  # seconds of silence before one request is given up
DEADLINE = 300.0  # seconds for the whole feed, however it trickles in
MAX_FEED_BYTES = 50 * 1024 * 1024
MAX_PAGES = 1000
MAX_ENTRIES = 1_000_000
MAX_REPORTED = 1000
_CREATE_FIELDS = frozenset(ItemCreate.model_fields) - {"quantity", "location_id", "status"}


@dataclass
class Feed:
    entries: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # (entry number or line, entry)
    errors: list[parse.RowError] = field(default_factory=list)


def run(context: JobContext) -> dict[str, Any]:
    checkpoint = context.lease.checkpoint or {}
    if checkpoint.get("applied"):  # applied by a run that died before marking the job done
        return dict(checkpoint.get("result") or {})
    params = context.params
    location_id, full = params["location_id"], params["sync_type"] == "full"
    started = utcnow()
    cursor = None if full else _cursor(context, location_id)
    feed = read_feed(context, params["source"], since=cursor)
    targets, rows = _checked(feed)
    if feed.errors:
        _fail_with(context, feed.errors, f"{len(feed.errors)} feed entries are invalid; nothing was applied")
    new_cursor = _next_cursor(feed, started)
    return _apply(context, location_id=location_id, full=full, targets=targets, rows=rows, cursor=new_cursor,
                  entries=len(feed.entries))


def _fail_with(context: JobContext, errors: list[parse.RowError], message: str) -> None:
    reported = [error.as_dict() for error in errors[:MAX_REPORTED]]
    context.lease.errors = reported
    context.lease.error_count = len(errors)
    raise JobFailed(message)


def _cursor(context: JobContext, location_id: str) -> str | None:
    with context.database.unit_of_work(organization_id=context.organization_id, write=False) as session:
        return session.scalar(select(SyncCursor.cursor).where(SyncCursor.organization_id == context.organization_id,
                                                              SyncCursor.location_id == location_id))


# --- reading the feed -----------------------------------------------------------------------------------------

def read_feed(context: JobContext, source: dict[str, Any], *, since: str | None) -> Feed:
    if source.get("kind") == "http":
        return _http_feed(context, source, since=since)
    return _csv_feed(context, source)


def _csv_feed(context: JobContext, source: dict[str, Any]) -> Feed:
    feed = Feed()
    with _open(context, source) as stream:
        try:
            for entry in parse.rows(stream, fmt="csv", mapping=parse.parse_map(source.get("map")),
                                    required=("external_id", "quantity"), extra=("updated_at",)):
                if isinstance(entry, parse.RowError):
                    feed.errors.append(entry)
                else:
                    feed.entries.append((entry.line, entry.values))
                if len(feed.entries) > MAX_ENTRIES:
                    raise JobFailed(f"the feed has more than {MAX_ENTRIES} entries")
        except parse.FileProblem as exc:
            raise JobFailed(exc.message) from None
    return feed


@contextmanager
def _open(context: JobContext, source: dict[str, Any]) -> Iterator[Any]:
    if source.get("upload_id"):
        stream = parse.buffered(jobs.UploadReader(context.database, source["upload_id"]))
    else:
        try:
            stream = open(source["path"], "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise JobFailed(f"cannot read the CSV source: {exc.strerror or exc}") from None
    try:
        yield stream
    finally:
        stream.close()


def _http_feed(context: JobContext, source: dict[str, Any], *, since: str | None) -> Feed:
    settings = context.settings
    headers = {"user-agent": USER_AGENT, "accept": "application/json"}
    if source.get("headers_sealed"):
        try:
            opened = secretbox.unseal(settings.signing_secret, subscription_id=context.lease.job_id,
                                      sealed=source["headers_sealed"])
        except secretbox.SecretUnreadable:
            raise JobFailed("the feed's headers cannot be decrypted (the server secret changed)") from None
        headers |= json.loads(opened)
    transport = PinnedTransport(UrlPolicy.from_settings(settings))
    with httpx.Client(transport=transport, timeout=httpx.Timeout(REQUEST_TIMEOUT), follow_redirects=False,
                      trust_env=False, headers=headers) as client:
        return _pages(context, client, source["url"], since=since)


def _pages(context: JobContext, client: httpx.Client, url: str, *, since: str | None) -> Feed:
    feed = Feed()
    deadline = time.monotonic() + DEADLINE
    budget = MAX_FEED_BYTES
    seen: set[str] = set()
    next_url: str | None = url
    params: dict[str, str] | None = {"since": since} if since else None
    while next_url is not None:
        if next_url in seen:
            raise JobFailed(f"the feed's next links loop back to {next_url}")
        if len(seen) >= MAX_PAGES:
            raise JobFailed(f"the feed has more than {MAX_PAGES} pages")
        seen.add(next_url)
        page, link, size = _page(client, next_url, params, deadline=deadline, budget=budget, number=len(seen))
        budget -= size
        for entry in page:
            number = len(feed.entries) + len(feed.errors) + 1
            if isinstance(entry, dict):
                feed.entries.append((number, entry))
            else:
                feed.errors.append(parse.RowError(number, None, "each feed entry must be a JSON object"))
        if len(feed.entries) > MAX_ENTRIES:
            raise JobFailed(f"the feed has more than {MAX_ENTRIES} entries")
        next_url = urljoin(next_url, link) if link else None
        params = None  # the next link carries its own query
        context.heartbeat()
    return feed


def _page(client: httpx.Client, url: str, params: dict[str, str] | None, *, deadline: float, budget: int,
          number: int) -> tuple[list[Any], str | None, int]:
    where = f"page {number} of the feed"
    try:
        with client.stream("GET", url, params=params) as response:
            if not 200 <= response.status_code < 300:
                raise JobFailed(f"{where} answered HTTP {response.status_code}")
            kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if "json" not in kind:
                raise JobFailed(f"{where} answered {kind or 'without a content type'}, not JSON")
            body = _read(response, deadline=deadline, budget=budget, where=where)
            link = response.links.get("next", {}).get("url")
    except UnsafeUrl as exc:
        raise JobFailed(f"{where} was refused by the SSRF guard: {exc.reason}") from None
    except httpx.TimeoutException:
        raise JobFailed(f"{where} timed out after {REQUEST_TIMEOUT:g} s") from None
    except httpx.HTTPError as exc:
        raise JobFailed(f"{where} could not be read: {type(exc).__name__}") from None
    try:
        data = json.loads(body)
    except ValueError:
        raise JobFailed(f"{where} is not valid JSON") from None
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        data = data["data"]
    if not isinstance(data, list):
        raise JobFailed(f"{where} is not a JSON list of entries")
    return data, link, len(body)


def _read(response: httpx.Response, *, deadline: float, budget: int, where: str) -> bytes:
    """The body, refusing a feed that never ends (by size or by time)."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > budget:
            raise JobFailed(f"{where} is too large (the whole feed may be {MAX_FEED_BYTES // (1024 * 1024)} MiB)")
        if time.monotonic() > deadline:
            raise JobFailed(f"{where} took too long (the whole feed must arrive within {DEADLINE:g} s)")
        chunks.append(chunk)
    return b"".join(chunks)


# --- checking and applying ------------------------------------------------------------------------------------

def _checked(feed: Feed) -> tuple[dict[str, int], dict[str, tuple[int, dict[str, Any]]]]:
    """Target quantities by external_id, and each entry (with its number) for creating unknown items."""
    targets: dict[str, int] = {}
    rows: dict[str, tuple[int, dict[str, Any]]] = {}
    for number, entry in feed.entries:
        external_id = _external_id(entry)
        if external_id is None:
            feed.errors.append(parse.RowError(number, "external_id", "required: 1 to 100 characters"))
            continue
        quantity = _quantity(entry.get("quantity"))
        if quantity is None:
            feed.errors.append(parse.RowError(number, "quantity", "must be a whole number, 0 or more",
                                              external_id))
            continue
        if external_id in rows:
            feed.errors.append(parse.RowError(number, "external_id",
                                              f"duplicate external_id (first at {rows[external_id][0]})", external_id))
            continue
        targets[external_id] = quantity
        rows[external_id] = (number, entry)
    return targets, rows


def _external_id(entry: dict[str, Any]) -> str | None:
    value = entry.get("external_id", entry.get("externalId"))
    if value is None and isinstance(entry.get("id"), str) and not has_prefix(entry["id"], "itm"):
        value = entry["id"]  # a POS's own id is its external reference here
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > 100 or "\x00" in value:
        return None
    return value.strip()


def _quantity(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or not 0 <= value <= 1_000_000_000:
        return None
    return value


def _next_cursor(feed: Feed, started: datetime) -> str:
    """The newest ``updated_at`` the feed reported, else the time the sync started."""
    newest: datetime | None = None
    for _number, entry in feed.entries:
        value = entry.get("updated_at")
        if isinstance(value, str):
            try:
                moment = as_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
            except ValueError:
                continue
            newest = moment if newest is None or moment > newest else newest
    return str(to_rfc3339(newest or started))


def _apply(context: JobContext, *, location_id: str, full: bool, targets: dict[str, int],
           rows: dict[str, tuple[int, dict[str, Any]]], cursor: str, entries: int) -> dict[str, Any]:
    organization_id = context.organization_id
    errors: list[parse.RowError] = []
    with context.database.unit_of_work(organization_id=organization_id) as session:
        try:
            summary = inventory.set_location_quantities(
                session, organization_id=organization_id, location_id=location_id, targets=targets,
                actor=context.lease_actor, reason_code="AUDIT", zero_missing=full)
            created = _receive_new(session, context, location_id, summary["unknown"], targets, rows, errors)
        except VitrinaError as exc:
            session.rollback()
            raise JobFailed(f"the feed could not be applied ({exc.code}: {exc.message}); nothing was changed") \
                from None
        if errors:
            session.rollback()
            _fail_with(context, errors, f"{len(errors)} feed entries could not be applied; nothing was changed")
        result = {"location_id": location_id, "sync_type": "full" if full else "incremental", "entries": entries,
                  "received": created, "changed": summary["changed"], "unchanged": summary["unchanged"],
                  "zeroed": summary["zeroed"], "cursor": cursor}
        _store_cursor(session, organization_id, location_id, cursor)
        emit(session, organization_id=organization_id, type="inventory.sync.completed",
             data={"job_id": context.lease.job_id, **result}, actor=context.lease_actor)
        jobs.record_batch(session, context.lease, done=entries, total=entries, new_errors=[],
                          checkpoint={"applied": True, "result": result}, leased_until=context.lease_expiry())
    context.progress(entries, entries)
    return result


def _receive_new(session: Session, context: JobContext, location_id: str, unknown: list[str],
                 targets: dict[str, int], rows: dict[str, tuple[int, dict[str, Any]]],
                 errors: list[parse.RowError]) -> int:
    """Items the location does not hold yet are received there; an external_id already used by an item
    elsewhere is an error (a feed for one location must not move another location's stock)."""
    if not unknown:
        return 0
    elsewhere = inventory.items_by_ref(session, organization_id=context.organization_id, refs=unknown)
    new_rows: list[dict[str, Any]] = []
    for external_id in unknown:
        number, entry = rows[external_id]
        if external_id in elsewhere:
            errors.append(parse.RowError(number, "external_id", "an item with this external_id is held at another "
                                         "location (or archived); transfer it first", external_id))
            continue
        values = _creatable(entry)
        values |= {"external_id": external_id, "quantity": targets[external_id], "location_id": location_id}
        values.setdefault("tracking", "bulk")
        if "sku" in values and "name" not in values:
            values["name"] = values["sku"]
        try:
            item_fields.create_fields(values)
        except ValidationFailed as exc:
            errors += [parse.RowError(number, str(e.get("path", "")).removeprefix("$.") or None, str(e["message"]),
                                      external_id) for e in exc.errors]
            continue
        new_rows.append(values)
    if errors or not new_rows:
        return 0
    inventory.receive_many(session, organization_id=context.organization_id, actor=context.lease_actor,
                           rows=new_rows)
    return len(new_rows)


def _creatable(entry: dict[str, Any]) -> dict[str, Any]:
    """The entry's item fields under their own names (feeds use the seed's ``product_name``, ``unit_price``...);
    anything else a feed sends (``last_sync``, ``reserved_quantity``...) is not ours to set."""
    values: dict[str, Any] = {}
    for key, value in entry.items():
        name = parse.FIELD_NAMES.get(str(key).lower())
        if name in _CREATE_FIELDS and value is not None:
            values[name] = value
    return values


def _store_cursor(session: Session, organization_id: str, location_id: str, cursor: str) -> None:
    row = session.scalar(select(SyncCursor).where(SyncCursor.organization_id == organization_id,
                                                  SyncCursor.location_id == location_id))
    if row is None:
        session.add(SyncCursor(organization_id=organization_id, location_id=location_id, cursor=cursor,
                               synced_at=utcnow()))
    else:
        row.cursor, row.synced_at = cursor, utcnow()
    session.flush()
