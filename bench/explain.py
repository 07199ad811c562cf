"""``python -m bench.explain DATABASE_URL``: EXPLAIN (ANALYZE, BUFFERS) of every statement of the hot reads.

Runs the services the routes call (list, get, snapshot) on a database kept by ``vitrina bench --keep``,
captures the SQL they send, and prints each statement with its plan, so BENCH.md shows the plans of the very
queries the server runs (not hand-written approximations).
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from vitrina.core.pagination import Page
from vitrina.db.session import Database
from vitrina.inventory import service
from vitrina.inventory.models import Item, Location, Movement


def capture(session: Session, action: Callable[[], Any]) -> list[tuple[str, Any]]:
    """The statements (with their parameters) that ``action`` sends on ``session``'s connection."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        seen.append((statement, parameters))

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seen


def explain(session: Session, statement: str, parameters: Any) -> str:
    # The driver's own paramstyle, as captured: no re-binding through SQLAlchemy.
    result = session.connection().exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {statement}", parameters)
    return "\n".join(row[0] for row in result)


def hot_reads(session: Session, organization_id: str) -> dict[str, Callable[[], Any]]:
    # The first location created, as the harness's snapshot scenario uses (ids are time-ordered); the last one
    # also holds the CSV imports' rows when the database was kept after a whole run.
    first = session.scalar(select(func.min(Location.id)).where(Location.organization_id == organization_id))
    some_item = session.scalar(select(Item.id).where(Item.organization_id == organization_id).offset(777).limit(1))
    oldest = session.scalar(select(func.min(Movement.created_at)).where(Movement.organization_id == organization_id))
    newest = session.scalar(select(func.max(Movement.created_at)).where(Movement.organization_id == organization_id))
    instant = oldest + timedelta(seconds=random.Random(3).uniform(0.2, 0.95) * (newest - oldest).total_seconds())
    page = Page(limit=50, offset=0)
    return {
        "GET /inventory?limit=50&status=active&location_id=": lambda: service.list_items(
            session, organization_id=organization_id, page=page,
            filters=service.ItemFilters(status="active", location_id=first)),
        "GET /inventory/{id}": lambda: service.get_item(session, organization_id=organization_id, ref=some_item),
        f"GET /inventory/snapshot?at={instant:%Y-%m-%dT%H:%M:%SZ}&location_id=": lambda: service.take_snapshot(
            session, organization_id=organization_id, at=instant, page=page, location_id=first),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.explain", description=__doc__)
    parser.add_argument("url", help="a database kept by `vitrina bench --keep`")
    args = parser.parse_args(argv)
    database = Database(args.url)
    with database.unit_of_work(write=False) as session:
        organization_id = session.scalar(select(Location.organization_id).limit(1))
        assert organization_id is not None, "no benchmark data in this database"
        session.info["organization_id"] = organization_id
        for name, action in hot_reads(session, organization_id).items():
            print(f"=== {name}")
            for statement, parameters in capture(session, action):
                print(statement.strip())
                print(explain(session, statement, parameters))
                print()
        session.rollback()
    database.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
