"""Inventory business rules: locations, items, the movements ledger, transfers and reservations.

Every function takes the session and keyword-only arguments, flushes but never commits, raises domain errors
and emits its events in the same transaction. Quantities change only through ``vitrina.inventory.ledger``
(a guarded UPDATE plus its movement); this module decides *which* change and checks the request.
Batch operations for imports and POS syncs live in ``inventory.batch`` and point-in-time snapshots in
``inventory.snapshot``; both are re-exported here, the one module other domains import.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Float, case, cast, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vitrina.core.errors import ValidationFailed, VitrinaError
from vitrina.core.ids import has_prefix, new_id
from vitrina.core.outbox import emit
from vitrina.core.pagination import Page
from vitrina.core.time import utcnow
from vitrina.inventory import fields as item_fields
from vitrina.inventory import ledger, notify
from vitrina.inventory.batch import receive_many, set_location_quantities
from vitrina.inventory.errors import (
    BulkUpdateFailed,
    CertificateTaken,
    ExternalIdTaken,
    InsufficientStock,
    InvalidTransition,
    ItemArchived,
    ItemNotAvailable,
    ItemNotFound,
    ItemReserved,
    LocationCodeTaken,
    LocationHoldsStock,
    LocationNotFound,
    QuantityOutOfRange,
    ReservationNotFound,
    UseAdjustment,
    UseTransfer,
)
from vitrina.inventory.ledger import Change
from vitrina.inventory.models import (
    ACTIVE,
    ARCHIVED,
    BULK,
    MEMO,
    REASON_CODES,
    REPAIR,
    RESERVED,
    SERIALIZED,
    SOLD,
    Item,
    Location,
    Movement,
    Reservation,
)
from vitrina.inventory.snapshot import Snapshot, take_snapshot

__all__ = [
    "AdjustmentLine", "ItemFilters", "Snapshot", "Transfer", "adjust_quantity", "archive_item", "bulk_adjust",
    "create_item", "create_location", "current_time", "delete_location", "get_item", "get_location", "get_location_any",
    "items_by_ref", "ledger_size", "list_items", "list_locations", "list_movements", "location_holds_stock",
    "receive_many", "release_expired_holds", "release_reservation", "reserve_item", "reserved_now", "return_item",
    "sell_item", "set_location_quantities", "simulated_clock", "take_snapshot", "transfer_item", "update_item",
    "update_location",
]


# --- the ledger's clock ---------------------------------------------------------------------------------------

def current_time(session: Session) -> datetime:
    """The instant the ledger stamps on this session's changes: the wall clock, or a simulated one (below).
    Records written with a stock change (a sale transaction) take the same instant, so they line up with it."""
    return ledger.now(session)


@contextmanager
def simulated_clock(session: Session, clock: Callable[[], datetime]) -> Iterator[None]:
    """Stamp this session's changes with ``clock()`` instead of the wall clock: the demo seeder writes a past
    year through the real code path this way. The caller must keep each item's instants increasing (the
    snapshot relies on it); requests never use it."""
    session.info[ledger.CLOCK_KEY] = clock
    try:
        yield
    finally:
        session.info.pop(ledger.CLOCK_KEY, None)


# --- locations ----------------------------------------------------------------------------------------------

def create_location(session: Session, *, organization_id: str, name: str, code: str,
                    address: dict[str, Any] | None, timezone: str) -> Location:
    _ensure_code_free(session, organization_id=organization_id, code=code)
    location = Location(id=new_id("loc"), organization_id=organization_id, name=name, code=code,
                        address=address, timezone=timezone)
    session.add(location)
    _flush_unique_code(session)
    emit(session, organization_id=organization_id, type="location.created", data=_location_event(location))
    return location


def get_location(session: Session, *, organization_id: str, location_id: str) -> Location:
    if not _storable(location_id):
        raise LocationNotFound()
    location = session.scalar(select(Location).where(
        Location.organization_id == organization_id, Location.id == location_id, Location.deleted_at.is_(None)))
    if location is None:
        raise LocationNotFound()
    return location


def get_location_any(session: Session, *, organization_id: str, location_id: str) -> Location:
    """A location even if deleted (its past stock still shows in snapshots)."""
    if not _storable(location_id):
        raise LocationNotFound()
    location = session.scalar(select(Location).where(Location.organization_id == organization_id,
                                                     Location.id == location_id))
    if location is None:
        raise LocationNotFound()
    return location


def list_locations(session: Session, *, organization_id: str, page: Page) -> tuple[list[Location], int]:
    where = (Location.organization_id == organization_id, Location.deleted_at.is_(None))
    total = session.scalar(select(func.count()).select_from(Location).where(*where)) or 0
    rows = session.scalars(select(Location).where(*where).order_by(Location.id).limit(page.limit)
                           .offset(page.offset))
    return list(rows), total


def update_location(session: Session, *, organization_id: str, location_id: str,
                    changes: dict[str, Any]) -> Location:
    location = get_location(session, organization_id=organization_id, location_id=location_id)
    if changes.get("code") not in (None, location.code):
        _ensure_code_free(session, organization_id=organization_id, code=changes["code"])
    for name, value in changes.items():
        setattr(location, name, value)
    location.version += 1
    _flush_unique_code(session)
    emit(session, organization_id=organization_id, type="location.updated", data=_location_event(location))
    return location


def delete_location(session: Session, *, organization_id: str, location_id: str) -> None:
    location = get_location(session, organization_id=organization_id, location_id=location_id)
    if location_holds_stock(session, organization_id=organization_id, location_id=location_id):
        raise LocationHoldsStock()
    location.deleted_at = utcnow()
    location.version += 1
    emit(session, organization_id=organization_id, type="location.deleted", data={"id": location.id})


def location_holds_stock(session: Session, *, organization_id: str, location_id: str) -> bool:
    """Whether any item at the location (archived ones aside) has a quantity."""
    held = session.scalar(select(Item.id).where(
        Item.organization_id == organization_id, Item.location_id == location_id, Item.quantity > 0,
        Item.status != ARCHIVED).limit(1))
    return held is not None


def _storable(value: str) -> bool:
    """An id from a URL that could name a row (PostgreSQL refuses NUL in text, so such a query would fail)."""
    return "\x00" not in value and len(value) <= 200


def _ensure_code_free(session: Session, *, organization_id: str, code: str) -> None:
    taken = session.scalar(select(Location.id).where(Location.organization_id == organization_id,
                                                     Location.code == code))
    if taken is not None:
        raise LocationCodeTaken()


def _flush_unique_code(session: Session) -> None:
    # The explicit check above covers the usual case; this covers two requests racing for one code.
    try:
        session.flush()
    except IntegrityError as exc:
        raise LocationCodeTaken() from exc


def _location_event(location: Location) -> dict[str, Any]:
    return {"id": location.id, "name": location.name, "code": location.code, "timezone": location.timezone}


# --- items: lookup, create, update, archive -----------------------------------------------------------------

def get_item(session: Session, *, organization_id: str, ref: str, lock: bool = False) -> Item:
    """An item by its ``itm_`` id or its ``external_id``; ``lock`` takes its row lock (PostgreSQL)."""
    if not _storable(ref):
        raise ItemNotFound(details={"id": ref})
    columns = (Item.id, Item.external_id) if has_prefix(ref, "itm") else (Item.external_id,)
    for column in columns:
        query = select(Item).where(Item.organization_id == organization_id, column == ref)
        if lock:
            query = query.with_for_update().execution_options(populate_existing=True)
        item = session.scalar(query)
        if item is not None:
            return item
    raise ItemNotFound(details={"id": ref})


def items_by_ref(session: Session, *, organization_id: str, refs: Sequence[str]) -> dict[str, Item]:
    """Items by id or external_id in two queries (for bulk requests); unknown refs are absent."""
    wanted = set(refs)
    found: dict[str, Item] = {}
    for column in (Item.id, Item.external_id):
        missing = [ref for ref in wanted if ref not in found]
        if not missing:
            break
        for item in session.scalars(select(Item).where(Item.organization_id == organization_id,
                                                       column.in_(missing))):
            found[item.id if column is Item.id else item.external_id or ""] = item
    return found


def create_item(session: Session, *, organization_id: str, actor: str | None, fields: dict[str, Any]) -> Item:
    """Create an item; its initial quantity (default 1) is a ``RECEIVED`` movement. Emits inventory.created."""
    values = item_fields.create_fields(fields)
    item_fields.ensure_locations(session, organization_id=organization_id, ids=[values.get("location_id")],
                                 path_of={})
    item_fields.ensure_product(session, organization_id=organization_id, product_id=values.get("product_id"),
                               path="$.product_id")
    _ensure_unique(session, organization_id=organization_id, values=values, tracking=values["tracking"])
    moment = ledger.now(session)
    quantity = values.pop("quantity")
    values.setdefault("currency", item_fields.default_currency(session, organization_id))
    values.setdefault("attributes", {})
    item = Item(id=new_id("itm"), organization_id=organization_id, quantity=quantity, reserved_quantity=0,
                version=1, created_at=moment, updated_at=moment, last_moved_at=moment if quantity else None,
                **values)
    session.add(item)
    if quantity:
        ledger.record_movement(session, item, Change(quantity, "RECEIVED", actor), version=1, at=moment)
    _flush_unique(session)
    notify.created(session, item, actor=actor)
    return item


def update_item(session: Session, *, organization_id: str, item_id: str, changes: dict[str, Any],
                actor: str | None) -> Item:
    """Change descriptive fields, price, cost and status; never quantity (422 USE_ADJUSTMENT) nor place."""
    item = get_item(session, organization_id=organization_id, ref=item_id, lock=True)
    _refuse_ledger_fields(item, changes)
    values = item_fields.update_fields({k: v for k, v in changes.items() if k in item_fields.DESCRIPTIVE_FIELDS})
    required = [name for name in ("sku", "name", "currency", "status") if name in values and values[name] is None]
    if required:
        raise ValidationFailed([{"path": f"$.{name}", "message": "may not be null"} for name in required])
    if "attributes" in values and values["attributes"] is None:
        values["attributes"] = {}
    values = {k: v for k, v in values.items() if getattr(item, k) != v}
    if not values:
        return item
    if "status" in values:
        _check_transition(session, item, values["status"])
    if item.tracking == SERIALIZED and {"sku", "cert_number"} & values.keys():
        _ensure_unique(session, organization_id=organization_id, tracking=SERIALIZED, exclude_item=item.id,
                       values={"sku": values.get("sku", item.sku),
                               "cert_number": values.get("cert_number", item.cert_number)})
    if values.get("external_id") is not None:
        item_fields.ensure_external_ids_free(session, organization_id=organization_id,
                                             external_ids=[values["external_id"]], exclude_item=item.id)
    item_fields.ensure_product(session, organization_id=organization_id, product_id=values.get("product_id"),
                               path="$.product_id")
    was_low = notify.is_low(item.quantity - item.reserved_quantity, item.low_stock_threshold)
    for name, value in values.items():
        setattr(item, name, value)
    item.version = item.version + 1
    item.updated_at = ledger.now(session)
    _flush_unique(session)
    notify.updated(session, item, actor=actor, changed=sorted(values))
    notify.low_stock_if_crossed(session, item, was_low=was_low, actor=actor)
    return item


def archive_item(session: Session, *, organization_id: str, item_id: str, actor: str | None) -> Item:
    """Archive (the DELETE of the API): history is kept; refused with 409 while units are reserved."""
    item = get_item(session, organization_id=organization_id, ref=item_id, lock=True)
    if item.status == ARCHIVED:
        return item
    _check_transition(session, item, ARCHIVED)
    item.status = ARCHIVED
    item.version = item.version + 1
    item.updated_at = ledger.now(session)
    session.flush()
    notify.updated(session, item, actor=actor, changed=["status"])
    return item


_TRANSITIONS: dict[str, frozenset[str]] = {
    ACTIVE: frozenset({REPAIR, MEMO, ARCHIVED}),
    REPAIR: frozenset({ACTIVE, MEMO, ARCHIVED}),
    MEMO: frozenset({ACTIVE, REPAIR, ARCHIVED}),
    SOLD: frozenset({ARCHIVED}),  # back in stock only through a RETURN
    ARCHIVED: frozenset({ACTIVE}),
}


def _check_transition(session: Session, item: Item, status: str) -> None:
    allowed = _TRANSITIONS.get(item.status, frozenset())
    if status not in allowed:
        raise InvalidTransition(f"An item cannot go from {item.status} to {status}.",
                                details={"status": item.status, "allowed": sorted(allowed)})
    if status == ARCHIVED:
        ledger.release_expired(session, item)
        if item.reserved_quantity > 0:
            raise ItemReserved(details={"reserved_quantity": item.reserved_quantity})


def _refuse_ledger_fields(item: Item, changes: dict[str, Any]) -> None:
    for name in ("quantity", "reserved_quantity", "available_quantity"):
        if changes.get(name) is not None:
            raise UseAdjustment([{"path": f"$.{name}", "message": "change quantities with PATCH /inventory/{id} "
                                  "(an adjustment with a reason code), a sale or a transfer"}])
    for name in ("location_id", "room_type"):
        if changes.get(name) is not None and changes[name] != getattr(item, name):
            raise UseTransfer([{"path": f"$.{name}", "message": "move items with POST /inventory/{id}/transfer"}])
    if changes.get("tracking") is not None and changes["tracking"] != item.tracking:
        raise ValidationFailed.field("$.tracking", "an item's tracking mode cannot change")


def _ensure_unique(session: Session, *, organization_id: str, values: dict[str, Any], tracking: str,
                   exclude_item: str | None = None) -> None:
    if exclude_item is None:
        item_fields.ensure_external_ids_free(session, organization_id=organization_id,
                                             external_ids=[values.get("external_id")])
    if tracking == SERIALIZED and values.get("cert_number"):
        item_fields.ensure_certificates_free(session, organization_id=organization_id,
                                             pieces=[(values["sku"], values["cert_number"])],
                                             exclude_item=exclude_item)


def _flush_unique(session: Session) -> None:
    # The checks above answer the usual case; the unique indexes settle two requests racing for one value.
    try:
        session.flush()
    except IntegrityError as exc:
        text = str(exc.orig).lower()
        raise (CertificateTaken() if "cert" in text else ExternalIdTaken()) from exc


# --- quantities: adjustments, sales, returns ------------------------------------------------------------------

# Reason codes whose sign is fixed (the others, e.g. ADJUSTMENT, AUDIT or a manual TRANSFER, go either way).
_NEGATIVE_REASONS = frozenset({"SALE", "DAMAGE", "THEFT"})
_POSITIVE_REASONS = frozenset({"RETURN", "RECEIVED"})


@dataclass(frozen=True, slots=True)
class AdjustmentLine:
    """One line of an adjustment: ``ref`` is the item's id or external_id."""

    ref: str
    quantity_change: int
    reason_code: str
    notes: str | None = None
    reference: str | None = None
    expected_quantity: int | None = None


