"""Credentials, tokens, scopes, revocation and rate limits (API.md §2)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import jwt
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.support import OrgContext
from vitrina.config import Settings
from vitrina.core import tokens
from vitrina.core.time import utcnow
from vitrina.db.session import Database


def _token(client: TestClient, org: OrgContext) -> str:
    response = client.post("/api/v1/auth/token", json={"api_key": org.api_key, "api_secret": org.api_secret})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    return str(body["access_token"])


def test_token_exchange_and_bearer(client: TestClient, org: OrgContext) -> None:
    token = _token(client, org)
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    data = me.json()["data"]
    assert data["organization"]["id"] == org.id
    assert data["scopes"] == ["read", "write", "admin"]
    assert data["rate_limit"]["per_minute"] == 1_000_000


def test_camel_case_token_body(client: TestClient, org: OrgContext) -> None:
    response = client.post("/api/v1/auth/token", json={"apiKey": org.api_key, "apiSecret": org.api_secret})
    assert response.status_code == 200


def test_wrong_secret_and_missing_credentials(client: TestClient, org: OrgContext) -> None:
    response = client.post("/api/v1/auth/token", json={"api_key": org.api_key, "api_secret": "nope"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "INVALID_CREDENTIALS"
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me", headers={"X-API-Key": "no-colon"}).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Basic abc"}).status_code == 401


def test_tampered_expired_and_alg_none_tokens(client: TestClient, org: OrgContext, settings: Settings) -> None:
    token = _token(client, org)
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["org"] = "org_someone_else"
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {header}.{forged_payload}.{signature}"}
                      ).status_code == 401
    unsigned = jwt.encode(claims | {"org": org.id}, key=None, algorithm="none")
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {unsigned}"}).status_code == 401
    wrong_key = jwt.encode(claims | {"org": org.id}, "guessed-secret-guessed-secret-guessed-secret", algorithm="HS256")
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {wrong_key}"}).status_code == 401
    expired = tokens.issue(settings.signing_secret, key_id=claims["sub"], organization_id=org.id, ttl_seconds=-10)
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401 and response.json()["error"]["code"] == "TOKEN_EXPIRED"


def test_revocation_kills_key_and_its_tokens(client: TestClient, org: OrgContext) -> None:
    created = client.post("/api/v1/api-keys", json={"name": "pos", "scopes": ["read", "write"]}, headers=org.headers)
    assert created.status_code == 201
    key = created.json()["data"]
    assert key["api_secret"].startswith("vs_live_") and key["api_key"].startswith("vk_live_")
    token = client.post("/api/v1/auth/token", json={"api_key": key["api_key"], "api_secret": key["api_secret"]}
                        ).json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=bearer).status_code == 200
    assert client.delete(f"/api/v1/api-keys/{key['id']}", headers=org.headers).status_code == 204
    assert client.get("/api/v1/me", headers=bearer).status_code == 401
    direct = {"X-API-Key": f"{key['api_key']}:{key['api_secret']}"}
    assert client.get("/api/v1/me", headers=direct).status_code == 401
    listed = client.get("/api/v1/api-keys", headers=org.headers).json()["data"]
    assert any(k["id"] == key["id"] and k["revoked_at"] for k in listed)
    assert all("api_secret" not in k for k in listed)


def test_scopes(client: TestClient, org: OrgContext) -> None:
    reader = org.make_headers(["read"])
    writer = org.make_headers(["read", "write"])
    assert client.get("/api/v1/locations", headers=reader).status_code == 200
    response = client.post("/api/v1/locations", json={"name": "X", "code": "X"}, headers=reader)
    assert response.status_code == 403 and response.json()["error"]["code"] == "FORBIDDEN"
    assert client.get("/api/v1/locations", headers=org.headers).json()["pagination"]["total"] == 0
    assert client.post("/api/v1/api-keys", json={"name": "x"}, headers=writer).status_code == 403
    assert client.get("/api/v1/api-keys", headers=writer).status_code == 403


def test_test_mode_keys(client: TestClient, org: OrgContext) -> None:
    response = client.post("/api/v1/api-keys", json={"name": "sandbox", "mode": "test"}, headers=org.headers)
    assert response.json()["data"]["api_key"].startswith("vk_test_")


def test_other_organizations_key_is_404(client: TestClient, org: OrgContext, other_org: OrgContext) -> None:
    key_id = client.post("/api/v1/api-keys", json={"name": "mine"}, headers=org.headers).json()["data"]["id"]
    response = client.delete(f"/api/v1/api-keys/{key_id}", headers=other_org.headers)
    assert response.status_code == 404
    assert client.get("/api/v1/me", headers=org.headers).status_code == 200


def test_secrets_are_stored_hashed(client: TestClient, org: OrgContext, database: Database) -> None:
    with database.engine.connect() as connection:
        rows = connection.execute(text("SELECT api_key, secret_hash FROM api_keys WHERE organization_id = :o"),
                                  {"o": org.id}).all()
    assert rows and all(org.api_secret not in row.secret_hash for row in rows)
    assert all(len(row.secret_hash) == 64 for row in rows)


def test_rate_limit_headers_and_429(client: TestClient, make_org: Callable[..., OrgContext]) -> None:
    small = make_org(plan="enterprise", rate_limit_per_minute=3)  # burst 6 per minute
    statuses = []
    for _ in range(7):
        response = client.get("/api/v1/me", headers=small.headers)
        statuses.append(response.status_code)
        assert {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"} <= set(response.headers)
    assert statuses[:6] == [200] * 6 and statuses[6] == 429
    refused = client.get("/api/v1/me", headers=small.headers)
    assert refused.json()["error"]["code"] == "RATE_LIMITED"
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.headers["x-ratelimit-remaining"] == "0"
    assert int(refused.headers["x-ratelimit-reset"]) > int(utcnow().timestamp())


def test_essential_plan_limits(client: TestClient, make_org: Callable[..., OrgContext]) -> None:
    essential = make_org(plan="essential")
    data = client.get("/api/v1/me", headers=essential.headers).json()["data"]
    assert data["rate_limit"] == {"per_minute": 100, "burst": 200}
