"""JSON shapes of authentication and API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AliasChoices, BaseModel, Field

from vitrina.accounts.models import ApiKey
from vitrina.core.schemas import RequestModel

Scope = Literal["read", "write", "admin"]
Plan = Literal["essential", "professional", "enterprise"]


class TokenRequest(RequestModel):
    api_key: str = Field(min_length=1, max_length=200, validation_alias=AliasChoices("api_key", "apiKey"))
    api_secret: str = Field(min_length=1, max_length=200,
                            validation_alias=AliasChoices("api_secret", "apiSecret", "secret_key"))


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int


class ApiKeyCreate(RequestModel):
    name: str = Field(min_length=1, max_length=200)
    scopes: list[Scope] = Field(default=["read"], min_length=1, max_length=3)
    mode: Literal["live", "test"] = "live"
    plan: Plan | None = None
    tier_id: str | None = Field(default=None, max_length=32)


class ApiKeyOut(BaseModel):
    id: str
    name: str
    api_key: str
    scopes: list[str]
    mode: str
    plan: str | None
    tier_id: str | None
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def of(cls, key: ApiKey) -> ApiKeyOut:
        return cls(id=key.id, name=key.name, api_key=key.api_key, scopes=list(key.scopes), mode=key.mode,
                   plan=key.plan, tier_id=key.tier_id, created_at=key.created_at, revoked_at=key.revoked_at,
                   last_used_at=key.last_used_at)


class ApiKeyCreated(ApiKeyOut):
    api_secret: str = Field(description="Shown only in this response; store it now.")


class RateLimitOut(BaseModel):
    per_minute: int
    burst: int


class MeOut(BaseModel):
    organization: dict[str, str]
    key: dict[str, str]
    scopes: list[str]
    plan: str
    rate_limit: RateLimitOut
    tier_id: str | None