def adjust_quantity(session: Session, *, organization_id: str, item_id: str, quantity_change: int,
                    reason_code: str, actor: str | None, notes: str | None = None, reference: str | None = None,
                    expected_quantity: int | None = None) -> tuple[Item, Movement]:
    """Apply one adjustment (PATCH): 409 INSUFFICIENT_STOCK below 0 or below reserved, QUANTITY_CHANGED when
    ``expected_quantity`` does not match, QUANTITY_OUT_OF_RANGE when a serialized piece would leave 0..1."""
    item = get_item(session, organization_id=organization_id, ref=item_id)
    line = AdjustmentLine(item_id, quantity_change, reason_code, notes, reference, expected_quantity)
    _check_adjustment(item, line, path="$")
    movement = _adjust(session, item, line, actor)
    notify.quantity_changed(session, item, movement, actor=actor)
    return item, movement


def bulk_adjust(session: Session, *, organization_id: str, lines: Sequence[AdjustmentLine],
                actor: str | None) -> list[tuple[Item, notify.MovementLike]]:
    """All or nothing: every bad line is reported by index (422 for invalid lines, 409 ``BULK_UPDATE_FAILED``
    for lines the stock refuses), and then nothing is applied.

    Set-based: the items are locked in one statement (id order, so concurrent batches cannot deadlock), every
    line is checked against the locked rows in Python, and only then are all changes written (one UPDATE
    executemany per shape, the movements and the events in one insert each). A refused line therefore leaves
    nothing to roll back."""
    ids = _ids_by_ref(session, organization_id, [line.ref for line in lines])
    locked = ledger.lock_items(session, list(ids.values()))  # full rows once, under their locks
    items = {ref: locked[item_id] for ref, item_id in ids.items()}
    _check_bulk_lines(items, lines)
    for item in locked.values():
        if item.reserved_quantity:
            ledger.release_expired(session, item)  # expired holds stop counting before the stock check
    changes: list[ledger.LockedChange] = []
    conflicts: list[dict[str, Any]] = []
    for index, line in enumerate(lines):
        item = locked[items[line.ref].id]
        refused = ledger.refusal(item.tracking, line.quantity_change, quantity=item.quantity,
                                 reserved=item.reserved_quantity, status=item.status,
                                 expected_quantity=line.expected_quantity)
        if refused is not None:
            conflicts.append({"index": index, "path": f"$.updates[{index}]", "id": line.ref, "code": refused.code,
                              "message": refused.message, **refused.details})
            continue
        change = Change(line.quantity_change, line.reason_code, actor, line.notes, line.reference)
        changes.append(ledger.LockedChange(item, change, _status_after(item, line.quantity_change,
                                                                       line.reason_code)))
    if conflicts:
        raise BulkUpdateFailed(conflicts)
    movements = ledger.apply_locked_changes(session, changes)
    events = [event for locked_change, movement in zip(changes, movements, strict=True)
              for event in notify.quantity_events(locked_change.item, movement)]
    notify.publish_many(session, organization_id, events, actor=actor)
    return [(locked_change.item, movement) for locked_change, movement in zip(changes, movements, strict=True)]


