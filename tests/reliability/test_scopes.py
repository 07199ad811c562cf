"""Scopes: every write route of the OpenAPI document refuses a ``read`` key with 403 and changes nothing;
every admin route (those the document marks "admin", which must include API keys and the audit log) refuses a
``write`` key with 403 and changes nothing.
"""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.reliability import figures
from tests.reliability.apimodel import ApiDoc, Operation, prefix_for_name
from tests.reliability.conftest import collection_doc, operations
from tests.reliability.dbstate import changed_tables, digest
from tests.reliability.population import Tenant
from vitrina.core.ids import new_id
from vitrina.db.session import Database

_ADMIN_WORD = re.compile(r"\badmin\b", re.IGNORECASE)

# Write-method routes a read key may call, each with the reason. Everything else must refuse it.
READ_SCOPE_WRITES: dict[str, str] = {}


def is_admin_route(operation: Operation) -> bool:
    text = " ".join(str(operation.spec.get(k, "")) for k in ("summary", "description"))
    return bool(_ADMIN_WORD.search(text))


def requires_credentials(anonymous: httpx.Response) -> bool:
    """Whether a request without credentials was refused for lacking them (core.auth's UNAUTHORIZED), rather
    than answered, or refused for a wrong secret in its body (the token exchange)."""
    return anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "UNAUTHORIZED"


WRITE_ROUTES = operations(lambda op: op.is_api and op.is_write)
ADMIN_ROUTES = operations(lambda op: op.is_api and is_admin_route(op))


@pytest.fixture(scope="module")
def key_headers(tenants: tuple[Tenant, Tenant]) -> dict[str, dict[str, str]]:
    a, _ = tenants
    return {"read": a.org.make_headers(["read"]), "write": a.org.make_headers(["read", "write"])}


def _call(operation: Operation, client: TestClient, api_doc: ApiDoc, tenant: Tenant, headers: dict[str, str],
          database: Database) -> tuple[int, str, list[str]]:
    values = tenant.fill_path(operation) or {
        p: new_id(prefix_for_name(p) or "itm") for p in operation.path_params}
    body = tenant.synthesizer(api_doc).body(operation)
    url = operation.url(values)
    if not requires_credentials(client.request(operation.method, url, json=body)):
        pytest.skip("public route: it answers without credentials")
    before = digest(database.engine, [tenant.org.id])
    response = client.request(operation.method, url, json=body, headers=headers)
    return response.status_code, response.text, changed_tables(before, digest(database.engine, [tenant.org.id]))


@pytest.mark.parametrize("operation", WRITE_ROUTES)
def test_read_key_cannot_write(operation: Operation, client: TestClient, api_doc: ApiDoc,
                               tenants: tuple[Tenant, Tenant], key_headers: dict[str, dict[str, str]],
                               database: Database) -> None:
    if operation.label in READ_SCOPE_WRITES:
        pytest.skip(READ_SCOPE_WRITES[operation.label])
    status, text, changed = _call(operation, client, api_doc, tenants[0], key_headers["read"], database)
    figures.count("scopes.read_key_write_attempts")
    assert changed == [], f"a read key changed {changed}"
    assert status == 403, f"{operation.label} with a read key -> {status}: {text[:300]}"


@pytest.mark.parametrize("operation", ADMIN_ROUTES)
def test_write_key_cannot_use_admin_routes(operation: Operation, client: TestClient, api_doc: ApiDoc,
                                           tenants: tuple[Tenant, Tenant], key_headers: dict[str, dict[str, str]],
                                           database: Database) -> None:
    status, text, changed = _call(operation, client, api_doc, tenants[0], key_headers["write"], database)
    figures.count("scopes.write_key_admin_attempts")
    assert changed == [], f"a write key changed {changed}"
    assert status == 403, f"{operation.label} with a write key -> {status}: {text[:300]}"


def test_api_keys_and_audit_log_are_documented_as_admin() -> None:
    """The admin walker finds its routes by the word "admin" in their documentation; the routes the contract
    names as admin-only must carry it, or the walker would silently skip them."""
    admin_paths = {op.path for op in collection_doc().operations if is_admin_route(op)}
    expected = {op.path for op in collection_doc().api_operations()
                if op.path.startswith(("/api/v1/api-keys", "/api/v1/audit-log"))}
    assert expected, "the API keys and audit log routes are missing from the OpenAPI document"
    assert expected <= admin_paths, f"not documented as admin: {sorted(expected - admin_paths)}"
