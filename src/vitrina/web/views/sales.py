"""Sales: the point-of-sale screen and the transactions list.

The POS keeps its cart in the form itself (one hidden input pair per line), so nothing is stored until the
sale is completed; completing it is one call to ``sales.service.record_transaction``, which prices the lines
(tier prices included), moves the stock and passes passports to the customer, all in one transaction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response
from sqlalchemy.orm import Session

from vitrina.core.errors import ValidationFailed, VitrinaError
from vitrina.core.pagination import Page
from vitrina.db.session import DbSession
from vitrina.inventory import service as inventory
from vitrina.inventory.errors import ItemNotFound
from vitrina.sales import service as sales
from vitrina.web import forms
from vitrina.web.routing import Staff, StaffReader, StaffWriteForm, fresh, page_router, redirect
from vitrina.web.templating import render

router = page_router()
NAV = (("Point of sale", "/app/pos", "write"), ("Transactions", "/app/transactions"))

PAGE_SIZE = 25
PAYMENT_METHODS = {"card": "Card", "cash": "Cash", "transfer": "Bank transfer", "other": "Other"}


@dataclass(frozen=True, slots=True)
class CartLine:
    item: Any
    quantity: int

    @property
    def amount(self) -> Decimal | None:
        return None if self.item.price is None else self.item.price * self.quantity


def _cart(session: Session, staff: Staff, refs: list[str], quantities: list[str]) -> list[CartLine]:
    """The cart's lines, merged by item; an item that vanished meanwhile is dropped."""
    merged: dict[str, CartLine] = {}
    for ref, raw in zip(refs, quantities, strict=False):
        quantity = max(forms.integer(raw or "1", "quantity") or 1, 1)
        try:
            item = inventory.get_item(session, organization_id=staff.organization_id, ref=ref)
        except ItemNotFound:
            continue
        if item.id in merged:
            quantity += merged[item.id].quantity
        merged[item.id] = CartLine(item, quantity)
    return list(merged.values())


def _find(session: Session, staff: Staff, code: str) -> Any:
    """What the scanner read: an item id, an external id, or a SKU (its available piece)."""
    try:
        return inventory.get_item(session, organization_id=staff.organization_id, ref=code)
    except ItemNotFound:
        pass
    found, _ = inventory.list_items(session, organization_id=staff.organization_id,
                                    filters=inventory.ItemFilters(sku=code, status="active"),
                                    page=Page(limit=1, offset=0))
    if not found:
        raise ItemNotFound(f"Nothing in stock has the SKU or id “{code}”.", details={"code": code})
    return found[0]


def _customers(session: Session, staff: Staff) -> list[Any]:
    found, _ = sales.list_customers(session, organization_id=staff.organization_id, page=Page(limit=200, offset=0))
    return sorted(found, key=lambda c: (c.name or c.email or c.id).lower())


def pos_page(request: Request, session: Session, staff: Staff, *, lines: list[CartLine],
             values: dict[str, str], error: VitrinaError | None = None, status: int = 200) -> Response:
    currencies = {line.item.currency for line in lines}
    currency = currencies.pop() if len(currencies) == 1 else staff.currency
    estimate = sum((line.amount or Decimal(0) for line in lines), Decimal(0))
    return render(request, "sales/pos.html", {
        "lines": lines, "values": values, "error": error, "currency": currency, "estimate": estimate,
        "customers": _customers(session, staff), "payment_methods": PAYMENT_METHODS,
    }, status=status)


@router.get("/app/pos")
def pos(request: Request, session: DbSession, staff: StaffReader) -> Response:
    return pos_page(request, session, staff, lines=[], values={"payment_method": "card"})


