"""The ledger's write primitives: every quantity change in Vitrina goes through ``apply_change`` or
``apply_locked_targets``, which change the item and write its movement in the same transaction.

No read-modify-write in Python: ``apply_change`` is one guarded ``UPDATE ... WHERE <invariants> RETURNING``
(PostgreSQL takes the row lock, SQLite's writers hold the database write lock), so two racing requests can
never both pass the check. The batch path (``apply_locked_targets``) first locks its rows in id order
(``SELECT ... FOR UPDATE``), then computes in Python while nobody else can change them.

Expired reservations are released lazily here, by the next write to their item (``release_expired``), so no
cron job is needed; reads discount them meanwhile (``active_reserved``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Executable,
    Integer,
    String,
    Table,
    bindparam,
    case,
    func,
    inspect,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from vitrina.core.errors import VitrinaError
from vitrina.core.ids import new_id
from vitrina.core.time import utcnow
from vitrina.db.bulk import insert_rows
from vitrina.db.types import UTCDateTime
from vitrina.inventory.errors import (
    InsufficientStock,
    ItemNotAvailable,
    ItemNotFound,
    QuantityChanged,
    QuantityOutOfRange,
)
from vitrina.inventory.models import SERIALIZED, Item, Movement, Reservation

# ``session.info[CLOCK_KEY]``: a zero-argument callable returning the current UTC time. Only the demo seeder
# and tests set it (to write a backdated history through the real code path); production uses the wall clock.
CLOCK_KEY = "vitrina_inventory_clock"

_RETRIES = 3
# Every quantity stays far inside a 32-bit INTEGER, so no sum of changes can overflow the column.
MAX_QUANTITY = 1_000_000_000
_LOCK_CHUNK = 1000


def now(session: Session) -> datetime:
    clock: Callable[[], datetime] | None = session.info.get(CLOCK_KEY)
    return clock() if clock is not None else utcnow()


@dataclass(frozen=True, slots=True)
class Change:
    """One requested quantity change and what the ledger records about it."""

    quantity_change: int
    reason_code: str
    actor: str | None = None
    notes: str | None = None
    reference: str | None = None


# Guarded updates are Core statements on the table: no ORM bookkeeping per statement, and no autoflush, so the
# movements they add are inserted together (one multi-row INSERT) at the next flush.
ITEMS = cast(Table, Item.__table__)
RESERVATIONS = cast(Table, Reservation.__table__)
MOVEMENTS = cast(Table, Movement.__table__)
_I = ITEMS.c


def monotonic(moment: datetime) -> ColumnElement[Any]:
    """``max(last_moved_at, now)``: an item's movement times never go backwards, even when two app servers'
    clocks disagree, so "the last movement at or before T" is always the latest state at T."""
    at = bindparam(None, moment, type_=UTCDateTime())
    return case((_I.last_moved_at > at, _I.last_moved_at), else_=at)


RETURNED = (_I.quantity, _I.reserved_quantity, _I.version, _I.last_moved_at, _I.status, _I.location_id,
            _I.room_type, _I.updated_at)


def execute_guarded(session: Session, item: Item, statement: Executable,
                    params: dict[str, Any] | None = None) -> Any:
    """Run a guarded statement about ``item`` (flushing the item first if it has unflushed changes)."""
    state = inspect(item)
    if state.pending or state.modified:
        session.flush()
    return session.connection().execute(statement, params)


def refresh_from(item: Item, row: Any) -> None:
    """Copy a RETURNING row into the ORM object without marking it dirty."""
    for column in RETURNED:
        set_committed_value(item, column.key, getattr(row, column.key))


def apply_change(session: Session, item: Item, change: Change, *, expected_quantity: int | None = None,
                 require_status: str | None = None, new_status: str | None = None) -> Movement:
    """Change ``item``'s quantity by ``change.quantity_change`` and write the movement, or raise.

    Guards, all in the UPDATE's WHERE: the result stays ≥ 0 and ≥ reserved; a serialized item stays ≤ 1;
    ``expected_quantity`` (compare-and-set) and ``require_status`` match. On a refusal the row is read again
    only to name the reason (409 ``QUANTITY_CHANGED``, ``INSUFFICIENT_STOCK`` or ``QUANTITY_OUT_OF_RANGE``).
    """
    release_expired(session, item)
    for _ in range(_RETRIES):
        row = _guarded_update(session, item, change, expected_quantity, require_status, new_status)
        if row is not None:
            refresh_from(item, row)
            return record_movement(session, item, change, version=row.version, at=row.last_moved_at)
        _raise_refusal(session, item, change.quantity_change, expected_quantity, require_status)
    # Only reachable when the row kept changing between the guarded update and its diagnosis.
    raise InsufficientStock(details=_stock_details(session, item, change.quantity_change))


def _guarded_update(session: Session, item: Item, change: Change, expected_quantity: int | None,
                    require_status: str | None, new_status: str | None) -> Any:
    statement = _guarded_statement(item.tracking == SERIALIZED, expected_quantity is not None,
                                   require_status is not None, new_status)
    params = {"b_id": item.id, "b_org": item.organization_id, "b_delta": change.quantity_change,
              "b_expected": expected_quantity, "b_status": require_status, "b_moment": now(session)}
    return execute_guarded(session, item, statement, params).one_or_none()


# ``new_status`` of a guarded update: a sale marks a piece sold; stock coming back makes a sold piece active.
SOLD_STATUS, RESTOCK_STATUS = "sold", "restock"


@lru_cache(maxsize=64)
def _guarded_statement(serialized: bool, expected: bool, require_status: bool, new_status: str | None) -> Any:
    """The guarded UPDATE, built once per shape with bound parameters (cheap to run a thousand times)."""
    delta = bindparam("b_delta", type_=Integer())
    moment = bindparam("b_moment", type_=UTCDateTime())
    conditions: list[ColumnElement[bool]] = [
        _I.id == bindparam("b_id"), _I.organization_id == bindparam("b_org"),
        _I.quantity + delta >= 0, _I.quantity + delta >= _I.reserved_quantity, _I.quantity + delta <= MAX_QUANTITY,
    ]
    if serialized:
        conditions.append(_I.quantity + delta <= 1)
    if expected:
        conditions.append(_I.quantity == bindparam("b_expected", type_=Integer()))
    if require_status:
        conditions.append(_I.status == bindparam("b_status", type_=String()))
    values: dict[str, Any] = {"quantity": _I.quantity + delta, "version": _I.version + 1, "updated_at": moment,
                              "last_moved_at": case((_I.last_moved_at > moment, _I.last_moved_at), else_=moment)}
    if new_status == SOLD_STATUS:
        values["status"] = literal_column("'sold'")
    elif new_status == RESTOCK_STATUS:
        values["status"] = case((_I.status == "sold", "active"), else_=_I.status)
    return update(ITEMS).where(*conditions).values(**values).returning(*RETURNED)


def relocate(session: Session, item: Item, *, location_id: str | None, room_type: str) -> Any:
    """Move a serialized piece that is in stock, if it is still where ``item`` says; two versions are used, one
    per TRANSFER movement, so the pair keeps a strict order in the ledger. Returns the row or None."""
    moment = now(session)
    here = _I.location_id.is_(None) if item.location_id is None else _I.location_id == item.location_id
    statement = (update(ITEMS)
                 .where(_I.id == item.id, _I.organization_id == item.organization_id, _I.quantity == 1,
                        _I.status.not_in(["sold", "archived"]), here, _I.room_type == item.room_type)
                 .values(location_id=location_id, room_type=room_type, version=_I.version + 2, updated_at=moment,
                         last_moved_at=monotonic(moment))
                 .returning(*RETURNED))
    return execute_guarded(session, item, statement).one_or_none()


def _raise_refusal(session: Session, item: Item, delta: int, expected_quantity: int | None,
                   require_status: str | None) -> None:
    """Raise the reason the guarded update matched nothing; return if the row now allows it (retry)."""
    current = session.connection().execute(select(_I.quantity, _I.reserved_quantity, _I.status)
                                           .where(_I.id == item.id)).one_or_none()
    if current is None:
        raise ItemNotFound()
    quantity, reserved, status = current
    reason = refusal(item.tracking, delta, quantity=quantity, reserved=reserved, status=status,
                     expected_quantity=expected_quantity, require_status=require_status)
    if reason is not None:
        raise reason


def refusal(tracking: str, delta: int, *, quantity: int, reserved: int, status: str,
            expected_quantity: int | None = None, require_status: str | None = None) -> VitrinaError | None:
    """Why the stock refuses ``delta`` on an item in this state (the guarded update's conditions), or None."""
    if expected_quantity is not None and quantity != expected_quantity:
        return QuantityChanged(details={"expected_quantity": expected_quantity, "quantity": quantity})
    if require_status is not None and status != require_status:
        return ItemNotAvailable(f"The item is {status}.", details={"status": status})
    if quantity + delta < max(reserved, 0):
        return InsufficientStock(details={"quantity": quantity, "reserved_quantity": reserved,
                                          "available_quantity": quantity - reserved, "quantity_change": delta})
    if quantity + delta > (1 if tracking == SERIALIZED else MAX_QUANTITY):
        return QuantityOutOfRange("A serialized item's quantity stays within 0..1, and any item's within "
                                  f"0..{MAX_QUANTITY}.", details={"quantity": quantity, "quantity_change": delta})
    return None


def _stock_details(session: Session, item: Item, delta: int) -> dict[str, Any]:
    row = session.connection().execute(select(_I.quantity, _I.reserved_quantity).where(_I.id == item.id)).one()
    return {"quantity": row.quantity, "reserved_quantity": row.reserved_quantity, "quantity_change": delta}


def record_movement(session: Session, item: Item, change: Change, *, version: int, at: datetime,
                    location_id: str | None = None, room_type: str | None = None,
                    quantity_after: int | None = None) -> Movement:
    """Append one movement (the caller has just applied its change to the item row)."""
    movement = Movement(
        id=new_id("mov"), organization_id=item.organization_id, item_id=item.id, item_version=version,
        quantity_change=change.quantity_change,
        quantity_after=item.quantity if quantity_after is None else quantity_after,
        reason_code=change.reason_code, notes=change.notes, reference=change.reference, actor=change.actor,
        location_id=item.location_id if location_id is None else location_id,
        room_type=room_type or item.room_type, created_at=at,
    )
    session.add(movement)
    return movement


# --- batches under row locks --------------------------------------------------------------------------------

def lock_items(session: Session, item_ids: Sequence[str]) -> dict[str, Item]:
    """Lock the rows (id order, so two batches never deadlock) and load their current values."""
    ordered = sorted(set(item_ids))
    locked: dict[str, Item] = {}
    for start in range(0, len(ordered), _LOCK_CHUNK):
        statement = (select(Item).where(Item.id.in_(ordered[start:start + _LOCK_CHUNK])).order_by(Item.id)
                     .with_for_update().execution_options(populate_existing=True))
        locked.update((item.id, item) for item in session.scalars(statement))
    return locked


@dataclass(slots=True)
class Target:
    """What a batch wants for one locked item: a quantity (None: keep it) and descriptive values."""

    item: Item
    quantity: int | None = None
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Applied:
    item: Item
    movement: SimpleNamespace | None  # the movement written, when the quantity changed
    changed: list[str]  # descriptive fields that changed


def apply_locked_targets(session: Session, targets: Sequence[Target], *, reason_code: str, actor: str | None,
                         notes: str | None = None) -> list[Applied]:
    """Bring each (already locked) item to its target: one UPDATE per shape of change (executemany) and one
    movement per changed quantity (bulk insert). Raises ``InsufficientStock``/``QuantityOutOfRange`` naming the
    item before writing anything."""
    plan = [(t.item, _new_quantity(t), {k: v for k, v in t.values.items() if getattr(t.item, k) != v})
            for t in targets]
    plan = [(item, quantity, values) for item, quantity, values in plan if quantity is not None or values]
    if not plan:
        return []
    moment = now(session)
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    movements: list[dict[str, Any]] = []
    applied: list[Applied] = []
    for item, quantity, values in plan:
        new = values | {"version": item.version + 1, "updated_at": moment}
        if quantity is not None:
            new |= {"quantity": quantity, "last_moved_at": max(item.last_moved_at or moment, moment)}
        groups.setdefault(tuple(sorted(new)), []).append(
            {"b_id": item.id, "b_old": item.quantity} | {f"v_{name}": value for name, value in new.items()})
        movement = None
        if quantity is not None:
            row = _movement_row(item, quantity, new, reason_code=reason_code, actor=actor, notes=notes)
            movements.append(row)
            movement = SimpleNamespace(**row)
        for name, value in new.items():
            set_committed_value(item, name, value)
        applied.append(Applied(item, movement, sorted(values)))
    for names, params in groups.items():
        _update_many(session, names, params)
    insert_rows(session, MOVEMENTS, movements)
    return applied


@dataclass(frozen=True, slots=True)
class LockedChange:
    """One quantity change for an item locked by ``lock_items`` and already checked with ``refusal``."""

    item: Item
    change: Change
    new_status: str | None = None  # SOLD_STATUS, RESTOCK_STATUS or None (keep)


def apply_locked_changes(session: Session, changes: Sequence[LockedChange]) -> list[SimpleNamespace]:
    """Apply per-item changes (each with its own reason, notes and reference) to locked rows, set-based: one
    ``UPDATE`` executemany per shape of change and every movement in one bulk insert, instead of one guarded
    ``UPDATE`` round trip per item. Returns the movements written, in the order of ``changes``."""
    moment = now(session)
    updates: list[tuple[Item, dict[str, Any]]] = []
    movements: list[dict[str, Any]] = []
    for locked in changes:
        item, change = locked.item, locked.change
        quantity = item.quantity + change.quantity_change
        new: dict[str, Any] = {"quantity": quantity, "version": item.version + 1, "updated_at": moment,
                               "last_moved_at": max(item.last_moved_at or moment, moment),
                               "status": _status_value(item.status, locked.new_status)}
        updates.append((item, new))
        movements.append(_movement_row(item, quantity, new, reason_code=change.reason_code, actor=change.actor,
                                       notes=change.notes) | {"reference": change.reference})
    if session.get_bind().dialect.name == "postgresql":
        _update_locked_postgresql(session, updates)
    else:
        params = [{"b_id": item.id, "b_old": item.quantity} | {f"v_{name}": value for name, value in new.items()}
                  for item, new in updates]
        if params:
            _update_many(session, tuple(sorted(updates[0][1])), params)
    for item, new in updates:
        for name, value in new.items():
            set_committed_value(item, name, value)
    insert_rows(session, MOVEMENTS, movements)
    return [SimpleNamespace(**row) for row in movements]


# One statement for a whole batch: PostgreSQL joins the rows to arrays of new values (one plan, one round trip)
# where an executemany ran a thousand single-row UPDATEs. ``quantity = old`` as in ``_update_many``.
_UPDATE_FROM_ARRAYS = text("""
    UPDATE inventory_items AS i
       SET quantity = v.quantity, version = v.version, status = v.status, last_moved_at = v.last_moved_at,
           updated_at = :updated_at
      FROM unnest(CAST(:ids AS text[]), CAST(:olds AS integer[]), CAST(:quantities AS integer[]),
                  CAST(:versions AS integer[]), CAST(:statuses AS text[]), CAST(:moved AS timestamptz[]))
           AS v(id, old, quantity, version, status, last_moved_at)
     WHERE i.id = v.id AND i.organization_id = :organization_id AND i.quantity = v.old
""")


def _update_locked_postgresql(session: Session, updates: Sequence[tuple[Item, dict[str, Any]]]) -> None:
    if not updates:
        return
    result = session.connection().execute(_UPDATE_FROM_ARRAYS, {
        "ids": [item.id for item, _ in updates], "olds": [item.quantity for item, _ in updates],
        "quantities": [new["quantity"] for _, new in updates], "versions": [new["version"] for _, new in updates],
        "statuses": [new["status"] for _, new in updates], "moved": [new["last_moved_at"] for _, new in updates],
        "updated_at": updates[0][1]["updated_at"], "organization_id": updates[0][0].organization_id})
    if result.rowcount != len(updates):
        raise VitrinaError("inventory rows changed under their lock")


def _status_value(current: str, new_status: str | None) -> str:
    """The status a guarded update with ``new_status`` would leave (see ``_guarded_statement``)."""
    if new_status == SOLD_STATUS:
        return "sold"
    if new_status == RESTOCK_STATUS and current == "sold":
        return "active"
    return current


def _new_quantity(target: Target) -> int | None:
    item, quantity = target.item, target.quantity
    if quantity is None or quantity == item.quantity:
        return None
    details = {"id": item.id, "external_id": item.external_id, "quantity": item.quantity,
               "reserved_quantity": item.reserved_quantity, "target_quantity": quantity}
    if quantity < max(item.reserved_quantity, 0):
        raise InsufficientStock("The target quantity is below zero or below the reserved quantity.",
                                details=details)
    if quantity > (1 if item.tracking == SERIALIZED else MAX_QUANTITY):
        raise QuantityOutOfRange(details=details)
    return quantity


def _movement_row(item: Item, quantity: int, new: dict[str, Any], *, reason_code: str, actor: str | None,
                  notes: str | None) -> dict[str, Any]:
    return {"id": new_id("mov"), "organization_id": item.organization_id, "item_id": item.id,
            "item_version": new["version"], "quantity_change": quantity - item.quantity, "quantity_after": quantity,
            "reason_code": reason_code, "notes": notes, "reference": None, "actor": actor,
            "location_id": item.location_id, "room_type": item.room_type, "created_at": new["last_moved_at"]}


def _update_many(session: Session, names: tuple[str, ...], params: list[dict[str, Any]]) -> None:
    # ``quantity = :old`` is redundant under the row lock; it turns a bug into an error instead of a lost update.
    statement = (update(ITEMS).where(_I.id == bindparam("b_id"), _I.quantity == bindparam("b_old"))
                 .values({name: bindparam(f"v_{name}", type_=_I[name].type) for name in names}))
    result = session.connection().execute(statement, params)
    if session.get_bind().dialect.supports_sane_multi_rowcount and result.rowcount != len(params):
        raise VitrinaError("inventory rows changed under their lock")


# --- reservations -----------------------------------------------------------------------------------------

def active_reservation_filter(moment: datetime) -> ColumnElement[bool]:
    return (Reservation.released_at.is_(None)
            & or_(Reservation.expires_at.is_(None), Reservation.expires_at > moment))


def release_expired(session: Session, item: Item) -> int:
    """Release the item's expired holds (lazily, on its next write). Returns the units released."""
    if not item.reserved_quantity:
        return 0
    moment = now(session)
    r = RESERVATIONS.c
    released = execute_guarded(session, item, (
        update(RESERVATIONS)
        .where(r.item_id == item.id, r.released_at.is_(None), r.expires_at.is_not(None), r.expires_at <= moment)
        .values(released_at=moment, release_reason="expired")
        .returning(r.quantity)
    )).scalars().all()
    total = sum(released)
    if total:
        change_reserved(session, item, -total)
    return total


def change_reserved(session: Session, item: Item, delta: int, *, require_available: bool = False,
                    require_status: str | None = None) -> bool:
    """Add ``delta`` to the reserved quantity; with ``require_available`` only if that many units are free."""
    conditions: list[ColumnElement[bool]] = [_I.id == item.id, _I.organization_id == item.organization_id,
                                             _I.reserved_quantity + delta >= 0]
    if require_available:
        conditions.append(_I.quantity - _I.reserved_quantity >= delta)
    if require_status is not None:
        conditions.append(_I.status == require_status)
    row = execute_guarded(session, item, (
        update(ITEMS).where(*conditions)
        .values(reserved_quantity=_I.reserved_quantity + delta, version=_I.version + 1, updated_at=now(session))
        .returning(*RETURNED)
    )).one_or_none()
    if row is None:
        return False
    refresh_from(item, row)
    return True


def active_reserved(session: Session, items: Sequence[Item]) -> dict[str, int]:
    """The reserved units of each item that still count (unreleased and unexpired), one query per page."""
    held = [item.id for item in items if item.reserved_quantity]
    if not held:
        return {}
    rows = session.execute(
        select(Reservation.item_id, func.sum(Reservation.quantity))
        .where(Reservation.item_id.in_(held), active_reservation_filter(now(session)))
        .group_by(Reservation.item_id)
    ).all()
    found = {item_id: int(total or 0) for item_id, total in rows}
    return {item_id: found.get(item_id, 0) for item_id in held}


def ledger_rows(session: Session) -> int:
    """How many movements the ledger holds, cheaply: PostgreSQL's live-row statistic (approximate, no scan);
    SQLite's largest rowid (exact while nothing is deleted, which the append-only triggers guarantee)."""
    if session.get_bind().dialect.name == "postgresql":
        estimate = session.execute(text(
            "SELECT n_live_tup FROM pg_stat_user_tables WHERE relname = 'inventory_movements'")).scalar()
        return int(estimate or 0)
    return int(session.execute(text("SELECT max(rowid) FROM inventory_movements")).scalar() or 0)
