"""Authentication, the caller's identity, and API key management."""

from __future__ import annotations

from fastapi import Request, Response

from vitrina.accounts import service
from vitrina.accounts.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyOut,
    MeOut,
    RateLimitOut,
    TokenRequest,
    TokenResponse,
)
from vitrina.core import tokens
from vitrina.core.auth import AdminPrincipal, ReadPrincipal
from vitrina.core.pagination import PageQuery
from vitrina.core.responses import Envelope, ListEnvelope, bare, created, no_content, ok, paginated
from vitrina.core.routing import api_router
from vitrina.db.session import DbSession

router = api_router(tags=["accounts"])


@router.post("/auth/token", response_model=TokenResponse, summary="Exchange an API key and secret for a token",
             description="Returns the OAuth-style bare body (no envelope), as JewelTag clients expect.")
def issue_token(body: TokenRequest, request: Request, session: DbSession) -> Response:
    key = service.authenticate_secret(session, api_key=body.api_key, api_secret=body.api_secret)
    settings = request.app.state.settings
    token = tokens.issue(settings.signing_secret, key_id=key.id, organization_id=key.organization_id,
                         ttl_seconds=settings.token_ttl_seconds)
    return bare(TokenResponse(access_token=token, expires_in=settings.token_ttl_seconds))


@router.get("/me", response_model=Envelope[MeOut], summary="Who am I: organization, key, scopes, plan, limit")
def me(session: DbSession, principal: ReadPrincipal) -> Response:
    key = service.active_key(session, key_id=principal.key_id, organization_id=principal.organization_id)
    return ok(MeOut(
        organization={"id": key.organization.id, "name": key.organization.name},
        key={"id": key.id, "name": key.name, "api_key": key.api_key, "mode": key.mode},
        scopes=list(principal.scopes), plan=principal.plan, tier_id=principal.tier_id,
        rate_limit=RateLimitOut(per_minute=principal.rate_limit.per_minute, burst=principal.rate_limit.burst),
    ))


@router.post("/api-keys", status_code=201, response_model=Envelope[ApiKeyCreated], summary="Create an API key",
             description="Admin only. The `api_secret` is returned once and stored only as a hash.")
def create_api_key(body: ApiKeyCreate, session: DbSession, principal: AdminPrincipal) -> Response:
    issued = service.create_api_key(session, organization_id=principal.organization_id, name=body.name,
                                    scopes=list(body.scopes), mode=body.mode, plan=body.plan, tier_id=body.tier_id)
    return created(ApiKeyCreated(**ApiKeyOut.of(issued.key).model_dump(), api_secret=issued.api_secret))


@router.get("/api-keys", response_model=ListEnvelope[ApiKeyOut], summary="List API keys (admin)")
def list_api_keys(request: Request, session: DbSession, principal: AdminPrincipal, page: PageQuery) -> Response:
    keys = service.list_api_keys(session, organization_id=principal.organization_id)
    window = keys[page.offset: page.offset + page.limit]
    return paginated(request, [ApiKeyOut.of(k) for k in window], len(keys), page)


@router.delete("/api-keys/{key_id}", status_code=204, summary="Revoke an API key (admin); effective at once")
def revoke_api_key(key_id: str, session: DbSession, principal: AdminPrincipal) -> Response:
    service.revoke_api_key(session, organization_id=principal.organization_id, key_id=key_id)
    return no_content()
