"""Alembic, driven from code: ``vitrina db upgrade`` and the app's "is this database migrated?" check.

Each domain owns one branch of migrations off ``0001_foundation``; ``upgrade`` applies every head.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class DatabaseNotMigrated(RuntimeError):
    pass


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "heads") -> None:
    command.upgrade(alembic_config(url), revision)


def pending_heads(engine: Engine) -> set[str]:
    """Migration heads the database has not reached yet (empty when it is up to date)."""
    script = ScriptDirectory.from_config(alembic_config(str(engine.url)))
    with engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    missing: set[str] = set()
    for head in script.get_heads():
        applied = any(head == rev or head in _ancestors(script, rev) for rev in current)
        if not applied:
            missing.add(head)
    return missing


def _ancestors(script: ScriptDirectory, revision: str) -> set[str]:
    return {rev.revision for rev in script.iterate_revisions(revision, "base")}


def ensure_migrated(engine: Engine) -> None:
    missing = pending_heads(engine)
    if missing:
        raise DatabaseNotMigrated(
            f"The database at {engine.url.render_as_string(hide_password=True)} is not migrated "
            f"(missing: {', '.join(sorted(missing))}). Run `vitrina db upgrade` first."
        )
