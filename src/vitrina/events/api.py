"""Events and webhooks routes (API.md §8). Thin: parse, call one service function, shape the response.

Scopes: reading events, subscriptions and deliveries needs ``read``; sending a test event and retrying a
delivery need ``write``; creating, changing and deleting subscriptions needs ``admin``, because a subscription
decides where the organization's data is sent and its creation reveals a signing secret.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated, Any

from fastapi import FastAPI, Header, Query, Request, Response
from fastapi.responses import StreamingResponse

from vitrina.core import metrics
from vitrina.core.auth import AdminPrincipal, ReadPrincipal, WritePrincipal
from vitrina.core.concurrency import check_if_match
from vitrina.core.errors import ValidationFailed
from vitrina.core.pagination import PageQuery
from vitrina.core.responses import Envelope, ListEnvelope, created, no_content, ok, paginated
from vitrina.core.routing import api_router
from vitrina.core.time import as_utc
from vitrina.db.session import DbSession
from vitrina.events import matching, service, stream
from vitrina.events.schemas import (
    DeliveryOut,
    DeliveryStatus,
    EventOut,
    WebhookCreate,
    WebhookCreated,
    WebhookOut,
    WebhookUpdate,
)
from vitrina.events.ssrf import UrlPolicy

router = api_router(tags=["events"])
WEBHOOKS: list[str | Enum] = ["webhooks"]
WEBHOOK = "/webhooks/{webhook_id}"

TypeQuery = Annotated[str | None, Query(
    max_length=1000, description="Event types: an exact type (`inventory.sold`), a prefix wildcard (`inventory.*`), "
                                 "`*`, or several separated by commas.")]
SinceQuery = Annotated[datetime | None, Query(description="Only events created at or after this instant (RFC 3339).")]


class EventStreamResponse(StreamingResponse):
    media_type = "text/event-stream"


# The stream's errors are JSON envelopes like everywhere else; spelled out because FastAPI would otherwise
# document them with the route's own media type (text/event-stream).
_JSON_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"description": description, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}}
    for status, description in ((400, "Malformed parameters"), (401, "Missing or invalid credentials"),
                                (403, "The credential lacks the scope"), (404, "Not found"),
                                (406, "Unsupported API version"), (409, "Conflict"), (412, "If-Match failed"),
                                (413, "Body too large"), (422, "Invalid parameters, each with its path"),
                                (429, "Rate limit exceeded; see Retry-After"))
}


def startup(app: FastAPI) -> None:
    """Live stream plumbing, and the delivery backlog on /metrics."""
    settings = app.state.settings
    database = app.state.db
    broker = stream.broker_for(settings)
    app.state.event_broker = broker
    if broker.uses_redis:  # publish even while this process has no stream open: others may
        broker.publish_commits()
    stream.stop_streams_on_signals()

    def webhook_backlog() -> float:
        with database.unit_of_work(write=False) as session:
            return float(service.backlog(session))

    metrics.register_gauge("vitrina_webhook_backlog",
                           "Webhook deliveries waiting to be sent (due now or scheduled for a retry)", webhook_backlog)


def _type_filters(value: str | None) -> list[str]:
    if value is None or not value.strip():
        return []
    patterns = [part.strip() for part in value.split(",") if part.strip()]
    for pattern in patterns:
        problem = matching.filter_problem(pattern)
        if problem is not None:
            raise ValidationFailed.field("$.type", f"{pattern!r} {problem}", **{"in": "query"})
    return matching.normalize(patterns)


def _policy(request: Request) -> UrlPolicy:
    return UrlPolicy.from_settings(request.app.state.settings)


# --- events -------------------------------------------------------------------------------------------------

@router.get("/events", response_model=ListEnvelope[EventOut], summary="List events (kept 30 days)",
            description="The organization's events, oldest first. Each was written in the same transaction as "
                        "the change it reports. Needs the `read` scope.")
def list_events(request: Request, session: DbSession, principal: ReadPrincipal, page: PageQuery,
                type: TypeQuery = None, since: SinceQuery = None) -> Response:
    events, total = service.list_events(session, organization_id=principal.organization_id, page=page,
                                        types=_type_filters(type), since=as_utc(since) if since else None)
    return paginated(request, [EventOut.of(e) for e in events], total, page)


@router.get(
    "/events/stream", response_class=EventStreamResponse, summary="Live events (Server-Sent Events)",
    description="Server-Sent Events of the organization's events as they commit: `id` is the event id, `event` "
                "its type, `data` the event as `GET /events` shows it. A reconnecting client sends "
                "`Last-Event-ID` (browsers do) and first receives what it missed (up to 1,000 events, kept 30 "
                "days); `since` asks the same for a first connection. The stream stays open when the request "
                "accepts `text/event-stream` (comments keep it alive every 15 s; the server closes it after an "
                "hour and the client reconnects); any other request receives the replay and the response ends. "
                "Across several server processes it needs Redis. Needs the `read` scope.",
    responses={200: {"description": "An event stream", "content": {"text/event-stream": {
        # One server-sent event, as a client's parser yields it (schemathesis validates each event too).
        "schema": {"type": "object", "properties": {
            "id": {"type": "string", "description": "The event id, for Last-Event-ID"},
            "event": {"type": "string", "description": "The event type"},
            "data": {"type": "string", "description": "The event as JSON, as GET /events shows it"}}},
        "example": "id: evt_01J...\nevent: inventory.created\ndata: {\"id\": \"evt_01J...\", ...}\n\n"}}},
        **_JSON_ERRORS})
async def stream_events(request: Request, principal: ReadPrincipal, type: TypeQuery = None,
                        since: SinceQuery = None,
                        last_event_id: Annotated[str | None, Header(
                            alias="Last-Event-ID", max_length=100,
                            description="The last event id the client received")] = None) -> Response:
    live = "text/event-stream" in request.headers.get("accept", "").lower()
    body = stream.sse_body(
        broker=request.app.state.event_broker, database=request.app.state.db,
        organization_id=principal.organization_id, patterns=_type_filters(type),
        after_event_id=last_event_id.strip() if last_event_id else None,
        since=as_utc(since) if since else None, live=live)
    return EventStreamResponse(body, headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


# --- webhook subscriptions ----------------------------------------------------------------------------------

@router.post("/webhooks", tags=WEBHOOKS, status_code=201, response_model=Envelope[WebhookCreated],
             summary="Create a webhook subscription (admin)",
             description="Admin scope. The URL must be `https` (plain `http` only when the operator allows it) and "
                         "must not resolve to loopback, private, link-local, multicast or cloud metadata addresses "
                         "(422 `WEBHOOK_URL_NOT_ALLOWED`). The response holds the `whsec_` signing secret, shown "
                         "once. Deliveries follow Standard Webhooks: headers `webhook-id` (the event id), "
                         "`webhook-timestamp`, `webhook-signature`; body `{\"type\", \"timestamp\", \"data\"}`.")
def create_webhook(body: WebhookCreate, request: Request, session: DbSession, principal: AdminPrincipal) -> Response:
    subscription, whsec = service.create_subscription(
        session, organization_id=principal.organization_id, url=body.url, events=body.events,
        description=body.description, policy=_policy(request),
        server_secret=request.app.state.settings.signing_secret)
    return created(WebhookCreated(**WebhookOut.of(subscription).model_dump(), secret=whsec),
                   etag=subscription.version)


@router.get("/webhooks", tags=WEBHOOKS, response_model=ListEnvelope[WebhookOut], summary="List webhook subscriptions",
            description="Needs the `read` scope. Secrets are never returned after creation.")
def list_webhooks(request: Request, session: DbSession, principal: ReadPrincipal, page: PageQuery) -> Response:
    subscriptions, total = service.list_subscriptions(session, organization_id=principal.organization_id,
                                                      page=page)
    return paginated(request, [WebhookOut.of(s) for s in subscriptions], total, page)


@router.get(WEBHOOK, tags=WEBHOOKS, response_model=Envelope[WebhookOut], summary="Get a webhook subscription",
            description="Needs the `read` scope.")
def get_webhook(webhook_id: str, session: DbSession, principal: ReadPrincipal) -> Response:
    subscription = service.get_subscription(session, organization_id=principal.organization_id,
                                            subscription_id=webhook_id)
    return ok(WebhookOut.of(subscription), etag=subscription.version)


@router.patch(WEBHOOK, tags=WEBHOOKS, response_model=Envelope[WebhookOut],
              summary="Change a webhook subscription (admin)",
              description="Admin scope. Changes the URL (checked like at creation), the event filters, the "
                          "description, or the status: `active` re-enables a subscription that was disabled after "
                          "failing for days. Honours `If-Match` (412).")
def update_webhook(webhook_id: str, body: WebhookUpdate, request: Request, session: DbSession,
                   principal: AdminPrincipal) -> Response:
    current = service.get_subscription(session, organization_id=principal.organization_id,
                                       subscription_id=webhook_id)
    check_if_match(request, current.version)
    subscription = service.update_subscription(
        session, organization_id=principal.organization_id, subscription_id=webhook_id,
        changes=body.model_dump(exclude_unset=True), policy=_policy(request))
    return ok(WebhookOut.of(subscription), etag=subscription.version)


@router.delete(WEBHOOK, tags=WEBHOOKS, status_code=204, summary="Delete a webhook subscription (admin)",
               description="Admin scope. Deletes the subscription with its delivery history; pending deliveries "
                           "are not sent.")
def delete_webhook(webhook_id: str, session: DbSession, principal: AdminPrincipal) -> Response:
    service.delete_subscription(session, organization_id=principal.organization_id, subscription_id=webhook_id)
    return no_content()


@router.post(f"{WEBHOOK}/test", tags=WEBHOOKS, status_code=202, response_model=Envelope[DeliveryOut],
             summary="Send a test event",
             description="Queues a `webhook.test` event for this subscription only; the worker sends it like any "
                         "delivery (follow it with `GET /webhooks/{id}/deliveries`). Needs the `write` scope; 409 "
                         "`WEBHOOK_DISABLED` for a disabled subscription.")
def test_webhook(webhook_id: str, session: DbSession, principal: WritePrincipal) -> Response:
    delivery = service.queue_test(session, organization_id=principal.organization_id, subscription_id=webhook_id)
    return ok(DeliveryOut.of(delivery), status_code=202)


@router.get(f"{WEBHOOK}/deliveries", tags=WEBHOOKS, response_model=ListEnvelope[DeliveryOut],
            summary="List a subscription's deliveries with their attempts",
            description="Newest first. Each delivery lists every attempt (status code, latency, the start of the "
                        "response body, error). Needs the `read` scope.")
def list_deliveries(webhook_id: str, request: Request, session: DbSession, principal: ReadPrincipal,
                    page: PageQuery, status: DeliveryStatus | None = None,
                    event_type: Annotated[str | None, Query(max_length=64)] = None) -> Response:
    deliveries, total = service.list_deliveries(session, organization_id=principal.organization_id,
                                                subscription_id=webhook_id, page=page, status=status,
                                                event_type=event_type)
    return paginated(request, [DeliveryOut.of(d) for d in deliveries], total, page)


@router.post(f"{WEBHOOK}/deliveries/{{delivery_id}}/retry", tags=WEBHOOKS, status_code=202,
             response_model=Envelope[DeliveryOut], summary="Retry a delivery now",
             description="Queues the delivery for an immediate attempt with a fresh retry schedule (same "
                         "`webhook-id` and body). Needs the `write` scope. 409 `DELIVERY_IN_PROGRESS` while a worker "
                         "is sending it, 409 `WEBHOOK_DISABLED` for a disabled subscription.")
def retry_delivery(webhook_id: str, delivery_id: str, session: DbSession, principal: WritePrincipal) -> Response:
    delivery = service.retry_delivery(session, organization_id=principal.organization_id,
                                      subscription_id=webhook_id, delivery_id=delivery_id)
    return ok(DeliveryOut.of(delivery), status_code=202)