def _ids_by_ref(session: Session, organization_id: str, refs: Sequence[str]) -> dict[str, str]:
    """Item ids for refs (an id, else an external_id, as ``get_item``), reading two columns only."""
    wanted = list(set(refs))
    rows = session.execute(select(Item.id, Item.external_id).where(
        Item.organization_id == organization_id, or_(Item.id.in_(wanted), Item.external_id.in_(wanted)))).all()
    by_external = {external_id: item_id for item_id, external_id in rows if external_id is not None}
    by_id = {item_id: item_id for item_id, _ in rows}
    found = {ref: by_id.get(ref) or by_external.get(ref) for ref in wanted}
    return {ref: item_id for ref, item_id in found.items() if item_id is not None}


def _check_bulk_lines(items: dict[str, Item], lines: Sequence[AdjustmentLine]) -> None:
    errors: list[dict[str, Any]] = []
    first_line: dict[str, int] = {}
    for index, line in enumerate(lines):
        item = items.get(line.ref)
        if item is None:
            errors.append({"index": index, "path": f"$.updates[{index}].id", "code": "ITEM_NOT_FOUND",
                           "message": "no such item"})
            continue
        if item.id in first_line:
            errors.append({"index": index, "path": f"$.updates[{index}].id", "code": "DUPLICATE_ID",
                           "message": f"the same item as line {first_line[item.id]}; send one line per item"})
            continue
        first_line[item.id] = index
        try:
            _check_adjustment(item, line, path=f"$.updates[{index}]")
        except ValidationFailed as exc:
            errors.extend({"index": index, **error} for error in exc.errors)
        except VitrinaError as exc:
            errors.append({"index": index, "path": f"$.updates[{index}].id", "code": exc.code,
                           "message": exc.message})
    if errors:
        raise ValidationFailed(errors, "Some lines are invalid; nothing was changed.")


