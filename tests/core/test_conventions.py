"""API.md §1 conventions, exercised through the locations resource."""

from __future__ import annotations

import threading

from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.support import OrgContext
from vitrina.db.session import Database

LOC = "/api/v1/locations"


def _location(client: TestClient, org: OrgContext, code: str = "MAIN", **extra: object) -> dict:
    response = client.post(LOC, json={"name": "Main store", "code": code, **extra}, headers=org.headers)
    assert response.status_code == 201, response.text
    return response.json()["data"]


def test_success_envelope_and_request_id(client: TestClient, org: OrgContext) -> None:
    response = client.get(LOC, headers=org.headers | {"X-Request-Id": "abc-123"})
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "abc-123"
    body = response.json()
    assert body["success"] is True and body["data"] == []
    assert body["pagination"] == {"limit": 50, "offset": 0, "total": 0}


def test_insane_request_id_is_replaced(client: TestClient, org: OrgContext) -> None:
    response = client.get(LOC, headers=org.headers | {"X-Request-Id": "bad id with spaces" * 20})
    assert response.headers["x-request-id"].startswith("req_")


def test_error_envelope_repeats_request_id(client: TestClient, org: OrgContext) -> None:
    response = client.get(f"{LOC}/loc_missing", headers=org.headers | {"X-Request-Id": "trace-1"})
    assert response.status_code == 404
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == "LOCATION_NOT_FOUND"
    assert body["requestId"] == "trace-1"


def test_unknown_route_is_enveloped_404(client: TestClient, org: OrgContext) -> None:
    response = client.get("/api/v1/nope", headers=org.headers)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


def test_version_negotiation(client: TestClient, org: OrgContext) -> None:
    assert client.get(LOC, headers=org.headers | {"Accept": "application/vnd.vitrina.v1+json"}).status_code == 200
    response = client.get(LOC, headers=org.headers | {"Accept": "application/vnd.vitrina.v2+json"})
    assert response.status_code == 406
    assert response.json()["error"]["code"] == "UNSUPPORTED_VERSION"


