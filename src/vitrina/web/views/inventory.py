"""Inventory pages: the list with the API's filters, receiving a piece, the item page with its ledger and the
adjust / transfer / reserve / status / archive forms, the tag label, and the point-in-time snapshot."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from vitrina.core.errors import NotFoundError, ValidationFailed, VitrinaError
from vitrina.core.money import to_str
from vitrina.core.pagination import Page
from vitrina.core.time import end_of_day, utcnow
from vitrina.db.session import DbSession
from vitrina.inventory import service as inventory
from vitrina.inventory.models import CERTIFICATIONS, REASON_CODES, ROOM_TYPES, STATUSES, Item
from vitrina.web import forms, labels
from vitrina.web.domains import optional_service
from vitrina.web.routing import Staff, StaffReader, StaffWriteForm, fresh, page_router, redirect
from vitrina.web.templating import humanize, money, render

router = page_router()
NAV = (("Inventory", "/app/inventory"), ("Snapshot", "/app/snapshot"))

PAGE_SIZE = 25
MOVEMENTS_PAGE_SIZE = 20
SORTS = {"-created_at": "Newest first", "created_at": "Oldest first", "price": "Price, low to high",
         "-price": "Price, high to low", "sku": "SKU"}
# Reason codes a person may pick for a manual adjustment (sales, returns and transfers have their own screens).
MANUAL_REASONS = tuple(code for code in REASON_CODES if code not in ("SALE", "RETURN", "TRANSFER"))


def _choice(value: str | None, allowed: tuple[str, ...] | dict[str, str]) -> str | None:
    return value if value in allowed else None


def location_names(session: Session, staff: Staff) -> dict[str, str]:
    found, _ = inventory.list_locations(session, organization_id=staff.organization_id,
                                        page=Page(limit=200, offset=0))
    return {location.id: location.name for location in found}


def room_options() -> list[tuple[str, str]]:
    return [(room, humanize(room)) for room in ROOM_TYPES]


def page_count(total: int, size: int) -> int:
    return max(math.ceil(total / size), 1)


# --- list -------------------------------------------------------------------------------------------------------

@router.get("/app/inventory")
def inventory_list(request: Request, session: DbSession, staff: StaffReader, q: str | None = None,
                   category: str | None = None, status: str | None = None, location_id: str | None = None,
                   room_type: str | None = None, low_stock: str | None = None, sort: str | None = None,
                   page: int = 1) -> Response:
    filters = inventory.ItemFilters(
        q=forms.text(q), category=forms.text(category), status=_choice(status, STATUSES),
        location_id=forms.text(location_id), room_type=_choice(room_type, ROOM_TYPES),
        low_stock=True if low_stock == "true" else None, sort=_choice(sort, SORTS) or "-created_at")
    page = max(page, 1)
    items, total = inventory.list_items(session, organization_id=staff.organization_id, filters=filters,
                                        page=Page(limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE))
    held = inventory.reserved_now(session, items)
    query = {k: v for k, v in request.query_params.items() if k != "page" and v}

    def url_for_page(number: int) -> str:
        return "/app/inventory?" + urlencode(query | {"page": number})

    return render(request, "inventory/list.html", {
        "items": items, "held": held, "total": total, "page": page, "pages": page_count(total, PAGE_SIZE),
        "url_for_page": url_for_page, "filters": filters, "low_stock": filters.low_stock,
        "locations": location_names(session, staff), "statuses": STATUSES, "rooms": ROOM_TYPES, "sorts": SORTS,
    })


# --- receive a piece --------------------------------------------------------------------------------------------

def _new_form(request: Request, session: Session, staff: Staff, values: dict[str, Any],
              errors: dict[str, str] | None = None, status: int = 200) -> Response:
    return render(request, "inventory/new.html", {
        "values": values, "errors": errors or {}, "locations": location_names(session, staff),
        "room_options": room_options(), "cert_options": [(c, c) for c in CERTIFICATIONS if c != "none"],
    }, status=status)


@router.get("/app/inventory/new")
def new_item_form(request: Request, session: DbSession, staff: StaffReader) -> Response:
    return _new_form(request, session, staff, {"tracking": "serialized", "quantity": "1",
                                               "currency": staff.currency, "room_type": "sales_floor"})


def _item_fields(form: dict[str, Any]) -> dict[str, Any]:
    """The API's item fields from the form; blank fields are left out so the service applies its defaults."""
    names = ("sku", "name", "tracking", "category", "description", "currency", "location_id", "room_type",
             "certification", "cert_number", "external_id", "supplier_id")
    fields: dict[str, Any] = {name: forms.text(form.get(name)) for name in names}
    fields["quantity"] = forms.integer(form.get("quantity"), "quantity", required=False)
    fields["low_stock_threshold"] = forms.integer(form.get("low_stock_threshold"), "low_stock_threshold",
                                                  required=False)
    fields["price"] = forms.decimal(form.get("price"), "price")
    fields["cost"] = forms.decimal(form.get("cost"), "cost")
    attributes = {name: forms.text(form.get(name)) for name in ("metal", "karat", "weight_g", "stones")}
    fields["attributes"] = {k: v for k, v in attributes.items() if v is not None} or None
    return {k: v for k, v in fields.items() if v is not None}


