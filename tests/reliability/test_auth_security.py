"""Authentication: forged, tampered, expired, wrong-algorithm and revoked credentials are refused on every
protected route; secrets (API secrets, webhook ``whsec_`` secrets, anything a response called secret or claim
code) never reach the database in clear; secret comparisons in the code are constant-time.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import hmac
import json
import re
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from tests.reliability import figures
from tests.reliability.apimodel import ApiDoc, Operation, prefix_for_name
from tests.reliability.conftest import operations
from tests.reliability.dbstate import text_values
from tests.reliability.population import Tenant, new_org, populate
from tests.support import OrgContext
from vitrina.config import Settings
from vitrina.core import tokens
from vitrina.core.ids import new_id
from vitrina.db.session import Database

pytestmark = pytest.mark.filterwarnings("ignore:The HMAC key is")  # the forged tokens use weak keys on purpose

SRC = Path(__file__).resolve().parents[2] / "src" / "vitrina"
PROTECTED_GETS = operations(lambda op: op.is_api and op.method == "GET")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: dict[str, Any], claims: dict[str, Any], key: bytes | None = None) -> str:
    """A JWT assembled by hand (PyJWT refuses to build the malicious ones)."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest() if key is not None else b""
    return f"{signing_input}.{_b64(signature)}"


@pytest.fixture(scope="module")
def holder(database: Database) -> OrgContext:
    return new_org(database, "Token Jewelers")


@pytest.fixture(scope="module")
def genuine(client: TestClient, holder: OrgContext) -> str:
    response = client.post("/api/v1/auth/token", json={"api_key": holder.api_key, "api_secret": holder.api_secret})
    assert response.status_code == 200
    return str(response.json()["access_token"])


def _claims(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


def forged_tokens(genuine: str, settings: Settings, other_org_id: str) -> dict[str, str]:
    header, payload, signature = genuine.split(".")
    claims = _claims(genuine)
    now = int(time.time())
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = private.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo)
    private_pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption())
    real = tokens._signing_key(settings.signing_secret)
    return {
        "tampered payload": f"{header}.{_b64(json.dumps(claims | {'org': other_org_id}).encode())}.{signature}",
        "tampered signature": f"{header}.{payload}.{signature[:-4]}AAAA",
        "truncated": f"{header}.{payload}",
        "garbage": "not.a.jwt",
        "empty segments": "..",
        "alg none": _unsigned({"alg": "none", "typ": "JWT"}, claims),
        "alg None (case)": _unsigned({"alg": "None", "typ": "JWT"}, claims),
        "RS256 with our own key pair": jwt.encode(claims, private_pem, algorithm="RS256"),
        "HS256 keyed with an RSA public key": _unsigned({"alg": "HS256", "typ": "JWT"}, claims, public_pem),
        "HS512 with the real key": jwt.encode(claims, real, algorithm="HS512"),
        "HS256 with a guessed key": jwt.encode(claims, "secret", algorithm="HS256"),
        "HS256 keyed with the raw server secret": jwt.encode(claims, settings.signing_secret, algorithm="HS256"),
        "expired": jwt.encode(claims | {"exp": now - 5, "iat": now - 3605, "nbf": now - 3605}, real,
                              algorithm="HS256"),
        "not yet valid": jwt.encode(claims | {"nbf": now + 3600, "iat": now}, real, algorithm="HS256"),
        "wrong audience": jwt.encode(claims | {"aud": "someone-else"}, real, algorithm="HS256"),
        "wrong issuer": jwt.encode(claims | {"iss": "evil"}, real, algorithm="HS256"),
        "no expiry": jwt.encode({k: v for k, v in claims.items() if k != "exp"}, real, algorithm="HS256"),
        "org claim of another organization": jwt.encode(claims | {"org": other_org_id}, real, algorithm="HS256"),
        "unknown key id": jwt.encode(claims | {"sub": new_id("key")}, real, algorithm="HS256"),
        # Key-selection headers pointing at the attacker's key material must not be followed.
        "kid/jku/jwk headers naming the attacker's key": jwt.encode(
            claims, private_pem, algorithm="RS256",
            headers={"kid": "../../../../dev/null", "jku": "https://evil.example/jwks.json",
                     "jwk": json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))}),
        "kid naming an empty file, HMAC with an empty key": _unsigned(
            {"alg": "HS256", "typ": "JWT", "kid": "../../../../dev/null"}, claims, b""),
    }


