"""Demo data for ``vitrina seed-demo``: a few customers, some sales of the demo stock and one return.

Runs after the inventory demo (``cli.DEMO_MODULES`` order) and goes through the same service functions as the
API, so the demo's ledger, events and totals are exactly what real use would produce.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from vitrina.core.pagination import Page
from vitrina.inventory import service as inventory
from vitrina.sales import service

DEMO_CUSTOMERS = (
    ("Eleanor Vance", "eleanor.vance@example.com", "+1 212 555 0142", "VIP; prefers platinum settings."),
    ("Marcus Okafor", "marcus.okafor@example.com", "+1 646 555 0199", None),
    ("Sofia Lindqvist", "sofia.lindqvist@example.com", "+46 8 555 012 34", "Anniversary in June."),
    ("Hiro Tanaka", "hiro.tanaka@example.com", "+81 3 5555 0101", None),
)
ACTOR = "demo"


def seed(session: Session, *, organization_id: str, console: Any = None) -> dict[str, Any]:
    customers = [
        service.create_customer(session, organization_id=organization_id, name=name, email=email, phone=phone,
                                notes=notes)
        for name, email, phone, notes in DEMO_CUSTOMERS
    ]
    sold = _sell_some_pieces(session, organization_id=organization_id, customer_ids=[c.id for c in customers])
    if console is not None:
        console.print(f"sales: {len(customers)} customers, {sold} transactions")
    return {"customers": len(customers), "transactions": sold}


def _sell_some_pieces(session: Session, *, organization_id: str, customer_ids: list[str]) -> int:
    """Sell the first few priced serialized pieces of the demo stock, one per customer, and take one back."""
    items, _total = inventory.list_items(
        session, organization_id=organization_id,
        filters=inventory.ItemFilters(status="active", tracking="serialized"), page=Page(limit=50, offset=0))
    # Held pieces are promised to someone else: the demo sells only free ones.
    priced = [item for item in items
              if item.price is not None and item.quantity == 1 and not item.reserved_quantity][:len(customer_ids)]
    transactions = 0
    for item, customer_id in zip(priced, customer_ids, strict=False):
        service.record_transaction(
            session, organization_id=organization_id, actor=ACTOR, type=service.SALE, customer_id=customer_id,
            lines=[service.LineRequest(inventory_id=item.id, quantity=1)], payment_method="card",
            reference=f"DEMO-{transactions + 1:04d}",
        )
        transactions += 1
    if priced:
        service.record_transaction(
            session, organization_id=organization_id, actor=ACTOR, type=service.RETURN,
            lines=[service.LineRequest(inventory_id=priced[-1].id, quantity=1)], payment_method="card",
            reference="DEMO-RETURN-0001",
        )
        transactions += 1
    return transactions
