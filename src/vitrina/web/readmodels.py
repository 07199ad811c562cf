"""Read-only views across a domain's rows that no service function offers yet (dashboard only).

These are reads of committed data for display: they decide nothing and change nothing. Each one names the
service function that should replace it once the owning domain offers one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from vitrina.inventory.models import Item, Movement


@dataclass(frozen=True, slots=True)
class RecentMovement:
    id: str
    item_id: str
    sku: str
    name: str
    quantity_change: int
    quantity_after: int
    reason_code: str
    actor: str | None
    created_at: datetime


def recent_movements(session: Session, *, organization_id: str, limit: int = 10) -> list[RecentMovement]:
    """The organization's latest ledger entries with their item's name (to become
    ``inventory.service.recent_movements``)."""
    rows = session.execute(
        select(Movement.id, Movement.item_id, Item.sku, Item.name, Movement.quantity_change,
               Movement.quantity_after, Movement.reason_code, Movement.actor, Movement.created_at)
        .join(Item, Item.id == Movement.item_id)
        .where(Movement.organization_id == organization_id)
        .order_by(Movement.created_at.desc(), Movement.id.desc()).limit(limit)
    ).all()
    return [RecentMovement(*row) for row in rows]