@router.post("/app/inventory/new")
async def create_item(request: Request, session: DbSession, staff: StaffWriteForm) -> Response:
    form = dict((await request.form()).items())
    values = forms.form_dict({k: v for k, v in form.items() if isinstance(v, str)})
    try:
        item = inventory.create_item(session, organization_id=staff.organization_id, actor=staff.actor,
                                     fields=_item_fields(values))
    except VitrinaError as exc:
        fresh(session)
        return _new_form(request, session, staff, values, forms.field_errors(exc), exc.status)
    return redirect(request, f"/app/inventory/{item.id}", flash=f"{item.name} ({item.sku}) was received.")


# --- item page --------------------------------------------------------------------------------------------------

def passport_of(session: Session, staff: Staff, item: Item) -> Any:
    """The piece's passport when the provenance domain is installed and one is linked to the item."""
    provenance = optional_service("provenance", "list_passports")
    if provenance is None:
        return None
    found, _ = provenance.list_passports(session, organization_id=staff.organization_id, page=Page(limit=1, offset=0),
                                         inventory_id=item.id)
    return found[0] if found else None


def item_sales(session: Session, staff: Staff, item: Item) -> list[Any]:
    sales = optional_service("sales")
    if sales is None:
        return []
    found, _ = sales.list_transactions(session, organization_id=staff.organization_id,
                                       page=Page(limit=10, offset=0), inventory_id=item.id)
    return list(found)


def item_page(request: Request, session: Session, staff: Staff, ref: str, *, mpage: int = 1,
              errors: dict[str, dict[str, str]] | None = None, values: dict[str, dict[str, Any]] | None = None,
              status: int = 200) -> Response:
    item = inventory.get_item(session, organization_id=staff.organization_id, ref=ref)
    held = inventory.reserved_now(session, [item]).get(item.id, 0)
    mpage = max(mpage, 1)
    movements, movement_total = inventory.list_movements(
        session, organization_id=staff.organization_id, item_id=item.id,
        page=Page(limit=MOVEMENTS_PAGE_SIZE, offset=(mpage - 1) * MOVEMENTS_PAGE_SIZE))

    def url_for_page(number: int) -> str:
        return f"/app/inventory/{item.id}?mpage={number}#movements"

    return render(request, "inventory/item.html", {
        "item": item, "held": held, "available": max(item.quantity - held, 0),
        "movements": movements, "movement_total": movement_total, "mpage": mpage,
        "mpages": page_count(movement_total, MOVEMENTS_PAGE_SIZE), "url_for_page": url_for_page,
        "locations": location_names(session, staff), "rooms": ROOM_TYPES, "reasons": MANUAL_REASONS,
        "passport": passport_of(session, staff, item), "sales": item_sales(session, staff, item),
        "errors": errors or {}, "values": values or {},
    }, status=status)


@router.get("/app/inventory/{ref}")
def item_detail(request: Request, session: DbSession, staff: StaffReader, ref: str, mpage: int = 1) -> Response:
    return item_page(request, session, staff, ref, mpage=mpage)


async def _form_values(request: Request) -> dict[str, str]:
    return {k: v for k, v in (await request.form()).items() if isinstance(v, str) and k != "csrf_token"}