def test_forged_tokens_are_refused(client: TestClient, genuine: str, settings: Settings, holder: OrgContext,
                                   database: Database) -> None:
    other = new_org(database, "Victim Jewelers")
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {genuine}"}).status_code == 200
    for name, token in forged_tokens(genuine, settings, other.id).items():
        response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        figures.count("auth.forged_credentials")
        assert response.status_code == 401, f"{name} -> {response.status_code}: {response.text[:200]}"
        assert other.id not in response.text
    expired = forged_tokens(genuine, settings, other.id)["expired"]
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {expired}"})
    assert response.json()["error"]["code"] == "TOKEN_EXPIRED"


def test_malformed_credentials_are_refused(client: TestClient, holder: OrgContext, genuine: str) -> None:
    key, secret = holder.api_key, holder.api_secret
    attempts = [
        {"Authorization": "Bearer"}, {"Authorization": "Bearer "}, {"Authorization": f"Basic {genuine}"},
        {"Authorization": f"bearer  {genuine}x"}, {"X-API-Key": key}, {"X-API-Key": f"{key}:"},
        {"X-API-Key": f":{secret}"}, {"X-API-Key": f"{key}:{secret}x"}, {"X-API-Key": f"{key}x:{secret}"},
        {"X-API-Key": f"{key}:{secret[:-1]}"}, {"X-API-Key": f"{secret}:{key}"},
        {"X-API-Key": "' OR 1=1 --:' OR 1=1 --"}, {"X-API-Key": "%:%"}, {"X-API-Key": "*:*"},
    ]
    for headers in attempts:
        response = client.get("/api/v1/me", headers=headers)
        figures.count("auth.forged_credentials")
        assert response.status_code == 401, f"{headers} -> {response.status_code}"


@pytest.mark.parametrize("operation", PROTECTED_GETS)
def test_every_protected_route_refuses_forged_tokens(operation: Operation, client: TestClient, genuine: str,
                                                     settings: Settings, holder: OrgContext) -> None:
    url = operation.url({p: new_id(prefix_for_name(p) or "itm") for p in operation.path_params})
    if client.get(url).status_code != 401:
        pytest.skip("public route")
    for name, token in forged_tokens(genuine, settings, new_id("org")).items():
        response = client.get(url, headers={"Authorization": f"Bearer {token}"})
        figures.count("auth.forged_credentials")
        assert response.status_code == 401, f"{name} -> {response.status_code}"


def test_revoked_keys_and_their_tokens_die_at_once(client: TestClient, holder: OrgContext) -> None:
    created = client.post("/api/v1/api-keys", json={"name": "to revoke", "scopes": ["read", "write"]},
                          headers=holder.headers).json()["data"]
    direct = {"X-API-Key": f"{created['api_key']}:{created['api_secret']}"}
    token = client.post("/api/v1/auth/token", json={"api_key": created["api_key"],
                                                    "api_secret": created["api_secret"]}).json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=bearer).status_code == 200
    assert client.delete(f"/api/v1/api-keys/{created['id']}", headers=holder.headers).status_code == 204
    for headers in (bearer, direct):
        assert client.get("/api/v1/me", headers=headers).status_code == 401
        assert client.post("/api/v1/locations", json={"name": "x", "code": "REVOKED"}, headers=headers
                           ).status_code == 401
    again = client.post("/api/v1/auth/token", json={"api_key": created["api_key"], "api_secret": created["api_secret"]})
    assert again.status_code == 401
    figures.count("auth.forged_credentials", 5)


_SECRET_FIELD = re.compile(r"secret|claim_code|password|private", re.IGNORECASE)


def _secrets_in(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, str) and _SECRET_FIELD.search(key) and len(value) >= 8:
                found.add(value)
            else:
                _secrets_in(value, found)
    elif isinstance(node, list):
        for value in node:
            _secrets_in(value, found)


