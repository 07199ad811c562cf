"""Catalog pages: the product list, a product page with the configurator, and turning a configuration into an
order.

The configurator shows the product's options (``vitrina.web.configurator``) and asks the catalog for the price
on every change over a WebSocket that speaks the API's configurator protocol (method 1001) but is authenticated
by the staff session cookie (the API socket wants an API token, which a person does not have). Pricing and
validation are ``catalog.service.price_configuration``'s, as for ``POST /product-configurations``.

The section is present only when the catalog domain offers the functions it calls (see ``domains.require``).
"""

from __future__ import annotations

import contextlib
import json
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response, WebSocket, WebSocketDisconnect
from fastapi.routing import APIRouter
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from vitrina.core.errors import ValidationFailed, VitrinaError
from vitrina.core.pagination import Page
from vitrina.db.session import ORG_KEY, Database, DbSession
from vitrina.web import configurator, forms, security, service
from vitrina.web.domains import optional_service, require
from vitrina.web.routing import (
    Staff,
    StaffAdminForm,
    StaffAdminPage,
    StaffReader,
    StaffWriteForm,
    fresh,
    page_router,
    redirect,
)
from vitrina.web.templating import render

catalog = require("catalog", "list_products", "get_product", "price_configuration", "price_book", "put_stone_price",
                  "put_metal_price")
from vitrina.catalog.schemas import StonePriceIn  # noqa: E402  (after the check that the domain is there)

router = page_router()
socket_router = APIRouter(include_in_schema=False)
NAV = (("Catalog", "/app/catalog"),)
PAGE_SIZE = 25
SOCKET_PATH = "/app/ws/configurator"
MAX_FRAME = 64 * 1024


def _product(session: Session, staff: Staff, ref: str) -> Any:
    return catalog.get_product(session, organization_id=staff.organization_id, product_id=ref)