def _check_adjustment(item: Item, line: AdjustmentLine, *, path: str) -> None:
    change = line.quantity_change
    if line.reason_code not in REASON_CODES:
        raise ValidationFailed.field(f"{path}.reason_code", f"must be one of {', '.join(REASON_CODES)}")
    if isinstance(change, bool) or not isinstance(change, int) or change == 0:
        raise ValidationFailed.field(f"{path}.quantity_change", "must be a non-zero whole number")
    if line.reason_code in _NEGATIVE_REASONS and change > 0:
        raise ValidationFailed.field(f"{path}.quantity_change", f"a {line.reason_code} removes stock: negative")
    if line.reason_code in _POSITIVE_REASONS and change < 0:
        raise ValidationFailed.field(f"{path}.quantity_change", f"a {line.reason_code} adds stock: positive")
    if item.tracking == SERIALIZED and abs(change) > 1:
        raise ValidationFailed.field(f"{path}.quantity_change", "a serialized piece changes by 1 or -1")
    if item.status == ARCHIVED:
        raise ItemArchived(details={"id": item.id})


def _adjust(session: Session, item: Item, line: AdjustmentLine, actor: str | None) -> Movement:
    change = Change(line.quantity_change, line.reason_code, actor, line.notes, line.reference)
    return ledger.apply_change(session, item, change, expected_quantity=line.expected_quantity,
                               new_status=_status_after(item, line.quantity_change, line.reason_code))