class _Recording:
    """A client that remembers every secret a response handed out (shown once, never to be stored)."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.secrets: set[str] = set()

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        response = self.client.request(method, url, **kwargs)
        if response.headers.get("content-type", "").startswith("application/json") and response.content:
            _secrets_in(response.json(), self.secrets)
        return response


def test_secrets_are_never_stored_in_clear(client: TestClient, api_doc: ApiDoc, database: Database) -> None:
    recording = _Recording(client)
    tenant = Tenant(org=new_org(database, "Secretive Jewelers"), marker="SECRETIVE")
    populate(recording, api_doc, tenant)  # creates everything the API can: keys, webhooks, transfers...
    recording.request("POST", "/api/v1/api-keys", json={"name": "scan", "scopes": ["read"]}, headers=tenant.headers)
    secrets = recording.secrets | {tenant.org.api_secret}
    assert any(s.startswith("vs_") for s in secrets)
    figures.count("auth.secrets_scanned", len(secrets))
    # The secret and its random part without the prefix (``whsec_``, ``vs_live_``): either in a column is a leak.
    needles = secrets | {s.rsplit("_", 1)[-1] for s in secrets if len(s.rsplit("_", 1)[-1]) >= 16}
    leaks: list[str] = []
    for table, column, value in text_values(database.engine):
        leaks.extend(f"{table}.{column}" for needle in needles if needle in value)
        if "whsec_" in value:
            leaks.append(f"{table}.{column} holds a whsec_ value")
    assert not leaks, f"secrets stored in clear: {sorted(set(leaks))}"


# --------------------------------------------------------------------------- constant-time comparisons

_SENSITIVE_WORDS = frozenset({"secret", "signature", "sig", "mac", "cmac", "hmac", "digest", "hash", "password",
                              "otp", "token", "claim", "code"})
# Comparisons the review accepted, as "path:line-text" fragments with the reason.
REVIEWED_COMPARISONS: dict[str, str] = {
    # Checking a Merkle inclusion proof of the public transparency log: the leaf, the path and the root are all
    # published (GET /ledger/proof, the signed checkpoint), so there is nothing a timing difference could leak.
    "leaf_data).digest() != leaf_hash": "web/ledgerproof.py: public Merkle leaf hash",
    "root_from_path(index, size, leaf_hash, path) == root": "web/ledgerproof.py: public Merkle root",
}


def _names(node: ast.AST) -> list[str]:
    return [n.id if isinstance(n, ast.Name) else n.attr for n in ast.walk(node)
            if isinstance(n, ast.Name | ast.Attribute)]


def _sensitive(name: str) -> bool:
    words = re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower().split("_")
    return bool(_SENSITIVE_WORDS & set(words)) and words != ["code"]


def _is_sql_expression(node: ast.AST) -> bool:
    """``Model.column == value`` builds SQL (compared by the database), not a Python comparison."""
    return isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id[:1].isupper()


def _is_literal(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) or (isinstance(node, ast.Name) and node.id in {"None"})


def non_constant_time_comparisons(root: Path) -> list[str]:
    """``==``/``!=`` between two non-literal values where either side names a secret, MAC, token or hash."""
    found = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Compare) or not any(isinstance(o, ast.Eq | ast.NotEq) for o in node.ops):
                continue
            sides = [node.left, *node.comparators]
            if any(_is_literal(side) or _is_sql_expression(side) for side in sides) or any(
                    isinstance(s, ast.Call) and _names(s.func) == ["len"] for s in sides):
                continue
            variables = [frozenset(n.id for n in ast.walk(side) if isinstance(n, ast.Name)) for side in sides]
            if len(set(variables)) == 1:
                continue  # a value against a transform of itself (``s.strip() != s``): nothing secret is matched
            if any(_sensitive(name) for side in sides for name in _names(side)):
                found.append(f"{path.relative_to(root.parent)}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_secret_comparisons_are_constant_time() -> None:
    """A review turned into a guard: secrets, MACs and hashes are compared with ``hmac.compare_digest``."""
    found = [line for line in non_constant_time_comparisons(SRC)
             if not any(fragment in line for fragment in REVIEWED_COMPARISONS)]
    figures.count("auth.comparisons_reviewed", len(found) + len(REVIEWED_COMPARISONS))
    assert not found, "non-constant-time comparisons of secret material:\n" + "\n".join(found)
    assert "compare_digest" in (SRC / "accounts" / "service.py").read_text()


def test_the_comparison_guard_catches_what_it_should(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "bad.py").write_text(
        "def check(given_mac, expected_mac, record, secret):\n"
        "    if given_mac == expected_mac:\n        return 1\n"
        "    return record.secret_hash != hash_secret(secret)\n")
    (package / "fine.py").write_text(
        "def check(token, Key, password, claim_code):\n"
        "    if token == '' or password is None or len(claim_code) != 8:\n        return 0\n"
        "    return Key.secret_hash == token or password.strip() != password\n")
    found = non_constant_time_comparisons(package)
    assert [line.split(":")[1] for line in found] == ["2", "4"], found