@router.get("/app/catalog")
def products(request: Request, session: DbSession, staff: StaffReader, q: str | None = None,
             page: int = 1) -> Response:
    page = max(page, 1)
    found, total = catalog.list_products(session, organization_id=staff.organization_id,
                                         page=Page(limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE),
                                         query=forms.text(q))

    def url_for_page(number: int) -> str:
        return "/app/catalog?" + urlencode({"page": number} | ({"q": q} if q else {}))

    return render(request, "catalog/list.html", {
        "products": found, "total": total, "page": page, "pages": max(-(-total // PAGE_SIZE), 1),
        "url_for_page": url_for_page, "q": q or ""})


def _configuration_from_form(values: dict[str, str]) -> dict[str, Any]:
    """The same configuration the configurator script builds, from the no-script form's field names."""
    configuration: dict[str, Any] = {}
    group_picks: list[tuple[str, str, str, str, str]] = []  # (part, group, entry sku, attribute, value)
    for name, raw in values.items():
        value = raw.strip()
        part, _, rest = name.partition(".")
        if not rest or not value:
            continue
        spec = configuration.setdefault(part, {})
        if rest == "metal":
            sku, _, color = value.partition("|")
            spec["metal"] = {"sku": sku, **({"color": color} if color else {})}
        elif rest == "stones":
            spec["stones"] = int(value) if value.isdigit() else value
        elif rest.startswith("stone."):
            sku, shape, weight = [*value.split("|"), "", ""][:3]
            stone = {"sku": sku, "position": int(rest.removeprefix("stone.") or 0)}
            stone |= {k: v for k, v in (("shape", shape), ("weight", weight)) if v}
            spec.setdefault("stone", []).append(stone)
        elif part == configurator.ENGRAVING:
            slot, _, field = rest.partition(".")
            spec.setdefault(slot, {})[field] = value
        elif "." in rest:  # a choice group: "<group>.sku", or "<group>.<entry sku>.<attribute>"
            group, _, tail = rest.partition(".")
            if tail == "sku":
                spec.setdefault(group, {})["sku"] = value
            else:
                entry_sku, _, attribute = tail.partition(".")
                group_picks.append((part, group, entry_sku, attribute, value))
        else:
            spec[rest] = value
    for part, group, entry_sku, attribute, value in group_picks:  # only the chosen entry's picks count
        chosen = configuration.get(part, {}).get(group)
        if isinstance(chosen, dict) and chosen.get("sku") == entry_sku and attribute:
            chosen[attribute] = value
    _drop_unused(configuration)
    return configuration


def _drop_unused(configuration: dict[str, Any]) -> None:
    """What the script leaves out, the form leaves out too: stone pickers past the chosen count (they are hidden)
    and engraving slots without text."""
    for part, spec in list(configuration.items()):
        if part == configurator.ENGRAVING:
            for slot in [slot for slot, chosen in spec.items() if not (chosen or {}).get("text")]:
                del spec[slot]
        elif isinstance(spec.get("stones"), int) and "stone" in spec:
            spec["stone"] = [stone for stone in spec["stone"] if stone["position"] <= spec["stones"]]
            if not spec["stone"]:
                del spec["stone"]
        if not spec:
            del configuration[part]


def _quote(session: Session, staff: Staff, product: Any, configuration: dict[str, Any]) -> Any:
    return catalog.price_configuration(session, organization_id=staff.organization_id,
                                       vendor_model=product.vendor_model, configuration=configuration, size=None,
                                       qty=1, tier_id=None)


def _breakdown_rows(breakdown: Any, label: str = "") -> list[tuple[str, Decimal]]:
    """The breakdown's amounts as (label, amount) rows, whatever its nesting."""
    if hasattr(breakdown, "model_dump"):
        breakdown = breakdown.model_dump()
    rows: list[tuple[str, Decimal]] = []
    if isinstance(breakdown, dict) and "amount" in breakdown and breakdown.get("part"):
        rows += _breakdown_rows(breakdown["amount"], f"{breakdown['part']} {breakdown.get('item') or ''}".strip())
    elif isinstance(breakdown, dict):
        for key, value in breakdown.items():
            if key != "markup":  # a multiplier, not money; the retail line includes it
                rows += _breakdown_rows(value, f"{label} · {key}" if label else str(key))
    elif isinstance(breakdown, list | tuple):
        for index, value in enumerate(breakdown, 1):
            rows += _breakdown_rows(value, f"{label} {index}".strip())
    elif isinstance(breakdown, Decimal | int | float | str):
        with contextlib.suppress(ArithmeticError):  # a text term (a label) is not an amount
            rows.append((label.replace("_", " "), Decimal(str(breakdown))))
    return rows


def product_page(request: Request, session: Session, staff: Staff, ref: str, *,
                 values: dict[str, str] | None = None, error: VitrinaError | None = None,
                 status: int = 200) -> Response:
    product = _product(session, staff, ref)
    configuration = _configuration_from_form(values or {})
    quote = None
    if values is not None and error is None:
        try:
            quote = _quote(session, staff, product, configuration)
        except VitrinaError as exc:
            error, status = exc, exc.status
    return render(request, "catalog/product.html", {
        "product": product, "parts": configurator.part_controls(product.options),
        "engraving": configurator.engraving_controls(product.options), "chosen": values or {},
        "quote": quote, "breakdown_rows": _breakdown_rows(quote.breakdown) if quote else [],
        "configuration_json": json.dumps(configuration), "socket_path": SOCKET_PATH,
        "image_base": "",  # composed layer images: wired when the catalog offers them to pages
        "image_url": getattr(product, "image_url", None) if _local(getattr(product, "image_url", None)) else None,
        "error": error, "can_order": optional_service("orders", "create_order") is not None,
    }, status=status)


def _local(url: Any) -> bool:
    return isinstance(url, str) and url.startswith("/") and not url.startswith("//")


@router.get("/app/catalog/{ref}")
def product_detail(request: Request, session: DbSession, staff: StaffReader, ref: str) -> Response:
    return product_page(request, session, staff, ref)


@router.post("/app/catalog/{ref}/price")
async def price(request: Request, session: DbSession, staff: StaffWriteForm, ref: str) -> Response:
    values = {k: v for k, v in (await request.form()).items() if isinstance(v, str) and k != "csrf_token"}
    return product_page(request, session, staff, ref, values=values)


@router.post("/app/catalog/{ref}/order")
async def order(request: Request, session: DbSession, staff: StaffWriteForm, ref: str) -> Response:
    orders = optional_service("orders", "create_order")
    values = {k: v for k, v in (await request.form()).items() if isinstance(v, str) and k != "csrf_token"}
    product = _product(session, staff, ref)
    try:
        if orders is None:
            raise ValidationFailed.field("$", "orders are not available in this installation")
        try:
            configuration = json.loads(values.get("configuration") or "{}")
        except ValueError:
            raise ValidationFailed.field("$.configuration", "is not valid JSON") from None
        created = orders.create_order(session, organization_id=staff.organization_id, actor=staff.actor, data={
            "customer_name": forms.text(values.get("customer_name")),
            "customer_email": forms.text(values.get("customer_email")), "order_status": 1,
            "items": [{"vendor_model": product.vendor_model, "configuration": configuration,
                       "qty": forms.integer(values.get("qty") or "1", "qty")}]})
    except VitrinaError as exc:
        fresh(session)
        return product_page(request, session, staff, ref, error=exc, status=exc.status)
    return redirect(request, f"/app/orders/{created.id}", flash=f"Order {created.id} was created.")


# --- the live configurator socket --------------------------------------------------------------------------------

def _price_frame(database: Database, token: str, text: str) -> dict[str, Any]:
    """One configurator request (WJ method 1001) answered as the API socket answers it. A write unit of work:
    pricing stores the configuration under its ``ci``."""
    try:
        request = json.loads(text)
        if not isinstance(request, dict) or request.get("method_id") != 1001:
            raise ValidationFailed.field("$.method_id", "must be 1001")
        with database.unit_of_work() as session:
            record = service.session_for_token(session, token=token)
            if record is None:
                return {"status": "error", "method_id": 1001, "error": 2, "message": "Please sign in again."}
            session.info[ORG_KEY] = record.organization_id
            configuration = request.get("configuration")
            quote = catalog.price_configuration(
                session, organization_id=record.organization_id, vendor_model=str(request.get("vendor_model") or ""),
                configuration=configuration if isinstance(configuration, dict) else {}, size=None, qty=1,
                tier_id=None)
            return {"status": "success", "method_id": 1001, "error": 0, "message": quote.as_dict()}
    except ValueError:
        return {"status": "error", "method_id": 1001, "error": 1, "message": "The message is not JSON."}
    except VitrinaError as exc:
        errors = exc.details.get("errors") if isinstance(exc.details, dict) else None
        detail = "; ".join(f"{e.get('path')}: {e.get('message')}" for e in errors or [])
        return {"status": "error", "method_id": 1001, "error": 1, "message": detail or exc.message}


@socket_router.websocket(SOCKET_PATH)
async def configurator_socket(websocket: WebSocket) -> None:
    origin = websocket.headers.get("origin")
    own = f"{'https' if websocket.url.scheme == 'wss' else 'http'}://{websocket.url.netloc}"
    token = websocket.cookies.get(security.SESSION_COOKIE, "")
    if not token or (origin is not None and origin.rstrip("/") != own):  # no cross-site socket hijacking
        await websocket.close(code=1008)
        return
    await websocket.accept()
    try:
        while True:
            text = await websocket.receive_text()
            reply = {"status": "error", "method_id": 1001, "error": 1, "message": "The message is too large."} \
                if len(text) > MAX_FRAME else \
                await run_in_threadpool(_price_frame, websocket.app.state.db, token, text)
            await websocket.send_text(json.dumps(reply))
    except WebSocketDisconnect:
        return


router.include_router(socket_router)


# --- settings: metal and stone price tables (owners) -----------------------------------------------------------

PRICES = "/app/settings/prices"


def prices_page(request: Request, session: Session, staff: Staff, *, errors: dict[str, str] | None = None,
                values: dict[str, str] | None = None, status: int = 200) -> Response:
    book = catalog.price_book(session, organization_id=staff.organization_id)
    return render(request, "settings/prices.html", {
        "metals": sorted(book.metals.values(), key=lambda m: m.sku.casefold()),
        "stones": sorted(book.stones.items()), "errors": errors or {}, "values": values or {},
    }, status=status)


@router.get(PRICES)
def prices(request: Request, session: DbSession, staff: StaffAdminPage) -> Response:
    return prices_page(request, session, staff)


@router.post(PRICES + "/metals")
async def put_metal(request: Request, session: DbSession, staff: StaffAdminForm) -> Response:
    values = {k: v for k, v in (await request.form()).items() if isinstance(v, str) and k != "csrf_token"}
    try:
        sku, title = forms.text(values.get("material_sku")), forms.text(values.get("material_title"))
        if sku is None or len(sku) > 50:
            raise ValidationFailed.field("$.material_sku", "is required (at most 50 characters)")
        amounts = {name: forms.decimal(values.get(name), name) for name in ("cost_per_gram", "density_g_cm3",
                                                                           "purity")}
        missing = [name for name, amount in amounts.items() if amount is None or amount <= 0]
        if missing:
            raise ValidationFailed([{"path": f"$.{name}", "message": "must be a positive amount"}
                                    for name in missing])
        catalog.put_metal_price(session, organization_id=staff.organization_id, material_sku=sku,
                                material_title=title or sku, cost_per_gram=amounts["cost_per_gram"],
                                currency=(forms.text(values.get("currency")) or staff.currency).upper(),
                                density_g_cm3=amounts["density_g_cm3"], purity=amounts["purity"], actor=staff.actor)
    except VitrinaError as exc:
        fresh(session)
        return prices_page(request, session, staff, errors=forms.field_errors(exc), values=values,
                           status=exc.status)
    return redirect(request, PRICES, flash=f"The price of {sku} is saved; new quotes use it now.")


STONE_PREFIX = "s_"  # the stone form's field names, apart from the metal form's on the same page


@router.post(PRICES + "/stones")
async def put_stone(request: Request, session: DbSession, staff: StaffAdminForm) -> Response:
    """Create or replace a stone price row: the form is read with ``StonePriceIn``, the API's schema, then
    ``put_stone_price``, the call behind ``PUT /api/v1/prices/stones``."""
    values = {k: v for k, v in (await request.form()).items() if isinstance(v, str) and k != "csrf_token"}
    body = {name.removeprefix(STONE_PREFIX): value.strip() for name, value in values.items()
            if name.startswith(STONE_PREFIX) and value.strip()}
    body.setdefault("currency", staff.currency)
    try:
        stone = forms.parse_with(StonePriceIn, body)
        catalog.put_stone_price(session, organization_id=staff.organization_id, material_sku=stone.material_sku,
                                material_title=stone.material_title, stone_shape=stone.stone_shape,
                                weight_stone=stone.weight_stone, quality=stone.quality,
                                weight_from=stone.weight_from, weight_to=stone.weight_to, cost=stone.cost,
                                currency=stone.currency, actor=staff.actor)
    except VitrinaError as exc:
        fresh(session)
        errors = {("_stone_form" if name == "_form" else STONE_PREFIX + name): message
                  for name, message in forms.field_errors(exc).items()}
        return prices_page(request, session, staff, errors=errors, values=values, status=exc.status)
    return redirect(request, PRICES, flash=f"The price of {stone.material_sku} {stone.stone_shape} "
                                           f"{stone.weight_stone} {stone.quality} is saved; new quotes use it now.")
