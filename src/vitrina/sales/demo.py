"""Demo data for ``vitrina seed-demo``: customers and a year of sales of the demo stock, with a few returns.

Runs after the inventory demo (``cli.DEMO_MODULES`` order) and goes through the same service functions as the
API, at simulated instants (``inventory.simulated_clock``), so the demo's ledger, events, totals and the
dashboard's 90-day sales chart are exactly what a year of real use would produce.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from vitrina.core.errors import VitrinaError
from vitrina.core.pagination import Page
from vitrina.core.time import as_utc, utcnow
from vitrina.inventory import service as inventory
from vitrina.inventory.models import Item
from vitrina.sales import service

DEMO_CUSTOMERS = (
    ("Eleanor Vance", "eleanor.vance@example.com", "+1 212 555 0142", "VIP; prefers platinum settings."),
    ("Marcus Okafor", "marcus.okafor@example.com", "+1 646 555 0199", None),
    ("Sofia Lindqvist", "sofia.lindqvist@example.com", "+46 8 555 012 34", "Anniversary in June."),
    ("Hiro Tanaka", "hiro.tanaka@example.com", "+81 3 5555 0101", None),
    ("Amara Nwosu", "amara.nwosu@example.com", "+44 20 5555 0178", "Engagement ring client."),
    ("Lucas Moreau", "lucas.moreau@example.com", "+33 1 55 55 01 23", None),
    ("Priya Raman", "priya.raman@example.com", "+91 22 5555 0110", "Collects coloured stones."),
    ("Daniel Cohen", "daniel.cohen@example.com", "+1 917 555 0133", None),
)
ACTOR = "demo"
SALE_SHARE = 0.3  # of the free pieces in stock, the share sold during the demo year
RETURN_SHARE = 0.05  # of those sales, the share brought back within two weeks
MAX_PIECES = 400
_RANDOM_SEED = 20261123


def seed(session: Session, *, organization_id: str, console: Any = None) -> dict[str, Any]:
    customers = [
        service.create_customer(session, organization_id=organization_id, name=name, email=email, phone=phone,
                                notes=notes)
        for name, email, phone, notes in DEMO_CUSTOMERS
    ]
    recorded = _sell_over_the_year(session, organization_id=organization_id, customer_ids=[c.id for c in customers])
    if console is not None:
        console.print(f"sales: {len(customers)} customers, {recorded} transactions over the past year")
    return {"customers": len(customers), "transactions": recorded}


def _free_pieces(session: Session, organization_id: str) -> Iterator[Item]:
    """Priced serialized pieces in stock that nobody holds (a held piece is promised to someone else)."""
    offset = 0
    while offset < MAX_PIECES:
        items, total = inventory.list_items(
            session, organization_id=organization_id,
            filters=inventory.ItemFilters(status="active", tracking="serialized"), page=Page(limit=200, offset=offset))
        yield from (item for item in items
                    if item.price is not None and item.quantity == 1 and not item.reserved_quantity)
        offset += len(items)
        if not items or offset >= total:
            return


def _sell_over_the_year(session: Session, *, organization_id: str, customer_ids: list[str]) -> int:
    """Sales at instants spread over the past year, each after the piece's last movement (an item's ledger
    never goes back in time), played in time order; a few pieces come back within two weeks."""
    rng = random.Random(_RANDOM_SEED)
    now = utcnow()
    year_ago = now - timedelta(days=365)
    plays: list[tuple[datetime, str, str, str | None]] = []  # (instant, type, item id, customer id)
    for item in _free_pieces(session, organization_id):
        if rng.random() >= SALE_SHARE:
            continue
        since = max(as_utc(item.last_moved_at or item.created_at), year_ago)
        sold_at = since + (now - since) * rng.uniform(0.05, 0.95)
        customer = rng.choice(customer_ids) if customer_ids and rng.random() < 0.6 else None
        plays.append((sold_at, service.SALE, item.id, customer))
        returned_at = sold_at + timedelta(days=rng.uniform(1, 14))
        if rng.random() < RETURN_SHARE and returned_at < now:
            plays.append((returned_at, service.RETURN, item.id, customer))
    clock = [now]
    recorded = 0
    with inventory.simulated_clock(session, lambda: clock[0]):
        for instant, kind, item_id, customer_id in sorted(plays):
            clock[0] = instant
            savepoint = session.begin_nested()  # like a request: a refused sale leaves nothing behind
            try:
                service.record_transaction(
                    session, organization_id=organization_id, actor=ACTOR, type=kind, customer_id=customer_id,
                    lines=[service.LineRequest(inventory_id=item_id, quantity=1)],
                    payment_method=rng.choice(("card", "card", "cash", "wire")),
                    reference=f"DEMO-{recorded + 1:05d}")
            except VitrinaError:
                savepoint.rollback()
                continue
            savepoint.commit()
            recorded += 1
    return recorded
