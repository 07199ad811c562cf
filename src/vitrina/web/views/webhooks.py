"""Webhooks (owners only): subscriptions with their secret shown once, deliveries with their attempts, a test
event, and a retry button for a delivery. Every action is an ``events.service`` call."""

from __future__ import annotations

import math
from typing import Any

from fastapi import Request, Response
from sqlalchemy.orm import Session

from vitrina.core.errors import ValidationFailed, VitrinaError
from vitrina.core.pagination import Page
from vitrina.db.session import DbSession
from vitrina.events import matching
from vitrina.events import service as events
from vitrina.events.models import ACTIVE, DISABLED
from vitrina.events.ssrf import UrlPolicy
from vitrina.web import forms
from vitrina.web.routing import Staff, StaffAdminForm, StaffAdminPage, fresh, page_router, redirect
from vitrina.web.templating import render

router = page_router()
BASE = "/app/settings/webhooks"
DELIVERIES_PAGE_SIZE = 20
# Offered as checkboxes; any other type or a prefix wildcard can be typed in the "other" field.
COMMON_EVENTS = ("inventory.*", "inventory.sold", "inventory.low_stock", "transaction.completed", "order.*",
                 "transfer.*", "price.updated", "*")


def _filters(values: dict[str, Any], chosen: list[str]) -> list[str]:
    typed = [part.strip() for part in (values.get("other_events") or "").replace("\n", ",").split(",")]
    patterns = [p for p in [*chosen, *typed] if p]
    if not patterns:
        raise ValidationFailed.field("$.events", "choose at least one event type")
    for index, pattern in enumerate(patterns):
        problem = matching.filter_problem(pattern)
        if problem:
            raise ValidationFailed.field(f"$.events[{index}]", f"“{pattern}” {problem}")
    return patterns


def list_page(request: Request, session: Session, staff: Staff, *, created: Any = None, secret: str | None = None,
              errors: dict[str, str] | None = None, values: dict[str, Any] | None = None,
              status: int = 200) -> Response:
    found, _total = events.list_subscriptions(session, organization_id=staff.organization_id,
                                              page=Page(limit=200, offset=0))
    return render(request, "settings/webhooks.html", {
        "subscriptions": found, "created": created, "secret": secret, "errors": errors or {},
        "values": values or {"events": ["inventory.*"]}, "common_events": COMMON_EVENTS,
    }, status=status)


@router.get(BASE)
def webhooks(request: Request, session: DbSession, staff: StaffAdminPage) -> Response:
    return list_page(request, session, staff)


@router.post(BASE)
async def create_webhook(request: Request, session: DbSession, staff: StaffAdminForm) -> Response:
    form = await request.form()
    values: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    values["events"] = [str(v) for v in form.getlist("events")]
    settings = request.app.state.settings
    try:
        url = forms.text(values.get("url"))
        if url is None:
            raise ValidationFailed.field("$.url", "is required")
        subscription, secret = events.create_subscription(
            session, organization_id=staff.organization_id, url=url, events=_filters(values, values["events"]),
            description=forms.text(values.get("description")), policy=UrlPolicy.from_settings(settings),
            server_secret=settings.signing_secret)
    except VitrinaError as exc:
        fresh(session)
        return list_page(request, session, staff, errors=forms.field_errors(exc), values=values, status=exc.status)
    # Rendered, not redirected: the signing secret is shown this once and never travels in a cookie or URL.
    return list_page(request, session, staff, created=subscription, secret=secret)


def detail_page(request: Request, session: Session, staff: Staff, subscription_id: str, *, page: int = 1,
                error: VitrinaError | None = None, status: int = 200) -> Response:
    subscription = events.get_subscription(session, organization_id=staff.organization_id,
                                           subscription_id=subscription_id)
    page = max(page, 1)
    deliveries, total = events.list_deliveries(
        session, organization_id=staff.organization_id, subscription_id=subscription.id,
        page=Page(limit=DELIVERIES_PAGE_SIZE, offset=(page - 1) * DELIVERIES_PAGE_SIZE))

    def url_for_page(number: int) -> str:
        return f"{BASE}/{subscription.id}?page={number}"

    return render(request, "settings/webhook.html", {
        "subscription": subscription, "deliveries": deliveries, "total": total, "page": page,
        "pages": max(math.ceil(total / DELIVERIES_PAGE_SIZE), 1), "url_for_page": url_for_page, "error": error,
        "active": subscription.status == ACTIVE,
    }, status=status)


@router.get(BASE + "/{subscription_id}")
def webhook(request: Request, session: DbSession, staff: StaffAdminPage, subscription_id: str,
            page: int = 1) -> Response:
    return detail_page(request, session, staff, subscription_id, page=page)


def _run(request: Request, session: Session, staff: Staff, subscription_id: str, action: Any,
         message: str, location: str | None = None) -> Response:
    try:
        action()
    except VitrinaError as exc:
        fresh(session)
        return detail_page(request, session, staff, subscription_id, error=exc, status=exc.status)
    return redirect(request, location or f"{BASE}/{subscription_id}", flash=message)


@router.post(BASE + "/{subscription_id}/test")
async def send_test(request: Request, session: DbSession, staff: StaffAdminForm, subscription_id: str) -> Response:
    return _run(request, session, staff, subscription_id,
                lambda: events.queue_test(session, organization_id=staff.organization_id,
                                          subscription_id=subscription_id),
                "A test event is queued; the worker sends it within seconds.")


@router.post(BASE + "/{subscription_id}/deliveries/{delivery_id}/retry")
async def retry(request: Request, session: DbSession, staff: StaffAdminForm, subscription_id: str,
                delivery_id: str) -> Response:
    return _run(request, session, staff, subscription_id,
                lambda: events.retry_delivery(session, organization_id=staff.organization_id,
                                              subscription_id=subscription_id, delivery_id=delivery_id),
                f"Delivery {delivery_id} will be sent again now.")


@router.post(BASE + "/{subscription_id}/status")
async def set_status(request: Request, session: DbSession, staff: StaffAdminForm, subscription_id: str) -> Response:
    target = ACTIVE if (await request.form()).get("status") == ACTIVE else DISABLED
    settings = request.app.state.settings
    return _run(request, session, staff, subscription_id,
                lambda: events.update_subscription(session, organization_id=staff.organization_id,
                                                   subscription_id=subscription_id, changes={"status": target},
                                                   policy=UrlPolicy.from_settings(settings)),
                "The webhook is enabled." if target == ACTIVE else "The webhook is disabled.")


@router.post(BASE + "/{subscription_id}/delete")
async def delete(request: Request, session: DbSession, staff: StaffAdminForm, subscription_id: str) -> Response:
    return _run(request, session, staff, subscription_id,
                lambda: events.delete_subscription(session, organization_id=staff.organization_id,
                                                   subscription_id=subscription_id),
                "The webhook is deleted.", location=BASE)
