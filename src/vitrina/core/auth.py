"""Authentication and authorisation dependencies.

``ReadPrincipal`` / ``WritePrincipal`` / ``AdminPrincipal`` resolve the caller from ``Authorization: Bearer``
or ``X-API-Key: key:secret``, enforce the scope, count the request against the key's rate limit, and bind
the request's session to the caller's organization.

Verified credentials may be cached per process for ``settings.auth_cache_seconds`` (``VITRINA_AUTH_CACHE_SECONDS``;
0, the default, disables it): looking the key up is a database round trip, a quarter of the time of a simple
read. A change to a key or its organization made through the ORM in this process (revocation, deletion, plan,
scopes) drops the cached entries at once, so a revocation takes effect immediately on the worker that served
it; other worker processes stop accepting the key within the TTL.
Bearer tokens are still verified (signature, expiry) on every request; only the key lookup behind them is cached.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import event
from sqlalchemy.orm import Session

from vitrina.accounts import service as accounts
from vitrina.accounts.models import ApiKey, Organization
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


_CACHE_MAX_ENTRIES = 10_000


class CredentialCache:
    """Principals of recently verified credentials, for a bounded time (see the module docstring)."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    def get(self, credential: str) -> Principal | None:
        entry = self._entries.get(credential)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, credential: str, principal: Principal, ttl: float) -> None:
        with self._lock:
            if len(self._entries) >= _CACHE_MAX_ENTRIES:
                self._entries.clear()  # crude but bounded: a burst of distinct keys cannot grow memory
            self._entries[credential] = (time.monotonic() + ttl, principal)

    def forget(self, *, key_id: str | None = None, organization_id: str | None = None) -> None:
        with self._lock:
            stale = [credential for credential, (_, principal) in self._entries.items()
                     if principal.key_id == key_id or principal.organization_id == organization_id]
            for credential in stale:
                del self._entries[credential]


_cache = CredentialCache()


def forget_credentials(*, key_id: str | None = None, organization_id: str | None = None) -> None:
    """Drop this process's cached principals of a key or of every key of an organization."""
    _cache.forget(key_id=key_id, organization_id=organization_id)


def _forget_key(target: ApiKey, *_: Any) -> None:
    forget_credentials(key_id=target.id)


def _forget_organization(target: Organization, *_: Any) -> None:
    forget_credentials(organization_id=target.id)


# Any ORM change to what a principal is made of (in this process) invalidates it before the change commits.
_KEY_ATTRIBUTES: tuple[Any, ...] = (ApiKey.revoked_at, ApiKey.scopes, ApiKey.plan, ApiKey.tier_id, ApiKey.mode,
                                    ApiKey.secret_hash, ApiKey.organization_id)
_ORGANIZATION_ATTRIBUTES: tuple[Any, ...] = (Organization.plan, Organization.rate_limit_per_minute)
for _attribute in _KEY_ATTRIBUTES:
    event.listen(_attribute, "set", _forget_key)
for _attribute in _ORGANIZATION_ATTRIBUTES:
    event.listen(_attribute, "set", _forget_organization)
event.listen(ApiKey, "after_delete", lambda _mapper, _connection, target: _forget_key(target))
event.listen(Organization, "after_delete", lambda _mapper, _connection, target: _forget_organization(target))


def _cache_seconds(request: Request) -> float:
    return float(request.app.state.settings.auth_cache_seconds)


def _credential_id(request: Request) -> str | None:
    """What identifies the credential in the cache: a digest (never the secret itself), or None."""
    authorization = request.headers.get("authorization")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        # The token's signature and expiry are checked on every request (raises when invalid or expired).
        claims = tokens.verify(request.app.state.settings.signing_secret, token.strip())
        return f"token:{claims.organization_id}:{claims.key_id}"
    api_key_header = request.headers.get("x-api-key")
    if api_key_header:
        return "secret:" + hashlib.sha256(api_key_header.encode()).hexdigest()
    return None


def _cached_principal(request: Request, session: Session) -> Principal:
    ttl = _cache_seconds(request)
    credential = _credential_id(request) if ttl > 0 else None
    principal = _cache.get(credential) if credential else None
    if principal is None:
        principal = principal_for_key(_credential_key(request, session))
        if credential:
            _cache.put(credential, principal, ttl)
    return principal


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
        cached = (_cached_principal(request, session) if find_key is _credential_key
                  else principal_for_key(find_key(request, session)))
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
