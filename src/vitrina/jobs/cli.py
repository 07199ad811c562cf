"""``vitrina import``, ``vitrina export`` and ``vitrina sync`` (registered by ``vitrina.cli``).

Imports and syncs are queued as jobs like their API routes and run inline here with a progress bar; the job's
record is then printed (``--json``: the job exactly as ``GET /jobs/{id}`` shows it). Every error is one line on
stderr and a non-zero exit code.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from vitrina.db.session import Database

OrgOption = Annotated[str, typer.Option("--org", help="Organization id.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the finished job as one JSON object.")]
MapOption = Annotated[str | None, typer.Option("--map", help="Other headers: 'Stock No=external_id,Qty=quantity'.")]


def register(app: typer.Typer) -> None:
    app.command("import")(import_file)
    app.command("export")(export_items)
    app.command("sync")(sync_location)


def import_file(
    path: Annotated[Path, typer.Argument(help="CSV or JSON-lines file (UTF-8, with or without BOM).", exists=True,
                                         dir_okay=False)],
    organization_id: OrgOption,
    fmt: Annotated[str | None, typer.Option("--format", help="csv or jsonl (default: from the file).")] = None,
    mapping: MapOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import items from a file, in batches, with a progress bar (the same rules as POST /inventory/import)."""
    from vitrina.jobs import intake

    if fmt not in (None, "csv", "jsonl"):
        raise _fail("--format must be csv or jsonl")

    def queue(session: Session) -> str:
        return intake.import_path_job(session, organization_id=organization_id, actor=None, path=path, fmt=fmt,
                                      mapping=mapping).id

    job = _run_job(organization_id, queue, f"importing {path.name}", quiet=as_json)
    counts = job["result"] or {}
    _report(job, as_json, f"created {counts.get('created', 0)}, updated {counts.get('updated', 0)}, "
                          f"unchanged {counts.get('unchanged', 0)}, failed {counts.get('failed', 0)}")


def sync_location(
    organization_id: OrgOption,
    location_id: Annotated[str, typer.Option("--location", help="The location to sync (loc_ id).")],
    sync_type: Annotated[str, typer.Option("--type", help="full (match the feed) or incremental.")] = "full",
    file: Annotated[Path | None, typer.Option("--file", help="A CSV feed (external_id, quantity, ...).",
                                              dir_okay=False)] = None,
    url: Annotated[str | None, typer.Option("--url", help="An HTTP JSON feed (pages by Link: rel=next).")] = None,
    header: Annotated[list[str] | None, typer.Option("--header", help="'Name: value' sent to the feed "
                                                     "(repeatable), e.g. the POS's Authorization.")] = None,
    mapping: MapOption = None,
    as_json: JsonOption = False,
) -> None:
    """Sync a location with a POS feed (the same rules as POST /inventory/sync): all or nothing."""
    from vitrina.config import Settings
    from vitrina.jobs import intake

    if sync_type not in ("full", "incremental"):
        raise _fail("--type must be full or incremental")
    if (file is None) == (url is None):
        raise _fail("give exactly one of --file and --url")
    http = _http_source(url, header or []) if url is not None else None

    def queue(session: Session) -> str:
        return intake.local_sync_job(session, settings=Settings(), organization_id=organization_id, actor=None,
                                     location_id=location_id, sync_type=sync_type, path=file, mapping=mapping,
                                     http=http).id

    job = _run_job(organization_id, queue, f"syncing {location_id}", quiet=as_json)
    counts = job["result"] or {}
    _report(job, as_json, f"{counts.get('entries', 0)} entries: received {counts.get('received', 0)}, changed "
                          f"{counts.get('changed', 0)}, unchanged {counts.get('unchanged', 0)}, "
                          f"zeroed {counts.get('zeroed', 0)}")


def _http_source(url: str, headers: list[str]) -> Any:
    from pydantic import ValidationError

    from vitrina.jobs.schemas import HttpSource

    pairs: dict[str, str] = {}
    for text in headers:
        name, sep, value = text.partition(":")
        if not sep or not name.strip():
            raise _fail(f"--header must look like 'Name: value', not {text!r}")
        pairs[name.strip()] = value.strip()
    try:
        return HttpSource.model_validate({"kind": "http", "url": url, "headers": pairs or None})
    except ValidationError as exc:
        first = exc.errors()[0]
        raise _fail(f"{'.'.join(str(part) for part in first['loc'])}: {first['msg']}") from None


