"""The audit trail (``GET /api/v1/audit-log``): every successful write, with who, what, outcome and request id,
newest first; failed and refused writes leave no entry; admins only; one organization never sees another's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from tests.reliability.population import new_org
from vitrina.db.session import Database

AUDIT = "/api/v1/audit-log"


def test_audit_log_records_successful_writes(client: TestClient, database: Database) -> None:
    org = new_org(database, "Audited Jewelers")
    me = client.get("/api/v1/me", headers=org.headers).json()["data"]
    created = client.post("/api/v1/locations", json={"name": "Vault", "code": "VAULT"},
                          headers=org.headers | {"X-Request-Id": "audit-create-1"})
    assert created.status_code == 201
    location_id = created.json()["data"]["id"]
    assert client.put(f"/api/v1/locations/{location_id}", json={"name": "Vault 2"}, headers=org.headers
                      ).status_code == 200
    assert client.post("/api/v1/locations", json={"name": "Dup", "code": "VAULT"}, headers=org.headers
                       ).status_code == 409
    assert client.post("/api/v1/locations", json={"name": "Read", "code": "R"}, headers=org.make_headers(["read"])
                       ).status_code == 403
    response = client.get(AUDIT, headers=org.headers)
    assert response.status_code == 200
    entries = response.json()["data"]
    assert [(e["method"], e["path"]) for e in entries] == [
        ("PUT", f"/api/v1/locations/{location_id}"), ("POST", "/api/v1/locations")], "failed writes were logged"
    put, post = entries
    assert post["actor"] == me["key"]["id"] and post["status_code"] == 201
    assert post["request_id"] == "audit-create-1"
    assert put["id"] > post["id"] and put["created_at"].endswith("Z")
    assert response.json()["pagination"]["total"] == 2


def test_audit_log_filters_and_pages(client: TestClient, database: Database) -> None:
    org = new_org(database, "Filtered Jewelers")
    writer_headers = org.make_headers(["read", "write"])
    for number in range(3):
        assert client.post("/api/v1/locations", json={"name": f"L{number}", "code": f"L{number}"},
                           headers=writer_headers).status_code == 201
    key = client.post("/api/v1/api-keys", json={"name": "extra"}, headers=org.headers).json()["data"]
    everything = client.get(AUDIT, headers=org.headers).json()["data"]
    assert len(everything) == 4
    writer_id = everything[-1]["actor"]
    assert writer_id != everything[0]["actor"]
    by_actor = client.get(AUDIT, params={"actor": writer_id}, headers=org.headers).json()["data"]
    assert len(by_actor) == 3 and {e["actor"] for e in by_actor} == {writer_id}
    keys_only = client.get(AUDIT, params={"path_prefix": "/api/v1/api-keys"}, headers=org.headers).json()["data"]
    assert [e["path"] for e in keys_only] == ["/api/v1/api-keys"]
    assert key["api_secret"] not in client.get(AUDIT, headers=org.headers).text
    assert client.get(AUDIT, params={"method": "DELETE"}, headers=org.headers).json()["data"] == []
    future = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert client.get(AUDIT, params={"since": future}, headers=org.headers).json()["data"] == []
    assert len(client.get(AUDIT, params={"until": future}, headers=org.headers).json()["data"]) == 4
    page = client.get(AUDIT, params={"limit": 2, "offset": 2}, headers=org.headers)
    assert [e["id"] for e in page.json()["data"]] == [e["id"] for e in everything[2:4]]
    assert page.headers["x-total-count"] == "4" and 'rel="prev"' in page.headers["link"]
    assert client.get(AUDIT, params={"method": "GET"}, headers=org.headers).status_code == 422


def test_audit_log_is_admin_only_and_per_organization(client: TestClient, database: Database) -> None:
    org = new_org(database, "Private Jewelers")
    other = new_org(database, "Curious Jewelers")
    assert client.post("/api/v1/locations", json={"name": "Safe", "code": "SAFE"}, headers=org.headers
                       ).status_code == 201
    for scopes in (["read"], ["read", "write"]):
        refused = client.get(AUDIT, headers=org.make_headers(scopes))
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "FORBIDDEN"
    assert client.get(AUDIT).status_code == 401
    assert client.get(AUDIT, headers=other.headers).json()["data"] == []
    assert len(client.get(AUDIT, headers=org.headers).json()["data"]) == 1
