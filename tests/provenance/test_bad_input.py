"""Issue 7's bad-input list, one test each: malformed hex, wrong lengths, tampered MAC, counter rollback, unknown
tag, flagged piece, expired or completed transfer, wrongly guessed claim code. Each gets its documented outcome and
changes nothing except the verification record (count, time, read counter, one ledger leaf)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from tests.provenance.conftest import ZERO_KEY
from tests.provenance.simulator import SimulatedTag
from tests.support import OrgContext
from vitrina.core.time import utcnow
from vitrina.db.session import Database
from vitrina.provenance.models import Transfer

AN12196 = {"picc_data": "EF963FF7828658A599F3041510671E88", "cmac": "94EED9EE65337086"}
AN12196_SUN = {"uid": "04DE5F1EACC040", "meta_read_key": ZERO_KEY, "file_read_key": ZERO_KEY}
VERIFICATION_RECORD = {"verification_count", "last_verified_at", "ledger", "sun", "updated_at"}


class World:
    """What a bad request must leave alone: the passport (but its verification record), its transfers and the
    ledger's size."""

    def __init__(self, client: TestClient, org: OrgContext, passport_id: str) -> None:
        self.client, self.org, self.passport_id = client, org, passport_id

    def passport(self) -> dict[str, Any]:
        response = self.client.get(f"/api/v1/passports/{self.passport_id}", headers=self.org.headers)
        return dict(response.json()["data"])

    def snapshot(self) -> dict[str, Any]:
        transfers = self.client.get("/api/v1/transfers", params={"passport_id": self.passport_id},
                                    headers=self.org.headers).json()["data"]
        stable = {k: v for k, v in self.passport().items() if k not in VERIFICATION_RECORD}
        return {"passport": stable, "transfers": transfers, "ledger_size": self.ledger_size()}

    def ledger_size(self) -> int:
        checkpoint = self.client.get("/api/v1/ledger/checkpoints/latest", headers=self.org.headers)
        return int(checkpoint.json()["data"]["tree_size"])

    def verify(self, **body: Any) -> Any:
        return self.client.post("/api/v1/passports/verify", json=body, headers=self.org.headers)


@pytest.fixture
def world(client: TestClient, org: OrgContext, register: Callable[..., dict[str, Any]]) -> Callable[..., World]:
    def make(**fields: Any) -> World:
        return World(client, org, register(**fields)["id"])

    return make


@pytest.mark.parametrize(("body", "path"), [
    ({"picc_data": "EF963FF7828658A599F3041510671EZZ", "cmac": "94EED9EE65337086"}, "$.picc_data"),
    ({"picc_data": "EF963FF7828658A599F3041510671E88", "cmac": "94EED9EE6533708G"}, "$.cmac"),
    ({"picc_data": "EF963FF7828658A599F3041510671E88", "cmac": "94EED9EE65337086", "enc": "not hex!"}, "$.enc"),
    ({"picc_data": "0x" + "00" * 16, "cmac": "00" * 8}, "$.picc_data"),
    ({"signature": "zz" * 64, "timestamp": 1}, "$.signature"),
])
def test_malformed_hex_is_422_and_changes_nothing(world: Callable[..., World], body: dict[str, Any],
                                                  path: str) -> None:
    w = world(sun=AN12196_SUN)
    tag_id, before = w.passport()["tag_id"], w.snapshot()
    response = w.verify(tag_id=tag_id, **body)
    assert response.status_code == 422, response.text
    assert [e["path"] for e in response.json()["error"]["details"]["errors"]] == [path]
    assert w.snapshot() == before and w.passport()["verification_count"] == 0


@pytest.mark.parametrize(("body", "path"), [
    ({"picc_data": "EF963FF7828658A599F3041510671E", "cmac": "94EED9EE65337086"}, "$.picc_data"),  # 15 bytes
    ({"picc_data": "EF963FF7828658A599F3041510671E8800", "cmac": "94EED9EE65337086"}, "$.picc_data"),  # 17
    ({"picc_data": "EF963FF7828658A599F3041510671E8", "cmac": "94EED9EE65337086"}, "$.picc_data"),  # odd
    ({"picc_data": "EF963FF7828658A599F3041510671E88", "cmac": "94EED9EE653370"}, "$.cmac"),  # 7 bytes
    ({"picc_data": "EF963FF7828658A599F3041510671E88", "cmac": "94EED9EE65337086" * 2}, "$.cmac"),  # full CMAC
    ({"picc_data": "EF963FF7828658A599F3041510671E88", "cmac": "94EED9EE65337086", "enc": "00" * 15}, "$.enc"),
    ({"signature": "00" * 63, "timestamp": 1}, "$.signature"),
])
def test_wrong_lengths_are_422_and_change_nothing(world: Callable[..., World], body: dict[str, Any],
                                                  path: str) -> None:
    w = world(sun=AN12196_SUN)
    tag_id, before = w.passport()["tag_id"], w.snapshot()
    response = w.verify(tag_id=tag_id, **body)
    assert response.status_code == 422, response.text
    assert [e["path"] for e in response.json()["error"]["details"]["errors"]] == [path]
    assert w.snapshot() == before


