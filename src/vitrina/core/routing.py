"""The route class every API router uses: it owns the request's unit of work.

For each request it opens a lazily-connected session, runs the route, and then commits (success) or rolls
back (any error), so a route and the services it calls never commit themselves. It also applies
``Idempotency-Key`` to POST and PATCH, and writes the audit trail of successful changes.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from vitrina.core import idempotency
from vitrina.core.auth import Principal, authenticate
from vitrina.core.errors import VitrinaError
from vitrina.core.models import AuditEntry
from vitrina.db.session import Database, UnitOfWork

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
IDEMPOTENT_METHODS = frozenset({"POST", "PATCH"})
Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class UnitOfWorkRoute(APIRoute):
    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            database: Database = request.app.state.db
            uow = UnitOfWork(database, write=request.method not in SAFE_METHODS)
            request.state.uow = uow
            try:
                claim = await _claim_idempotency_key(request, uow)
            except BaseException:
                await run_in_threadpool(uow.rollback)
                raise
            if isinstance(claim, Response):
                await run_in_threadpool(uow.rollback)
                return claim
            try:
                response = await handler(request)
                await run_in_threadpool(_finish, request, uow, response, claim)
                return response
            except BaseException:
                await run_in_threadpool(uow.rollback)
                if claim is not None:
                    await run_in_threadpool(idempotency.release, database, claim)
                raise

        return run


def _finish(request: Request, uow: UnitOfWork, response: Response, claim: idempotency.Claim | None) -> None:
    if response.status_code >= 400:
        uow.rollback()
        if claim is not None:
            idempotency.release(request.app.state.db, claim)
        return
    principal: Principal | None = getattr(request.state, "principal", None)
    if uow.started and principal is not None and request.method not in SAFE_METHODS:
        session = uow.session()
        if claim is not None:
            idempotency.complete(session, claim, response,
                                 server_secret=request.app.state.settings.signing_secret)
        session.add(AuditEntry(
            organization_id=principal.organization_id, actor=principal.actor, method=request.method,
            path=request.url.path, status_code=response.status_code,
            request_id=request.scope.get("state", {}).get("request_id"),
        ))
    uow.commit()


async def _claim_idempotency_key(request: Request, uow: UnitOfWork) -> idempotency.Claim | Response | None:
    key = request.headers.get("idempotency-key")
    if key is None or request.method not in IDEMPOTENT_METHODS:
        return None
    idempotency.validate_key(key)
    body = await request.body()
    settings = request.app.state.settings
    database: Database = request.app.state.db

    def claim() -> idempotency.Claim | Response | None:
        try:
            principal = authenticate(request, uow.session())
        except VitrinaError:
            return None  # let the route itself report the credential error
        finally:
            # End the lookup's transaction before claiming in another one: on SQLite both want the write lock.
            uow.rollback()
        return idempotency.claim(
            database, organization_id=principal.organization_id, key=key,
            fingerprint=idempotency.fingerprint(request.method, request.url.path, body,
                                             request.headers.get("content-type")),
            lock_seconds=settings.idempotency_lock_seconds, ttl_seconds=settings.idempotency_ttl_seconds,
            server_secret=settings.signing_secret,
        )

    return await run_in_threadpool(claim)


def api_router(prefix: str = "", tags: list[str] | None = None) -> APIRouter:
    """An ``/api/v1`` router whose routes run in a unit of work (see module docstring)."""
    return APIRouter(prefix=prefix, tags=list(tags or []), route_class=UnitOfWorkRoute)
