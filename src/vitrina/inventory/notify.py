"""Inventory's events, written through the outbox in the caller's transaction (API.md §3).

The ``*_event`` functions build ``(type, data)`` pairs; single changes publish them with ``emit`` and batches
with one ``emit_many``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from types import SimpleNamespace
from typing import Any

from sqlalchemy.orm import Session

from vitrina.core.money import exponent
from vitrina.core.outbox import emit, emit_many
from vitrina.core.time import to_rfc3339
from vitrina.inventory.models import Item, Movement
from vitrina.inventory.schemas import item_dict, movement_dict

Event = tuple[str, dict[str, Any]]
MovementLike = Movement | SimpleNamespace


def created_event(item: Item | SimpleNamespace) -> Event:
    return "inventory.created", item_dict(item)


def created_events(rows: list[dict[str, Any]]) -> list[Event]:
    """``created_event`` for each new item of a batch insert, given as its column values (no holds, version 1).

    The same payload as ``item_dict``, with what the rows of a batch share (timestamps, currency steps) worked
    out once: ``item_dict`` per row was a fifth of an import's Python time. The first row is also built by
    ``item_dict`` and compared, so a field added there can never be missing here: on any difference the whole
    batch falls back to ``item_dict``."""
    if not rows:
        return []
    first = item_dict(SimpleNamespace(**rows[0]))
    if _new_item_dict(rows[0], _Shared()) != first:
        return [created_event(SimpleNamespace(**row)) for row in rows]
    shared = _Shared()
    return [("inventory.created", _new_item_dict(row, shared)) for row in rows]


class _Shared:
    """Per-batch caches: the RFC 3339 form of the last timestamp seen and the rounding step per currency."""

    def __init__(self) -> None:
        self.moment: datetime | None = None
        self.stamp: str | None = None
        self.steps: dict[str, Decimal] = {}

    def rfc3339(self, value: datetime | None) -> str | None:
        if value is not self.moment:
            self.moment, self.stamp = value, to_rfc3339(value)
        return self.stamp

    def money(self, amount: Decimal | None, currency: str) -> str | None:
        if amount is None:
            return None
        step = self.steps.get(currency)
        if step is None:
            step = self.steps[currency] = Decimal(1).scaleb(-exponent(currency))
        return format(amount.quantize(step, rounding=ROUND_HALF_UP), "f")


def _new_item_dict(row: dict[str, Any], shared: _Shared) -> dict[str, Any]:
    """``item_dict`` of a new item (``reserved_quantity`` 0, so its status is the stored one)."""
    currency = row["currency"]
    price, cost = shared.money(row["price"], currency), shared.money(row["cost"], currency)
    quantity, threshold, held = row["quantity"], row["low_stock_threshold"], row["reserved_quantity"]
    available = max(quantity - held, 0)
    status = row["status"]
    if held:  # never for new rows; kept so the payload stays item_dict's whatever the caller passes
        status = item_dict(SimpleNamespace(**row))["status"]
    return {
        "id": row["id"], "external_id": row["external_id"], "sku": row["sku"], "name": row["name"],
        "category": row["category"], "description": row["description"], "tracking": row["tracking"],
        "status": status, "quantity": quantity, "reserved_quantity": held,
        "available_quantity": available, "low_stock_threshold": threshold,
        "low_stock": threshold is not None and available <= threshold,
        "location_id": row["location_id"], "room_type": row["room_type"], "price": price, "cost": cost,
        "currency": currency, "supplier_id": row["supplier_id"], "certification": row["certification"],
        "cert_number": row["cert_number"], "product_id": row["product_id"],
        "configuration_id": row["configuration_id"], "attributes": row["attributes"] or {},
        "created_at": shared.rfc3339(row["created_at"]), "updated_at": shared.rfc3339(row["updated_at"]),
        "version": row["version"], "product_name": row["name"], "unit_price": price, "unit_cost": cost,
    }


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
