"""Events and webhook subscriptions: the rules behind API.md §8 (no HTTP objects; the caller commits).

Delivery itself (fan-out, sending, retries) is the worker's (``events.worker``); this module manages what
the worker reads: subscriptions, and deliveries queued by hand (tests, manual retries).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, false, func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from vitrina.core.ids import has_prefix, new_id
from vitrina.core.models import OutboxEvent
from vitrina.core.outbox import emit
from vitrina.core.pagination import Page
from vitrina.core.responses import json_bytes
from vitrina.core.time import to_rfc3339, utcnow
from vitrina.events import matching, secretbox, signing
from vitrina.events.errors import (
    DeliveryInProgress,
    DeliveryNotFound,
    WebhookDisabled,
    WebhookNotFound,
    WebhookUrlNotAllowed,
)
from vitrina.events.models import (
    ACTIVE,
    DISABLED,
    FAILED,
    PENDING,
    WebhookDelivery,
    WebhookSubscription,
)
from vitrina.events.ssrf import Resolver, UnsafeUrl, UrlPolicy, check_url, system_resolver

TEST_EVENT = "webhook.test"
DISABLED_EVENT = "webhook.disabled"


# --- events -------------------------------------------------------------------------------------------------

def type_condition(column: Any, patterns: Sequence[str]) -> ColumnElement[bool] | None:
    """SQL for "matches one of these filters" (None when ``*`` is among them)."""
    if matching.WILDCARD in patterns:
        return None
    exact = [p for p in patterns if not p.endswith(".*")]
    prefixes = [p[:-1] for p in patterns if p.endswith(".*")]
    # Event types hold underscores, LIKE's one-character wildcard: escape them.
    clauses = [column.like(_escape_like(prefix) + "%", escape="\\") for prefix in prefixes]
    if exact:
        clauses.append(column.in_(exact))
    return or_(*clauses) if clauses else false()


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_events(session: Session, *, organization_id: str, page: Page, types: Sequence[str] | None = None,
                since: datetime | None = None) -> tuple[list[OutboxEvent], int]:
    """The organization's events, oldest first (so ``since`` plus paging walks forward without gaps)."""
    where: list[ColumnElement[bool]] = [OutboxEvent.organization_id == organization_id]
    condition = type_condition(OutboxEvent.type, types) if types else None
    if condition is not None:
        where.append(condition)
    if since is not None:
        where.append(OutboxEvent.created_at >= since)
    total = session.scalar(select(func.count()).select_from(OutboxEvent).where(*where)) or 0
    rows = session.scalars(select(OutboxEvent).where(*where).order_by(OutboxEvent.seq)
                           .limit(page.limit).offset(page.offset))
    return list(rows), total


def events_after(session: Session, *, organization_id: str, after_event_id: str | None = None,
                 since: datetime | None = None, limit: int = 1000) -> list[OutboxEvent]:
    """Events to replay to a live-stream client that reconnects (``Last-Event-ID``) or asks ``since``."""
    where: list[ColumnElement[bool]] = [OutboxEvent.organization_id == organization_id]
    if after_event_id is not None and has_prefix(after_event_id, "evt"):
        seq = session.scalar(select(OutboxEvent.seq).where(OutboxEvent.organization_id == organization_id,
                                                           OutboxEvent.id == after_event_id))
        if seq is None:
            return []  # pruned or unknown: the client starts live
        where.append(OutboxEvent.seq > seq)
    elif since is not None:
        where.append(OutboxEvent.created_at >= since)
    else:
        return []
    return list(session.scalars(select(OutboxEvent).where(*where).order_by(OutboxEvent.seq).limit(limit)))


def payload_bytes(event_type: str, created_at: datetime, data: dict[str, Any]) -> bytes:
    """The body of a webhook delivery: ``{"type", "timestamp", "data"}``."""
    return json_bytes({"type": event_type, "timestamp": to_rfc3339(created_at), "data": data})


# --- subscriptions ------------------------------------------------------------------------------------------

