"""Customers CRUD, search, tiers and deletion (API.md §5)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.support import OrgContext

CUS = "/api/v1/customers"


def _create(client: TestClient, org: OrgContext, **fields: Any) -> dict[str, Any]:
    body = {"name": "Ada Lovelace", "email": "Ada@Example.com", "phone": "+1 (212) 555-0100"} | fields
    response = client.post(CUS, json=body, headers=org.headers)
    assert response.status_code == 201, response.text
    return dict(response.json()["data"])


def _events(client: TestClient, org: OrgContext, type: str) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from vitrina.core.models import OutboxEvent

    database = client.app.state.db  # type: ignore[attr-defined]
    with database.unit_of_work(organization_id=org.id, write=False) as session:
        rows = session.scalars(select(OutboxEvent).where(OutboxEvent.type == type).order_by(OutboxEvent.seq))
        return [dict(row.data) for row in rows]


def test_crud(client: TestClient, org: OrgContext) -> None:
    customer = _create(client, org, addresses=["1 Main St", {"line1": "2 Side St", "city": "NYC"}], notes="VIP")
    assert customer["id"].startswith("cus_") and customer["email"] == "ada@example.com"
    assert customer["addresses"] == [{"line1": "1 Main St"}, {"line1": "2 Side St", "city": "NYC"}]
    assert customer["created_at"].endswith("Z") and customer["version"] == 1
    fetched = client.get(f"{CUS}/{customer['id']}", headers=org.headers)
    assert fetched.json()["data"] == customer and fetched.headers["ETag"] == '"1"'
    updated = client.put(f"{CUS}/{customer['id']}", json={"phone": "212-555-0199", "notes": None},
                         headers=org.headers).json()["data"]
    assert updated["phone"] == "212-555-0199" and updated["notes"] is None and updated["name"] == "Ada Lovelace"
    assert updated["version"] == 2
    assert client.delete(f"{CUS}/{customer['id']}", headers=org.headers).status_code == 204
    assert client.get(f"{CUS}/{customer['id']}", headers=org.headers).status_code == 404
    assert client.get(CUS, headers=org.headers).json()["data"] == []
    assert [e["id"] for e in _events(client, org, "customer.created")] == [customer["id"]]
    assert _events(client, org, "customer.deleted") == [{"id": customer["id"], "anonymized": False}]


def test_search_by_name_email_phone(client: TestClient, org: OrgContext) -> None:
    ada = _create(client, org)
    grace = _create(client, org, name="Grace Hopper", email="grace@navy.mil", phone="+1 202 555 0143")

    def ids(**params: str) -> list[str]:
        response = client.get(CUS, params=params, headers=org.headers)
        assert response.status_code == 200, response.text
        return [c["id"] for c in response.json()["data"]]

    assert ids() == [ada["id"], grace["id"]]
    assert ids(q="hopper") == [grace["id"]]
    assert ids(q="EXAMPLE.COM") == [ada["id"]]
    assert ids(q="555-0100") == [ada["id"]]
    assert ids(name="lovel") == [ada["id"]]
    assert ids(email="GRACE@navy.mil") == [grace["id"]]
    assert ids(phone="2025550143") == [grace["id"]]
    assert ids(q="100%") == []
    listed = client.get(CUS, params={"limit": 1}, headers=org.headers)
    assert listed.json()["pagination"] == {"limit": 1, "offset": 0, "total": 2}
    assert listed.headers["X-Total-Count"] == "2"


def test_external_id_lookup_and_uniqueness(client: TestClient, org: OrgContext) -> None:
    customer = _create(client, org, external_id="POS-19")
    assert client.get(f"{CUS}/POS-19", headers=org.headers).json()["data"]["id"] == customer["id"]
    clash = client.post(CUS, json={"name": "Other", "external_id": "POS-19"}, headers=org.headers)
    assert clash.status_code == 409 and clash.json()["error"]["code"] == "CUSTOMER_EXISTS"


def test_validation_errors(client: TestClient, org: OrgContext) -> None:
    response = client.post(CUS, json={"name": "", "email": "not-an-email", "colour": "red"}, headers=org.headers)
    assert response.status_code == 422
    paths = {e["path"] for e in response.json()["error"]["details"]["errors"]}
    assert paths == {"$.name", "$.email", "$.colour"}
    customer = _create(client, org)
    removing_name = client.put(f"{CUS}/{customer['id']}", json={"name": None}, headers=org.headers)
    assert removing_name.status_code == 422


def test_tier_assignment(client: TestClient, org: OrgContext, other_org: OrgContext) -> None:
    theirs = client.post("/api/v1/pricing_tiers", json={"name": "Theirs"}, headers=other_org.headers)
    for tier_id in ("tier_01JD0000000000000000000000", theirs.json()["data"]["id"]):
        unknown = client.post(CUS, json={"name": "T", "tier_id": tier_id}, headers=org.headers)
        assert unknown.status_code == 404, unknown.text
        assert unknown.json()["error"]["code"] == "PRICING_TIER_NOT_FOUND"
        assert unknown.json()["error"]["details"]["path"] == "$.tier_id"
    assert client.get(CUS, headers=org.headers).json()["data"] == []
    assert _events(client, org, "customer.created") == []
    tier = client.post("/api/v1/pricing_tiers", json={"name": "Trade"}, headers=org.headers)
    assert tier.status_code == 201, tier.text
    tier_id = tier.json()["data"]["id"]
    customer = _create(client, org, tier_id=tier_id)
    assert customer["tier_id"] == tier_id
    assert [c["id"] for c in client.get(CUS, params={"tier_id": tier_id}, headers=org.headers).json()["data"]] \
        == [customer["id"]]
    reassigned = client.put(f"{CUS}/{customer['id']}", json={"tier_id": "tier_01JD0000000000000000000000"},
                            headers=org.headers)
    assert reassigned.status_code == 404 and reassigned.json()["error"]["details"]["path"] == "$.tier_id"
    assert client.get(f"{CUS}/{customer['id']}", headers=org.headers).json()["data"] == customer
    cleared = client.put(f"{CUS}/{customer['id']}", json={"tier_id": None}, headers=org.headers).json()["data"]
    assert cleared["tier_id"] is None


def test_if_match(client: TestClient, org: OrgContext) -> None:
    customer = _create(client, org)
    stale = client.put(f"{CUS}/{customer['id']}", json={"name": "X"}, headers=org.headers | {"If-Match": '"7"'})
    assert stale.status_code == 412
    fresh = client.put(f"{CUS}/{customer['id']}", json={"name": "X"}, headers=org.headers | {"If-Match": '"1"'})
    assert fresh.status_code == 200


def test_tenancy(client: TestClient, org: OrgContext, other_org: OrgContext) -> None:
    mine = _create(client, org)
    for method in ("get", "put", "delete"):
        kwargs = {"json": {"name": "stolen"}} if method == "put" else {}
        response = client.request(method, f"{CUS}/{mine['id']}", headers=other_org.headers, **kwargs)
        assert response.status_code == 404, method
        assert response.json()["error"]["code"] == "CUSTOMER_NOT_FOUND"
    assert client.get(CUS, headers=other_org.headers).json()["data"] == []
    assert client.get(f"{CUS}/{mine['id']}", headers=org.headers).json()["data"]["name"] == "Ada Lovelace"


def test_read_key_cannot_write(client: TestClient, org: OrgContext) -> None:
    mine = _create(client, org)
    reader = org.make_headers(["read"])
    assert client.post(CUS, json={"name": "New"}, headers=reader).status_code == 403
    assert client.put(f"{CUS}/{mine['id']}", json={"name": "x"}, headers=reader).status_code == 403
    assert client.delete(f"{CUS}/{mine['id']}", headers=reader).status_code == 403
    assert client.get(f"{CUS}/{mine['id']}", headers=reader).json()["data"]["name"] == "Ada Lovelace"
    assert len(client.get(CUS, headers=reader).json()["data"]) == 1
