"""Webhook tables: subscriptions, deliveries (one per event and subscription), attempts, and the fan-out cursor.

The events themselves live in the outbox table (``vitrina.core.models.OutboxEvent``), written by ``emit()``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vitrina.core.models import SequenceType
from vitrina.core.time import utcnow
from vitrina.db.base import Base, OrgScoped, Timestamped, Versioned
from vitrina.db.types import JSONType, UTCDateTime

ACTIVE, DISABLED = "active", "disabled"
SUBSCRIPTION_STATUSES = (ACTIVE, DISABLED)
PENDING, SUCCEEDED, FAILED = "pending", "succeeded", "failed"
DELIVERY_STATUSES = (PENDING, SUCCEEDED, FAILED)


class WebhookSubscription(OrgScoped, Timestamped, Versioned, Base):
    """Where to POST which events. ``secret_sealed`` is the ``whsec_`` secret sealed with AES-GCM (the worker
    needs it for HMACs, so it cannot be a hash). ``start_seq`` is the outbox position at creation: a
    subscription receives events committed after it. ``failing_since`` is the first failure of the current
    run of failures (cleared by any success); the worker disables a subscription failing for days."""

    __tablename__ = "webhook_subscriptions"
    __table_args__ = (Index("ix_webhook_subscriptions_org_status", "organization_id", "status"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), nullable=False)
    events: Mapped[list[str]] = mapped_column(JSONType, nullable=False)
    description: Mapped[str | None] = mapped_column(String(500))
    secret_sealed: Mapped[str] = mapped_column(String(200), nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default=ACTIVE)
    disabled_reason: Mapped[str | None] = mapped_column(String(300))
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    start_seq: Mapped[int] = mapped_column(SequenceType, nullable=False, default=0)


class WebhookDelivery(OrgScoped, Timestamped, Base):
    """One event for one subscription, retried until it succeeds or the schedule runs out.

    ``payload`` is the exact body (``{"type", "timestamp", "data"}``) so every retry sends the same bytes, and
    the delivery outlives the event's 30 days in the outbox. A worker *leases* a due delivery
    (``lease_token``, ``leased_until``) before calling out, and records the outcome only while it still
    holds the lease; a worker that dies mid-call loses nothing: the lease expires and another worker retries.
    ``attempt_count`` counts the attempts of the current schedule (a manual retry starts a new one).
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_org_subscription", "organization_id", "subscription_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    subscription_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"), nullable=False)
    event_id: Mapped[str] = mapped_column(String(32), nullable=False)
    event_type: Mapped[str] = mapped_column(String(64), nullable=False)
    event_seq: Mapped[int | None] = mapped_column(SequenceType)
    payload: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default=PENDING)
    attempt_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_token: Mapped[str | None] = mapped_column(String(32))
    leased_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    succeeded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    attempts: Mapped[list[WebhookAttempt]] = relationship(
        order_by="WebhookAttempt.id", cascade="all, delete-orphan", passive_deletes=True, lazy="raise_on_sql")


class WebhookAttempt(OrgScoped, Base):
    """One HTTP call: its status code (None when no response came), latency, the start of the response body,
    and the error (timeout, refused connection, SSRF refusal...)."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (Index("ix_webhook_attempts_delivery", "delivery_id", "id"),)

    id: Mapped[int] = mapped_column(SequenceType, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), nullable=False)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    succeeded: Mapped[bool] = mapped_column(Boolean, nullable=False)
    status_code: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[int] = mapped_column(Integer, nullable=False)
    response_body: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(String(500))


class FanoutCursor(Base):
    """The workers' position in the outbox (a single row, locked by the worker that fans out).

    ``high_water`` is the largest event ``seq`` fanned out. Sequence numbers are taken at INSERT but become
    visible at COMMIT, so a smaller ``seq`` can still appear after a larger one was read; ``gaps`` remembers
    the missing numbers below ``high_water`` (with when they were first missed) and they are looked for again
    until they appear or are older than the gap timeout (a rolled-back transaction never fills its gap).
    """

    __tablename__ = "webhook_fanout"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    high_water: Mapped[int] = mapped_column(SequenceType, nullable=False, default=0)
    gaps: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)