def vet_url(url: str, policy: UrlPolicy, resolve: Resolver = system_resolver) -> str:
    try:
        check_url(url, policy, resolve)
    except UnsafeUrl as exc:
        raise WebhookUrlNotAllowed(exc.reason) from None
    return url


def create_subscription(session: Session, *, organization_id: str, url: str, events: list[str],
                        description: str | None, policy: UrlPolicy, server_secret: str,
                        resolve: Resolver = system_resolver) -> tuple[WebhookSubscription, str]:
    """A new subscription and its ``whsec_`` secret (the only time the secret is available in clear)."""
    vet_url(url, policy, resolve)
    subscription_id = new_id("whk")
    whsec = signing.generate_secret()
    start = session.scalar(select(func.coalesce(func.max(OutboxEvent.seq), 0))) or 0
    subscription = WebhookSubscription(
        id=subscription_id, organization_id=organization_id, url=url, events=matching.normalize(events),
        description=description, status=ACTIVE, start_seq=start,
        secret_sealed=secretbox.seal(server_secret, subscription_id=subscription_id, plaintext=whsec),
    )
    session.add(subscription)
    session.flush()
    return subscription, whsec


def get_subscription(session: Session, *, organization_id: str, subscription_id: str) -> WebhookSubscription:
    if not has_prefix(subscription_id, "whk"):
        raise WebhookNotFound()
    subscription = session.scalar(select(WebhookSubscription).where(
        WebhookSubscription.organization_id == organization_id, WebhookSubscription.id == subscription_id))
    if subscription is None:
        raise WebhookNotFound()
    return subscription


def list_subscriptions(session: Session, *, organization_id: str,
                       page: Page) -> tuple[list[WebhookSubscription], int]:
    where = WebhookSubscription.organization_id == organization_id
    total = session.scalar(select(func.count()).select_from(WebhookSubscription).where(where)) or 0
    rows = session.scalars(select(WebhookSubscription).where(where).order_by(WebhookSubscription.id)
                           .limit(page.limit).offset(page.offset))
    return list(rows), total


def update_subscription(session: Session, *, organization_id: str, subscription_id: str, changes: dict[str, Any],
                        policy: UrlPolicy, resolve: Resolver = system_resolver) -> WebhookSubscription:
    subscription = get_subscription(session, organization_id=organization_id, subscription_id=subscription_id)
    if changes.get("url") is not None:
        subscription.url = vet_url(changes["url"], policy, resolve)
    if changes.get("events") is not None:
        subscription.events = matching.normalize(changes["events"])
    if "description" in changes:
        subscription.description = changes["description"]
    status = changes.get("status")
    if status == ACTIVE and subscription.status != ACTIVE:
        subscription.status, subscription.disabled_reason, subscription.disabled_at = ACTIVE, None, None
        subscription.failing_since = None
    elif status == DISABLED and subscription.status != DISABLED:
        disable(session, subscription, reason="disabled by the API")
    subscription.version += 1
    session.flush()
    return subscription


def delete_subscription(session: Session, *, organization_id: str, subscription_id: str) -> None:
    """Deletes the subscription with its deliveries and attempts (pending deliveries are never sent)."""
    subscription = get_subscription(session, organization_id=organization_id, subscription_id=subscription_id)
    session.delete(subscription)
    session.flush()


def disable(session: Session, subscription: WebhookSubscription, *, reason: str, announce: bool = False) -> None:
    """Stop deliveries: pending ones become ``failed`` (retryable by hand after re-enabling).

    ``announce`` emits ``webhook.disabled`` (when the worker gives up on a failing endpoint, so other
    subscriptions and the live stream learn about it).
    """
    now = utcnow()
    subscription.status, subscription.disabled_reason, subscription.disabled_at = DISABLED, reason[:300], now
    session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.subscription_id == subscription.id, WebhookDelivery.status == PENDING)
        .values(status=FAILED, next_attempt_at=None, lease_token=None, leased_until=None,
                last_error=f"subscription disabled: {reason}"[:500], updated_at=now)
        .execution_options(synchronize_session=False))
    if announce:
        emit(session, organization_id=subscription.organization_id, type=DISABLED_EVENT, data={
            "id": subscription.id, "url": subscription.url, "reason": reason,
            "failing_since": to_rfc3339(subscription.failing_since), "disabled_at": to_rfc3339(now)})


