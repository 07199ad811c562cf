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
    app.command("snapshot")(snapshot)
    inventory_app.command("snapshot")(snapshot)
    app.add_typer(inventory_app, name="inventory")


def snapshot(
    organization_id: Annotated[str, typer.Option("--org", help="Organization id.")],
    day: Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD: the end of that UTC day (default: now).")]
    = None,
    at: Annotated[str | None, typer.Option("--at", help="An RFC 3339 instant instead of a date.")] = None,
    location_id: Annotated[str | None, typer.Option("--location", help="Only this location.")] = None,
    room_type: Annotated[str | None, typer.Option("--room", help="Only this room type (e.g. vault).")] = None,
    limit: Annotated[int, typer.Option(min=0, max=10_000, help="Item lines to print (totals count them all).")]
    = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """What was held at the end of a day (from the ledger): a table of items and the totals per currency."""
    from vitrina.cli import database, emit_json, fail
    from vitrina.core.errors import VitrinaError
    from vitrina.inventory import service
    from vitrina.inventory.snapshot import line_dict, totals_dict

    instant = _instant(day, at, fail)
    try:
        with database().unit_of_work(organization_id=organization_id, write=False) as session:
            if location_id is not None:
                service.get_location(session, organization_id=organization_id, location_id=location_id)
            result = service.take_snapshot(session, organization_id=organization_id, at=instant,
                                           page=Page(limit=max(limit, 1), offset=0), location_id=location_id,
                                           room_type=room_type)
            lines = [line_dict(line) for line in result.lines][:limit]
            totals: dict[str, Any] = totals_dict(result)
    except VitrinaError as exc:
        raise fail(exc.message) from None
    if as_json:
        emit_json({"at": to_rfc3339(instant), **totals, "items": lines})
        return
    _print_snapshot(str(to_rfc3339(instant)), lines, totals)


def _instant(day: str | None, at: str | None, fail: Any) -> datetime:
    if day and at:
        raise fail("give --date or --at, not both")
    try:
        if at:
            return as_utc(datetime.fromisoformat(at.replace("Z", "+00:00")))
        return min(end_of_day(date.fromisoformat(day)), utcnow()) if day else utcnow()
    except ValueError:
        raise fail("--date must be YYYY-MM-DD and --at an RFC 3339 instant") from None


def _print_snapshot(at: str, lines: list[dict[str, Any]], totals: dict[str, Any]) -> None:
    console = Console()
    items = Table("sku", "name", "location", "room", "qty", "cost", "price", "currency", title=f"Stock at {at}")
    for line in lines:
        items.add_row(line["sku"], line["name"], line["location_id"] or "", line["room_type"], str(line["quantity"]),
                      line["cost"] or "", line["price"] or "", line["currency"])
    console.print(items)
    if totals["count"] > len(lines):
        console.print(f"({len(lines)} of {totals['count']} items shown; --limit for more, --json for all fields)")
    summary = Table("currency", "items", "units", "cost value", "retail value", title="Totals")
    for line in totals["by_currency"]:
        summary.add_row(line["currency"], str(line["count"]), str(line["units"]), line["cost_value"],
                        line["retail_value"])
    summary.add_row("all", str(totals["count"]), str(totals["units"]), "", "", style="bold")
    console.print(summary)


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
