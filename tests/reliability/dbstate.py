"""What an organization holds in the database, as one comparable value: "nothing changed" is then an equality.

Every table with an ``organization_id`` column (and the organization's own row) is read directly, so a change
made by any route, in any table, present or future, is seen without knowing the domain.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from sqlalchemy import Engine, MetaData, Table, select

_SKIPPED_TABLES = frozenset({"alembic_version"})
_metadata_cache: dict[int, list[Table]] = {}


def _tables(engine: Engine) -> list[Table]:
    key = id(engine)
    if key not in _metadata_cache:
        metadata = MetaData()
        metadata.reflect(engine)
        _metadata_cache[key] = [t for t in metadata.sorted_tables if t.name not in _SKIPPED_TABLES]
    return _metadata_cache[key]


def org_tables(engine: Engine) -> list[Table]:
    return [t for t in _tables(engine) if "organization_id" in t.c]


def digest(engine: Engine, organization_ids: Iterable[str]) -> dict[str, str]:
    """Per table, a hash of the rows of these organizations (row order does not matter)."""
    ids = sorted(organization_ids)
    result: dict[str, str] = {}
    with engine.connect() as connection:
        for table in _tables(engine):
            if "organization_id" in table.c:
                query = select(table).where(table.c.organization_id.in_(ids))
            elif table.name == "organizations":
                query = select(table).where(table.c.id.in_(ids))
            else:
                continue
            rows = sorted(repr(tuple(row)) for row in connection.execute(query))
            result[table.name] = hashlib.sha256("\n".join(rows).encode()).hexdigest()[:16] + f":{len(rows)}"
    return result


def changed_tables(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))


def text_values(engine: Engine) -> Iterable[tuple[str, str, str]]:
    """Every text and binary value in the database as (table, column, value), for secret scanning."""
    with engine.connect() as connection:
        for table in _tables(engine):
            for row in connection.execute(select(table)):
                for column, value in zip(table.c.keys(), row, strict=True):
                    if isinstance(value, bytes | bytearray | memoryview):
                        yield table.name, column, bytes(value).decode("utf-8", "replace")
                    elif value is not None and not isinstance(value, int | float | bool):
                        yield table.name, column, str(value)