def test_malformed_json_is_400(client: TestClient, org: OrgContext) -> None:
    response = client.post(LOC, content=b'{"name": ', headers=org.headers | {"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "MALFORMED_JSON"


def test_validation_errors_name_each_field_path(client: TestClient, org: OrgContext) -> None:
    response = client.post(LOC, json={"name": "", "code": "has space", "timezone": "Mars/Olympus", "x": 1},
                           headers=org.headers)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    paths = {e["path"] for e in error["details"]["errors"]}
    assert {"$.name", "$.code", "$.timezone", "$.x"} <= paths


def test_body_too_large_is_413(client: TestClient, org: OrgContext) -> None:
    big = b'{"name": "' + b"a" * (11 * 1024 * 1024) + b'"}'
    response = client.post(LOC, content=big, headers=org.headers | {"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


def test_pagination_limits_and_links(client: TestClient, org: OrgContext) -> None:
    for i in range(5):
        _location(client, org, code=f"S{i}")
    response = client.get(LOC, params={"limit": 2, "offset": 2}, headers=org.headers)
    assert response.status_code == 200
    assert response.headers["x-total-count"] == "5"
    link = response.headers["link"]
    for rel in ("first", "prev", "next", "last"):
        assert f'rel="{rel}"' in link
    assert [loc["code"] for loc in response.json()["data"]] == ["S2", "S3"]
    paged = client.get(LOC, params={"page": 3, "limit": 2}, headers=org.headers).json()
    assert paged["pagination"]["page"] == 3 and [loc["code"] for loc in paged["data"]] == ["S4"]
    for bad in ({"limit": 201}, {"limit": 0}, {"offset": -1}, {"page": 0}, {"limit": "x"}):
        response = client.get(LOC, params=bad, headers=org.headers)
        assert response.status_code == 422, bad
        assert response.json()["error"]["details"]["errors"][0]["in"] == "query"


def test_etag_and_if_match(client: TestClient, org: OrgContext) -> None:
    created = _location(client, org)
    response = client.get(f"{LOC}/{created['id']}", headers=org.headers)
    etag = response.headers["etag"]
    ok = client.put(f"{LOC}/{created['id']}", json={"name": "Renamed"}, headers=org.headers | {"If-Match": etag})
    assert ok.status_code == 200 and ok.headers["etag"] != etag
    stale = client.put(f"{LOC}/{created['id']}", json={"name": "Again"}, headers=org.headers | {"If-Match": etag})
    assert stale.status_code == 412
    assert stale.json()["error"]["code"] == "PRECONDITION_FAILED"
    current = client.get(f"{LOC}/{created['id']}", headers=org.headers).json()["data"]
    assert current["name"] == "Renamed"


def test_idempotency_replays_the_first_response(client: TestClient, org: OrgContext) -> None:
    headers = org.headers | {"Idempotency-Key": "create-main-1"}
    first = client.post(LOC, json={"name": "Main", "code": "M1"}, headers=headers)
    second = client.post(LOC, json={"name": "Main", "code": "M1"}, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.headers.get("idempotent-replayed") == "true"
    assert first.json() == second.json()
    assert client.get(LOC, headers=org.headers).json()["pagination"]["total"] == 1


def test_idempotency_key_reused_with_other_body(client: TestClient, org: OrgContext) -> None:
    headers = org.headers | {"Idempotency-Key": "k-reuse"}
    assert client.post(LOC, json={"name": "A", "code": "A"}, headers=headers).status_code == 201
    response = client.post(LOC, json={"name": "B", "code": "B"}, headers=headers)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_idempotency_failed_request_can_be_retried(client: TestClient, org: OrgContext) -> None:
    _location(client, org, code="DUP")
    headers = org.headers | {"Idempotency-Key": "k-fail"}
    assert client.post(LOC, json={"name": "X", "code": "DUP"}, headers=headers).status_code == 409
    # Nothing was stored for the failure, so the retry runs again (and fails again for the same reason).
    again = client.post(LOC, json={"name": "X", "code": "DUP"}, headers=headers)
    assert again.status_code == 409 and "idempotent-replayed" not in again.headers


def test_idempotency_keys_are_per_organization(client: TestClient, org: OrgContext, other_org: OrgContext) -> None:
    body = {"name": "Main", "code": "SAME"}
    assert client.post(LOC, json=body, headers=org.headers | {"Idempotency-Key": "shared"}).status_code == 201
    other = client.post(LOC, json=body, headers=other_org.headers | {"Idempotency-Key": "shared"})
    assert other.status_code == 201 and "idempotent-replayed" not in other.headers


def test_idempotency_concurrent_same_key_applies_once(client: TestClient, org: OrgContext) -> None:
    results: list[int] = []
    lock = threading.Lock()

    def post() -> None:
        response = client.post(LOC, json={"name": "Race", "code": "RACE"},
                               headers=org.headers | {"Idempotency-Key": "race-key"})
        with lock:
            results.append(response.status_code)

    threads = [threading.Thread(target=post) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(results) <= {201, 409}
    assert results.count(201) >= 1
    assert client.get(LOC, headers=org.headers).json()["pagination"]["total"] == 1


def test_replayed_secrets_are_sealed_at_rest(client: TestClient, org: OrgContext, database: Database) -> None:
    headers = org.headers | {"Idempotency-Key": "new-key-1"}
    first = client.post("/api/v1/api-keys", json={"name": "pos"}, headers=headers).json()["data"]
    replay = client.post("/api/v1/api-keys", json={"name": "pos"}, headers=headers).json()["data"]
    assert replay["api_secret"] == first["api_secret"]
    with database.engine.connect() as connection:
        stored = connection.execute(text("SELECT body FROM idempotency_keys WHERE organization_id = :o"),
                                    {"o": org.id}).scalar_one()
    assert first["api_secret"].encode() not in bytes(stored)
