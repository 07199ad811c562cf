"""Inventory's events, written through the outbox in the caller's transaction (API.md §3).

The ``*_event`` functions build ``(type, data)`` pairs; single changes publish them with ``emit`` and batches
with one ``emit_many``.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from sqlalchemy.orm import Session

from vitrina.core.outbox import emit, emit_many
from vitrina.inventory.models import Item, Movement
from vitrina.inventory.schemas import item_dict, movement_dict

Event = tuple[str, dict[str, Any]]
MovementLike = Movement | SimpleNamespace


def created_event(item: Item | SimpleNamespace) -> Event:
    return "inventory.created", item_dict(item)


def updated_event(item: Item, *, movement: MovementLike | None = None, changed: list[str] | None = None) -> Event:
    data = item_dict(item)
    if movement is not None:
        data["movement"] = movement_dict(movement)
    if changed:
        data["changed_fields"] = changed
    return "inventory.updated", data


def is_low(available: int, threshold: int | None) -> bool:
    return threshold is not None and available <= threshold


def low_stock_events(item: Item, *, was_low: bool) -> list[Event]:
    """``inventory.low_stock`` once, when the available quantity crosses to the threshold or below."""
    if was_low or not is_low(item.quantity - item.reserved_quantity, item.low_stock_threshold):
        return []
    return [("inventory.low_stock", item_dict(item))]


def quantity_events(item: Item, movement: MovementLike, *, changed: list[str] | None = None) -> list[Event]:
    """The events of one ledger movement: updated, sold for a SALE, low_stock on a crossing."""
    events = [updated_event(item, movement=movement, changed=changed)]
    if movement.reason_code == "SALE":
        sold = item_dict(item) | {"movement": movement_dict(movement), "quantity_sold": -movement.quantity_change}
        events.append(("inventory.sold", sold))
    available_before = item.quantity - movement.quantity_change - item.reserved_quantity
    return events + low_stock_events(item, was_low=is_low(available_before, item.low_stock_threshold))


def publish(session: Session, item: Item | SimpleNamespace, events: list[Event], *, actor: str | None) -> None:
    for type_, data in events:
        emit(session, organization_id=item.organization_id, type=type_, data=data, actor=actor)


def publish_many(session: Session, organization_id: str, events: list[Event], *, actor: str | None) -> None:
    emit_many(session, organization_id=organization_id, events=events, actor=actor)


# Shorthands for the single-change paths.

def created(session: Session, item: Item, *, actor: str | None) -> None:
    publish(session, item, [created_event(item)], actor=actor)


def updated(session: Session, item: Item, *, actor: str | None, movement: MovementLike | None = None,
            changed: list[str] | None = None) -> None:
    publish(session, item, [updated_event(item, movement=movement, changed=changed)], actor=actor)


def quantity_changed(session: Session, item: Item, movement: MovementLike, *, actor: str | None) -> None:
    publish(session, item, quantity_events(item, movement), actor=actor)


def low_stock_if_crossed(session: Session, item: Item, *, was_low: bool, actor: str | None) -> None:
    publish(session, item, low_stock_events(item, was_low=was_low), actor=actor)
