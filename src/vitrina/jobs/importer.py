"""The import job: a CSV or JSON-lines file of items, applied through the inventory service in batches.

Every row is validated on its own (bad rows become errors with their line and field, the others go on).
Valid rows are applied in transactional batches with ``inventory.service.receive_many``: new items with a
``RECEIVED`` movement, existing ones (same ``external_id``) updated, a changed quantity as an ``AUDIT``
movement, so re-running a file changes nothing the second time. Each batch commits together with the job's
progress and checkpoint (the last line it consumed): a crash leaves whole batches only, and the resumed job
continues after the checkpoint.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from vitrina.core.errors import ValidationFailed, VitrinaError
from vitrina.inventory import fields as item_fields
from vitrina.inventory import service as inventory
from vitrina.jobs import parse
from vitrina.jobs import service as jobs
from vitrina.jobs.errors import JobFailed
from vitrina.jobs.parse import FileProblem, Row, RowError
from vitrina.jobs.runner import JobContext

REQUIRED_COLUMNS = ("external_id", "sku", "name")
log = logging.getLogger(__name__)


@contextmanager
def open_source(context: JobContext) -> Iterator[BinaryIO]:
    """The job's file: a stored upload, or (CLI only) a path on this machine."""
    params = context.params
    if params.get("upload_id"):
        stream = parse.buffered(jobs.UploadReader(context.database, params["upload_id"]))
    else:
        try:
            stream = open(params["path"], "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise JobFailed(f"cannot read {params.get('path')}: {exc.strerror or exc}") from None
    try:
        yield stream
    finally:
        stream.close()


@dataclass
class Batch:
    rows: list[Row] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    consumed: int = 0
    last_line: int = 0


@dataclass
class Progress:
    done: int = 0
    total: int | None = None
    last_line: int = 0
    counts: dict[str, int] = field(default_factory=lambda: {"created": 0, "updated": 0, "unchanged": 0,
                                                            "failed": 0})

    def checkpoint(self) -> dict[str, Any]:
        return {"line": self.last_line, "rows": self.done, "total": self.total, "counts": dict(self.counts),
                "result": _result(self, finished=False)}


def run(context: JobContext) -> dict[str, Any]:
    params = context.params
    progress = _resume(context.lease.checkpoint)
    if progress.total is None:
        with open_source(context) as stream:
            lines = parse.count_lines(stream)
        progress.total = max(lines - (1 if params.get("format") == "csv" else 0), 0)
    try:
        mapping = parse.parse_map(params.get("map"))
        with open_source(context) as stream:
            _import(context, stream, mapping, progress)
    except FileProblem as exc:
        raise _failed(exc.message, progress) from None
    context.progress(progress.done, progress.done)
    return _result(progress, finished=True)


def _resume(checkpoint: dict[str, Any] | None) -> Progress:
    if not checkpoint:
        return Progress()
    return Progress(done=int(checkpoint.get("rows", 0)), total=checkpoint.get("total"),
                    last_line=int(checkpoint.get("line", 0)), counts=dict(checkpoint.get("counts", {})))


def _failed(message: str, progress: Progress) -> JobFailed:
    error = JobFailed(message if not progress.done else
                      f"{message} (rows through line {progress.last_line} were applied)")
    error.result = _result(progress, finished=False)  # type: ignore[attr-defined]
    return error


def _result(progress: Progress, *, finished: bool) -> dict[str, Any]:
    return {**progress.counts, "rows": progress.done, "applied_through_line": progress.last_line,
            "complete": finished}


def _import(context: JobContext, stream: BinaryIO, mapping: dict[str, str], progress: Progress) -> None:
    batch = Batch()
    size = context.options.batch_size
    analyzed = False  # after this run's first batch (a resumed run's connections plan afresh too)
    with SeenIds() as seen:
        replayed: list[Row] = []
        for entry in parse.rows(stream, fmt=context.params.get("format", "csv"), mapping=mapping,
                                required=REQUIRED_COLUMNS):
            if entry.line <= progress.last_line:  # applied by an earlier, interrupted run: only remember its ids
                if isinstance(entry, Row) and _external_id(entry):
                    replayed.append(entry)
                    if len(replayed) >= size:
                        seen.first_lines(replayed)
                        replayed = []
                continue
            batch.consumed += 1
            batch.last_line = entry.line
            if isinstance(entry, RowError):
                batch.errors.append(entry)
            elif not _external_id(entry):
                batch.errors.append(RowError(entry.line, "external_id", "required: every row needs its own "
                                                                        "external_id"))
            else:
                batch.rows.append(entry)
            if batch.consumed >= size:
                seen.first_lines(replayed)
                replayed = []
                _commit(context, _without_duplicates(batch, seen), progress)
                if not analyzed:
                    _refresh_statistics(context)
                    analyzed = True
                batch = Batch()
        if batch.consumed:
            seen.first_lines(replayed)
            _commit(context, _without_duplicates(batch, seen), progress)


def _external_id(row: Row) -> str | None:
    value = row.values.get("external_id")
    return value.strip() or None if isinstance(value, str) else None


def _without_duplicates(batch: Batch, seen: SeenIds) -> Batch:
    """The batch less the rows whose external_id an earlier line of the file already used (those are errors)."""
    first = seen.first_lines(batch.rows)
    kept: list[Row] = []
    for row in batch.rows:
        external_id = _external_id(row) or ""
        if first[external_id] == row.line:
            kept.append(row)
        else:
            batch.errors.append(RowError(row.line, "external_id",
                                         f"duplicate external_id (first on line {first[external_id]})", external_id))
    batch.rows = kept
    return batch


class SeenIds:
    """The external ids read so far and the first line of each, in a private temporary SQLite database on disk
    (``sqlite3.connect("")``: deleted when closed, a 2 MiB page cache): a dict would grow with the file, about
    160 bytes a row, which is gigabytes for a file of tens of millions of rows."""

    _CHUNK = 500  # ids per IN (...) list, far below SQLite's parameter limit

    def __init__(self) -> None:
        self._db = sqlite3.connect("")
        self._db.execute("CREATE TABLE seen (external_id TEXT PRIMARY KEY, line INTEGER NOT NULL) WITHOUT ROWID")

    def __enter__(self) -> SeenIds:
        return self

    def __exit__(self, *_: object) -> None:
        self._db.close()

    def first_lines(self, rows: list[Row]) -> dict[str, int]:
        """Record ``rows`` (in file order) and return the first line of each of their external ids."""
        first: dict[str, int] = {}
        for start in range(0, len(rows), self._CHUNK):
            chunk = rows[start:start + self._CHUNK]
            ids = [_external_id(row) or "" for row in chunk]
            marks = ",".join("?" * len(ids))
            first.update(self._db.execute(f"SELECT external_id, line FROM seen WHERE external_id IN ({marks})", ids))
            for external_id, row in zip(ids, chunk, strict=True):
                first.setdefault(external_id, row.line)
        self._db.executemany("INSERT OR IGNORE INTO seen VALUES (?, ?)", first.items())
        return first


def _refresh_statistics(context: JobContext) -> None:
    """On PostgreSQL, ANALYZE the items table after an import's first batch. Before it, a new database's
    statistics say the table is empty, and the plans PostgreSQL caches for the foreign-key checks of every
    inserted movement and event (and for the lookups by external_id) scan the table sequentially: measured,
    a 100,000-row import into a fresh database took 182 s without it. ANALYZE also invalidates those cached
    plans. Once is enough: re-analyzing as the table grows (after batches 4, 16, 64) made no batch faster."""
    if context.database.engine.dialect.name != "postgresql":
        return
    try:
        with context.database.engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE inventory_items")
            connection.commit()
    except SQLAlchemyError:  # only an optimisation (the role may not own the table)
        log.warning("could not ANALYZE inventory_items during an import", exc_info=True)


def _validate(rows: list[Row], errors: list[RowError]) -> tuple[list[Row], list[dict[str, Any]]]:
    """The valid rows with their fields; every problem of the others (by field) added to ``errors``."""
    valid: list[Row] = []
    fields: list[dict[str, Any]] = []
    for row in rows:
        try:
            fields.append(item_fields.create_fields(row.values))
        except ValidationFailed as exc:
            external_id = row.values.get("external_id")
            errors.extend(RowError(row.line, _field(error.get("path")), str(error.get("message")), external_id)
                          for error in exc.errors)
            continue
        valid.append(row)
    return valid, fields


def _field(path: Any) -> str | None:
    text = str(path or "")
    return text.removeprefix("$").removeprefix(".") or None


def _commit(context: JobContext, batch: Batch, progress: Progress) -> None:
    """Apply one batch and record it, in one transaction."""
    with context.database.unit_of_work(organization_id=context.organization_id) as session:
        errors = list(batch.errors)
        rows = _known_locations(session, context.organization_id, batch.rows, errors)
        outcomes = _apply(session, context, rows, errors)
        for _external_id, outcome in outcomes:
            progress.counts[outcome] = progress.counts.get(outcome, 0) + 1
        progress.counts["failed"] += len({error.line for error in errors})
        progress.done += batch.consumed
        progress.last_line = batch.last_line
        errors.sort(key=lambda error: error.line)
        jobs.record_batch(session, context.lease, done=progress.done, total=max(progress.total or 0, progress.done),
                          new_errors=[error.as_dict() for error in errors], checkpoint=progress.checkpoint(),
                          leased_until=context.lease_expiry())
    context.progress(progress.done, progress.total)


def _known_locations(session: Session, organization_id: str, rows: list[Row], errors: list[RowError]) -> list[Row]:
    """Rows whose location exists (an unknown one is that row's error, not the batch's)."""
    wanted = {row.values["location_id"] for row in rows if row.values.get("location_id")}
    known: set[str] = set()
    for location_id in wanted:
        try:
            inventory.get_location(session, organization_id=organization_id, location_id=str(location_id))
            known.add(location_id)
        except VitrinaError:
            pass
    kept = []
    for row in rows:
        location_id = row.values.get("location_id")
        if location_id and location_id not in known:
            errors.append(RowError(row.line, "location_id", "no such location", row.values.get("external_id")))
        else:
            kept.append(row)
    return kept


def _apply(session: Session, context: JobContext, rows: list[Row], errors: list[RowError]) -> list[tuple[str, str]]:
    """The valid rows in one call (fast); if the batch is refused (a certificate or an external id taken, a
    quantity below what is reserved), row by row to find the culprits.

    Every row is validated once, here, so that each bad row is reported with its line and field; ``receive_many``
    takes the validated fields instead of validating the rows it creates again (that doubled the cost of
    validation, a third of an import's Python time)."""
    valid, fields = _validate(rows, errors)
    if not valid:
        return []
    try:
        with session.begin_nested():
            return _receive(session, context, valid, fields)
    except (VitrinaError, IntegrityError):
        pass
    return _row_by_row(session, context, valid, fields, errors)


def _row_by_row(session: Session, context: JobContext, rows: list[Row], fields: list[dict[str, Any]],
                errors: list[RowError]) -> list[tuple[str, str]]:
    outcomes: list[tuple[str, str]] = []
    for row, values in zip(rows, fields, strict=True):
        try:
            with session.begin_nested():
                outcomes += _receive(session, context, [row], [values])
        except VitrinaError as exc:
            errors.append(RowError(row.line, _error_field(exc), exc.message, row.values.get("external_id")))
        except IntegrityError:
            errors.append(RowError(row.line, None, "conflicts with another item (external_id or certificate)",
                                   row.values.get("external_id")))
    return outcomes


def _receive(session: Session, context: JobContext, rows: list[Row],
             fields: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return inventory.receive_many(session, organization_id=context.organization_id, actor=context.lease_actor,
                                  rows=[row.values for row in rows], prevalidated=fields)


def _error_field(exc: VitrinaError) -> str | None:
    if isinstance(exc, ValidationFailed) and exc.errors:
        path = str(exc.errors[0].get("path", ""))
        return path.split("]", 1)[-1].lstrip(".") or None
    for name in ("cert_number", "external_id", "quantity"):
        if name in exc.details:
            return name
    return None