def test_tampered_mac_is_invalid_and_only_recorded(world: Callable[..., World]) -> None:
    w = world(sun=AN12196_SUN)
    tag_id, before = w.passport()["tag_id"], w.snapshot()
    for mac in ("94EED9EE65337087", "04EED9EE65337086", "0000000000000000"):
        answer = w.verify(tag_id=tag_id, picc_data=AN12196["picc_data"], cmac=mac).json()["data"]
        assert (answer["authenticity"], answer["verified"]) == ("invalid", False)
    flipped_picc = "EF963FF7828658A599F3041510671E89"  # PICCData that no longer decrypts to our tag's UID
    assert w.verify(tag_id=tag_id, picc_data=flipped_picc, cmac=AN12196["cmac"]).json()["data"]["authenticity"] \
        == "invalid"
    after = w.snapshot()
    assert after["passport"] == before["passport"] and after["transfers"] == before["transfers"]
    assert after["ledger_size"] == before["ledger_size"] + 4  # one verification leaf each, nothing else
    record = w.passport()
    assert record["verification_count"] == 4 and record["sun"]["last_counter"] is None  # counter not advanced
    assert w.verify(tag_id=tag_id, **AN12196).json()["data"]["authenticity"] == "confirmed"


def test_counter_rollback_is_replayed_and_keeps_the_counter(world: Callable[..., World]) -> None:
    tag = SimulatedTag(meta_key=bytes(range(16)), file_key=bytes(range(16, 32)))
    w = world(sun={"uid": tag.uid.hex(), "meta_read_key": tag.meta_key.hex(), "file_read_key": tag.file_key.hex()})
    tag_id = w.passport()["tag_id"]
    older = tag.tap()
    tag.counter = 40
    newer = tag.tap()
    assert w.verify(tag_id=tag_id, **newer).json()["data"]["authenticity"] == "confirmed"
    before = w.snapshot()
    for tap in (older, newer):
        assert w.verify(tag_id=tag_id, **tap).json()["data"]["authenticity"] == "replayed"
    after = w.snapshot()
    assert after["passport"] == before["passport"] and after["ledger_size"] == before["ledger_size"] + 2
    assert w.passport()["sun"]["last_counter"] == 41


def test_unknown_tag_is_unknown_and_records_nothing(client: TestClient, org: OrgContext,
                                                    world: Callable[..., World]) -> None:
    w = world(sun=AN12196_SUN)
    before = w.snapshot()
    answer = w.verify(tag_id="NO-SUCH-TAG-" + w.passport_id, **AN12196).json()["data"]
    assert answer == answer | {"authenticity": "unknown", "verified": False, "product": None, "current_owner": None}
    public = client.get("/api/v1/public/verify", params={"tag_id": "NO-SUCH-TAG-" + w.passport_id, **AN12196},
                        headers={"X-Forwarded-For": "198.51.100.77"})
    assert public.status_code == 200 and public.json()["data"]["authenticity"] == "unknown"
    assert w.snapshot() == before and w.passport()["verification_count"] == 0


def test_flagged_piece_says_flagged_even_with_a_genuine_tap(world: Callable[..., World]) -> None:
    w = world(sun=AN12196_SUN)
    tag_id = w.passport()["tag_id"]
    w.client.post(f"/api/v1/passports/{w.passport_id}/flag", json={"status": "stolen", "note": "shop break-in"},
                  headers=w.org.headers)
    before = w.snapshot()
    answer = w.verify(tag_id=tag_id, **AN12196).json()["data"]
    assert (answer["authenticity"], answer["verified"], answer["product"]["status"]) == ("flagged", False, "stolen")
    after = w.snapshot()
    assert after["passport"] == before["passport"] and after["ledger_size"] == before["ledger_size"] + 1
    transfer = w.client.post("/api/v1/transfers", json={"passport_id": w.passport_id, "to_owner": "fence"},
                             headers=w.org.headers)
    assert transfer.status_code == 409 and transfer.json()["error"]["code"] == "PASSPORT_FLAGGED"
    assert w.snapshot()["passport"] == before["passport"]


