"""Authentication and authorisation dependencies.

``ReadPrincipal`` / ``WritePrincipal`` / ``AdminPrincipal`` resolve the caller from ``Authorization: Bearer``
or ``X-API-Key: key:secret``, enforce the scope, count the request against the key's rate limit, and bind
the request's session to the caller's organization.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from vitrina.accounts import service as accounts
from vitrina.accounts.models import ApiKey
from vitrina.accounts.plans import RateLimit, rate_limit_for
from vitrina.core import tokens
from vitrina.core.errors import ForbiddenError, RateLimited, Unauthorized
from vitrina.db.session import ORG_KEY, DbSession


@dataclass(frozen=True, slots=True)
class Principal:
    organization_id: str
    key_id: str
    scopes: tuple[str, ...]
    plan: str
    rate_limit: RateLimit
    tier_id: str | None
    mode: str
    user_id: str | None = None

    def can(self, scope: str) -> bool:
        return accounts.grants(list(self.scopes), scope)

    @property
    def actor(self) -> str:
        return self.user_id or self.key_id


def principal_for_key(key: ApiKey) -> Principal:
    organization = key.organization
    plan = key.plan or organization.plan
    return Principal(
        organization_id=key.organization_id, key_id=key.id, scopes=tuple(key.scopes), plan=plan,
        rate_limit=rate_limit_for(plan, organization.rate_limit_per_minute), tier_id=key.tier_id, mode=key.mode,
    )


def key_for_token(request: Request, session: Session, token: str) -> ApiKey:
    claims = tokens.verify(request.app.state.settings.signing_secret, token)
    return accounts.active_key(session, key_id=claims.key_id, organization_id=claims.organization_id)


def _credential_key(request: Request, session: Session) -> ApiKey:
    authorization = request.headers.get("authorization")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("Use 'Authorization: Bearer <token>'.")
        return key_for_token(request, session, token.strip())
    api_key_header = request.headers.get("x-api-key")
    if api_key_header:
        api_key, sep, api_secret = api_key_header.partition(":")
        if not sep:
            raise Unauthorized("Use 'X-API-Key: <api_key>:<api_secret>'.")
        return accounts.authenticate_secret(session, api_key=api_key, api_secret=api_secret)
    raise Unauthorized()


def authenticate(request: Request, session: Session,
                 find_key: Callable[[Request, Session], ApiKey] = _credential_key) -> Principal:
    """The caller of this request (cached on the request, so idempotency and routes share one lookup).

    ``find_key`` lets other front doors (the WJ adapter's ``authkey`` header) reuse the same checks,
    scoping and rate limiting.
    """
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is None:
        cached = principal_for_key(find_key(request, session))
        request.state.principal = cached
        _count_request(request, cached)
    session.info[ORG_KEY] = cached.organization_id
    return cached


def _count_request(request: Request, principal: Principal) -> None:
    settings = request.app.state.settings
    if not settings.rate_limits_enabled:
        return
    state = request.app.state.rate_limiter.hit(f"key:{principal.key_id}", principal.rate_limit)
    request.state.rate_limit_headers = state.headers()
    if not state.allowed:
        retry_after = max(state.reset_at - int(time.time()), 1)
        raise RateLimited(headers={"Retry-After": str(retry_after)})


def _requiring(scope: str) -> Callable[[Request, Session], Principal]:
    def dependency(request: Request, session: DbSession) -> Principal:
        principal = authenticate(request, session)
        if not principal.can(scope):
            raise ForbiddenError(f"This operation needs the '{scope}' scope.")
        return principal

    dependency.__name__ = f"require_{scope}"
    return dependency


require_read = _requiring("read")
require_write = _requiring("write")
require_admin = _requiring("admin")

ReadPrincipal = Annotated[Principal, Depends(require_read)]
WritePrincipal = Annotated[Principal, Depends(require_write)]
AdminPrincipal = Annotated[Principal, Depends(require_admin)]
