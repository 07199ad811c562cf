"""Outbox and delivery invariants, verified on a live database by ``vitrina check``.

- the fan-out cursor never points past the newest event (else new events would be skipped);
- a delivery belongs to its subscription's organization (tenancy);
- a ``succeeded`` delivery has a successful attempt, a ``failed`` one at least one attempt or a reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session

from vitrina.core.models import OutboxEvent
from vitrina.events.models import FAILED, SUCCEEDED, FanoutCursor, WebhookAttempt, WebhookDelivery, WebhookSubscription

MAX_REPORTED = 1000


def run_checks(session: Session) -> list[str]:
    violations: list[str] = []
    for check in _CHECKS:
        violations.extend(list(check(session))[:MAX_REPORTED])
    return violations


def _cursor(session: Session) -> Iterable[str]:
    cursor = session.get(FanoutCursor, 1)
    newest = session.scalar(select(func.max(OutboxEvent.seq))) or 0
    if cursor is not None and cursor.high_water > newest:
        yield f"events: the fan-out cursor is at {cursor.high_water} but the newest event is {newest}"


def _tenancy(session: Session) -> Iterable[str]:
    rows = session.execute(
        select(WebhookDelivery.id, WebhookDelivery.organization_id, WebhookSubscription.organization_id)
        .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
        .where(WebhookDelivery.organization_id != WebhookSubscription.organization_id).limit(MAX_REPORTED))
    for delivery_id, delivery_org, subscription_org in rows:
        yield f"events: delivery {delivery_id} of {delivery_org} belongs to a subscription of {subscription_org}"


def _outcomes(session: Session) -> Iterable[str]:
    succeeded_attempt = exists().where(WebhookAttempt.delivery_id == WebhookDelivery.id,
                                       WebhookAttempt.succeeded.is_(True))
    any_attempt = exists().where(WebhookAttempt.delivery_id == WebhookDelivery.id)
    rows = session.execute(select(WebhookDelivery.organization_id, WebhookDelivery.id, WebhookDelivery.status).where(
        ((WebhookDelivery.status == SUCCEEDED) & ~succeeded_attempt)
        | and_(WebhookDelivery.status == FAILED, ~any_attempt, WebhookDelivery.last_error.is_(None))
    ).limit(MAX_REPORTED))
    for org, delivery_id, status in rows:
        yield f"events {org} {delivery_id}: {status} without the attempt that explains it"


_CHECKS: tuple[Callable[[Session], Iterable[str]], ...] = (_cursor, _tenancy, _outcomes)
