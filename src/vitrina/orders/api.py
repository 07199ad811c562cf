"""Made-to-order orders (API.md §6). Thin: parse, call one service function, shape the response."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response

from vitrina.core.auth import ReadPrincipal, WritePrincipal
from vitrina.core.concurrency import check_if_match
from vitrina.core.pagination import PageQuery
from vitrina.core.responses import Envelope, ListEnvelope, created, ok, paginated
from vitrina.core.routing import api_router
from vitrina.db.session import DbSession
from vitrina.orders import lifecycle, service
from vitrina.orders.schemas import OrderCreate, OrderOut, OrderReceive, OrderReceivedOut, OrderUpdate

router = api_router(tags=["orders"])
_PRINTABLE = r"^[^\x00]*$"  # a NUL cannot be stored or compared in PostgreSQL text: refuse it as bad input
_STATUSES = ", ".join(f"{code} {name}" for code, name in lifecycle.ORDER_STATUSES.items())


@router.post("/orders", status_code=201, response_model=Envelope[OrderOut], summary="Create an order",
             description="WJ Partners' body: `customer_id` (a `cus_` id, or your own reference matched against "
                         "customers' `external_id`) and/or `customer_name`/`customer_email`/`customer_phone` (a "
                         "customer is created when none matches), addresses, `payment_status` 0-3, `pay_method` "
                         "0-3, `order_status` 1 or 2 (WJ's 3 means 2), and `items` (one object or a list) of "
                         "`{qty, vendor_model, configuration | configuration_id, size}`. Each item is validated "
                         "and priced by the catalog (an invalid choice: 422 naming `$.items[i].configuration...`) "
                         "and keeps that price. Emits `order.created`. 409 `ORDER_EXISTS` for a taken "
                         "`external_order_id`; 404 for an unknown customer, model or configuration id, with its path.")
def create_order(body: OrderCreate, session: DbSession, principal: WritePrincipal) -> Response:
    order = service.create_order(session, organization_id=principal.organization_id, actor=principal.actor,
                                 data=body, tier_id=principal.tier_id)
    return created(OrderOut.of(order), etag=order.version)


@router.get("/orders", response_model=ListEnvelope[OrderOut], summary="List orders",
            description=f"Newest first. `status` filters by order status ({_STATUSES}).")
def list_orders(request: Request, session: DbSession, principal: ReadPrincipal, page: PageQuery,
                status: Annotated[int | None, Query(ge=0, le=9, description="An order status, 0 to 9.")] = None,
                customer_id: Annotated[str | None, Query(max_length=100, pattern=_PRINTABLE)] = None) -> Response:
    rows, total = service.list_orders(session, organization_id=principal.organization_id, page=page,
                                      status=status, customer_id=customer_id)
    return paginated(request, [OrderOut.of(order) for order in rows], total, page)


@router.get("/orders/{order_id}", response_model=Envelope[OrderOut],
            summary="Get an order (by id or external_order_id)",
            description="With its items (priced at order time) and its full status history (actor and time).")
def get_order(order_id: str, session: DbSession, principal: ReadPrincipal) -> Response:
    order = service.get_order(session, organization_id=principal.organization_id, order_id=order_id)
    return ok(OrderOut.of(order), etag=order.version)


@router.put("/orders/{order_id}", response_model=Envelope[OrderOut], summary="Change an order's status or details",
            description="`order_status` moves only one step along 1 → 2 → … → 9, or to 0 (canceled) from 1-4; "
                        "anything else, including the status the order is already in, is 409 "
                        "`INVALID_TRANSITION` with `details.allowed` (the legal next states) and changes nothing. "
                        "Each change is kept in `status_history` with actor and time and emits "
                        "`order.status_changed`. `tracking_number`, `payment_status` (0-3) and `comment` may "
                        "change with it or alone (`order.updated`). Honours `If-Match` (412).")
def update_order(order_id: str, body: OrderUpdate, request: Request, session: DbSession,
                 principal: WritePrincipal) -> Response:
    current = service.get_order(session, organization_id=principal.organization_id, order_id=order_id, lock=True)
    check_if_match(request, current.version)
    order = service.update_order(session, organization_id=principal.organization_id, order_id=current.id,
                                 actor=principal.actor, changes=body)
    return ok(OrderOut.of(order), etag=order.version)


@router.post("/orders/{order_id}/receive", status_code=201, response_model=Envelope[OrderReceivedOut],
             summary="Receive a finished order into stock",
             description="For a delivered (8) or finished (9) order: one serialized inventory item per unit at "
                         "`location_id`, linked to the item's `configuration_id` and priced at the order's price, "
                         "each with its `RECEIVED` movement, so the piece's life continues on the ledger. Emits "
                         "`order.received`. 409 `ORDER_NOT_RECEIVABLE` before that, `ORDER_ALREADY_RECEIVED` the "
                         "second time.")
def receive_order(order_id: str, body: OrderReceive, session: DbSession, principal: WritePrincipal) -> Response:
    order, items = service.receive_order(session, organization_id=principal.organization_id, order_id=order_id,
                                         actor=principal.actor, location_id=body.location_id,
                                         room_type=body.room_type)
    return created({"order": OrderOut.of(order), "inventory_ids": [item.id for item in items]})