@router.post("/app/pos")
async def pos_action(request: Request, session: DbSession, staff: StaffWriteForm) -> Response:
    form = await request.form()
    refs = [str(v) for v in form.getlist("line_ref")]
    quantities = [str(v) for v in form.getlist("line_qty")]
    values = {k: str(v) for k, v in form.items() if k not in ("csrf_token", "line_ref", "line_qty")}
    action = values.get("action", "add")
    lines = _cart(session, staff, refs, quantities)
    if action.startswith("remove:"):
        index = forms.integer(action.removeprefix("remove:"), "action") or 0
        lines = [line for number, line in enumerate(lines) if number != index]
        return pos_page(request, session, staff, lines=lines, values=values)
    if action == "complete":
        return _complete(request, session, staff, lines, values)
    code = forms.text(values.pop("code", None))
    if code is None:
        return pos_page(request, session, staff, lines=lines, values=values)
    try:
        item = _find(session, staff, code)
    except VitrinaError as exc:
        return pos_page(request, session, staff, lines=lines, values=values, error=exc, status=exc.status)
    lines = _cart(session, staff, [line.item.id for line in lines] + [item.id],
                  [str(line.quantity) for line in lines] + ["1"])
    return pos_page(request, session, staff, lines=lines, values=values)


def _complete(request: Request, session: Session, staff: Staff, lines: list[CartLine],
              values: dict[str, str]) -> Response:
    try:
        if not lines:
            raise ValidationFailed.field("$.lines", "scan or type at least one piece")
        txn = sales.record_transaction(
            session, organization_id=staff.organization_id, actor=staff.actor, type=sales.SALE,
            lines=[sales.LineRequest(inventory_id=line.item.id, quantity=line.quantity) for line in lines],
            customer_id=forms.text(values.get("customer_id")),
            payment_method=values.get("payment_method") if values.get("payment_method") in PAYMENT_METHODS else None,
            reference=forms.text(values.get("reference")), tier_id=staff.principal.tier_id)
    except VitrinaError as exc:
        fresh(session)
        kept = _cart(session, staff, [line.item.id for line in lines], [str(line.quantity) for line in lines])
        return pos_page(request, session, staff, lines=kept, values=values, error=exc, status=exc.status)
    return redirect(request, f"/app/transactions/{txn.id}", flash=f"Sale {txn.id} completed.")


# --- transactions -----------------------------------------------------------------------------------------------

def _day(value: str | None, field: str, *, end: bool = False) -> datetime | None:
    raw = forms.text(value)
    if raw is None:
        return None
    try:
        day = datetime.fromisoformat(raw).date()
    except ValueError:
        raise ValidationFailed.field(f"$.{field}", "must be a date") from None
    return datetime.combine(day, time.max if end else time.min, tzinfo=UTC)


@router.get("/app/transactions")
def transactions(request: Request, session: DbSession, staff: StaffReader, type: str | None = None,
                 to: str | None = None, page: int = 1) -> Response:
    params = dict(request.query_params)
    since, until = _day(params.get("from"), "from"), _day(to, "to", end=True)
    page = max(page, 1)
    found, total = sales.list_transactions(
        session, organization_id=staff.organization_id, page=Page(limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE),
        type=type if type in (sales.SALE, sales.RETURN) else None, since=since, until=until)
    query = {k: v for k, v in params.items() if k != "page" and v}

    def url_for_page(number: int) -> str:
        return "/app/transactions?" + urlencode(query | {"page": number})

    return render(request, "sales/transactions.html", {
        "transactions": found, "total": total, "page": page, "pages": max(math.ceil(total / PAGE_SIZE), 1),
        "url_for_page": url_for_page, "query": params,
    })


@router.get("/app/transactions/{transaction_id}")
def transaction(request: Request, session: DbSession, staff: StaffReader, transaction_id: str) -> Response:
    txn = sales.get_transaction(session, organization_id=staff.organization_id, transaction_id=transaction_id)
    customer = None
    if txn.customer_id:
        try:
            customer = sales.get_customer(session, organization_id=staff.organization_id,
                                          customer_id=txn.customer_id)
        except VitrinaError:
            customer = None
    return render(request, "sales/transaction.html", {"txn": txn, "customer": customer})