def _status_after(item: Item, quantity_change: int, reason_code: str) -> str | None:
    """A serialized piece is ``sold`` by a sale and back to ``active`` when it comes back into stock."""
    if item.tracking != SERIALIZED:
        return None
    if reason_code == "SALE":
        return ledger.SOLD_STATUS
    return ledger.RESTOCK_STATUS if quantity_change > 0 else None


def sell_item(session: Session, *, organization_id: str, item_id: str, quantity: int, actor: str | None,
              reference: str | None) -> tuple[Item, Movement]:
    """A ``SALE`` movement for a sales transaction; a serialized piece becomes ``sold``.

    Only an ``active`` item sells, and only from its available units, except that holds whose reference is
    this sale's are consumed first. Anything short: 409 ITEM_NOT_AVAILABLE. Emits inventory.sold.
    """
    item = get_item(session, organization_id=organization_id, ref=item_id)
    _check_unit_count(item, quantity)
    if reference:
        _consume_holds(session, item, reference=reference, quantity=quantity)
    try:
        movement = ledger.apply_change(session, item, Change(-quantity, "SALE", actor, None, reference),
                                       require_status=ACTIVE,
                                       new_status=ledger.SOLD_STATUS if item.tracking == SERIALIZED else None)
    except (InsufficientStock, QuantityOutOfRange, ItemNotAvailable) as exc:
        raise ItemNotAvailable(details={"id": item.id, "requested": quantity, **exc.details}) from exc
    notify.quantity_changed(session, item, movement, actor=actor)
    return item, movement


def return_item(session: Session, *, organization_id: str, item_id: str, quantity: int, actor: str | None,
                reference: str | None) -> tuple[Item, Movement]:
    """A ``RETURN`` movement; a sold serialized piece is ``active`` again (409 QUANTITY_OUT_OF_RANGE if the
    piece is in stock already)."""
    item = get_item(session, organization_id=organization_id, ref=item_id)
    _check_unit_count(item, quantity)
    movement = ledger.apply_change(session, item, Change(quantity, "RETURN", actor, None, reference),
                                   new_status=_status_after(item, quantity, "RETURN"))
    notify.quantity_changed(session, item, movement, actor=actor)
    return item, movement


def _check_unit_count(item: Item, quantity: int) -> None:
    if quantity < 1:
        raise ValidationFailed.field("$.quantity", "must be at least 1")
    if item.tracking == SERIALIZED and quantity != 1:
        raise ValidationFailed.field("$.quantity", "a serialized piece is one unit")


