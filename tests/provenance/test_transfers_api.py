"""Ownership transfers: claim codes, one pending transfer per passport, expiry, cancellation, guessing limits."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from tests.support import OrgContext
from vitrina.core.models import OutboxEvent
from vitrina.core.time import utcnow
from vitrina.db.session import Database
from vitrina.provenance.models import Transfer


def _start(client: TestClient, org: OrgContext, passport_id: str, to: str = "0x9876") -> dict[str, Any]:
    response = client.post("/api/v1/transfers", json={"productId": passport_id, "toAddress": to,
                                                      "message": "Gift for birthday"}, headers=org.headers)
    assert response.status_code == 201, response.text
    return dict(response.json()["data"])


def test_transfer_lifecycle(client: TestClient, org: OrgContext, register: Callable[..., dict[str, Any]],
                            database: Database) -> None:
    passport = register()
    transfer = _start(client, org, passport["id"])
    assert transfer["id"].startswith("trf_") and transfer["status"] == "pending"
    assert transfer["from_owner"] == org.id and transfer["to_owner"] == "0x9876" and transfer["claim_code"]
    assert transfer["expires_at"] > (utcnow() + timedelta(days=6, hours=23)).isoformat()[:19]
    listed = client.get("/api/v1/transfers", params={"passport_id": passport["id"]}, headers=org.headers)
    assert [t["id"] for t in listed.json()["data"]] == [transfer["id"]]
    assert "claim_code" not in listed.json()["data"][0]
    second = client.post("/api/v1/transfers", json={"passport_id": passport["id"], "to_owner": "someone"},
                         headers=org.headers)
    assert second.status_code == 409 and second.json()["error"]["code"] == "TRANSFER_PENDING"
    wrong = client.post(f"/api/v1/transfers/{transfer['id']}/confirm", json={"claim_code": "AAAA-BBBB-CCCC"},
                        headers=org.headers)
    assert wrong.status_code == 422 and client.get(f"/api/v1/passports/{passport['id']}", headers=org.headers) \
        .json()["data"]["current_owner"] == org.id
    done = client.post(f"/api/v1/transfers/{transfer['id']}/confirm",
                       json={"claimCode": transfer["claim_code"].lower()}, headers=org.headers)
    assert done.status_code == 200, done.text
    assert done.json()["data"]["status"] == "completed" and done.json()["data"]["completed_at"]
    after = client.get(f"/api/v1/passports/{passport['id']}", headers=org.headers).json()["data"]
    assert after["current_owner"] == "0x9876" and after["transfer_count"] == 1
    again = client.post(f"/api/v1/transfers/{transfer['id']}/confirm", json={"claim_code": transfer["claim_code"]},
                        headers=org.headers)
    assert again.status_code == 409
    with database.unit_of_work(organization_id=org.id, write=False) as session:
        types = session.execute(select(OutboxEvent.type).where(OutboxEvent.organization_id == org.id)).scalars()
        assert {"transfer.created", "transfer.completed"} <= set(types)
        events = session.execute(select(OutboxEvent.data).where(OutboxEvent.type == "transfer.created",
                                                                OutboxEvent.organization_id == org.id)).scalars()
        assert all(transfer["claim_code"] not in str(data) for data in events)


def test_cancel_then_start_again(client: TestClient, org: OrgContext,
                                 register: Callable[..., dict[str, Any]]) -> None:
    passport = register()
    transfer = _start(client, org, passport["id"])
    cancelled = client.post(f"/api/v1/transfers/{transfer['id']}/cancel", headers=org.headers)
    assert cancelled.status_code == 200 and cancelled.json()["data"]["status"] == "cancelled"
    refused = client.post(f"/api/v1/transfers/{transfer['id']}/confirm", json={"claim_code": transfer["claim_code"]},
                          headers=org.headers)
    assert refused.status_code == 409
    assert _start(client, org, passport["id"])["status"] == "pending"


def test_expired_transfer_cannot_be_confirmed(client: TestClient, org: OrgContext,
                                              register: Callable[..., dict[str, Any]], database: Database) -> None:
    passport = register()
    transfer = _start(client, org, passport["id"])
    with database.unit_of_work() as session:
        session.execute(update(Transfer).where(Transfer.id == transfer["id"])
                        .values(expires_at=utcnow() - timedelta(seconds=1)))
    confirm = client.post(f"/api/v1/transfers/{transfer['id']}/confirm", json={"claim_code": transfer["claim_code"]},
                          headers=org.headers)
    assert confirm.status_code == 409 and confirm.json()["error"]["code"] == "TRANSFER_EXPIRED"
    expired = client.get("/api/v1/transfers", params={"status": "expired", "passport_id": passport["id"]},
                         headers=org.headers).json()["data"]
    assert [t["id"] for t in expired] == [transfer["id"]]
    assert _start(client, org, passport["id"])["status"] == "pending"  # an expired one no longer blocks


def test_claim_code_guessing_is_rate_limited(client: TestClient, org: OrgContext,
                                             register: Callable[..., dict[str, Any]]) -> None:
    transfer = _start(client, org, register()["id"])
    statuses = [client.post(f"/api/v1/transfers/{transfer['id']}/confirm", json={"claim_code": f"GUESS-{n}"},
                            headers=org.headers).status_code for n in range(6)]
    assert statuses == [422] * 5 + [429]
    blocked = client.post(f"/api/v1/transfers/{transfer['id']}/confirm", json={"claim_code": transfer["claim_code"]},
                          headers=org.headers)
    assert blocked.status_code == 429 and blocked.headers["retry-after"]


def test_flagged_piece_cannot_change_hands_and_tenancy(client: TestClient, org: OrgContext, other_org: OrgContext,
                                                      register: Callable[..., dict[str, Any]]) -> None:
    passport = register()
    transfer = _start(client, org, passport["id"])
    assert client.post(f"/api/v1/transfers/{transfer['id']}/cancel", headers=other_org.headers).status_code == 404
    assert client.post("/api/v1/transfers", json={"passport_id": passport["id"], "to_owner": "x"},
                       headers=other_org.headers).status_code == 404
    client.post(f"/api/v1/passports/{passport['id']}/flag", json={"status": "lost"}, headers=org.headers)
    confirm = client.post(f"/api/v1/transfers/{transfer['id']}/confirm", json={"claim_code": transfer["claim_code"]},
                          headers=org.headers)
    assert confirm.status_code == 409 and confirm.json()["error"]["code"] == "PASSPORT_FLAGGED"
    client.post(f"/api/v1/transfers/{transfer['id']}/cancel", headers=org.headers)
    start = client.post("/api/v1/transfers", json={"passport_id": passport["id"], "to_owner": "x"},
                        headers=org.headers)
    assert start.status_code == 409


def test_a_transferred_piece_moves_on_only_with_its_owners_claim_code(
        client: TestClient, org: OrgContext, register: Callable[..., dict[str, Any]]) -> None:
    passport = register()
    first = _start(client, org, passport["id"], to="0xALICE")  # the organization owns it: its key suffices
    confirmed = client.post(f"/api/v1/transfers/{first['id']}/confirm", json={"claim_code": first["claim_code"]},
                            headers=org.headers)
    assert confirmed.status_code == 200
    # Alice owns it now: the organization's key alone no longer moves it, a wrong code neither (same answer).
    answers = []
    for extra in ({}, {"owner_claim_code": "WRNG-CODE-0000"}):
        refused = client.post("/api/v1/transfers", json={"passport_id": passport["id"], "to_owner": "0xMALLORY",
                                                         **extra}, headers=org.headers)
        assert refused.status_code == 422, refused.text
        answers.append(refused.json()["error"])
    assert answers[0] == answers[1] and answers[0]["details"]["errors"][0]["path"] == "$.owner_claim_code"
    assert client.get("/api/v1/transfers", params={"passport_id": passport["id"], "status": "pending"},
                      headers=org.headers).json()["data"] == []
    # With Alice's code (she agrees), it goes on to Bob; then Bob's code is the one that counts.
    onward = client.post("/api/v1/transfers", json={"productId": passport["id"], "toAddress": "0xBOB",
                                                    "claimCode": first["claim_code"]}, headers=org.headers)
    assert onward.status_code == 201, onward.text
    assert onward.json()["data"]["from_owner"] == "0xALICE"
    second = onward.json()["data"]
    assert client.post(f"/api/v1/transfers/{second['id']}/confirm", json={"claim_code": second["claim_code"]},
                       headers=org.headers).status_code == 200
    stale = client.post("/api/v1/transfers", json={"passport_id": passport["id"], "to_owner": "x",
                                                   "owner_claim_code": first["claim_code"]}, headers=org.headers)
    assert stale.status_code == 422  # Alice no longer owns it
    after = client.get(f"/api/v1/passports/{passport['id']}", headers=org.headers).json()["data"]
    assert after["current_owner"] == "0xBOB" and after["transfer_count"] == 2
