"""Locations CRUD: the worked example of a resource (API.md §3)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.support import OrgContext

LOC = "/api/v1/locations"


def test_crud(client: TestClient, org: OrgContext) -> None:
    body = {"name": "Fifth Avenue", "code": "NYC-5", "address": "725 5th Ave", "timezone": "America/New_York"}
    created = client.post(LOC, json=body, headers=org.headers)
    assert created.status_code == 201
    location = created.json()["data"]
    assert location["id"].startswith("loc_") and location["address"] == {"line1": "725 5th Ave"}
    assert location["created_at"].endswith("Z")
    fetched = client.get(f"{LOC}/{location['id']}", headers=org.headers).json()["data"]
    assert fetched == location
    updated = client.put(f"{LOC}/{location['id']}", json={"address": {"line1": "1 Main", "city": "NYC"}},
                         headers=org.headers).json()["data"]
    assert updated["address"]["city"] == "NYC" and updated["version"] == 2
    assert client.delete(f"{LOC}/{location['id']}", headers=org.headers).status_code == 204
    assert client.get(f"{LOC}/{location['id']}", headers=org.headers).status_code == 404
    assert client.get(LOC, headers=org.headers).json()["data"] == []


def test_duplicate_code_is_409(client: TestClient, org: OrgContext) -> None:
    assert client.post(LOC, json={"name": "A", "code": "A"}, headers=org.headers).status_code == 201
    response = client.post(LOC, json={"name": "B", "code": "A"}, headers=org.headers)
    assert response.status_code == 409 and response.json()["error"]["code"] == "LOCATION_CODE_TAKEN"
    other = client.post(LOC, json={"name": "B", "code": "B"}, headers=org.headers).json()["data"]
    clash = client.put(f"{LOC}/{other['id']}", json={"code": "A"}, headers=org.headers)
    assert clash.status_code == 409


def test_tenancy(client: TestClient, org: OrgContext, other_org: OrgContext) -> None:
    mine = client.post(LOC, json={"name": "Mine", "code": "M"}, headers=org.headers).json()["data"]
    for method in ("get", "put", "delete"):
        kwargs = {"json": {"name": "stolen"}} if method == "put" else {}
        response = client.request(method, f"{LOC}/{mine['id']}", headers=other_org.headers, **kwargs)
        assert response.status_code == 404, method
    assert client.get(LOC, headers=other_org.headers).json()["data"] == []
    # The same code is free in another organization.
    assert client.post(LOC, json={"name": "Theirs", "code": "M"}, headers=other_org.headers).status_code == 201
    assert client.get(f"{LOC}/{mine['id']}", headers=org.headers).json()["data"]["name"] == "Mine"


def test_read_key_cannot_write(client: TestClient, org: OrgContext) -> None:
    mine = client.post(LOC, json={"name": "Mine", "code": "M"}, headers=org.headers).json()["data"]
    reader = org.make_headers(["read"])
    assert client.put(f"{LOC}/{mine['id']}", json={"name": "x"}, headers=reader).status_code == 403
    assert client.delete(f"{LOC}/{mine['id']}", headers=reader).status_code == 403
    assert client.get(f"{LOC}/{mine['id']}", headers=reader).json()["data"]["name"] == "Mine"
