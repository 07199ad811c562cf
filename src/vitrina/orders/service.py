"""Made-to-order orders: creation priced by the catalog, the status lifecycle, and receiving into stock.

These functions serve both ``/api/v1/orders`` and the WJ Partners adapter (``/partners/1.0/order``). They take
the session first and keyword-only arguments, flush but never commit, and return ORM models. ``create_order``
and ``update_order`` accept the request body either as the schema object or as the plain decoded JSON
mapping (what the adapter has after base64-decoding WJ's ``data``); both are validated the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vitrina.catalog import service as catalog
from vitrina.core.errors import ValidationFailed, VitrinaError, json_path
from vitrina.core.ids import has_prefix, new_id
from vitrina.core.money import is_currency, quantize
from vitrina.core.outbox import emit
from vitrina.core.pagination import DEFAULT_LIMIT, Page
from vitrina.core.time import to_rfc3339, utcnow
from vitrina.inventory import service as inventory
from vitrina.orders import lifecycle
from vitrina.orders.errors import (
    InvalidTransition,
    OrderAlreadyReceived,
    OrderExists,
    OrderNotFound,
    OrderNotReceivable,
)
from vitrina.orders.models import Order, OrderItem, OrderStatusChange
from vitrina.orders.schemas import OrderCreate, OrderItemIn, OrderUpdate
from vitrina.sales import service as sales
from vitrina.sales.models import Customer

Body = TypeVar("Body", bound=BaseModel)
# An Amount column is NUMERIC(18, 6): twelve integer digits.
MAX_AMOUNT = Decimal("999999999999")


def create_order(session: Session, *, organization_id: str, actor: str | None,
                 data: OrderCreate | Mapping[str, Any], tier_id: str | None = None) -> Order:
    """Create an order from WJ's body: resolve (or create) the customer, price every item with the catalog
    and freeze that price on the order. ``tier_id`` is the caller's tier, used when the customer has none."""
    body = _validated(OrderCreate, data)
    if body.external_order_id is not None:
        _ensure_external_id_free(session, organization_id=organization_id, external_id=body.external_order_id)
    customer = _resolve_customer(session, organization_id=organization_id, body=body)
    requested_currency = _currency_code(session, organization_id=organization_id, value=body.currency)
    priced = [_price_item(session, organization_id=organization_id, item=item, index=index,
                          tier_id=(customer.tier_id if customer else None) or tier_id)
              for index, item in enumerate(body.items)]
    currency = _common_currency(priced, requested_currency)
    status = lifecycle.initial_status(body.order_status) or lifecycle.CREATED
    subtotal = _subtotal(priced, currency)
    order = Order(
        id=new_id("ord"), organization_id=organization_id, external_order_id=body.external_order_id,
        order_date=body.order_date or utcnow(), customer_id=customer.id if customer else None,
        customer_name=body.customer_name or (customer.name if customer else None),
        customer_email=body.customer_email or (customer.email if customer else None),
        customer_phone=body.customer_phone or (customer.phone if customer else None),
        shipping_address=body.shipping_address, billing_address=body.billing_address, currency=currency,
        status=status, payment_status=body.payment_status, pay_method=body.pay_method,
        order_type=body.order_type, order_purpose=body.order_purpose, transaction_id=body.transaction_id,
        comment=body.comment, message=body.message, subtotal=subtotal, total=subtotal, created_by=actor,
    )
    order.items = [p.to_model(organization_id=organization_id, position=index + 1)
                   for index, p in enumerate(priced)]
    order.history = [OrderStatusChange(organization_id=organization_id, from_status=None, to_status=status,
                                       actor=actor, comment=body.comment)]
    session.add(order)
    _flush_unique_external_id(session)
    emit(session, organization_id=organization_id, type="order.created", data=order_event(order), actor=actor)
    return order


