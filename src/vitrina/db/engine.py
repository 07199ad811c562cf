"""Engine construction: one place that knows the differences between SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection

SQLITE_BUSY_TIMEOUT_MS = 30_000


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        return _sqlite_engine(url, **kwargs)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    # No pre-ping: it cost a ``SELECT 1`` round trip on every checkout (10% of a simple read). Connections to a
    # local PostgreSQL are not dropped silently; after a server restart SQLAlchemy sees the disconnect error on
    # first use and invalidates the whole pool, so one request per process may fail and the next reconnects.
    kwargs.setdefault("pool_pre_ping", False)
    # No JIT: PostgreSQL compiles any query whose *estimated* cost passes jit_above_cost, which a count or a
    # snapshot over a location does; compiling took ~200 ms on this machine for a query that runs in 24 ms.
    # An OLTP application's queries are short, so JIT only ever adds latency here.
    connect_args = dict(kwargs.get("connect_args") or {})
    connect_args["options"] = f"{connect_args.get('options', '')} -c jit=off".strip()
    kwargs["connect_args"] = connect_args
    return create_engine(url, **kwargs)


def _sqlite_engine(url: str, **kwargs: Any) -> Engine:
    kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver so we can choose BEGIN IMMEDIATE for writers.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        # A writer takes SQLite's write lock at BEGIN: two writers then queue on busy_timeout instead of
        # one failing with SQLITE_BUSY when it upgrades a read snapshot that another writer has moved past.
        mode = "IMMEDIATE" if conn.get_execution_options().get("vitrina_writer") else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def writer_engine(engine: Engine) -> Engine:
    """The same pool, but transactions begin as writers (``BEGIN IMMEDIATE`` on SQLite; no-op elsewhere)."""
    return engine.execution_options(vitrina_writer=True)