def _act(request: Request, session: Session, staff: Staff, ref: str, form_name: str, values: dict[str, str],
         action: Callable[[], str]) -> Response:
    """Run one form's service call: on success redirect with its message, on a domain error re-render the item
    page (status of the error, so the request's transaction is rolled back) with the message by the form."""
    try:
        message = action()
    except VitrinaError as exc:
        fresh(session)
        return item_page(request, session, staff, ref, errors={form_name: forms.field_errors(exc)},
                         values={form_name: values}, status=exc.status)
    return redirect(request, f"/app/inventory/{ref}", flash=message)


@router.post("/app/inventory/{ref}/adjust")
async def adjust(request: Request, session: DbSession, staff: StaffWriteForm, ref: str) -> Response:
    values = await _form_values(request)

    def action() -> str:
        change = forms.integer(values.get("quantity_change"), "quantity_change")
        if change is None or change == 0:
            raise ValidationFailed.field("$.quantity_change", "must be a non-zero whole number")
        item, movement = inventory.adjust_quantity(
            session, organization_id=staff.organization_id, item_id=ref, quantity_change=change,
            reason_code=values.get("reason_code", ""), actor=staff.actor, notes=forms.text(values.get("notes")),
            reference=forms.text(values.get("reference")),
            expected_quantity=forms.integer(values.get("expected_quantity"), "expected_quantity", required=False))
        return f"Adjusted by {movement.quantity_change:+d} ({movement.reason_code}); quantity is now {item.quantity}."

    return _act(request, session, staff, ref, "adjust", values, action)


@router.post("/app/inventory/{ref}/transfer")
async def transfer(request: Request, session: DbSession, staff: StaffWriteForm, ref: str) -> Response:
    values = await _form_values(request)

    def action() -> str:
        moved = inventory.transfer_item(
            session, organization_id=staff.organization_id, item_id=ref,
            to_location_id=forms.text(values.get("to_location_id")),
            to_room_type=_choice(values.get("to_room_type"), ROOM_TYPES),
            quantity=forms.integer(values.get("quantity") or "1", "quantity") or 1, actor=staff.actor,
            notes=forms.text(values.get("notes")), reference=forms.text(values.get("reference")))
        target = moved.target
        where = location_names(session, staff).get(target.location_id or "", "no location")
        return f"Moved to {humanize(target.room_type).lower()} at {where}."

    return _act(request, session, staff, ref, "transfer", values, action)


@router.post("/app/inventory/{ref}/reserve")
async def reserve(request: Request, session: DbSession, staff: StaffWriteForm, ref: str) -> Response:
    values = await _form_values(request)

    def action() -> str:
        reservation = inventory.reserve_item(
            session, organization_id=staff.organization_id, item_id=ref,
            quantity=forms.integer(values.get("quantity") or "1", "quantity") or 1,
            reference=forms.text(values.get("reference")),
            expires_at=forms.instant(values.get("expires_at"), "expires_at"), actor=staff.actor)
        return f"Reserved {reservation.quantity} (reservation {reservation.id})."

    return _act(request, session, staff, ref, "reserve", values, action)


@router.post("/app/inventory/{ref}/status")
async def change_status(request: Request, session: DbSession, staff: StaffWriteForm, ref: str) -> Response:
    values = await _form_values(request)

    def action() -> str:
        item = inventory.update_item(session, organization_id=staff.organization_id, item_id=ref,
                                     changes={"status": values.get("status")}, actor=staff.actor)
        return f"Status is now {item.status}."

    return _act(request, session, staff, ref, "status", values, action)


@router.post("/app/inventory/{ref}/archive")
async def archive(request: Request, session: DbSession, staff: StaffWriteForm, ref: str) -> Response:
    values = await _form_values(request)

    def action() -> str:
        item = inventory.archive_item(session, organization_id=staff.organization_id, item_id=ref,
                                      actor=staff.actor)
        return f"{item.name} was archived; its history is kept."

    return _act(request, session, staff, ref, "archive", values, action)


# --- tag label --------------------------------------------------------------------------------------------------

def verify_url(request: Request, tag_id: str) -> str:
    base = request.app.state.settings.public_base_url.rstrip("/")
    return f"{base}/v/{tag_id}"


LABEL_TYPES = {"png": "image/png", "pdf": "application/pdf"}


