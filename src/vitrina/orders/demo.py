"""Demo orders for ``vitrina seed-demo``: WJ-style made-to-order orders of the catalog demo's products, one at
each stage of production, and one finished and received into stock so its piece continues on the ledger.

Runs after the inventory, catalog and sales demos (``cli.DEMO_MODULES`` order) and goes through the same service
functions as the API. Without the catalog (nothing can be priced) it seeds nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from vitrina.core.errors import ServiceUnavailable
from vitrina.core.pagination import Page
from vitrina.inventory import service as inventory
from vitrina.orders import lifecycle, service

ACTOR = "demo"
_ENGRAVE = {"e0": {"font": "satisfy", "text": "E & M"}}
_STONES = [{"sku": "sss", "shape": "rd", "weight": "k", "position": 1},
           {"sku": "dst", "shape": "rd", "weight": "k", "position": 2}]
# (external order id, customer email, customer name, model, configuration, size, status to walk to)
DEMO_ORDERS: tuple[tuple[str, str, str, str, dict[str, Any], int | None, int], ...] = (
    ("MAG-100001", "eleanor.vance@example.com", "Eleanor Vance", "RPD104",
     {"chain": {"type": "C1", "metal": {"sku": "f", "color": "R"}, "length": 16},
      "pendant": {"stones": 2, "stone": _STONES, "metal": {"sku": "f", "color": "Y"}}, "engraving": _ENGRAVE},
     None, lifecycle.CREATED),
    ("MAG-100002", "marcus.okafor@example.com", "Marcus Okafor", "RRG106",
     {"ring": {"stones": 2, "stone": _STONES, "metal": {"sku": "f", "color": "Y"}}}, 7, 5),
    ("MAG-100003", "sofia.lindqvist@example.com", "Sofia Lindqvist", "RRG106",
     {"ring": {"stones": 2, "stone": _STONES, "metal": {"sku": "f", "color": "W"}}, "engraving": _ENGRAVE},
     6, lifecycle.FINISHED),
)


def seed(session: Session, *, organization_id: str, console: Any = None) -> dict[str, Any]:
    try:
        orders = [_place(session, organization_id=organization_id, spec=spec) for spec in DEMO_ORDERS]
    except ServiceUnavailable:
        if console is not None:
            console.print("orders: skipped (no catalog to price them)")
        return {"orders": 0, "received_pieces": 0}
    received = _receive_finished(session, organization_id=organization_id, order_ids=[o.id for o in orders])
    if console is not None:
        console.print(f"orders: {len(orders)} orders, {received} piece(s) received into stock")
    return {"orders": len(orders), "received_pieces": received}


def _place(session: Session, *, organization_id: str,
           spec: tuple[str, str, str, str, dict[str, Any], int | None, int]) -> Any:
    external_id, email, name, model, configuration, size, walk_to = spec
    item: dict[str, Any] = {"qty": 1, "vendor_model": model, "configuration": configuration}
    if size is not None:
        item["size"] = size
    order = service.create_order(session, organization_id=organization_id, actor=ACTOR, data={
        "external_order_id": external_id, "customer_email": email, "customer_name": name,
        "shipping_address": "725 Fifth Avenue, New York", "billing_address": "725 Fifth Avenue, New York",
        "currency": "USD", "payment_status": 3 if walk_to >= 5 else 1, "pay_method": 2, "order_status": 1,
        "items": item})
    for status in range(lifecycle.CONFIRMED, walk_to + 1):
        service.update_order(session, organization_id=organization_id, order_id=order.id, actor=ACTOR,
                             changes={"order_status": status, "comment": lifecycle.ORDER_STATUSES[status]})
    return order


def _receive_finished(session: Session, *, organization_id: str, order_ids: list[str]) -> int:
    """Receive every finished demo order into the vault of the first demo location, if there is one."""
    locations, _total = inventory.list_locations(session, organization_id=organization_id,
                                                 page=Page(limit=1, offset=0))
    if not locations:
        return 0
    received = 0
    for order_id in order_ids:
        order = service.get_order(session, organization_id=organization_id, order_id=order_id)
        if order.status == lifecycle.FINISHED:
            _order, pieces = service.receive_order(session, organization_id=organization_id, order_id=order_id,
                                                   actor=ACTOR, location_id=locations[0].id, room_type="vault")
            received += len(pieces)
    return received