def _consume_holds(session: Session, item: Item, *, reference: str, quantity: int) -> None:
    """Holds made for this very sale (same reference) stop counting as it happens, oldest first."""
    if not item.reserved_quantity:
        return
    holds = session.scalars(
        select(Reservation).where(Reservation.item_id == item.id, Reservation.reference == reference,
                                  ledger.active_reservation_filter(ledger.now(session)))
        .order_by(Reservation.created_at, Reservation.id).with_for_update()
    ).all()
    remaining, consumed = quantity, 0
    for hold in holds:
        if remaining <= 0:
            break
        take = min(hold.quantity, remaining)
        if take == hold.quantity:
            hold.released_at, hold.release_reason = ledger.now(session), "consumed"
        else:
            hold.quantity -= take
        remaining -= take
        consumed += take
    if consumed:
        ledger.change_reserved(session, item, -consumed)


# --- transfers -------------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Transfer:
    source: Item
    target: Item
    movements: list[Movement] = field(default_factory=list)


def transfer_item(session: Session, *, organization_id: str, item_id: str, to_location_id: str | None,
                  to_room_type: str | None, quantity: int, actor: str | None, notes: str | None = None,
                  reference: str | None = None) -> Transfer:
    """Move stock to another location and/or room: a serialized piece moves itself; bulk units split into
    (or merge with) the same SKU's item there. Two ``TRANSFER`` movements, one transaction."""
    item = get_item(session, organization_id=organization_id, ref=item_id)
    location_id = to_location_id or item.location_id
    room_type = to_room_type or item.room_type
    if to_location_id is not None:
        item_fields.ensure_locations(session, organization_id=organization_id, ids=[to_location_id],
                                     path_of={to_location_id: "$.to_location_id"})
    if (location_id, room_type) == (item.location_id, item.room_type):
        raise ValidationFailed.field("$.to_location_id", "the item is already at this location and room")
    if item.status == ARCHIVED:
        raise ItemArchived(details={"id": item.id})
    if quantity < 1:
        raise ValidationFailed.field("$.quantity", "must be at least 1")
    out_change = Change(-quantity, "TRANSFER", actor, notes or f"to {location_id}/{room_type}", reference)
    if item.tracking == SERIALIZED:
        if quantity != 1:
            raise ValidationFailed.field("$.quantity", "a serialized piece is one unit")
        return _move_piece(session, item, location_id, room_type, out_change)
    return _split_bulk(session, item, location_id, room_type, out_change)


def _origin_note(location_id: str | None, room_type: str) -> str:
    return f"from {location_id or 'no location'}/{room_type}"


def _move_piece(session: Session, item: Item, location_id: str | None, room_type: str, out: Change) -> Transfer:
    """The piece itself changes place; its ledger shows it leaving (-1) and arriving (+1)."""
    for _ in range(3):
        origin = (item.location_id, item.room_type)
        row = ledger.relocate(session, item, location_id=location_id, room_type=room_type)
        if row is not None:
            ledger.refresh_from(item, row)
            leaving = ledger.record_movement(session, item, out, version=row.version - 1, at=row.last_moved_at,
                                             location_id=origin[0], room_type=origin[1], quantity_after=0)
            arriving = ledger.record_movement(
                session, item, Change(1, "TRANSFER", out.actor, _origin_note(*origin), out.reference),
                version=row.version, at=row.last_moved_at)
            notify.updated(session, item, actor=out.actor, movement=arriving)
            return Transfer(item, item, [leaving, arriving])
        session.refresh(item)
        if item.quantity != 1 or item.status in (SOLD, ARCHIVED):
            raise ItemNotAvailable(f"The piece is not in stock here ({item.status}, quantity {item.quantity}).",
                                   details={"status": item.status, "quantity": item.quantity})
    raise ItemNotAvailable("The piece kept moving; retry.")


def _split_bulk(session: Session, item: Item, location_id: str | None, room_type: str, out: Change) -> Transfer:
    if item.quantity - item.reserved_quantity < -out.quantity_change:  # early answer; the guarded update decides
        ledger.release_expired(session, item)
        if item.quantity - item.reserved_quantity < -out.quantity_change:
            raise InsufficientStock(details={"quantity": item.quantity, "reserved_quantity": item.reserved_quantity,
                                             "available_quantity": item.quantity - item.reserved_quantity,
                                             "quantity_change": out.quantity_change})
    target, is_new = _bulk_target(session, item, location_id, room_type)
    ledger.lock_items(session, [item.id, target.id])  # both rows, in id order: no deadlock between transfers
    leaving = ledger.apply_change(session, item, out)
    arriving = ledger.apply_change(
        session, target,
        Change(-out.quantity_change, "TRANSFER", out.actor, _origin_note(item.location_id, item.room_type),
               out.reference))
    notify.quantity_changed(session, item, leaving, actor=out.actor)
    if is_new:  # its first event carries the units that arrived
        notify.created(session, target, actor=out.actor)
    else:
        notify.quantity_changed(session, target, arriving, actor=out.actor)
    return Transfer(item, target, [leaving, arriving])


