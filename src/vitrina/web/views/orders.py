"""Orders: a board with one column per status whose cards carry the legal next steps as buttons, and the
order page with its items and history. The legal steps come from the orders domain (``lifecycle``), and
every move goes through ``orders.service.update_order``, which refuses anything else."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from sqlalchemy.orm import Session

from vitrina.core.errors import VitrinaError
from vitrina.core.pagination import Page
from vitrina.db.session import DbSession
from vitrina.inventory import service as inventory
from vitrina.orders import lifecycle
from vitrina.orders import service as orders
from vitrina.web import forms
from vitrina.web.routing import Staff, StaffReader, StaffWriteForm, fresh, page_router, redirect
from vitrina.web.templating import render

router = page_router()
NAV = (("Orders", "/app/orders"),)

CARDS_PER_COLUMN = 30
# The board shows the working statuses left to right; finished and canceled orders are counted, not listed.
BOARD_STATUSES = (1, 2, 3, 4, 5, 6, 7, 8)
CLOSED_STATUSES = (lifecycle.FINISHED, lifecycle.CANCELED)


def next_steps(status: int) -> list[tuple[int, str]]:
    return [(target, lifecycle.ORDER_STATUSES[target]) for target in lifecycle.allowed_next(status)]


def _column(session: Session, staff: Staff, status: int) -> dict[str, Any]:
    found, total = orders.list_orders(session, organization_id=staff.organization_id,
                                      page=Page(limit=CARDS_PER_COLUMN, offset=0), status=status)
    return {"status": status, "label": lifecycle.ORDER_STATUSES[status], "orders": found, "total": total}


@router.get("/app/orders")
def board(request: Request, session: DbSession, staff: StaffReader) -> Response:
    columns = [_column(session, staff, status) for status in BOARD_STATUSES]
    closed = [_column(session, staff, status) for status in CLOSED_STATUSES]
    return render(request, "orders/board.html", {"columns": columns, "closed": closed, "next_steps": next_steps})


def order_page(request: Request, session: Session, staff: Staff, order_id: str, *,
               error: VitrinaError | None = None, status: int = 200) -> Response:
    order = orders.get_order(session, organization_id=staff.organization_id, order_id=order_id)
    locations, _ = inventory.list_locations(session, organization_id=staff.organization_id,
                                            page=Page(limit=200, offset=0))
    return render(request, "orders/order.html", {
        "order": order, "statuses": lifecycle.ORDER_STATUSES, "payment_statuses": lifecycle.PAYMENT_STATUSES,
        "pay_methods": lifecycle.PAY_METHODS, "next_steps": next_steps(order.status), "error": error,
        "receivable": order.status in lifecycle.RECEIVABLE and order.received_at is None,
        "locations": locations,
    }, status=status)


@router.get("/app/orders/{order_id}")
def order_detail(request: Request, session: DbSession, staff: StaffReader, order_id: str) -> Response:
    return order_page(request, session, staff, order_id)


async def _values(request: Request) -> dict[str, str]:
    return {k: v for k, v in (await request.form()).items() if isinstance(v, str) and k != "csrf_token"}


def _back(values: dict[str, str], order_id: str) -> str:
    return "/app/orders" if values.get("back") == "board" else f"/app/orders/{order_id}"


@router.post("/app/orders/{order_id}/status")
async def move(request: Request, session: DbSession, staff: StaffWriteForm, order_id: str) -> Response:
    values = await _values(request)
    try:
        target = forms.integer(values.get("order_status"), "order_status")
        changes: dict[str, Any] = {"order_status": target}
        if forms.text(values.get("comment")):
            changes["comment"] = forms.text(values.get("comment"))
        order = orders.update_order(session, organization_id=staff.organization_id, order_id=order_id,
                                    actor=staff.actor, changes=changes)
    except VitrinaError as exc:
        fresh(session)
        return order_page(request, session, staff, order_id, error=exc, status=exc.status)
    label = lifecycle.ORDER_STATUSES[order.status]
    return redirect(request, _back(values, order.id), flash=f"Order {order.external_order_id or order.id} is now "
                                                            f"{label}.")


@router.post("/app/orders/{order_id}/details")
async def update_details(request: Request, session: DbSession, staff: StaffWriteForm, order_id: str) -> Response:
    values = await _values(request)
    try:
        changes = {"tracking_number": forms.text(values.get("tracking_number")),
                   "payment_status": forms.integer(values.get("payment_status"), "payment_status")}
        orders.update_order(session, organization_id=staff.organization_id, order_id=order_id, actor=staff.actor,
                            changes=changes)
    except VitrinaError as exc:
        fresh(session)
        return order_page(request, session, staff, order_id, error=exc, status=exc.status)
    return redirect(request, f"/app/orders/{order_id}", flash="Order updated.")


@router.post("/app/orders/{order_id}/receive")
async def receive(request: Request, session: DbSession, staff: StaffWriteForm, order_id: str) -> Response:
    values = await _values(request)
    try:
        order, items = orders.receive_order(session, organization_id=staff.organization_id, order_id=order_id,
                                            actor=staff.actor, location_id=values.get("location_id", ""))
    except VitrinaError as exc:
        fresh(session)
        return order_page(request, session, staff, order_id, error=exc, status=exc.status)
    return redirect(request, f"/app/orders/{order.id}", flash=f"{len(items)} piece(s) received into stock.")
