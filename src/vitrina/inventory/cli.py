"""``vitrina inventory ...``: stock questions an operator asks from a shell (registered by ``vitrina.cli``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from vitrina.core.pagination import Page
from vitrina.core.time import as_utc, end_of_day, to_rfc3339, utcnow

inventory_app = typer.Typer(help="Inventory: snapshots and holds.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(inventory_app, name="inventory")


@inventory_app.command("snapshot")
def snapshot(
    organization_id: Annotated[str, typer.Option("--org", help="Organization id.")],
    day: Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD: the end of that UTC day.")] = None,
    at: Annotated[str | None, typer.Option("--at", help="An RFC 3339 instant.")] = None,
    location_id: Annotated[str | None, typer.Option("--location", help="Only this location.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Totals of the stock held at an instant (from the ledger), per currency."""
    from vitrina.cli import database, emit_json, fail
    from vitrina.inventory import service
    from vitrina.inventory.snapshot import totals_dict

    try:
        instant = as_utc(datetime.fromisoformat(at)) if at else \
            min(end_of_day(date.fromisoformat(day)), utcnow()) if day else utcnow()
    except ValueError:
        raise fail("--date must be YYYY-MM-DD and --at an RFC 3339 instant") from None
    with database().unit_of_work(organization_id=organization_id, write=False) as session:
        result = service.take_snapshot(session, organization_id=organization_id, at=instant,
                                       page=Page(limit=1, offset=0), location_id=location_id)
        totals: dict[str, Any] = totals_dict(result)
    if as_json:
        emit_json({"at": to_rfc3339(instant), **totals})
        return
    table = Table("currency", "items", "units", "cost value", "retail value", title=f"Stock at {to_rfc3339(instant)}")
    for line in totals["by_currency"]:
        table.add_row(line["currency"], str(line["count"]), str(line["units"]), line["cost_value"],
                      line["retail_value"])
    Console().print(table)


@inventory_app.command("release-expired")
def release_expired(
    organization_id: Annotated[str | None, typer.Option("--org", help="Only this organization.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Release expired holds now (optional: they stop counting by themselves; this only tidies the rows)."""
    from vitrina.cli import console, database, emit_json
    from vitrina.inventory import service

    with database().unit_of_work(organization_id=organization_id) as session:
        released = service.release_expired_holds(session, organization_id=organization_id)
    if as_json:
        emit_json({"released_units": released})
    else:
        console.print(f"released {released} held unit(s) whose holds had expired")
