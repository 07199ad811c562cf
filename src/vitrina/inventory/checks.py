"""Ledger invariants, verified on a live database by ``vitrina check`` (set-based queries, no replay in Python).

- every item's quantity equals the sum of its movements, and its latest movement's ``quantity_after``;
- every movement's ``quantity_after`` is the running sum of the item's changes up to it;
- 0 ≤ reserved ≤ quantity, and reserved equals the sum of the item's unreleased reservations;
- quantities are never negative and a serialized piece holds 0 or 1.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import and_, func, or_, select, true
from sqlalchemy.orm import Session

from vitrina.inventory.models import SERIALIZED, Item, Movement, Reservation

MAX_REPORTED = 1000  # per check: a corrupted database must not print millions of lines


def run_checks(session: Session, *, organization_id: str | None = None) -> list[str]:
    """One line per violation (all organizations unless one is named)."""
    violations: list[str] = []
    for check in _CHECKS:
        violations.extend(_capped(check.__doc__ or check.__name__, check(session, organization_id)))
    return violations


def _org(column: Any, organization_id: str | None) -> Any:
    return true() if organization_id is None else column == organization_id


def _capped(label: str, lines: Iterable[str]) -> list[str]:
    out: list[str] = []
    extra = 0
    for line in lines:
        if len(out) < MAX_REPORTED:
            out.append(line)
        else:
            extra += 1
    if extra:
        out.append(f"... and {extra} more ({label.strip()})")
    return out


def _ledger_sums(session: Session, organization_id: str | None) -> Iterable[str]:
    """quantity == sum of movements"""
    sums = (select(Movement.item_id, func.sum(Movement.quantity_change).label("total"))
            .where(_org(Movement.organization_id, organization_id)).group_by(Movement.item_id).subquery())
    total = func.coalesce(sums.c.total, 0)
    rows = session.execute(select(Item.organization_id, Item.id, Item.quantity, total)
                           .outerjoin(sums, sums.c.item_id == Item.id)
                           .where(_org(Item.organization_id, organization_id), Item.quantity != total))
    for org, item_id, quantity, ledger_total in rows:
        yield f"inventory {org} {item_id}: quantity {quantity} but its movements sum to {ledger_total}"


def _latest_movement(session: Session, organization_id: str | None) -> Iterable[str]:
    """quantity == latest quantity_after"""
    latest = (select(Movement.item_id, func.max(Movement.item_version).label("version"))
              .where(_org(Movement.organization_id, organization_id)).group_by(Movement.item_id).subquery())
    rows = session.execute(
        select(Item.organization_id, Item.id, Item.quantity, Movement.quantity_after)
        .join(latest, latest.c.item_id == Item.id)
        .join(Movement, and_(Movement.item_id == Item.id, Movement.item_version == latest.c.version))
        .where(Movement.quantity_after != Item.quantity))
    for org, item_id, quantity, after in rows:
        yield f"inventory {org} {item_id}: quantity {quantity} but its latest movement says {after}"


def _running_sums(session: Session, organization_id: str | None) -> Iterable[str]:
    """quantity_after == running sum"""
    running = select(
        Movement.organization_id, Movement.id, Movement.item_id, Movement.quantity_after,
        func.sum(Movement.quantity_change).over(partition_by=Movement.item_id,
                                                order_by=Movement.item_version).label("running"),
    ).where(_org(Movement.organization_id, organization_id)).subquery()
    rows = session.execute(select(running).where(running.c.quantity_after != running.c.running))
    for row in rows:
        yield (f"inventory {row.organization_id} {row.item_id}: movement {row.id} says quantity_after "
               f"{row.quantity_after} but the changes up to it sum to {row.running}")


def _bounds(session: Session, organization_id: str | None) -> Iterable[str]:
    """0 <= reserved <= quantity; serialized in 0..1"""
    rows = session.execute(select(Item.organization_id, Item.id, Item.tracking, Item.quantity,
                                  Item.reserved_quantity).where(_org(Item.organization_id, organization_id), or_(
        Item.quantity < 0, Item.reserved_quantity < 0, Item.reserved_quantity > Item.quantity,
        and_(Item.tracking == SERIALIZED, Item.quantity > 1))))
    for org, item_id, tracking, quantity, reserved in rows:
        yield f"inventory {org} {item_id}: {tracking} item with quantity {quantity} and reserved {reserved}"


def _reservations(session: Session, organization_id: str | None) -> Iterable[str]:
    """reserved == sum of unreleased reservations"""
    holds = (select(Reservation.item_id, func.sum(Reservation.quantity).label("held"))
             .where(_org(Reservation.organization_id, organization_id), Reservation.released_at.is_(None))
             .group_by(Reservation.item_id).subquery())
    held = func.coalesce(holds.c.held, 0)
    rows = session.execute(select(Item.organization_id, Item.id, Item.reserved_quantity, held)
                           .outerjoin(holds, holds.c.item_id == Item.id)
                           .where(_org(Item.organization_id, organization_id), Item.reserved_quantity != held))
    for org, item_id, reserved, open_holds in rows:
        yield f"inventory {org} {item_id}: reserved {reserved} but its open reservations hold {open_holds}"


_CHECKS: tuple[Callable[[Session, str | None], Iterable[str]], ...] = (
    _ledger_sums, _latest_movement, _running_sums, _bounds, _reservations,
)