# --- deliveries ---------------------------------------------------------------------------------------------

def queue_test(session: Session, *, organization_id: str, subscription_id: str) -> WebhookDelivery:
    """Queue a ``webhook.test`` event for this subscription only (it is not an outbox event: nothing changed)."""
    subscription = get_subscription(session, organization_id=organization_id, subscription_id=subscription_id)
    if subscription.status != ACTIVE:
        raise WebhookDisabled()
    now = utcnow()
    body = payload_bytes(TEST_EVENT, now, {"webhook_id": subscription.id,
                                           "message": "A test event sent from Vitrina."})
    delivery = WebhookDelivery(
        id=new_id("dlv"), organization_id=organization_id, subscription_id=subscription.id,
        event_id=new_id("evt"), event_type=TEST_EVENT, event_seq=None, payload=body.decode(), status=PENDING,
        attempt_count=0, next_attempt_at=now, attempts=[],
    )
    session.add(delivery)
    session.flush()
    return delivery


def list_deliveries(session: Session, *, organization_id: str, subscription_id: str, page: Page,
                    status: str | None = None, event_type: str | None = None) -> tuple[list[WebhookDelivery], int]:
    """A subscription's deliveries, newest first, each with its attempts."""
    get_subscription(session, organization_id=organization_id, subscription_id=subscription_id)
    where: list[ColumnElement[bool]] = [WebhookDelivery.organization_id == organization_id,
                                        WebhookDelivery.subscription_id == subscription_id]
    if status is not None:
        where.append(WebhookDelivery.status == status)
    if event_type is not None:
        where.append(WebhookDelivery.event_type == event_type)
    total = session.scalar(select(func.count()).select_from(WebhookDelivery).where(*where)) or 0
    rows = session.scalars(select(WebhookDelivery).where(*where).options(selectinload(WebhookDelivery.attempts))
                           .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
                           .limit(page.limit).offset(page.offset))
    return list(rows), total


def get_delivery(session: Session, *, organization_id: str, subscription_id: str,
                 delivery_id: str) -> WebhookDelivery:
    get_subscription(session, organization_id=organization_id, subscription_id=subscription_id)
    if not has_prefix(delivery_id, "dlv"):
        raise DeliveryNotFound()
    delivery = session.scalar(select(WebhookDelivery).options(selectinload(WebhookDelivery.attempts)).where(
        WebhookDelivery.organization_id == organization_id, WebhookDelivery.subscription_id == subscription_id,
        WebhookDelivery.id == delivery_id))
    if delivery is None:
        raise DeliveryNotFound()
    return delivery


def retry_delivery(session: Session, *, organization_id: str, subscription_id: str,
                   delivery_id: str) -> WebhookDelivery:
    """Send again now, with a fresh retry schedule (any status; not while a worker is sending it)."""
    subscription = get_subscription(session, organization_id=organization_id, subscription_id=subscription_id)
    if subscription.status != ACTIVE:
        raise WebhookDisabled()
    delivery = get_delivery(session, organization_id=organization_id, subscription_id=subscription_id,
                            delivery_id=delivery_id)
    now = utcnow()
    if delivery.leased_until is not None and delivery.leased_until > now:
        raise DeliveryInProgress()
    delivery.status, delivery.attempt_count, delivery.next_attempt_at = PENDING, 0, now
    delivery.lease_token = delivery.leased_until = None
    delivery.updated_at = now
    session.flush()
    return delivery


def backlog(session: Session) -> int:
    """Deliveries waiting to be sent (due now or scheduled for a retry), across all organizations."""
    return session.scalar(select(func.count()).select_from(WebhookDelivery)
                          .where(WebhookDelivery.status == PENDING)) or 0