def _bulk_target(session: Session, item: Item, location_id: str | None, room_type: str) -> tuple[Item, bool]:
    """The same SKU's bulk item at the destination (the oldest if several), or a new empty one."""
    existing = session.scalar(
        select(Item).where(Item.organization_id == item.organization_id, Item.sku == item.sku,
                           Item.tracking == BULK, Item.status != ARCHIVED, Item.currency == item.currency,
                           Item.location_id.is_(None) if location_id is None else Item.location_id == location_id,
                           Item.room_type == room_type)
        .order_by(Item.created_at, Item.id).limit(1))
    if existing is not None:
        return existing, False
    moment = ledger.now(session)
    copied = {name: getattr(item, name) for name in (
        "sku", "name", "category", "description", "low_stock_threshold", "price", "cost", "currency",
        "supplier_id", "certification", "cert_number", "product_id", "configuration_id")}
    target = Item(id=new_id("itm"), organization_id=item.organization_id, tracking=BULK, status=ACTIVE,
                  quantity=0, reserved_quantity=0, version=1, location_id=location_id, room_type=room_type,
                  attributes=dict(item.attributes or {}), created_at=moment, updated_at=moment, **copied)
    session.add(target)
    session.flush()
    return target, True


# --- reservations ------------------------------------------------------------------------------------------------

def reserve_item(session: Session, *, organization_id: str, item_id: str, quantity: int, reference: str | None,
                 expires_at: datetime | None, actor: str | None) -> Reservation:
    """Hold available units (409 INSUFFICIENT_STOCK when fewer are free, ITEM_NOT_AVAILABLE unless active).
    A hold with ``expires_at`` stops counting then, with no job to run."""
    item = get_item(session, organization_id=organization_id, ref=item_id)
    moment = ledger.now(session)
    if expires_at is not None and expires_at <= moment:
        raise ValidationFailed.field("$.expires_at", "must be in the future")
    _check_unit_count(item, quantity)
    ledger.release_expired(session, item)
    was_low = notify.is_low(item.quantity - item.reserved_quantity, item.low_stock_threshold)
    if not ledger.change_reserved(session, item, quantity, require_available=True, require_status=ACTIVE):
        session.refresh(item)
        if item.status != ACTIVE:
            raise ItemNotAvailable(f"The item is {item.status}.", details={"status": item.status})
        raise InsufficientStock(details={"quantity": item.quantity, "reserved_quantity": item.reserved_quantity,
                                         "available_quantity": item.quantity - item.reserved_quantity,
                                         "requested": quantity})
    reservation = Reservation(id=new_id("rsv"), organization_id=organization_id, item_id=item.id,
                              quantity=quantity, reference=reference, expires_at=expires_at, actor=actor,
                              created_at=moment)
    session.add(reservation)
    session.flush()
    notify.updated(session, item, actor=actor, changed=["reserved_quantity"])
    notify.low_stock_if_crossed(session, item, was_low=was_low, actor=actor)
    return reservation


