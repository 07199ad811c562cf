"""The dashboard: stock value by location, low stock, recent movements, orders by status, and 90-day charts
of stock value (from ledger snapshots) and sales."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from fastapi import Request, Response
from sqlalchemy.orm import Session

from vitrina.core.pagination import Page
from vitrina.core.time import end_of_day, utcnow
from vitrina.db.session import DbSession
from vitrina.inventory import service as inventory
from vitrina.web import charts, readmodels
from vitrina.web.domains import optional_service
from vitrina.web.routing import Staff, StaffReader, page_router
from vitrina.web.templating import render

router = page_router()
NAV = (("Dashboard", "/app"),)

CHART_DAYS = 90
STOCK_POINT_EVERY_DAYS = 3  # a snapshot costs one index probe per item: 31 of them, not 91
ONE = Page(limit=1, offset=0)


@dataclass(frozen=True, slots=True)
class LocationValue:
    name: str
    location_id: str | None
    count: int
    units: int
    cost: Decimal
    retail: Decimal


def _value_in(snapshot: inventory.Snapshot, currency: str) -> tuple[int, int, Decimal, Decimal]:
    for total in snapshot.totals:
        if total.currency == currency:
            return total.count, total.units, total.cost_value, total.retail_value
    return 0, 0, Decimal(0), Decimal(0)


def stock_by_location(session: Session, staff: Staff, at: datetime) -> list[LocationValue]:
    locations, _ = inventory.list_locations(session, organization_id=staff.organization_id,
                                            page=Page(limit=200, offset=0))
    rows = []
    for location in locations:
        snap = inventory.take_snapshot(session, organization_id=staff.organization_id, at=at, page=ONE,
                                       location_id=location.id)
        rows.append(LocationValue(location.name, location.id, *_value_in(snap, staff.currency)))
    everything = inventory.take_snapshot(session, organization_id=staff.organization_id, at=at, page=ONE)
    rows.append(LocationValue("All locations", None, *_value_in(everything, staff.currency)))
    return rows


# Closed days' values, per (organization, day, currency). The ledger is append-only and movements are stamped
# with the time they are written, so the stock held at the end of a past day never changes: computed once per
# process, it can be kept. Bounded so a long-running process does not grow without limit.
_CLOSED_DAYS: dict[tuple[str, date, str], tuple[Decimal, Decimal]] = {}
_CLOSED_DAYS_MAX = 20_000


def _value_at_end_of(session: Session, staff: Staff, day: date, now: datetime) -> tuple[Decimal, Decimal]:
    key = (staff.organization_id, day, staff.currency)
    closed = end_of_day(day) < now
    if closed and key in _CLOSED_DAYS:
        return _CLOSED_DAYS[key]
    snap = inventory.take_snapshot(session, organization_id=staff.organization_id,
                                   at=min(end_of_day(day), now), page=ONE)
    _count, _units, cost_value, retail_value = _value_in(snap, staff.currency)
    if closed:
        if len(_CLOSED_DAYS) >= _CLOSED_DAYS_MAX:
            _CLOSED_DAYS.clear()
        _CLOSED_DAYS[key] = (retail_value, cost_value)
    return retail_value, cost_value


def stock_series(session: Session, staff: Staff, today: date) -> tuple[list[date], list[Decimal], list[Decimal]]:
    days = [today - timedelta(days=offset) for offset in range(CHART_DAYS, -1, -STOCK_POINT_EVERY_DAYS)]
    if days[-1] != today:
        days.append(today)
    now = utcnow()
    values = [_value_at_end_of(session, staff, day, now) for day in days]
    return days, [retail for retail, _cost in values], [cost for _retail, cost in values]


def sales_series(session: Session, staff: Staff, today: date) -> tuple[list[date], list[Decimal]] | None:
    sales = optional_service("sales")
    if sales is None:
        return None
    days = [today - timedelta(days=offset) for offset in range(CHART_DAYS - 1, -1, -1)]
    totals = dict.fromkeys(days, Decimal(0))
    since = datetime.combine(days[0], datetime.min.time(), tzinfo=UTC)
    offset = 0
    while True:
        found, total = sales.list_transactions(session, organization_id=staff.organization_id,
                                               page=Page(limit=200, offset=offset), since=since)
        for txn in found:
            day = txn.created_at.date()
            if day in totals and txn.currency == staff.currency:
                totals[day] += txn.total if txn.type == "sale" else -txn.total
        offset += len(found)
        if not found or offset >= total:
            break
    return days, [max(totals[day], Decimal(0)) for day in days]


def orders_by_status(session: Session, staff: Staff) -> list[tuple[int, str, int]] | None:
    orders = optional_service("orders")
    if orders is None:
        return None
    from vitrina.orders.lifecycle import ORDER_STATUSES

    counts = []
    for status, label in ORDER_STATUSES.items():
        _rows, total = orders.list_orders(session, organization_id=staff.organization_id, page=ONE, status=status)
        counts.append((status, label, total))
    return counts


@router.get("/app")
def dashboard(request: Request, session: DbSession, staff: StaffReader) -> Response:
    now = utcnow()
    today = now.date()
    low, low_total = inventory.list_items(session, organization_id=staff.organization_id,
                                          filters=inventory.ItemFilters(low_stock=True),
                                          page=Page(limit=10, offset=0))
    days, retail, cost = stock_series(session, staff, today)
    by_location = stock_by_location(session, staff, now)
    context: dict[str, Any] = {
        "by_location": by_location,
        "location_names": {row.location_id: row.name for row in by_location if row.location_id},
        "low": low, "low_total": low_total, "low_held": inventory.reserved_now(session, low),
        "movements": readmodels.recent_movements(session, organization_id=staff.organization_id, limit=10),
        "orders": orders_by_status(session, staff),
        "stock_chart": charts.line_chart(
            "stock-chart", f"Stock value over {CHART_DAYS} days ({staff.currency})", days,
            [charts.Series("Retail", retail), charts.Series("Cost", cost, "alt")],
            "Retail and cost value of the stock held at each date, from the movement ledger."),
        "stock_points": list(zip(days, retail, cost, strict=True)),
    }
    sales = sales_series(session, staff, today)
    if sales is not None:
        sale_days, sale_values = sales
        context["sales_chart"] = charts.bar_chart(
            "sales-chart", f"Sales per day over {CHART_DAYS} days ({staff.currency})", sale_days, sale_values,
            "Net sales (sales minus returns) recorded each day.")
        context["sales_total"] = sum(sale_values, Decimal(0))
    else:
        context["sales_chart"] = None
        context["sales_total"] = None
    return render(request, "dashboard.html", context)
