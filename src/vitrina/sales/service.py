"""Customers and sales transactions: the business rules (keyword-only, session first, flush but never commit).

A transaction moves every line through ``inventory.service`` in the caller's database transaction, so a sale
whose last line is short raises after the earlier lines moved, and the boundary's rollback undoes them all.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vitrina.catalog import service as catalog
from vitrina.core.errors import NotFoundError, ValidationFailed, VitrinaError
from vitrina.core.ids import has_prefix, new_id
from vitrina.core.money import quantize, to_str
from vitrina.core.outbox import emit
from vitrina.core.pagination import Page
from vitrina.core.time import to_rfc3339, utcnow
from vitrina.inventory import service as inventory
from vitrina.provenance import service as provenance
from vitrina.sales.errors import (
    CurrencyMismatch,
    CustomerExists,
    CustomerNotFound,
    ReturnExceedsSale,
    ReturnWithoutSale,
    TransactionNotFound,
)
from vitrina.sales.models import Customer, SalesTransaction, TransactionLine

SALE, RETURN = "sale", "return"
# An Amount column is NUMERIC(18, 6): twelve integer digits.
MAX_AMOUNT = Decimal("999999999999")
_PERSONAL_FIELDS = ("external_id", "name", "email", "phone", "notes")
_PHONE_TEXT = re.compile(r"[\d\s()+.\-]*\d[\d\s()+.\-]*")
_CUSTOMER_FIELDS = frozenset({"name", "email", "phone", "addresses", "tier_id", "notes", "external_id"})


# --- customers ---------------------------------------------------------------------------------------------

def create_customer(session: Session, *, organization_id: str, name: str, email: str | None = None,
                    phone: str | None = None, addresses: list[dict[str, Any]] | None = None,
                    tier_id: str | None = None, notes: str | None = None,
                    external_id: str | None = None) -> Customer:
    if tier_id is not None:
        _ensure_tier(session, organization_id=organization_id, tier_id=tier_id)
    if external_id is not None:
        _ensure_external_id_free(session, organization_id=organization_id, external_id=external_id)
    customer = Customer(id=new_id("cus"), organization_id=organization_id, external_id=external_id, name=name,
                        email=email, phone=phone, addresses=addresses or [], tier_id=tier_id, notes=notes)
    session.add(customer)
    _flush_unique_external_id(session)
    emit(session, organization_id=organization_id, type="customer.created", data=_customer_event(customer))
    return customer


def get_customer(session: Session, *, organization_id: str, customer_id: str, lock: bool = False) -> Customer:
    """A live customer by its ``cus_`` id or its ``external_id``; ``lock`` takes its row lock (PostgreSQL), so
    an update or delete checks ``If-Match`` against the version it then changes."""
    if not _storable(customer_id):
        raise CustomerNotFound(details={"customer_id": customer_id})
    column = Customer.id if has_prefix(customer_id, "cus") else Customer.external_id
    query = select(Customer).where(
        Customer.organization_id == organization_id, column == customer_id, Customer.deleted_at.is_(None))
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    customer = session.scalar(query)
    if customer is None:
        raise CustomerNotFound(details={"customer_id": customer_id})
    return customer


def find_customer(session: Session, *, organization_id: str, external_id: str | None = None,
                  email: str | None = None) -> Customer | None:
    """The live customer with this external id, else with this email (case-insensitive), if any."""
    live = (Customer.organization_id == organization_id, Customer.deleted_at.is_(None))
    if external_id is not None:
        found = session.scalar(select(Customer).where(*live, Customer.external_id == external_id))
        if found is not None:
            return found
    if email:
        return session.scalars(select(Customer).where(*live, Customer.email == email.lower())
                               .order_by(Customer.id).limit(1)).first()
    return None


def list_customers(session: Session, *, organization_id: str, page: Page, q: str | None = None,
                   name: str | None = None, email: str | None = None, phone: str | None = None,
                   tier_id: str | None = None) -> tuple[list[Customer], int]:
    """Live customers, oldest first. ``q`` matches name, email or phone; the others narrow one field each
    (``name`` by substring, ``email`` exactly in any case, ``phone`` by its trailing digits)."""
    where: list[ColumnElement[bool]] = [Customer.organization_id == organization_id, Customer.deleted_at.is_(None)]
    if q:
        pattern = f"%{_escape_like(q.lower())}%"
        matches = [func.lower(Customer.name).like(pattern, escape="\\"), Customer.email.like(pattern, escape="\\")]
        if _PHONE_TEXT.fullmatch(q):
            matches.append(_digits(Customer.phone).like(f"%{_digits_of(q)}%"))
        where.append(or_(*matches))
    if name:
        where.append(func.lower(Customer.name).like(f"%{_escape_like(name.lower())}%", escape="\\"))
    if email:
        where.append(Customer.email == email.lower())
    if phone:
        # Suffix match, so a number typed without its country code still finds '+1 212 555 0100'.
        where.append(_digits(Customer.phone).like(f"%{_escape_like(_digits_of(phone) or phone)}", escape="\\"))
    if tier_id:
        where.append(Customer.tier_id == tier_id)
    total = session.scalar(select(func.count()).select_from(Customer).where(*where)) or 0
    rows = session.scalars(select(Customer).where(*where).order_by(Customer.id).limit(page.limit)
                           .offset(page.offset))
    return list(rows), total


def update_customer(session: Session, *, organization_id: str, customer_id: str,
                    changes: dict[str, Any]) -> Customer:
    unknown = set(changes) - _CUSTOMER_FIELDS
    if unknown:
        raise ValueError(f"not customer fields: {sorted(unknown)}")
    customer = get_customer(session, organization_id=organization_id, customer_id=customer_id)
    if changes.get("tier_id") is not None and changes["tier_id"] != customer.tier_id:
        _ensure_tier(session, organization_id=organization_id, tier_id=changes["tier_id"])
    if changes.get("external_id") not in (None, customer.external_id):
        _ensure_external_id_free(session, organization_id=organization_id, external_id=changes["external_id"])
    for field, value in changes.items():
        setattr(customer, field, [] if field == "addresses" and value is None else value)
    customer.version += 1
    _flush_unique_external_id(session)
    emit(session, organization_id=organization_id, type="customer.updated", data=_customer_event(customer))
    return customer


def delete_customer(session: Session, *, organization_id: str, customer_id: str) -> bool:
    """Delete a customer; one with transactions or orders is anonymised instead, so that history keeps adding
    up and keeps pointing at a customer row, while the personal data goes (from the orders' copies too).

    Returns whether the customer was anonymised (True) or removed (False). Either way it is gone from the API.
    """
    # Imported here, not at the top: orders.service imports this module (an order resolves or creates its
    # customer here), so a module-level import in the other direction would be an import cycle.
    from vitrina.orders import service as orders

    customer = get_customer(session, organization_id=organization_id, customer_id=customer_id, lock=True)
    has_history = session.scalar(select(SalesTransaction.id).where(
        SalesTransaction.organization_id == organization_id, SalesTransaction.customer_id == customer.id
    ).limit(1)) is not None or orders.has_orders(session, organization_id=organization_id,
                                                 customer_id=customer.id)
    if has_history:
        orders.erase_customer(session, organization_id=organization_id, customer_id=customer.id)
        for field in _PERSONAL_FIELDS:
            setattr(customer, field, None)
        customer.addresses = []
        customer.anonymized_at = customer.deleted_at = utcnow()
        customer.version += 1
    else:
        session.delete(customer)
    session.flush()
    emit(session, organization_id=organization_id, type="customer.deleted",
         data={"id": customer.id, "anonymized": has_history})
    return has_history


def customers_by_id(session: Session, *, organization_id: str, ids: Sequence[str]) -> dict[str, Customer]:
    """Customers (deleted and anonymised ones too) by id, for showing who a transaction was with."""
    if not ids:
        return {}
    rows = session.scalars(select(Customer).where(Customer.organization_id == organization_id,
                                                  Customer.id.in_(set(ids))))
    return {customer.id: customer for customer in rows}


def _ensure_tier(session: Session, *, organization_id: str, tier_id: str) -> None:
    """The tier exists in this organization: 404 PRICING_TIER_NOT_FOUND naming ``$.tier_id`` otherwise."""
    _annotated(lambda: catalog.get_pricing_tier(session, organization_id=organization_id, tier_id=tier_id),
               "$.tier_id")


def _ensure_external_id_free(session: Session, *, organization_id: str, external_id: str) -> None:
    taken = session.scalar(select(Customer.id).where(Customer.organization_id == organization_id,
                                                     Customer.external_id == external_id))
    if taken is not None:
        raise CustomerExists(details={"external_id": external_id, "customer_id": taken})


def _flush_unique_external_id(session: Session) -> None:
    # The check above covers the usual case; this covers two requests racing for one external_id.
    try:
        session.flush()
    except IntegrityError as exc:
        raise CustomerExists() from exc


def _customer_event(customer: Customer) -> dict[str, Any]:
    return {"id": customer.id, "external_id": customer.external_id, "name": customer.name,
            "email": customer.email, "phone": customer.phone, "tier_id": customer.tier_id}


def _storable(value: str) -> bool:
    """Whether ``value`` can be compared with a stored id at all (PostgreSQL text refuses NUL characters)."""
    return 0 < len(value) <= 200 and "\x00" not in value


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _digits_of(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _digits(column: Any) -> Any:
    """The column with the usual phone punctuation removed, so '+1 (212) 555-0100' matches '2125550100'."""
    for char in (" ", "-", "(", ")", ".", "+"):
        column = func.replace(column, char, "")
    return column


# --- transactions ------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class LineRequest:
    """One requested line: the item (id or external_id), how many, and optionally its price and sale line."""

    inventory_id: str
    quantity: int
    unit_price: Decimal | None = None
    sale_line_id: int | None = None


@dataclass(slots=True)
class _Line:
    """A request line resolved against the item it names (and, for a return, the sale line it returns)."""

    index: int
    request: LineRequest
    item: Any
    unit_price: Decimal = Decimal(0)
    price_source: str = "item"
    sale_line: TransactionLine | None = None

    @property
    def path(self) -> str:
        return f"$.lines[{self.index}]"


def record_transaction(session: Session, *, organization_id: str, actor: str | None, type: str,
                       lines: Sequence[LineRequest], customer_id: str | None = None,
                       location_id: str | None = None, currency: str | None = None,
                       payment_method: str | None = None, reference: str | None = None,
                       original_transaction_id: str | None = None,
                       tier_id: str | None = None) -> SalesTransaction:
    """Record a sale or a return and move every line's stock, all in the caller's database transaction.

    ``tier_id`` is the caller's own pricing tier (an API key's), used when the customer has none.
    """
    if type not in (SALE, RETURN):
        raise ValidationFailed.field("$.type", "must be 'sale' or 'return'")
    if not lines:
        raise ValidationFailed.field("$.lines", "at least one line is needed")
    customer = _annotated(lambda: get_customer(session, organization_id=organization_id,
                                               customer_id=customer_id), "$.customer_id") if customer_id else None
    if location_id is not None:
        _annotated(lambda: inventory.get_location(session, organization_id=organization_id,
                                                  location_id=location_id), "$.location_id")
    _check_sale_references(session, organization_id=organization_id, type=type, lines=lines,
                           original_transaction_id=original_transaction_id)
    resolved = [_resolve_item(session, organization_id=organization_id, index=i, request=line)
                for i, line in enumerate(lines)]
    currency = _common_currency(resolved, currency)
    if type == SALE:
        tier = (customer.tier_id if customer else None) or tier_id
        for line in resolved:
            _price_sale_line(session, organization_id=organization_id, line=line, tier_id=tier)
    else:
        for line in sorted(resolved, key=lambda ln: (ln.item.id, ln.index)):  # same lock order as the stock
            _match_sale_line(session, organization_id=organization_id, line=line,
                             original_transaction_id=original_transaction_id)
        if customer is None:
            customer = _customer_of_sale(session, organization_id=organization_id, lines=resolved)
    subtotal = _amounts(resolved, currency)
    txn = SalesTransaction(
        id=new_id("txn"), organization_id=organization_id, type=type,
        customer_id=customer.id if customer else None,
        location_id=location_id or getattr(resolved[0].item, "location_id", None), currency=currency,
        payment_method=payment_method, reference=reference, actor=actor,
        line_count=len(resolved), unit_count=sum(line.request.quantity for line in resolved),
        created_at=inventory.current_time(session),
    )
    # Stock moves in item-id order, whatever the lines' order: two multi-line sales sharing items then take
    # their row locks (PostgreSQL) in the same order and queue instead of deadlocking.
    movements = {line.index: _move_stock(session, organization_id=organization_id, txn=txn, line=line,
                                         actor=actor)
                 for line in sorted(resolved, key=lambda ln: (ln.item.id, ln.index))}
    for line in resolved:
        amount = line.unit_price * line.request.quantity
        txn.lines.append(TransactionLine(
            organization_id=organization_id, line_no=line.index + 1, inventory_id=line.item.id,
            sku=line.item.sku, name=line.item.name, quantity=line.request.quantity, unit_price=line.unit_price,
            amount=amount, price_source=line.price_source, movement_id=getattr(movements[line.index], "id", None),
            sale_line_id=line.sale_line.id if line.sale_line else None, returned_quantity=0,
        ))
    txn.subtotal = txn.total = subtotal  # tax-free: the total is what was charged
    session.add(txn)
    session.flush()
    if type == SALE and customer is not None:
        _pass_ownership(session, organization_id=organization_id, txn=txn, customer=customer, lines=resolved)
    emit(session, organization_id=organization_id, type="transaction.completed", data=transaction_event(txn),
         actor=actor)
    return txn


def _check_sale_references(session: Session, *, organization_id: str, type: str, lines: Sequence[LineRequest],
                           original_transaction_id: str | None) -> None:
    """References to earlier sales exist in this organization (404 otherwise) and belong to a return (422)."""
    if original_transaction_id is not None:
        _annotated(lambda: get_transaction(session, organization_id=organization_id,
                                           transaction_id=original_transaction_id), "$.original_transaction_id")
    if type == RETURN:
        return
    errors = [{"path": f"$.lines[{index}].sale_line_id", "message": "only a return line refers to a sale line"}
              for index, line in enumerate(lines) if line.sale_line_id is not None]
    if original_transaction_id is not None:
        errors.insert(0, {"path": "$.original_transaction_id", "message": "only a return refers to a sale"})
    if errors:
        raise ValidationFailed(errors)


def _amounts(lines: list[_Line], currency: str) -> Decimal:
    """Round each unit price to the currency (the price charged, so the lines add up as shown) and return the
    subtotal; amounts beyond what an Amount column holds are refused here rather than by the database."""
    subtotal = Decimal(0)
    for line in lines:
        line.unit_price = quantize(line.unit_price, currency)
        if line.unit_price * line.request.quantity > MAX_AMOUNT:
            raise ValidationFailed.field(f"{line.path}.quantity", f"the line's amount exceeds {MAX_AMOUNT}")
        subtotal += line.unit_price * line.request.quantity
    if subtotal > MAX_AMOUNT:
        raise ValidationFailed.field("$.lines", f"the transaction's total exceeds {MAX_AMOUNT}")
    return subtotal


def get_transaction(session: Session, *, organization_id: str, transaction_id: str) -> SalesTransaction:
    if not _storable(transaction_id):
        raise TransactionNotFound(details={"transaction_id": transaction_id})
    txn = session.scalar(select(SalesTransaction).where(SalesTransaction.organization_id == organization_id,
                                                        SalesTransaction.id == transaction_id))
    if txn is None:
        raise TransactionNotFound(details={"transaction_id": transaction_id})
    return txn


def list_transactions(session: Session, *, organization_id: str, page: Page, type: str | None = None,
                      customer_id: str | None = None, location_id: str | None = None,
                      inventory_id: str | None = None, since: datetime | None = None,
                      until: datetime | None = None) -> tuple[list[SalesTransaction], int]:
    """Transactions newest first; ``since`` and ``until`` bound ``created_at`` inclusively."""
    stmt: Select[Any] = select(SalesTransaction).where(SalesTransaction.organization_id == organization_id)
    if type:
        stmt = stmt.where(SalesTransaction.type == type)
    if customer_id:
        stmt = stmt.where(SalesTransaction.customer_id == customer_id)
    if location_id:
        stmt = stmt.where(SalesTransaction.location_id == location_id)
    if since is not None:
        stmt = stmt.where(SalesTransaction.created_at >= since)
    if until is not None:
        stmt = stmt.where(SalesTransaction.created_at <= until)
    if inventory_id:
        stmt = stmt.where(SalesTransaction.id.in_(select(TransactionLine.transaction_id).where(
            TransactionLine.organization_id == organization_id, TransactionLine.inventory_id == inventory_id)))
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = session.scalars(stmt.order_by(SalesTransaction.created_at.desc(), SalesTransaction.id.desc())
                           .limit(page.limit).offset(page.offset))
    return list(rows), total


def transaction_event(txn: SalesTransaction) -> dict[str, Any]:
    """The ``transaction.completed`` payload: the transaction with amounts as currency strings."""
    currency = txn.currency
    return {
        "id": txn.id, "type": txn.type, "customer_id": txn.customer_id, "location_id": txn.location_id,
        "currency": currency, "payment_method": txn.payment_method, "reference": txn.reference,
        "line_count": txn.line_count, "unit_count": txn.unit_count, "subtotal": to_str(txn.subtotal, currency),
        "total": to_str(txn.total, currency), "created_at": to_rfc3339(txn.created_at),
        "lines": [{"id": line.id, "inventory_id": line.inventory_id, "sku": line.sku, "quantity": line.quantity,
                   "unit_price": to_str(line.unit_price, currency), "amount": to_str(line.amount, currency),
                   "sale_line_id": line.sale_line_id} for line in txn.lines],
    }


def _annotated(call: Any, path: str) -> Any:
    """Run ``call``; a domain error it raises (an unknown id, say) names the request field it came from, and
    the paths of a validation error (``$.quantity``) become paths into this request (``$.lines[2].quantity``)."""
    try:
        return call()
    except ValidationFailed as exc:
        for error in exc.errors:
            error["path"] = path + str(error.get("path", "$")).removeprefix("$")
        raise
    except VitrinaError as exc:
        exc.details.setdefault("path", path)
        raise


def _resolve_item(session: Session, *, organization_id: str, index: int, request: LineRequest) -> _Line:
    if request.quantity < 1:
        raise ValidationFailed.field(f"$.lines[{index}].quantity", "must be at least 1")
    item = _annotated(lambda: inventory.get_item(session, organization_id=organization_id,
                                                 ref=request.inventory_id), f"$.lines[{index}].inventory_id")
    return _Line(index=index, request=request, item=item)


def _common_currency(lines: list[_Line], requested: str | None) -> str:
    currency = requested or lines[0].item.currency
    errors = [{"path": f"{line.path}.inventory_id",
               "message": f"the item is priced in {line.item.currency}, the transaction in {currency}"}
              for line in lines if line.item.currency != currency]
    if errors:
        raise CurrencyMismatch(errors)
    return str(currency)


def _price_sale_line(session: Session, *, organization_id: str, line: _Line, tier_id: str | None) -> None:
    if line.request.unit_price is not None:
        line.unit_price, line.price_source = line.request.unit_price, "request"
        return
    if tier_id and line.item.product_id:
        tier_price = _tier_price(session, organization_id=organization_id, tier_id=tier_id,
                                 product_ref=line.item.product_id)
        if tier_price is not None:
            line.unit_price, line.price_source = tier_price, "tier"
            return
    if line.item.price is None:
        # A piece without a list price, sold without a price, is recorded at zero and marked so: refusing the
        # sale would leave the POS's till and the ledger disagreeing about a piece that did leave the store.
        line.unit_price, line.price_source = Decimal(0), "unpriced"
        return
    line.unit_price, line.price_source = Decimal(line.item.price), "item"


def _tier_price(session: Session, *, organization_id: str, tier_id: str, product_ref: str) -> Decimal | None:
    """The tier's price of the item's product, or None (no price in the tier, or a product not in the catalog).

    An item names its product by id, vendor_model or partner_id (whatever the feed that created it knew); the
    catalog resolves all three.
    """
    try:
        product = catalog.get_product(session, organization_id=organization_id, product_id=product_ref)
    except NotFoundError:
        return None
    return catalog.tier_price(session, organization_id=organization_id, tier_id=tier_id, product_id=product.id)


def _match_sale_line(session: Session, *, organization_id: str, line: _Line,
                     original_transaction_id: str | None) -> None:
    """Find the sale line this return line returns, and claim its units (see ``_claim_returnable``)."""
    candidates = _sale_lines_of(session, organization_id=organization_id, inventory_id=line.item.id,
                                transaction_id=original_transaction_id, sale_line_id=line.request.sale_line_id)
    if not candidates:
        raise ReturnWithoutSale(details={"path": f"{line.path}.inventory_id", "inventory_id": line.item.id})
    quantity = line.request.quantity
    for sale_line in candidates:
        if sale_line.quantity - sale_line.returned_quantity >= quantity and _claim_returnable(
                session, organization_id=organization_id, sale_line=sale_line, quantity=quantity):
            line.sale_line = sale_line
            line.unit_price = line.request.unit_price if line.request.unit_price is not None \
                else sale_line.unit_price
            line.price_source = "request" if line.request.unit_price is not None else "sale"
            return
    returnable = max(c.quantity - c.returned_quantity for c in candidates)
    raise ReturnExceedsSale(details={"path": f"{line.path}.quantity", "requested": quantity,
                                     "returnable": returnable})


def _sale_lines_of(session: Session, *, organization_id: str, inventory_id: str, transaction_id: str | None,
                   sale_line_id: int | None) -> list[TransactionLine]:
    """Sale lines of the item, most recent first, optionally narrowed to one sale or one line."""
    stmt = (select(TransactionLine).join(SalesTransaction, and_(
        SalesTransaction.id == TransactionLine.transaction_id,
        SalesTransaction.organization_id == TransactionLine.organization_id))
        .where(TransactionLine.organization_id == organization_id, TransactionLine.inventory_id == inventory_id,
               SalesTransaction.type == SALE))
    if transaction_id:
        stmt = stmt.where(SalesTransaction.id == transaction_id)
    if sale_line_id is not None:
        stmt = stmt.where(TransactionLine.id == sale_line_id)
    return list(session.scalars(stmt.order_by(SalesTransaction.created_at.desc(), TransactionLine.id.desc())))


def _claim_returnable(session: Session, *, organization_id: str, sale_line: TransactionLine, quantity: int) -> bool:
    """Count ``quantity`` units as returned, only if that many are still out: a conditional update, so two
    concurrent returns of one sold piece cannot both succeed."""
    result = session.execute(
        update(TransactionLine)
        .where(TransactionLine.organization_id == organization_id, TransactionLine.id == sale_line.id,
               TransactionLine.quantity - TransactionLine.returned_quantity >= quantity)
        .values(returned_quantity=TransactionLine.returned_quantity + quantity)
        .execution_options(synchronize_session=False)
    )
    session.expire(sale_line, ["returned_quantity"])
    return bool(getattr(result, "rowcount", 0))


def _customer_of_sale(session: Session, *, organization_id: str, lines: list[_Line]) -> Customer | None:
    """A return without a customer is credited to the customer of the sale it returns, if there was one."""
    for line in lines:
        if line.sale_line is not None:
            sale = session.get(SalesTransaction, line.sale_line.transaction_id)
            if sale is not None and sale.customer_id:
                return customers_by_id(session, organization_id=organization_id,
                                       ids=[sale.customer_id]).get(sale.customer_id)
    return None


def _move_stock(session: Session, *, organization_id: str, txn: SalesTransaction, line: _Line,
                actor: str | None) -> Any:
    move = inventory.sell_item if txn.type == SALE else inventory.return_item
    # The client's reference, when given, lets a sale consume the holds placed under it (a web order's
    # reservation, say); the line keeps the movement id either way.
    reference = txn.reference or txn.id
    _item, movement = _annotated(lambda: move(session, organization_id=organization_id, item_id=line.item.id,
                                              quantity=line.request.quantity, actor=actor, reference=reference),
                                 line.path)
    return movement


def _pass_ownership(session: Session, *, organization_id: str, txn: SalesTransaction, customer: Customer,
                    lines: list[_Line]) -> None:
    """Each sold serialized piece with a passport now belongs to the customer (provenance decides)."""
    for line in lines:
        if line.item.tracking == "serialized":
            provenance.record_sale(session, organization_id=organization_id, inventory_id=line.item.id,
                                   customer_id=customer.id, customer_name=customer.name or customer.id,
                                   transaction_id=txn.id)
