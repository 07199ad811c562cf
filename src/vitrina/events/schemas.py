"""JSON shapes of events and webhooks (API.md §8)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator

from vitrina.core.models import OutboxEvent
from vitrina.core.schemas import RequestModel
from vitrina.events import matching
from vitrina.events.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from vitrina.events.ssrf import MAX_URL_LENGTH

SubscriptionStatus = Literal["active", "disabled"]
DeliveryStatus = Literal["pending", "succeeded", "failed"]

_EVENTS_DESCRIPTION = ("Event types to receive: exact names (`inventory.sold`), prefix wildcards (`inventory.*`) "
                       "or `*` for every event.")


# The grammar of ``matching.filter_problem`` as a JSON Schema pattern, so clients and tools can see it.
EventFilter = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^(\*|[a-z0-9_]+(\.[a-z0-9_]+)*(\.\*)?)$")]


def _check_filters(patterns: list[str] | None) -> list[str] | None:
    if patterns is None:
        return None
    problems = [f"[{i}] {problem}" for i, p in enumerate(patterns) if (problem := matching.filter_problem(p))]
    if problems:
        raise ValueError("; ".join(problems))
    return matching.normalize(patterns)


class WebhookCreate(RequestModel):
    url: str = Field(min_length=1, max_length=MAX_URL_LENGTH,
                     description="The receiver: `https` (plain `http` only when the operator allows it), resolving "
                                 "to public addresses only (no loopback, private, link-local or metadata hosts).")
    events: list[EventFilter] = Field(min_length=1, max_length=matching.MAX_FILTERS,
                                      description=_EVENTS_DESCRIPTION)
    description: str | None = Field(default=None, max_length=500)

    _filters = field_validator("events")(_check_filters)


class WebhookUpdate(RequestModel):
    url: str | None = Field(default=None, min_length=1, max_length=MAX_URL_LENGTH)
    events: list[EventFilter] | None = Field(default=None, min_length=1, max_length=matching.MAX_FILTERS,
                                             description=_EVENTS_DESCRIPTION)
    description: str | None = Field(default=None, max_length=500)
    status: SubscriptionStatus | None = Field(
        default=None, description="`active` re-enables a subscription the worker disabled (its failure record "
                                  "starts afresh); `disabled` pauses deliveries.")

    _filters = field_validator("events")(_check_filters)


class WebhookOut(BaseModel):
    id: str
    url: str
    events: list[str]
    description: str | None
    status: SubscriptionStatus
    disabled_reason: str | None
    disabled_at: datetime | None
    failing_since: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, subscription: WebhookSubscription) -> WebhookOut:
        return cls(id=subscription.id, url=subscription.url, events=list(subscription.events),
                   description=subscription.description, status=subscription.status,
                   disabled_reason=subscription.disabled_reason, disabled_at=subscription.disabled_at,
                   failing_since=subscription.failing_since, created_at=subscription.created_at,
                   updated_at=subscription.updated_at)


class WebhookCreated(WebhookOut):
    secret: str = Field(description="The `whsec_` signing secret. Shown once: store it now; Vitrina keeps it "
                                    "only encrypted and never returns it again.")


class AttemptOut(BaseModel):
    attempted_at: datetime
    succeeded: bool
    status_code: int | None = Field(description="The receiver's HTTP status; null when no response came.")
    latency_ms: int
    response_body: str | None = Field(description="The first KiB of the receiver's response body.")
    error: str | None = Field(description="Timeout, connection error, SSRF refusal or non-2xx status.")

    @classmethod
    def of(cls, attempt: WebhookAttempt) -> AttemptOut:
        return cls(attempted_at=attempt.attempted_at, succeeded=attempt.succeeded, status_code=attempt.status_code,
                   latency_ms=attempt.latency_ms, response_body=attempt.response_body, error=attempt.error)


class DeliveryOut(BaseModel):
    id: str
    webhook_id: str
    event_id: str = Field(description="Also the `webhook-id` header of every attempt (stable across retries).")
    event_type: str
    status: DeliveryStatus
    attempt_count: int = Field(description="Attempts in the current schedule (a manual retry starts a new one).")
    next_attempt_at: datetime | None
    succeeded_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    attempts: list[AttemptOut]

    @classmethod
    def of(cls, delivery: WebhookDelivery, *, with_attempts: bool = True) -> DeliveryOut:
        return cls(id=delivery.id, webhook_id=delivery.subscription_id, event_id=delivery.event_id,
                   event_type=delivery.event_type, status=delivery.status,
                   attempt_count=delivery.attempt_count, next_attempt_at=delivery.next_attempt_at,
                   succeeded_at=delivery.succeeded_at, last_status_code=delivery.last_status_code,
                   last_error=delivery.last_error, created_at=delivery.created_at, updated_at=delivery.updated_at,
                   attempts=[AttemptOut.of(a) for a in delivery.attempts] if with_attempts else [])


class EventOut(BaseModel):
    id: str
    type: str
    data: dict[str, Any]
    actor: str | None = Field(description="The API key or user whose request caused the event.")
    created_at: datetime

    @classmethod
    def of(cls, event: OutboxEvent) -> EventOut:
        return cls(id=event.id, type=event.type, data=event.data, actor=event.actor, created_at=event.created_at)


def event_dict(event: OutboxEvent) -> dict[str, Any]:
    """The event as the API and the live stream show it."""
    return {"id": event.id, "type": event.type, "data": event.data, "actor": event.actor,
            "created_at": event.created_at}