def _run_job(organization_id: str, queue: Callable[[Session], str], label: str, *, quiet: bool) -> dict[str, Any]:
    """Queue a job in its own transaction, run it here with a progress bar, return it as the API shows it."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn, TimeRemainingColumn

    from vitrina.cli import console, database
    from vitrina.config import Settings
    from vitrina.core.errors import VitrinaError
    from vitrina.jobs import runner, service

    db = database()
    try:
        with db.unit_of_work(organization_id=organization_id) as session:
            _ensure_organization(session, organization_id)
            job_id = queue(session)
    except VitrinaError as exc:
        raise _fail(_one_line(exc)) from None
    with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), TimeRemainingColumn(), console=console, disable=quiet) as bar:
        task = bar.add_task(label, total=None)

        def show(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        runner.run_inline(db, Settings(), job_id, on_progress=show)
    return _read_job(db, organization_id, job_id, service.job_dict, service.get_job)


def _read_job(db: Database, organization_id: str, job_id: str, as_dict: Any, get: Any) -> dict[str, Any]:
    with db.unit_of_work(organization_id=organization_id, write=False) as session:
        return dict(as_dict(get(session, organization_id=organization_id, job_id=job_id)))


def _ensure_organization(session: Session, organization_id: str) -> None:
    from sqlalchemy import select

    from vitrina.accounts.models import Organization

    if session.scalar(select(Organization.id).where(Organization.id == organization_id)) is None:
        raise _fail(f"no organization {organization_id!r} (create one with `vitrina org create`)")


def _one_line(exc: Any) -> str:
    """A domain error as one line: its message, and the first bad field when it names one."""
    errors = getattr(exc, "errors", None) or []
    if errors:
        first = errors[0]
        return f"{str(first.get('path', '')).removeprefix('$.') or 'input'}: {first.get('message')}"
    return str(exc.message)


def _report(job: dict[str, Any], as_json: bool, summary: str) -> None:
    from vitrina.cli import console, emit_json

    if as_json:
        emit_json(job)
    else:
        if job["status"] == "succeeded":
            console.print(f"{job['status']}: {summary}", markup=False)
        for error in job["errors"][:20]:
            console.print(f"  line {error['line']}: {error['field'] or '-'}: {error['message']}", markup=False)
        if job["error_count"] > 20:
            console.print(f"  ... {job['error_count'] - 20} more (the whole list: --json)")
    if job["status"] != "succeeded":
        raise _fail(job["message"] or f"the job {job['status']}")


def _fail(message: str) -> typer.Exit:
    from vitrina.cli import fail

    return fail(message)


def export_items(
    organization_id: OrgOption,
    fmt: Annotated[str, typer.Option("--format", help="csv or jsonl.")] = "csv",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")] = None,
    location_id: Annotated[str | None, typer.Option("--location", help="Only this location.")] = None,
    category: Annotated[str | None, typer.Option(help="Only this category.")] = None,
    status: Annotated[str | None, typer.Option(help="Only this status.")] = None,
    room_type: Annotated[str | None, typer.Option("--room", help="Only this room type.")] = None,
    sku: Annotated[str | None, typer.Option(help="Only this SKU.")] = None,
    q: Annotated[str | None, typer.Option("--q", help="Text over sku, name, description, cert_number.")] = None,
    low_stock: Annotated[bool, typer.Option("--low-stock", help="Only items at or below their threshold.")] = False,
) -> None:
    """Export items as CSV (formula cells neutralised) or JSON lines, streamed (the filters of GET /inventory)."""
    from vitrina.cli import database
    from vitrina.inventory.service import ItemFilters
    from vitrina.jobs import exporter

    if fmt not in ("csv", "jsonl"):
        raise _fail("--format must be csv or jsonl")
    filters = ItemFilters(location_id=location_id, category=category, status=status, room_type=room_type, sku=sku,
                          q=q, low_stock=True if low_stock else None)
    chunks = exporter.stream(database(), organization_id=organization_id, filters=filters, fmt=fmt)
    try:
        target = output.open("wb") if output else sys.stdout.buffer
    except OSError as exc:
        raise _fail(f"cannot write {output}: {exc.strerror or exc}") from None
    try:
        for chunk in chunks:
            target.write(chunk)
    finally:
        if output:
            target.close()
