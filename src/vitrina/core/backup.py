"""Backups of the database while the service keeps running.

SQLite: the online backup API (``sqlite3.Connection.backup``) copies the database page by page into a new file
while other processes keep reading and writing; the copy is one consistent snapshot, WAL content included. The
copy is written next to the target under a temporary name, checked with ``PRAGMA integrity_check`` and only then
renamed into place, so a crash or a failed check never leaves a half-written file under the target's name.

PostgreSQL: ``pg_dump`` is the right tool (a consistent snapshot without blocking writers); Vitrina does not
wrap it, it prints the command to run (see :func:`pg_dump_command`).
"""

from __future__ import annotations

import os
import shlex
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url

# Pages copied per step: small steps let writers in between (the copy restarts only if the source changes
# under a step written by another connection, which SQLite handles itself).
PAGES_PER_STEP = 1024

Progress = Callable[[int, int], None]


class BackupError(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class BackupResult:
    path: Path
    size_bytes: int
    pages: int


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(database)


def backup_sqlite(url: str, target: Path, *, overwrite: bool = False,
                  progress: Progress | None = None) -> BackupResult:
    """Copy the SQLite database at ``url`` into ``target`` (a consistent snapshot, taken online)."""
    source_path = sqlite_path(url)
    if not source_path.exists():
        raise BackupError(f"no database at {source_path}")
    target = target.expanduser()
    if target.resolve() == source_path.resolve():
        raise BackupError("the target is the live database itself")
    if target.exists() and not overwrite:
        raise BackupError(f"{target} exists; pass --force to replace it")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    partial.unlink(missing_ok=True)
    try:
        pages = _copy(source_path, partial, progress)
        _verify(partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(path=target, size_bytes=target.stat().st_size, pages=pages)


def _copy(source_path: Path, partial: Path, progress: Progress | None) -> int:
    # Read-only URI: the backup must never be able to modify (or create) the live database.
    source = sqlite3.connect(f"{source_path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    destination = sqlite3.connect(partial)
    try:
        total_pages = 0

        def step(_status: int, remaining: int, total: int) -> None:
            nonlocal total_pages
            total_pages = total
            if progress is not None:
                progress(total - remaining, total)

        source.backup(destination, pages=PAGES_PER_STEP, progress=step)
        # A standalone file: no -wal sidecar to forget when the backup is moved elsewhere.
        destination.execute("PRAGMA journal_mode=DELETE")
        return total_pages
    finally:
        destination.close()
        source.close()


def _verify(path: Path) -> None:
    connection = sqlite3.connect(path)
    try:
        result = connection.execute("PRAGMA integrity_check").fetchone()
    finally:
        connection.close()
    if not result or result[0] != "ok":
        raise BackupError(f"the copy failed its integrity check: {result}")


def pg_dump_command(url: str, target: Path) -> list[str]:
    """The ``pg_dump`` invocation for a PostgreSQL URL; the password is left to PGPASSWORD or ~/.pgpass."""
    parsed = make_url(url)
    without_password = URL.create("postgresql", username=parsed.username, host=parsed.host, port=parsed.port,
                                  database=parsed.database, query=parsed.query)
    safe_url = without_password.render_as_string(hide_password=False)
    return ["pg_dump", "--format=custom", "--no-owner", "--file", str(target), "--dbname", safe_url]


def pg_dump_instructions(url: str, target: Path) -> str:
    dump = shlex.join(pg_dump_command(url, target))
    restore = shlex.join(["pg_restore", "--clean", "--if-exists", "--no-owner", "--dbname", "<database url>",
                          str(target)])
    return (
        "This database is PostgreSQL: back it up with pg_dump, which takes a consistent snapshot while the "
        "service keeps running (set PGPASSWORD or use ~/.pgpass for the password):\n"
        f"  {dump}\n"
        "Restore into an empty database with:\n"
        f"  {restore}\n"
        "then run `vitrina db upgrade` and `vitrina check`."
    )