@router.get("/app/inventory/{ref}/label.{kind}")
def tag_label(request: Request, session: DbSession, staff: StaffReader, ref: str, kind: str) -> Response:
    """A printable label (PNG or PDF): QR of the passport's verify URL (or of this item page when no passport is
    linked)."""
    if kind not in LABEL_TYPES:
        raise NotFoundError()
    item = inventory.get_item(session, organization_id=staff.organization_id, ref=ref)
    passport = passport_of(session, staff, item)
    tag_id = getattr(passport, "tag_id", None)
    url = verify_url(request, tag_id) if tag_id else \
        f"{request.app.state.settings.public_base_url.rstrip('/')}/app/inventory/{item.id}"
    body = labels.tag_label(url=url, sku=item.sku, name=item.name, price=money(item.price, item.currency),
                            footer=tag_id or item.external_id or item.id, kind=kind)
    return Response(body, media_type=LABEL_TYPES[kind], headers={
        "Content-Disposition": f'inline; filename="label-{item.id}.{kind}"', "Cache-Control": "no-store"})


# --- snapshot ---------------------------------------------------------------------------------------------------

def _snapshot_instant(day: str | None) -> tuple[datetime, str]:
    now = utcnow()
    raw = forms.text(day)
    if raw is None:
        return now, now.date().isoformat()
    try:
        chosen = date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed.field("$.date", "must be a date (YYYY-MM-DD)") from None
    if chosen > now.date():
        raise ValidationFailed.field("$.date", "must not be in the future")
    return min(end_of_day(chosen), now), chosen.isoformat()


@router.get("/app/snapshot")
def snapshot(request: Request, session: DbSession, staff: StaffReader, date: str | None = None,
             location_id: str | None = None, room_type: str | None = None, page: int = 1) -> Response:
    locations = location_names(session, staff)
    error = None
    try:
        at, day = _snapshot_instant(date)
    except ValidationFailed as exc:
        error, (at, day) = exc, _snapshot_instant(None)
    location = location_id if location_id in locations else None
    room = _choice(room_type, ROOM_TYPES)
    page = max(page, 1)
    result = inventory.take_snapshot(session, organization_id=staff.organization_id, at=at,
                                     page=Page(limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE),
                                     location_id=location, room_type=room)
    query = {"date": day, "location_id": location or "", "room_type": room or ""}

    def url_for_page(number: int) -> str:
        return "/app/snapshot?" + urlencode(query | {"page": number})

    return render(request, "inventory/snapshot.html", {
        "result": result, "day": day, "location_id": location, "room_type": room, "locations": locations,
        "rooms": ROOM_TYPES, "page": page, "pages": page_count(result.total, PAGE_SIZE),
        "url_for_page": url_for_page, "csv_url": "/app/snapshot.csv?" + urlencode(query), "error": error,
        "today": utcnow().date().isoformat(),
    }, status=422 if error else 200)


CSV_COLUMNS = ("id", "external_id", "sku", "name", "category", "tracking", "location", "room_type", "quantity",
               "cost", "price", "currency")


def csv_cell(value: Any) -> str:
    """A spreadsheet-safe cell: text that a spreadsheet would run as a formula is prefixed with a quote."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


@router.get("/app/snapshot.csv")
def snapshot_csv(request: Request, session: DbSession, staff: StaffReader, date: str | None = None,
                 location_id: str | None = None, room_type: str | None = None) -> Response:
    at, day = _snapshot_instant(date)
    locations = location_names(session, staff)
    location = location_id if location_id in locations else None
    room = _choice(room_type, ROOM_TYPES)
    rows: list[list[str]] = []
    offset = 0
    while True:  # read it all before streaming: the request's session closes when the handler returns
        result = inventory.take_snapshot(session, organization_id=staff.organization_id, at=at,
                                         page=Page(limit=200, offset=offset), location_id=location, room_type=room)
        for line in result.lines:
            row = line.item
            rows.append([csv_cell(v) for v in (
                row.id, row.external_id, row.sku, row.name, row.category, row.tracking,
                locations.get(line.location_id or "", line.location_id), line.room_type, line.quantity,
                to_str(row.cost, row.currency), to_str(row.price, row.currency), row.currency)])
        offset += len(result.lines)
        if not result.lines or offset >= result.total:
            break

    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        for row in rows:
            writer.writerow(row)
            if buffer.tell() > 65536:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    filename = f"snapshot-{day}{'-' + location if location else ''}.csv"
    return StreamingResponse(lines(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})
