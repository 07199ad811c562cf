"""``vitrina import`` and ``vitrina export`` (registered by ``vitrina.cli``); imports run inline with a progress bar."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer


def register(app: typer.Typer) -> None:
    app.command("import")(import_file)
    app.command("export")(export_items)


def import_file(
    path: Annotated[Path, typer.Argument(help="CSV or JSON-lines file (UTF-8).", exists=True, dir_okay=False)],
    organization_id: Annotated[str, typer.Option("--org", help="Organization id.")],
    fmt: Annotated[str | None, typer.Option("--format", help="csv or jsonl (default: from the file).")] = None,
    mapping: Annotated[str | None, typer.Option("--map", help="Other headers: 'Stock No=external_id,Qty=quantity'.")]
    = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the finished job as one JSON object.")] = False,
) -> None:
    """Import items from a file, in batches, with a progress bar (the same rules as POST /inventory/import)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from vitrina.cli import console, database, emit_json, fail
    from vitrina.config import Settings
    from vitrina.jobs import intake, runner, service

    if fmt not in (None, "csv", "jsonl"):
        raise fail("--format must be csv or jsonl")
    db = database()
    with db.unit_of_work(organization_id=organization_id) as session:
        job = intake.import_path_job(session, organization_id=organization_id, actor=None, path=path, fmt=fmt,
                                     mapping=mapping)
        job_id = job.id
    with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), console=console, disable=as_json) as bar:
        task = bar.add_task(f"importing {path.name}", total=None)

        def show(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        runner.run_inline(db, Settings(), job_id, on_progress=show)
    with db.unit_of_work(organization_id=organization_id, write=False) as session:
        result: dict[str, Any] = service.job_dict(service.get_job(session, organization_id=organization_id,
                                                                  job_id=job_id))
    if as_json:
        emit_json(result)
    else:
        counts = result["result"] or {}
        console.print(f"{result['status']}: created {counts.get('created', 0)}, updated {counts.get('updated', 0)}, "
                      f"unchanged {counts.get('unchanged', 0)}, failed {counts.get('failed', 0)}")
        for error in result["errors"][:20]:
            console.print(f"  line {error['line']}: {error['field'] or '-'}: {error['message']}", markup=False)
    if result["status"] != "succeeded":
        raise fail(result["message"] or "the import failed")


def export_items(
    organization_id: Annotated[str, typer.Option("--org", help="Organization id.")],
    fmt: Annotated[str, typer.Option("--format", help="csv or jsonl.")] = "csv",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")] = None,
    location_id: Annotated[str | None, typer.Option("--location", help="Only this location.")] = None,
    category: Annotated[str | None, typer.Option(help="Only this category.")] = None,
    status: Annotated[str | None, typer.Option(help="Only this status.")] = None,
) -> None:
    """Export items as CSV (formula cells neutralised) or JSON lines, streamed."""
    from vitrina.cli import database, fail
    from vitrina.inventory.service import ItemFilters
    from vitrina.jobs import exporter

    if fmt not in ("csv", "jsonl"):
        raise fail("--format must be csv or jsonl")
    filters = ItemFilters(location_id=location_id, category=category, status=status)
    chunks = exporter.stream(database(), organization_id=organization_id, filters=filters, fmt=fmt)
    target = output.open("wb") if output else sys.stdout.buffer
    try:
        for chunk in chunks:
            target.write(chunk)
    finally:
        if output:
            target.close()
