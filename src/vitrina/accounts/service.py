"""Organizations and API credentials: creation, lookup, revocation and authentication."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from vitrina.accounts.errors import ApiKeyNotFound, InvalidCredentials
from vitrina.accounts.models import ApiKey, Organization
from vitrina.accounts.plans import PLANS
from vitrina.catalog import service as catalog
from vitrina.core.errors import NotFoundError, ValidationFailed
from vitrina.core.ids import new_id
from vitrina.core.time import utcnow

SCOPES = ("read", "write", "admin")
# Each scope includes the ones before it: an admin key can also write and read.
_SCOPE_RANK = {scope: rank for rank, scope in enumerate(SCOPES)}


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A credential just created: the only moment the secret exists in clear."""

    key: ApiKey
    api_secret: str


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def grants(scopes: list[str], required: str) -> bool:
    return any(_SCOPE_RANK.get(s, -1) >= _SCOPE_RANK[required] for s in scopes)


def create_organization(session: Session, *, name: str, plan: str = "essential",
                        rate_limit_per_minute: int | None = None) -> tuple[Organization, IssuedKey]:
    """A new organization and its first admin key."""
    if plan not in PLANS:
        raise ValidationFailed.field("$.plan", f"must be one of {', '.join(PLANS)}")
    organization = Organization(id=new_id("org"), name=name, plan=plan,
                                rate_limit_per_minute=rate_limit_per_minute if plan == "enterprise" else None)
    session.add(organization)
    session.flush()
    issued = create_api_key(session, organization_id=organization.id, name="Initial admin key",
                            scopes=["read", "write", "admin"])
    return organization, issued


def create_api_key(session: Session, *, organization_id: str, name: str, scopes: list[str],
                   mode: str = "live", plan: str | None = None, tier_id: str | None = None) -> IssuedKey:
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise ValidationFailed.field("$.scopes", f"choose from {', '.join(SCOPES)}")
    if tier_id is not None:
        _ensure_tier(session, organization_id=organization_id, tier_id=tier_id)
    secret = f"vs_{mode}_{secrets.token_urlsafe(32)}"
    key = ApiKey(
        id=new_id("key"), organization_id=organization_id, name=name,
        api_key=f"vk_{mode}_{secrets.token_urlsafe(18)}", secret_hash=hash_secret(secret),
        scopes=sorted(set(scopes), key=_SCOPE_RANK.__getitem__), mode=mode, plan=plan, tier_id=tier_id,
    )
    session.add(key)
    session.flush()
    return IssuedKey(key=key, api_secret=secret)


def _ensure_tier(session: Session, *, organization_id: str, tier_id: str) -> None:
    try:
        catalog.get_pricing_tier(session, organization_id=organization_id, tier_id=tier_id)
    except NotFoundError:
        raise ValidationFailed.field("$.tier_id", "no such pricing tier") from None


def list_api_keys(session: Session, *, organization_id: str) -> list[ApiKey]:
    stmt = select(ApiKey).where(ApiKey.organization_id == organization_id).order_by(ApiKey.id)
    return list(session.scalars(stmt))


def revoke_api_key(session: Session, *, organization_id: str, key_id: str) -> ApiKey:
    key = session.scalar(select(ApiKey).where(ApiKey.organization_id == organization_id, ApiKey.id == key_id))
    if key is None:
        raise ApiKeyNotFound()
    if key.revoked_at is None:
        key.revoked_at = utcnow()
    return key


def authenticate_secret(session: Session, *, api_key: str, api_secret: str) -> ApiKey:
    """The key for a key/secret pair, compared in constant time; one error for every kind of failure."""
    key = session.scalar(select(ApiKey).where(ApiKey.api_key == api_key))
    expected = key.secret_hash if key is not None else hash_secret("no such key")
    matches = hmac.compare_digest(expected, hash_secret(api_secret))
    if key is None or not matches or key.revoked_at is not None:
        raise InvalidCredentials()
    return key


def active_key(session: Session, *, key_id: str, organization_id: str) -> ApiKey:
    """The key a token was issued for, if it still exists and is not revoked (so revocation is immediate)."""
    key = session.get(ApiKey, key_id)
    if key is None or key.organization_id != organization_id or key.revoked_at is not None:
        raise InvalidCredentials()
    return key