def _transfer(w: World, to: str = "new-owner") -> dict[str, Any]:
    response = w.client.post("/api/v1/transfers", json={"passport_id": w.passport_id, "to_owner": to},
                             headers=w.org.headers)
    assert response.status_code == 201, response.text
    return dict(response.json()["data"])


def _confirm(w: World, transfer_id: str, code: str) -> Any:
    return w.client.post(f"/api/v1/transfers/{transfer_id}/confirm", json={"claim_code": code},
                         headers=w.org.headers)


def test_expired_transfer_is_409_and_changes_nothing(world: Callable[..., World], database: Database) -> None:
    w = world()
    transfer = _transfer(w)
    with database.unit_of_work() as session:
        session.execute(update(Transfer).where(Transfer.id == transfer["id"])
                        .values(expires_at=utcnow() - timedelta(minutes=1)))
    before = w.snapshot()
    response = _confirm(w, transfer["id"], transfer["claim_code"])
    assert response.status_code == 409 and response.json()["error"]["code"] == "TRANSFER_EXPIRED"
    cancel = w.client.post(f"/api/v1/transfers/{transfer['id']}/cancel", headers=w.org.headers)
    assert cancel.status_code == 409
    assert w.snapshot() == before and w.passport()["current_owner"] == w.org.id


def test_completed_transfer_cannot_be_confirmed_or_cancelled_again(world: Callable[..., World]) -> None:
    w = world()
    transfer = _transfer(w)
    assert _confirm(w, transfer["id"], transfer["claim_code"]).status_code == 200
    before = w.snapshot()
    again = _confirm(w, transfer["id"], transfer["claim_code"])
    assert again.status_code == 409 and again.json()["error"]["code"] == "TRANSFER_NOT_PENDING"
    cancel = w.client.post(f"/api/v1/transfers/{transfer['id']}/cancel", headers=w.org.headers)
    assert cancel.status_code == 409
    assert w.snapshot() == before
    assert w.passport()["current_owner"] == "new-owner" and w.passport()["transfer_count"] == 1


def _error(response: Any) -> tuple[int, dict[str, Any]]:
    return response.status_code, response.json()["error"]


def test_wrong_claim_codes_all_look_alike_and_change_nothing(world: Callable[..., World],
                                                             database: Database) -> None:
    """A code wrong in one character, wholly wrong, or not even code-shaped gets the same answer; so does any
    wrong code for a transfer that is no longer pending (a guesser learns nothing about its state)."""
    w = world()
    transfer = _transfer(w)
    code = transfer["claim_code"]
    one_off = code[:-1] + ("A" if code[-1] != "A" else "B")
    before = w.snapshot()
    answers = [_error(_confirm(w, transfer["id"], guess)) for guess in (one_off, "ZZZZ-ZZZZ-ZZZZ", "0")]
    assert answers[0][0] == 422 and answers[0] == answers[1] == answers[2]
    assert answers[0][1]["details"]["errors"][0]["path"] == "$.claim_code"
    assert code not in str(answers[0]) and w.snapshot() == before
    finished = _transfer(world(), "someone")
    with database.unit_of_work() as session:
        session.execute(update(Transfer).where(Transfer.id == finished["id"])
                        .values(expires_at=utcnow() - timedelta(minutes=1)))
    assert _error(_confirm(w, finished["id"], one_off)) == answers[0]


def test_claim_code_guessing_is_rate_limited_then_still_changes_nothing(world: Callable[..., World]) -> None:
    w = world()
    transfer = _transfer(w)
    before = w.snapshot()
    statuses = [_confirm(w, transfer["id"], f"GUES-SXXX-{n:04d}").status_code for n in range(7)]
    assert statuses == [422] * 5 + [429, 429]
    blocked = _confirm(w, transfer["id"], transfer["claim_code"])  # even the right code waits out the window
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) >= 1
    assert blocked.json()["error"]["code"] == "RATE_LIMITED"
    assert w.snapshot() == before and w.passport()["current_owner"] == w.org.id
