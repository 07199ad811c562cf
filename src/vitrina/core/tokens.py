"""Signed access tokens (JWT, HS256 only: a token naming another algorithm is refused, so ``alg: none`` and
RS/HS confusion cannot apply)."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import timedelta

import jwt

from vitrina.core.errors import TokenExpired, Unauthorized
from vitrina.core.time import utcnow

ALGORITHM = "HS256"
ISSUER = "vitrina"
AUDIENCE = "vitrina-api"


@dataclass(frozen=True, slots=True)
class TokenClaims:
    key_id: str
    organization_id: str


def _signing_key(secret: str) -> bytes:
    # A purpose-bound subkey: the server secret also protects other things (stored tag keys, sessions).
    return hmac.new(secret.encode(), b"vitrina/access-token/v1", hashlib.sha256).digest()


def issue(secret: str, *, key_id: str, organization_id: str, ttl_seconds: int) -> str:
    now = utcnow()
    claims = {
        "iss": ISSUER, "aud": AUDIENCE, "sub": key_id, "org": organization_id,
        "iat": now, "nbf": now, "exp": now + timedelta(seconds=ttl_seconds), "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, _signing_key(secret), algorithm=ALGORITHM)


def verify(secret: str, token: str) -> TokenClaims:
    try:
        claims = jwt.decode(
            token, _signing_key(secret), algorithms=[ALGORITHM], audience=AUDIENCE, issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "aud", "iss"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenExpired() from exc
    except jwt.PyJWTError as exc:
        raise Unauthorized("The access token is invalid.") from exc
    if not isinstance(claims.get("sub"), str) or not isinstance(claims.get("org"), str):
        raise Unauthorized("The access token is invalid.")
    return TokenClaims(key_id=claims["sub"], organization_id=claims["org"])
