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


@dataclass(frozen=True, slots=True)
class PassportHolder:
    organization_id: str
    passport_id: str
    current_owner: str
    current_owner_name: str | None


def passport_holder(session: Session, *, passport_id: str) -> PassportHolder | None:
    """Whose passport ``passport_id`` is and who owns it, for the public verify page, which knows the passport
    only from a genuine tap and has no organization key (to become ``provenance.service.public_passport_owner``).
    Passport ids are globally unique, so no organization filter is needed to find the one row."""
    from vitrina.provenance.models import Passport  # only here: the provenance domain may be absent

    row = session.execute(select(Passport.organization_id, Passport.id, Passport.current_owner,
                                 Passport.current_owner_name).where(Passport.id == passport_id)).first()
    return None if row is None else PassportHolder(*row)


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    leaf_index: int
    event_type: str
    created_at: datetime


def passport_ledger(session: Session, *, organization_id: str, passport_id: str,
                    limit: int = 200) -> list[LedgerEntry]:
    """A passport's ledger entries, oldest first (to become ``provenance.service.passport_history``); each one's
    proof comes from ``provenance.ledger.inclusion``, the API's call."""
    from vitrina.provenance.models import LedgerLeaf  # only here: the provenance domain may be absent

    rows = session.execute(
        select(LedgerLeaf.leaf_index, LedgerLeaf.event_type, LedgerLeaf.created_at)
        .where(LedgerLeaf.organization_id == organization_id, LedgerLeaf.passport_id == passport_id)
        .order_by(LedgerLeaf.leaf_index).limit(limit)
    ).all()
    return [LedgerEntry(*row) for row in rows]