def release_reservation(session: Session, *, organization_id: str, item_id: str, reservation_id: str,
                        actor: str | None) -> Reservation:
    """Release a hold. Releasing one that is already released or expired changes nothing (idempotent)."""
    item = get_item(session, organization_id=organization_id, ref=item_id)
    if not _storable(reservation_id):
        raise ReservationNotFound(details={"reservation_id": reservation_id})
    reservation = session.scalar(select(Reservation).where(
        Reservation.organization_id == organization_id, Reservation.item_id == item.id,
        Reservation.id == reservation_id))
    if reservation is None:
        raise ReservationNotFound(details={"reservation_id": reservation_id})
    moment = ledger.now(session)
    expired = reservation.expires_at is not None and reservation.expires_at <= moment
    released = session.execute(
        update(Reservation).where(Reservation.id == reservation.id, Reservation.released_at.is_(None))
        .values(released_at=moment, release_reason="expired" if expired else "released")
        .returning(Reservation.quantity).execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    session.refresh(reservation)
    if released:
        ledger.change_reserved(session, item, -released)
        notify.updated(session, item, actor=actor, changed=["reserved_quantity"])
    return reservation


def release_expired_holds(session: Session, *, organization_id: str | None = None) -> int:
    """Release every expired hold now, returning the units freed. Optional: expired holds already stop counting
    (reads discount them, the next write to their item releases them); this tidies the rows in one go."""
    query = select(Reservation.item_id).where(Reservation.released_at.is_(None),
                                              Reservation.expires_at <= ledger.now(session)).distinct()
    if organization_id is not None:
        query = query.where(Reservation.organization_id == organization_id)
    freed = 0
    for item in ledger.lock_items(session, list(session.scalars(query))).values():
        units = ledger.release_expired(session, item)
        if units:
            freed += units
            notify.updated(session, item, actor=None, changed=["reserved_quantity"])
    return freed


def ledger_size(session: Session) -> int:
    """Movements in the ledger (approximate on PostgreSQL), for /metrics."""
    return ledger.ledger_rows(session)


def reserved_now(session: Session, items: Sequence[Item]) -> dict[str, int]:
    """The units each item holds for unexpired reservations (expired ones are released lazily)."""
    return ledger.active_reserved(session, items)


# --- reads ---------------------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ItemFilters:
    category: str | None = None
    status: str | None = None
    location_id: str | None = None
    room_type: str | None = None
    low_stock: bool | None = None
    sku: str | None = None
    q: str | None = None
    product_id: str | None = None
    tracking: str | None = None
    updated_since: datetime | None = None
    sort: str = "created_at"


SORTS = ("created_at", "-created_at", "price", "-price", "sku", "-sku", "updated_at", "-updated_at")


def list_items(session: Session, *, organization_id: str, filters: ItemFilters,
               page: Page) -> tuple[list[Item], int]:
    """A page of items; archived ones only when asked for with ``status=archived``."""
    where = _filters(session, organization_id, filters)
    total = session.scalar(select(func.count()).select_from(Item).where(*where)) or 0
    query = select(Item).where(*where).order_by(*_order(session, filters.sort)).limit(page.limit) \
        .offset(page.offset)
    return list(session.scalars(query)), total


def _held_units(moment: datetime) -> ColumnElement[Any]:
    """Units held by unexpired reservations (skips the subquery for the usual item that has none)."""
    held = (select(func.coalesce(func.sum(Reservation.quantity), 0))
            .where(Reservation.item_id == Item.id, ledger.active_reservation_filter(moment))
            .correlate(Item).scalar_subquery())
    return case((Item.reserved_quantity == 0, 0), else_=held)


def _filters(session: Session, organization_id: str, filters: ItemFilters) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [Item.organization_id == organization_id]
    moment = ledger.now(session)
    held = _held_units(moment)
    all_held = (held > 0) & (held >= Item.quantity)
    if filters.status == RESERVED:
        where += [Item.status == ACTIVE, all_held]
    elif filters.status == ACTIVE:
        where += [Item.status == ACTIVE, ~all_held]
    elif filters.status is not None:
        where.append(Item.status == filters.status)
    else:
        where.append(Item.status != ARCHIVED)
    exact = {Item.category: filters.category, Item.location_id: filters.location_id,
             Item.room_type: filters.room_type, Item.sku: filters.sku, Item.product_id: filters.product_id,
             Item.tracking: filters.tracking}
    where += [column == value for column, value in exact.items() if value is not None]
    if filters.low_stock is not None:
        low = Item.low_stock_threshold.is_not(None) & (Item.quantity - held <= Item.low_stock_threshold)
        where.append(low if filters.low_stock else ~low)
    if filters.updated_since is not None:
        where.append(Item.updated_at >= filters.updated_since)
    if filters.q:
        text = filters.q
        where.append(Item.sku.icontains(text, autoescape=True) | Item.name.icontains(text, autoescape=True)
                     | Item.description.icontains(text, autoescape=True)
                     | Item.cert_number.icontains(text, autoescape=True))
    return where


def _order(session: Session, sort: str) -> list[ColumnElement[Any]]:
    descending = sort.startswith("-")
    name = sort.lstrip("-")
    column: Any
    if name == "price":
        # Amounts are exact strings on SQLite; a float is only the sort key there, never a value shown.
        column = cast(Item.price, Float) if session.get_bind().dialect.name == "sqlite" else Item.price
    else:
        column = {"created_at": Item.created_at, "sku": Item.sku, "updated_at": Item.updated_at}[name]
    primary = column.desc().nulls_last() if descending else column.asc().nulls_last()
    return [primary, Item.id.desc() if descending else Item.id.asc()]


def list_movements(session: Session, *, organization_id: str, item_id: str, page: Page,
                   reason_code: str | None = None) -> tuple[list[Movement], int]:
    """The item's ledger, newest first."""
    item = get_item(session, organization_id=organization_id, ref=item_id)
    where = [Movement.organization_id == organization_id, Movement.item_id == item.id]
    if reason_code is not None:
        where.append(Movement.reason_code == reason_code)
    total = session.scalar(select(func.count()).select_from(Movement).where(*where)) or 0
    rows = session.scalars(select(Movement).where(*where)
                           .order_by(Movement.created_at.desc(), Movement.item_version.desc())
                           .limit(page.limit).offset(page.offset))
    return list(rows), total