def get_order(session: Session, *, organization_id: str, order_id: str, lock: bool = False) -> Order:
    """An order by its ``ord_`` id or its ``external_order_id``.

    ``lock`` takes the order's row lock (PostgreSQL; SQLite writers already hold the database write lock) and
    reads the row afresh, so a status change decides on the status it then changes: of two racing changes the
    second waits, sees the first one's result and is judged against it (409 INVALID_TRANSITION).
    """
    if not 0 < len(order_id) <= 200 or "\x00" in order_id:  # cannot match; PostgreSQL text refuses NUL
        raise OrderNotFound(details={"order_id": order_id})
    column = Order.id if has_prefix(order_id, "ord") else Order.external_order_id
    query = select(Order).where(Order.organization_id == organization_id, column == order_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    order = session.scalar(query)
    if order is None:
        raise OrderNotFound(details={"order_id": order_id})
    return order


def list_orders(session: Session, *, organization_id: str, page: Page | None = None,
                limit: int = DEFAULT_LIMIT, offset: int = 0, status: int | None = None,
                customer_id: str | None = None) -> tuple[list[Order], int]:
    """Orders newest first, with their total count. Pass ``page``, or ``limit`` and ``offset``."""
    page = page or Page(limit=limit, offset=offset)
    where = [Order.organization_id == organization_id]
    if status is not None:
        where.append(Order.status == status)
    if customer_id:
        where.append(Order.customer_id == customer_id)
    total = session.scalar(select(func.count()).select_from(Order).where(*where)) or 0
    rows = session.scalars(select(Order).where(*where).order_by(Order.created_at.desc(), Order.id.desc())
                           .limit(page.limit).offset(page.offset))
    return list(rows), total


def update_order(session: Session, *, organization_id: str, order_id: str, actor: str | None,
                 changes: OrderUpdate | Mapping[str, Any]) -> Order:
    """Change status (along the legal path only), tracking number, payment status or comment."""
    body = _validated(OrderUpdate, changes)
    fields = {name: getattr(body, name) for name in ("tracking_number", "payment_status", "comment")
              if name in body.model_fields_set}
    order = get_order(session, organization_id=organization_id, order_id=order_id, lock=True)
    # Explicit nulls: a tracking number or comment may be cleared, a status cannot.
    if fields.get("payment_status", 0) is None:
        raise ValidationFailed.field("$.payment_status", "must be 0, 1, 2 or 3")
    if "order_status" in body.model_fields_set and body.order_status is None:
        raise ValidationFailed.field("$.order_status", "must be an order status, 0 to 9")
    if not body.model_fields_set:
        raise ValidationFailed.field("$", "no field to update: send order_status, tracking_number, payment_status "
                                          "or comment")
    moved = body.order_status is not None
    if body.order_status is not None:
        # Asking for the status the order is already in is not a step either: of racing identical requests
        # exactly one moves the order, the others learn that it moved (409 with the allowed next states).
        _move(session, order=order, target=body.order_status, actor=actor, comment=body.comment)
    changed = {name: value for name, value in fields.items() if getattr(order, name) != value}
    for name, value in changed.items():
        setattr(order, name, value)
    if moved or changed:
        order.version += 1
    session.flush()
    if changed:
        emit(session, organization_id=organization_id, type="order.updated", actor=actor,
             data={**order_event(order), "changed": sorted(changed)})
    return order


def receive_order(session: Session, *, organization_id: str, order_id: str, actor: str | None,
                  location_id: str, room_type: str | None = None) -> tuple[Order, list[Any]]:
    """Put a delivered or finished order's pieces into stock: one serialized item per unit, linked to the
    item's configuration id, so the piece's life continues on the ledger. Returns the order and the items."""
    order = get_order(session, organization_id=organization_id, order_id=order_id, lock=True)
    if order.status not in lifecycle.RECEIVABLE:
        raise OrderNotReceivable(details={"order_status": order.status,
                                          "receivable_statuses": sorted(lifecycle.RECEIVABLE)})
    if order.received_at is not None:
        raise OrderAlreadyReceived(details={"received_at": to_rfc3339(order.received_at)})
    # An unknown location is 404 here, as it is for a sale's location_id (not the 422 of an item body's field).
    _at_path(lambda: inventory.get_location(session, organization_id=organization_id, location_id=location_id),
             "$.location_id")
    received: list[Any] = []
    for item in order.items:
        made = [_create_stock_item(session, organization_id=organization_id, actor=actor, order=order,
                                   item=item, unit=unit, location_id=location_id, room_type=room_type)
                for unit in range(1, item.qty + 1)]
        item.inventory_ids = [stock.id for stock in made]
        received.extend(made)
    order.received_at = utcnow()
    order.version += 1
    session.flush()
    emit(session, organization_id=organization_id, type="order.received",
         data={"id": order.id, "location_id": location_id, "inventory_ids": [s.id for s in received]},
         actor=actor)
    return order, received


def has_orders(session: Session, *, organization_id: str, customer_id: str) -> bool:
    """Whether the customer has any order (then deleting the customer must keep, not break, that history)."""
    return session.scalar(select(Order.id).where(Order.organization_id == organization_id,
                                                 Order.customer_id == customer_id).limit(1)) is not None


def erase_customer(session: Session, *, organization_id: str, customer_id: str) -> int:
    """A deleted customer's personal data leaves their orders too: the name, email and phone copied onto each
    order and its addresses are erased; the orders, their items, prices and history stay. Returns the count."""
    result = session.execute(
        update(Order).where(Order.organization_id == organization_id, Order.customer_id == customer_id)
        .values(customer_name=None, customer_email=None, customer_phone=None, shipping_address=None,
                billing_address=None, version=Order.version + 1, updated_at=utcnow())
        .execution_options(synchronize_session="fetch"))
    return int(getattr(result, "rowcount", 0) or 0)


def order_event(order: Order) -> dict[str, Any]:
    """The payload of ``order.*`` events: the order's state without its configuration details."""
    return {
        "id": order.id, "external_order_id": order.external_order_id, "order_status": order.status,
        "payment_status": order.payment_status, "customer_id": order.customer_id, "currency": order.currency,
        "total": format(quantize(order.total, order.currency), "f"), "tracking_number": order.tracking_number,
        "items": [{"id": i.id, "qty": i.qty, "vendor_model": i.vendor_model, "configuration_id": i.configuration_id,
                   "unit_price": format(quantize(i.unit_price, i.currency), "f")} for i in order.items],
    }


# --- creation helpers --------------------------------------------------------------------------------------

@dataclass(slots=True)
class _PricedItem:
    """An order item as the catalog priced it."""

    request: OrderItemIn
    index: int
    size: Any
    vendor_model: str
    product_id: str | None
    configuration_id: str
    configuration: dict[str, Any] | None
    unit_price: Decimal
    currency: str
    title: str | None
    description: str | None
    breakdown: Any

    @property
    def amount(self) -> Decimal:
        return self.unit_price * self.request.qty

    def to_model(self, *, organization_id: str, position: int) -> OrderItem:
        return OrderItem(
            organization_id=organization_id, position=position, qty=self.request.qty,
            vendor_model=self.vendor_model, product_id=self.product_id, configuration_id=self.configuration_id,
            configuration=self.configuration, size=self.size, title=self.title,
            description=self.description, unit_price=self.unit_price, amount=self.amount, currency=self.currency,
            breakdown=self.breakdown, inventory_ids=[],
        )


def _validated(schema: type[Body], data: Body | Mapping[str, Any]) -> Body:
    """The body as ``schema``; a plain mapping is validated here, its errors reported with JSON paths."""
    if isinstance(data, schema):
        return data
    try:
        return schema.model_validate(dict(data))
    except ValidationError as exc:
        raise ValidationFailed([{"path": json_path(err["loc"]), "message": err["msg"], "type": err["type"]}
                                for err in exc.errors()]) from None


def _resolve_customer(session: Session, *, organization_id: str, body: OrderCreate) -> Customer | None:
    """The order's customer: by ``cus_`` id; else by the caller's own reference or email; else a new one."""
    reference = body.customer_id
    if reference is not None and has_prefix(reference, "cus"):
        return _at_path(lambda: sales.get_customer(session, organization_id=organization_id,
                                                   customer_id=reference), "$.customer_id")
    found = sales.find_customer(session, organization_id=organization_id, external_id=reference,
                                email=body.customer_email)
    if found is not None:
        return found
    if not (body.customer_name or body.customer_email or body.customer_phone):
        raise sales.CustomerNotFound(details={"customer_id": reference, "path": "$.customer_id"})
    return sales.create_customer(
        session, organization_id=organization_id, external_id=reference,
        name=body.customer_name or body.customer_email or body.customer_phone or "Customer",
        email=(body.customer_email or "").lower() or None, phone=body.customer_phone,
        addresses=[a if isinstance(a, dict) else {"line1": a}
                   for a in (body.shipping_address, body.billing_address) if a],
    )


def _price_item(session: Session, *, organization_id: str, item: OrderItemIn, index: int,
                tier_id: str | None) -> _PricedItem:
    path = f"$.items[{index}]"
    configuration = item.configuration
    vendor_model = item.vendor_model
    if configuration is None and item.configuration_id is not None:
        stored = _at_path(lambda: catalog.get_configuration(session, organization_id=organization_id,
                                                            ci=item.configuration_id), f"{path}.configuration_id")
        if vendor_model is not None and vendor_model.upper() != stored.vendor_model.upper():
            raise ValidationFailed.field(f"{path}.configuration_id",
                                         f"is a configuration of {stored.vendor_model}, not {vendor_model}")
        configuration, vendor_model = stored.configuration, stored.vendor_model
        size = item.size if item.size is not None else stored.size
    else:
        size = item.size
    try:
        result = catalog.price_configuration(session, organization_id=organization_id,
                                               vendor_model=vendor_model, configuration=configuration,
                                               size=size, qty=item.qty, tier_id=tier_id)
    except ValidationFailed as exc:
        raise ValidationFailed([{**err, "path": _rebase(err.get("path", "$"), path)} for err in exc.errors],
                               message=exc.message) from None
    except VitrinaError as exc:
        # The catalog names the item's field (``$.vendor_model``); the order names the item too.
        exc.details["path"] = _rebase(str(exc.details.get("path", "$.vendor_model")), path)
        raise
    if item.configuration is not None and item.configuration_id is not None and item.configuration_id != result.ci:
        raise ValidationFailed.field(f"{path}.configuration_id",
                                     f"does not match the configuration sent, whose id is {result.ci}")
    return _PricedItem(
        request=item, index=index, size=size,
        vendor_model=str(getattr(result, "vendor_model", None) or vendor_model),
        product_id=getattr(result, "product_id", None),
        configuration_id=result.ci, configuration=configuration,
        unit_price=quantize(Decimal(result.retail), result.currency),
        currency=result.currency, title=result.title, description=result.description,
        breakdown=_plain(result.breakdown),
    )


def _rebase(path: str, item_path: str) -> str:
    """A catalog error path (``$.configuration.ring.metal``) as a path into this order's body."""
    return item_path + path.removeprefix("$")


def _plain(value: Any) -> Any:
    """The breakdown as JSON-able data (Decimals as strings), for storing beside the order."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _currency_code(session: Session, *, organization_id: str, value: int | str | None) -> str | None:
    """An ISO 4217 code for the body's currency: a code as is, a number through the currency directory."""
    if value is None:
        return None
    text = value.strip() if isinstance(value, str) else str(value)
    # ASCII digits only, and short: int() refuses superscripts and very long numbers with a ValueError.
    if isinstance(value, str) and not (text.isascii() and text.isdigit() and len(text) <= 9):
        code = text.upper()
        if not is_currency(code):
            raise ValidationFailed.field("$.currency", "must be an ISO 4217 code or a currency directory number")
        return code
    listed = catalog.currency_code(session, organization_id=organization_id, number=int(text))
    if listed is None:
        raise ValidationFailed.field("$.currency", f"no currency numbered {value} in the currency directory")
    return listed


def _common_currency(priced: list[_PricedItem], requested: str | None) -> str:
    currency = requested or priced[0].currency
    errors = [{"path": f"$.items[{p.index}].vendor_model",
               "message": f"the product is priced in {p.currency}, the order is in {currency}"}
              for p in priced if p.currency != currency]
    if errors:
        raise ValidationFailed(errors, message="All items of an order must be priced in the order's currency.")
    return currency


def _subtotal(priced: list[_PricedItem], currency: str) -> Decimal:
    """The order's subtotal; amounts beyond what an Amount column holds are refused here, not by the database."""
    for p in priced:
        if p.amount > MAX_AMOUNT:
            raise ValidationFailed.field(f"$.items[{p.index}].qty", f"the item's amount exceeds {MAX_AMOUNT}")
    subtotal = quantize(sum((p.amount for p in priced), Decimal(0)), currency)
    if subtotal > MAX_AMOUNT:
        raise ValidationFailed.field("$.items", f"the order's total exceeds {MAX_AMOUNT}")
    return subtotal


def _ensure_external_id_free(session: Session, *, organization_id: str, external_id: str) -> None:
    taken = session.scalar(select(Order.id).where(Order.organization_id == organization_id,
                                                  Order.external_order_id == external_id))
    if taken is not None:
        raise OrderExists(details={"external_order_id": external_id, "order_id": taken})


def _flush_unique_external_id(session: Session) -> None:
    # The check above covers the usual case; this covers two requests racing for one external_order_id.
    try:
        session.flush()
    except IntegrityError as exc:
        raise OrderExists() from exc


def _at_path(call: Any, path: str) -> Any:
    """Run ``call``; a domain error it raises (an unknown id, say) names the request field it came from."""
    try:
        return call()
    except VitrinaError as exc:
        exc.details.setdefault("path", path)
        raise


# --- lifecycle helpers -------------------------------------------------------------------------------------

def _move(session: Session, *, order: Order, target: int, actor: str | None, comment: str | None) -> None:
    if not lifecycle.can_move(order.status, target):
        raise InvalidTransition(
            f"An order in status {order.status} ({lifecycle.ORDER_STATUSES[order.status]}) cannot move to "
            f"{target} ({lifecycle.ORDER_STATUSES.get(target, 'unknown')}).",
            details={"current_status": order.status, "requested_status": target,
                     "allowed": lifecycle.allowed_next(order.status)},
        )
    previous = order.status
    order.status = target
    order.history.append(OrderStatusChange(organization_id=order.organization_id, from_status=previous,
                                           to_status=target, actor=actor, comment=comment))
    emit(session, organization_id=order.organization_id, type="order.status_changed", actor=actor,
         data={"id": order.id, "external_order_id": order.external_order_id, "from_status": previous,
               "to_status": target, "status_name": lifecycle.ORDER_STATUSES[target], "actor": actor})


def _create_stock_item(session: Session, *, organization_id: str, actor: str | None, order: Order,
                       item: OrderItem, unit: int, location_id: str, room_type: str | None) -> Any:
    fields: dict[str, Any] = {
        # The model is the SKU (a configuration id can outgrow an SKU); the configuration travels in its own field.
        "external_id": f"{order.id}-{item.position}-{unit}", "sku": item.vendor_model,
        "name": item.title or item.vendor_model, "description": item.description, "tracking": "serialized",
        "quantity": 1, "price": item.unit_price, "currency": item.currency, "location_id": location_id,
        "product_id": item.product_id, "configuration_id": item.configuration_id,
        "attributes": {"order_id": order.id, "vendor_model": item.vendor_model, "size": item.size},
    }
    if room_type is not None:
        fields["room_type"] = room_type
    return _at_path(lambda: inventory.create_item(session, organization_id=organization_id, actor=actor,
                                                  fields=fields), "$.location_id")
