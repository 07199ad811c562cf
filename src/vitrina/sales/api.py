"""Customers and sales transactions (API.md §5). Thin: parse, call one service function, shape the response."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from enum import Enum
from typing import Annotated, Literal

from fastapi import Query, Request, Response

from vitrina.core.auth import ReadPrincipal, WritePrincipal
from vitrina.core.concurrency import check_if_match
from vitrina.core.errors import ValidationFailed
from vitrina.core.pagination import PageQuery
from vitrina.core.responses import Envelope, ListEnvelope, created, no_content, ok, paginated
from vitrina.core.routing import api_router
from vitrina.core.time import as_utc, end_of_day
from vitrina.db.session import DbSession
from vitrina.sales import service
from vitrina.sales.models import SalesTransaction
from vitrina.sales.schemas import (
    CustomerCreate,
    CustomerOut,
    CustomerUpdate,
    TransactionCreate,
    TransactionOut,
    address_values,
)

router = api_router(tags=["sales"])
CUSTOMERS: list[str | Enum] = ["customers"]
_PRINTABLE = r"^[^\x00]*$"  # a NUL cannot be stored or compared in PostgreSQL text: refuse it as bad input
Filter = Annotated[str | None, Query(max_length=100, pattern=_PRINTABLE)]
_INSTANT = "An RFC 3339 instant, or a date `YYYY-MM-DD` (UTC)."


# --- customers -------------------------------------------------------------------------------------------------

@router.get("/customers", tags=CUSTOMERS, response_model=ListEnvelope[CustomerOut], summary="List customers",
            description="Oldest first. `q` searches name, email and phone; `name` matches part of the name, "
                        "`email` the whole address (any case), `phone` the trailing digits; `tier_id` narrows "
                        "to one pricing tier. Deleted customers are not listed.")
def list_customers(request: Request, session: DbSession, principal: ReadPrincipal, page: PageQuery,
                   q: Annotated[str | None, Query(max_length=200, pattern=_PRINTABLE)] = None,
                   name: Filter = None, email: Filter = None, phone: Filter = None,
                   tier_id: Filter = None) -> Response:
    found, total = service.list_customers(session, organization_id=principal.organization_id, page=page, q=q,
                                          name=name, email=email, phone=phone, tier_id=tier_id)
    return paginated(request, [CustomerOut.of(customer) for customer in found], total, page)


@router.post("/customers", tags=CUSTOMERS, status_code=201, response_model=Envelope[CustomerOut],
             summary="Create a customer",
             description="Emits `customer.created`. 409 `CUSTOMER_EXISTS` for a taken `external_id`; an unknown "
                         "`tier_id` is refused naming `$.tier_id`.")
def create_customer(body: CustomerCreate, session: DbSession, principal: WritePrincipal) -> Response:
    customer = service.create_customer(
        session, organization_id=principal.organization_id, name=body.name, email=body.email, phone=body.phone,
        addresses=address_values(body.addresses), tier_id=body.tier_id, notes=body.notes,
        external_id=body.external_id)
    return created(CustomerOut.of(customer), etag=customer.version)


@router.get("/customers/{customer_id}", tags=CUSTOMERS, response_model=Envelope[CustomerOut],
            summary="Get a customer (by id or external_id)")
def get_customer(customer_id: str, session: DbSession, principal: ReadPrincipal) -> Response:
    customer = service.get_customer(session, organization_id=principal.organization_id, customer_id=customer_id)
    return ok(CustomerOut.of(customer), etag=customer.version)


@router.put("/customers/{customer_id}", tags=CUSTOMERS, response_model=Envelope[CustomerOut],
            summary="Update a customer",
            description="Only the fields sent change (`tier_id: null` removes the tier). Honours `If-Match` (412).")
def update_customer(customer_id: str, body: CustomerUpdate, request: Request, session: DbSession,
                    principal: WritePrincipal) -> Response:
    current = service.get_customer(session, organization_id=principal.organization_id, customer_id=customer_id,
                                   lock=True)
    check_if_match(request, current.version)
    customer = service.update_customer(session, organization_id=principal.organization_id,
                                       customer_id=current.id, changes=body.changes())
    return ok(CustomerOut.of(customer), etag=customer.version)


@router.delete("/customers/{customer_id}", tags=CUSTOMERS, status_code=204, summary="Delete a customer",
               description="A customer with transactions is anonymised (name, email, phone, addresses, notes and "
                           "external_id erased) so sales history keeps adding up; one without is removed. Either "
                           "way it is gone from the API. Honours `If-Match` (412).")
def delete_customer(customer_id: str, request: Request, session: DbSession, principal: WritePrincipal) -> Response:
    current = service.get_customer(session, organization_id=principal.organization_id, customer_id=customer_id,
                                   lock=True)
    check_if_match(request, current.version)
    service.delete_customer(session, organization_id=principal.organization_id, customer_id=current.id)
    return no_content()


# --- transactions ----------------------------------------------------------------------------------------------

def _shown(session: DbSession, organization_id: str, rows: list[SalesTransaction]) -> list[TransactionOut]:
    customers = service.customers_by_id(session, organization_id=organization_id,
                                        ids=[t.customer_id for t in rows if t.customer_id])
    return [TransactionOut.of(t, customers.get(t.customer_id or "")) for t in rows]


@router.post("/transactions", status_code=201, response_model=Envelope[TransactionOut],
             summary="Record a sale or a return",
             description="One database transaction moves every line through the ledger (`SALE` or `RETURN` "
                         "movements), sets serialized pieces `sold` (or `active` again), records the totals "
                         "(tax-free) and emits `inventory.sold` per sold line and `transaction.completed`. A line "
                         "without `unit_price` is priced at the customer's (else the key's) tier price, else the "
                         "item's price. A piece that is sold, short or not `active`: 409 `ITEM_NOT_AVAILABLE` and "
                         "nothing changes. A return line refunds a previous sale line of the item (`sale_line_id`, "
                         "else the most recent one with units left): 409 `RETURN_WITHOUT_SALE` or "
                         "`RETURN_EXCEEDS_SALE`. Lines in another currency: 422 `CURRENCY_MISMATCH`. When the "
                         "customer is known and a sold piece has a passport, ownership passes to the customer.")
def create_transaction(body: TransactionCreate, session: DbSession, principal: WritePrincipal) -> Response:
    lines = [service.LineRequest(inventory_id=line.inventory_id, quantity=line.quantity,
                                 unit_price=line.unit_price, sale_line_id=line.sale_line_id) for line in body.lines]
    txn = service.record_transaction(
        session, organization_id=principal.organization_id, actor=principal.actor, type=body.type, lines=lines,
        customer_id=body.customer_id, location_id=body.location_id, currency=body.currency,
        payment_method=body.payment_method, reference=body.reference,
        original_transaction_id=body.original_transaction_id, tier_id=principal.tier_id)
    return created(_shown(session, principal.organization_id, [txn])[0])


@router.get("/transactions", response_model=ListEnvelope[TransactionOut], summary="List transactions",
            description="Newest first. `from` and `to` bound the time inclusively: an RFC 3339 instant, or a "
                        "date meaning the start (`from`) or end (`to`) of that UTC day.")
def list_transactions(
    request: Request, session: DbSession, principal: ReadPrincipal, page: PageQuery,
    type: Literal["sale", "return"] | None = None,
    customer_id: Filter = None, location_id: Filter = None,
    inventory_id: Annotated[str | None, Query(max_length=100, pattern=_PRINTABLE,
                                              description="Transactions with a line of this item.")] = None,
    from_: Annotated[str | None, Query(alias="from", max_length=40, pattern=_PRINTABLE, description=_INSTANT)] = None,
    to: Annotated[str | None, Query(max_length=40, pattern=_PRINTABLE, description=_INSTANT)] = None,
) -> Response:
    rows, total = service.list_transactions(
        session, organization_id=principal.organization_id, page=page, type=type, customer_id=customer_id,
        location_id=location_id, inventory_id=inventory_id, since=_instant(from_, "$.from", end=False),
        until=_instant(to, "$.to", end=True))
    return paginated(request, _shown(session, principal.organization_id, rows), total, page)


@router.get("/transactions/{transaction_id}", response_model=Envelope[TransactionOut], summary="Get a transaction")
def get_transaction(transaction_id: str, session: DbSession, principal: ReadPrincipal) -> Response:
    txn = service.get_transaction(session, organization_id=principal.organization_id,
                                  transaction_id=transaction_id)
    return ok(_shown(session, principal.organization_id, [txn])[0])


def _instant(value: str | None, path: str, *, end: bool) -> datetime | None:
    """A query bound: an RFC 3339 instant, or a date (its first instant for `from`, its last for `to`)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return end_of_day(day) if end else datetime.combine(day, time.min, tzinfo=UTC)
        return as_utc(datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00")))
    except (ValueError, OverflowError):
        raise ValidationFailed.field(path, "must be an RFC 3339 instant or a date YYYY-MM-DD") from None
