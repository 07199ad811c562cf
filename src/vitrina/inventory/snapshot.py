"""Point-in-time stock: every item's quantity, location and room at an instant, read from the ledger.

Each movement stores ``quantity_after`` and where the item was after it, and an item's movement times never
go backwards (``ledger.monotonic``). So the state of an item at T is simply its last movement at or before
T: one probe of the index ``(item_id, created_at, item_version)``, which on PostgreSQL also INCLUDEs the
columns read, so the probe never visits the table. An item that has not moved since T needs no probe at all:
its current row is its state at T (``items.last_moved_at <= T``). A snapshot therefore costs at most one probe
per candidate item, whatever the length of the history, and never replays movements. Candidates are the
items currently at the location plus those that left it by a transfer (a partial index over TRANSFER
movements finds them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    CTE,
    BigInteger,
    ColumnElement,
    CompoundSelect,
    Numeric,
    Select,
    Subquery,
    case,
    cast,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from vitrina.core.money import to_str
from vitrina.core.pagination import Page
from vitrina.inventory.models import Item, Movement


@dataclass(frozen=True, slots=True)
class SnapshotLine:
    item: Any  # a row with the item's columns
    quantity: int
    location_id: str | None
    room_type: str


@dataclass(frozen=True, slots=True)
class CurrencyTotal:
    currency: str
    count: int
    units: int
    cost_value: Decimal
    retail_value: Decimal


@dataclass(frozen=True, slots=True)
class Snapshot:
    at: datetime
    lines: list[SnapshotLine]
    total: int
    totals: list[CurrencyTotal]

    @property
    def count(self) -> int:
        return sum(t.count for t in self.totals)

    @property
    def units(self) -> int:
        return sum(t.units for t in self.totals)


_LINE_COLUMNS = ("id", "external_id", "sku", "name", "category", "tracking", "price", "cost", "currency",
                 "quantity", "at_location", "at_room")
# ``item_count``, not ``count``: a result row is a tuple, whose ``count`` is a method.
_TOTAL_COLUMNS: dict[str, Any] = {"item_count": BigInteger(), "units": BigInteger(), "cost_value": Numeric(),
                                  "retail_value": Numeric()}
_ITEM_COLUMNS = (Item.id, Item.external_id, Item.sku, Item.name, Item.category, Item.tracking, Item.price,
                 Item.cost, Item.currency)


def take_snapshot(session: Session, *, organization_id: str, at: datetime, page: Page,
                  location_id: str | None = None, room_type: str | None = None,
                  include_zero: bool = False) -> Snapshot:
    """The items held at ``at`` (quantity > 0 unless ``include_zero``), a page of them and the totals."""
    quantity, where_location, where_room, source = _state_at(session, at)
    where: list[ColumnElement[bool]] = [Item.organization_id == organization_id, quantity.is_not(None)]
    if not include_zero:
        where.append(quantity > 0)
    if location_id is not None:
        where.append(where_location == location_id)
    if room_type is not None:
        where.append(where_room == room_type)
    state = source(select(*_ITEM_COLUMNS, quantity.label("quantity"), where_location.label("at_location"),
                          where_room.label("at_room"))).where(*where)
    candidates = _candidates(state, organization_id, location_id)
    if session.get_bind().dialect.name == "postgresql":
        rows, totals = _page_and_totals(session, candidates.cte("snap"), page)
    else:
        snap = candidates.subquery("snap")
        rows = list(session.execute(select(snap).order_by(snap.c.id).limit(page.limit).offset(page.offset)))
        totals = _totals(session, snap)
    lines = [SnapshotLine(row, row.quantity, row.at_location, row.at_room) for row in rows]
    return Snapshot(at=at, lines=lines, total=sum(t.count for t in totals), totals=totals)


def _page_and_totals(session: Session, snap: CTE, page: Page) -> tuple[list[Any], list[CurrencyTotal]]:
    """The page and the per-currency totals in ONE statement over one materialized CTE: the per-item ledger
    probes are the whole cost of a snapshot, and two statements did them twice."""
    c = snap.c
    lines = (select(literal("line").label("kind"), *(c[name] for name in _LINE_COLUMNS),
                    # Typed NULLs: inside a subquery an untyped NULL becomes text, which the UNION cannot match.
                    *(cast(null(), type_).label(name) for name, type_ in _TOTAL_COLUMNS.items()))
             .order_by(c.id).limit(page.limit).offset(page.offset))
    sums = (select(literal("total"), *(c.currency if name == "currency" else null() for name in _LINE_COLUMNS),
                   func.count(), func.sum(c.quantity), func.coalesce(func.sum(c.quantity * c.cost), 0),
                   func.coalesce(func.sum(c.quantity * c.price), 0))
            .group_by(c.currency))
    rows = session.execute(union_all(lines.subquery().select(), sums)).all()
    page_rows = sorted((row for row in rows if row.kind == "line"), key=lambda row: row.id)
    totals = sorted((CurrencyTotal(row.currency, row.item_count, int(row.units or 0), Decimal(row.cost_value),
                                   Decimal(row.retail_value)) for row in rows if row.kind == "total"),
                    key=lambda total: total.currency)
    return page_rows, totals


def _candidates(state: Select[Any], organization_id: str, location_id: str | None) -> Select[Any] | CompoundSelect:
    """The items that may have been at the location: those there now, UNION ALL those that left it by a transfer.

    Two branches rather than ``location_id = X OR id IN (...)``: an OR across two indexes made PostgreSQL scan
    the whole items table (a million rows at the default scale) where each branch alone is one index range.
    """
    if location_id is None:
        return state
    moved_away = select(Movement.item_id).where(
        Movement.organization_id == organization_id, Movement.location_id == location_id,
        # The literal lets PostgreSQL use the partial index whose predicate is exactly reason_code = 'TRANSFER'.
        Movement.reason_code == literal_column("'TRANSFER'"))
    here_now = state.where(Item.location_id == location_id)
    gone_since = state.where(Item.id.in_(moved_away),
                             or_(Item.location_id.is_(None), Item.location_id != location_id))
    return union_all(here_now, gone_since)


def _state_at(session: Session, at: datetime) -> tuple[Any, Any, Any, Callable[[Select[Any]], Select[Any]]]:
    """Columns for each item's (quantity, location, room) at ``at``, and the join that provides them.

    An item that has not moved since ``at`` (``last_moved_at <= at``) is as it is now: its own row answers,
    with no probe at all (the usual case for recent dates). Only items that moved since look up their last
    movement at or before ``at``. Items without a movement by then come out NULL.
    """
    unmoved = Item.last_moved_at <= at
    columns: tuple[Any, ...]
    latest = (select(Movement.id, Movement.quantity_after, Movement.location_id, Movement.room_type)
              .where(Movement.item_id == Item.id, Movement.created_at <= at)
              .order_by(Movement.created_at.desc(), Movement.item_version.desc()).limit(1))
    if session.get_bind().dialect.name == "postgresql":
        # The outer-only condition becomes a one-time filter: items that did not move skip the index probe.
        last = latest.where(Item.last_moved_at > at).lateral("last_movement")
        columns = (last.c.quantity_after, last.c.location_id, last.c.room_type)

        def source(query: Select[Any]) -> Select[Any]:
            return query.select_from(Item).outerjoin(last, true())
    else:
        # SQLite has no LATERAL: find the movement's id by the same index probe (skipped by the CASE), join it.
        last_id = latest.with_only_columns(Movement.id).correlate(Item).scalar_subquery()
        movement = aliased(Movement)
        columns = (movement.quantity_after, movement.location_id, movement.room_type)

        def source(query: Select[Any]) -> Select[Any]:
            # An ORM join: the session's tenancy filter on the movement then goes into ON, keeping it outer.
            return query.select_from(Item).outerjoin(movement, movement.id == case((unmoved, None), else_=last_id))
    current: tuple[Any, ...] = (Item.quantity, Item.location_id, Item.room_type)
    quantity, location, room = (case((unmoved, now), else_=then) for now, then in zip(current, columns, strict=True))
    return quantity, location, room, source


def _totals(session: Session, snap: Subquery) -> list[CurrencyTotal]:
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(select(
            snap.c.currency, func.count(), func.sum(snap.c.quantity),
            func.coalesce(func.sum(snap.c.quantity * snap.c.cost), 0),
            func.coalesce(func.sum(snap.c.quantity * snap.c.price), 0),
        ).group_by(snap.c.currency).order_by(snap.c.currency)).all()
        return [CurrencyTotal(currency, count, int(units or 0), Decimal(cost), Decimal(retail))
                for currency, count, units, cost, retail in rows]
    # Amounts are exact strings on SQLite: group by them and multiply as Decimals here.
    groups = session.execute(select(snap.c.currency, snap.c.cost, snap.c.price, func.count(),
                                    func.sum(snap.c.quantity))
                             .group_by(snap.c.currency, snap.c.cost, snap.c.price)).all()
    sums: dict[str, list[Any]] = {}
    for currency, cost, price, count, units in groups:
        entry = sums.setdefault(currency, [0, 0, Decimal(0), Decimal(0)])
        entry[0] += count
        entry[1] += int(units or 0)
        entry[2] += Decimal(cost or 0) * int(units or 0)
        entry[3] += Decimal(price or 0) * int(units or 0)
    return [CurrencyTotal(currency, *sums[currency]) for currency in sorted(sums)]


def totals_dict(snapshot: Snapshot) -> dict[str, Any]:
    return {
        "count": snapshot.count, "units": snapshot.units,
        "cost_value": {t.currency: to_str(t.cost_value, t.currency) for t in snapshot.totals},
        "retail_value": {t.currency: to_str(t.retail_value, t.currency) for t in snapshot.totals},
        "by_currency": [{"currency": t.currency, "count": t.count, "units": t.units,
                         "cost_value": to_str(t.cost_value, t.currency),
                         "retail_value": to_str(t.retail_value, t.currency)} for t in snapshot.totals],
    }


def line_dict(line: SnapshotLine) -> dict[str, Any]:
    item = line.item
    return {"id": item.id, "external_id": item.external_id, "sku": item.sku, "name": item.name,
            "category": item.category, "tracking": item.tracking, "location_id": line.location_id,
            "room_type": line.room_type, "quantity": line.quantity,
            "price": to_str(item.price, item.currency), "cost": to_str(item.cost, item.currency),
            "currency": item.currency}
