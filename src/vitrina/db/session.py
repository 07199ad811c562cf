"""Sessions: one per unit of work, scoped to one organization.

A session that knows its organization (``session.info["organization_id"]``) adds ``organization_id = :org``
to every ORM query on an ``OrgScoped`` table, so a route cannot read another organization's rows even if a
service forgets its own filter. Services still filter explicitly; this is the safety net.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import Connection, Engine, event
from sqlalchemy.engine.interfaces import ExecutionContext
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker, with_loader_criteria

from vitrina.db.base import OrgScoped
from vitrina.db.engine import make_engine, writer_engine

ORG_KEY = "organization_id"


class Database:
    """The engine and the session factories (readers, writers that take SQLite's write lock, and on
    PostgreSQL the requests' readers that run without BEGIN/COMMIT until they write; see ``_begin_before_writes``)."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine: Engine = make_engine(url, **engine_kwargs)
        self._readers = sessionmaker(self.engine, expire_on_commit=False)
        self._writers = sessionmaker(writer_engine(self.engine), expire_on_commit=False)
        self._request_readers = self._readers
        if self.engine.dialect.name == "postgresql":
            event.listen(self.engine, "before_cursor_execute", _begin_before_writes)
            self._request_readers = sessionmaker(
                self.engine.execution_options(isolation_level="AUTOCOMMIT", **{_AUTOCOMMIT_READS: True}),
                expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def session(self, *, write: bool = True, organization_id: str | None = None,
                request_read: bool = False) -> Session:
        """``request_read``: a GET/HEAD request's session (see ``_begin_before_writes``)."""
        factory = self._writers if write else self._request_readers if request_read else self._readers
        session = factory()
        if organization_id:
            session.info[ORG_KEY] = organization_id
        return session

    @contextmanager
    def unit_of_work(self, *, organization_id: str | None = None, write: bool = True) -> Iterator[Session]:
        """For CLI commands and job batches: commit when the block succeeds, roll back otherwise."""
        session = self.session(write=write, organization_id=organization_id)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


_AUTOCOMMIT_READS = "vitrina_autocommit_reads"
_LOCKING_CLAUSES = ("FOR UPDATE", "FOR SHARE", "FOR NO KEY UPDATE", "FOR KEY SHARE")


def _begin_before_writes(conn: Connection, _cursor: Any, statement: str, _parameters: Any,
                         context: ExecutionContext | None, _executemany: bool) -> None:
    """A read-only request on PostgreSQL runs its SELECTs in autocommit: no ``BEGIN`` and no ``COMMIT`` round
    trip (two of the four round trips of ``GET /inventory/{id}``). Each SELECT is then its own transaction,
    which is what READ COMMITTED gives statements inside one anyway. Should such a request write, lock rows,
    take a savepoint or stream with a server-side cursor, the connection leaves autocommit just before that
    statement, so it and everything after it run in one transaction that the request commits or rolls back."""
    if not conn.get_execution_options().get(_AUTOCOMMIT_READS):
        return
    dbapi_connection = conn.connection.dbapi_connection
    if dbapi_connection is None or not dbapi_connection.autocommit:
        return
    if _plain_read(statement) and not (context is not None and context.execution_options.get("stream_results")):
        return
    dbapi_connection.autocommit = False


def _plain_read(statement: str) -> bool:
    head = statement.lstrip()[:6].upper()
    if head != "SELECT":
        return False
    upper = statement.upper()
    return not any(clause in upper for clause in _LOCKING_CLAUSES)


@event.listens_for(Session, "do_orm_execute")
def _scope_to_organization(state: ORMExecuteState) -> None:
    organization_id = state.session.info.get(ORG_KEY)
    if not organization_id or state.is_column_load or state.is_relationship_load:
        return
    if state.is_select or state.is_update or state.is_delete:
        state.statement = state.statement.options(
            with_loader_criteria(
                OrgScoped,
                lambda cls: cls.organization_id == organization_id,
                include_aliases=True,
            )
        )


class UnitOfWork:
    """The session of one request, opened on first use; the route class commits or rolls it back."""

    def __init__(self, database: Database, *, write: bool) -> None:
        self._database = database
        self._write = write
        self._session: Session | None = None

    @property
    def started(self) -> bool:
        return self._session is not None

    def session(self) -> Session:
        if self._session is None:
            self._session = self._database.session(write=self._write, request_read=not self._write)
        return self._session

    def commit(self) -> None:
        if self._session is not None:
            try:
                self._session.commit()
            finally:
                self._session.close()
                self._session = None

    def rollback(self) -> None:
        if self._session is not None:
            try:
                self._session.rollback()
            finally:
                self._session.close()
                self._session = None


async def get_session(request: Request) -> Session:
    # async on purpose: opening the session does no I/O, so it need not hop to the thread pool.
    uow: UnitOfWork = request.state.uow
    return uow.session()


DbSession = Annotated[Session, Depends(get_session)]
