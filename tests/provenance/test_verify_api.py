"""Tag verification over HTTP: the AN12196 example, simulated tags, replays, tampering, signatures, and the
public (no key) endpoint."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.provenance import simulator
from tests.provenance.conftest import ZERO_KEY
from tests.provenance.simulator import SimulatedTag
from tests.support import OrgContext
from vitrina.config import Settings
from vitrina.db.session import Database
from vitrina.provenance import crypto, service
from vitrina.provenance.models import LedgerLeaf, OrganizationKeys, Passport

AN12196 = {"picc_data": "EF963FF7828658A599F3041510671E88", "cmac": "94EED9EE65337086"}


def _verify(client: TestClient, org: OrgContext, **body: Any) -> dict[str, Any]:
    response = client.post("/api/v1/passports/verify", json=body, headers=org.headers)
    assert response.status_code == 200, response.text
    return dict(response.json()["data"])


def test_an12196_example_verifies_and_its_replay_is_reported(
        client: TestClient, org: OrgContext, register: Callable[..., dict[str, Any]]) -> None:
    passport = register(sun={"uid": "04DE5F1EACC040", "meta_read_key": ZERO_KEY, "file_read_key": ZERO_KEY})
    first = _verify(client, org, tag_id=passport["tag_id"], **AN12196)
    assert first["authenticity"] == "confirmed" and first["verified"] is True
    assert first["product"]["id"] == passport["id"] and first["current_owner"] == org.id
    assert first["read_counter"] == 61 and first["verified_at"].endswith("Z")
    replay = _verify(client, org, tag_id=passport["tag_id"], **AN12196)
    assert replay["authenticity"] == "replayed" and replay["verified"] is False
    fetched = client.get(f"/api/v1/passports/{passport['id']}", headers=org.headers).json()["data"]
    assert fetched["verification_count"] == 2 and fetched["last_verified_at"] is not None
    assert fetched["sun"]["last_counter"] == 61
    assert fetched["ledger"]["leaf_index"] == replay["ledger"]["leaf_index"] > passport["ledger"]["leaf_index"]


def test_an12196_encrypted_file_data_example(client: TestClient, org: OrgContext,
                                             register: Callable[..., dict[str, Any]]) -> None:
    passport = register(sun={"uid": "04958CAA5C5E80", "meta_read_key": ZERO_KEY, "file_read_key": ZERO_KEY})
    body = {"picc_data": "FD91EC264309878BE6345CBE53BADF40", "enc": "CEE9A53E3E463EF1F459635736738962",
            "cmac": "ECC1E7F6C6C73BF6"}
    assert _verify(client, org, tag_id=passport["tag_id"], **body)["authenticity"] == "confirmed"


def test_tampered_mac_is_invalid_and_does_not_advance_the_counter(
        client: TestClient, org: OrgContext, register: Callable[..., dict[str, Any]]) -> None:
    passport = register(sun={"uid": "04DE5F1EACC040", "meta_read_key": ZERO_KEY, "file_read_key": ZERO_KEY})
    bad = _verify(client, org, tag_id=passport["tag_id"], picc_data=AN12196["picc_data"], cmac="94EED9EE65337087")
    assert bad["authenticity"] == "invalid"
    fetched = client.get(f"/api/v1/passports/{passport['id']}", headers=org.headers).json()["data"]
    assert fetched["sun"]["last_counter"] is None and fetched["verification_count"] == 1
    assert _verify(client, org, tag_id=passport["tag_id"], **AN12196)["authenticity"] == "confirmed"


def test_simulated_tag_with_diversified_keys_and_counter_rollback(
        client: TestClient, org: OrgContext, register: Callable[..., dict[str, Any]], database: Database) -> None:
    tag = SimulatedTag(meta_key=b"", file_key=b"")
    passport = register(sun={"uid": tag.uid.hex()})  # keys derived from the organization's master key
    with database.unit_of_work(organization_id=org.id) as session:
        master = service.master_key(session, organization_id=org.id, create=False)
    assert master is not None
    # The tag is provisioned the way docs/provenance.md tells a brand owner (computed here independently).
    tag.meta_key = simulator.vitrina_meta_read_key(master)
    tag.file_key = simulator.vitrina_file_read_key(master, tag.uid)
    taps = [tag.tap() for _ in range(3)]
    assert _verify(client, org, tag_id=passport["tag_id"], **taps[1])["authenticity"] == "confirmed"
    # An older URL (lower counter) is a copy even though its MAC is genuine.
    assert _verify(client, org, tag_id=passport["tag_id"], **taps[0])["authenticity"] == "replayed"
    # Without tag_id the organization's meta-read key decrypts the PICCData and the UID finds the passport.
    found = _verify(client, org, **taps[2])
    assert found["authenticity"] == "confirmed" and found["product"]["id"] == passport["id"]
    with_file = tag.tap(file_data=b"0123456789ABCDEF")  # the SDMENCFileData variant
    assert _verify(client, org, tag_id=passport["tag_id"], **with_file)["authenticity"] == "confirmed"
    short_name = tag.tap(file_data=b"0123456789ABCDEF" * 2, mac_name="c")  # URL layout `...&enc=...&c=...`
    assert _verify(client, org, tag_id=passport["tag_id"], **short_name)["authenticity"] == "confirmed"
    wrong_enc = tag.tap(file_data=b"0123456789ABCDEF")
    wrong_enc["enc"] = wrong_enc["enc"][:-1] + ("0" if wrong_enc["enc"][-1] != "0" else "1")  # MAC covers enc
    assert _verify(client, org, tag_id=passport["tag_id"], **wrong_enc)["authenticity"] == "invalid"
    # The MAC of one tag does not authenticate another tag's passport.
    other = register(sun={"uid": "04" + uuid.uuid4().hex[:12]})
    assert _verify(client, org, tag_id=other["tag_id"], **tag.tap())["authenticity"] == "invalid"


def test_unknown_unverified_and_malformed(client: TestClient, org: OrgContext,
                                          register: Callable[..., dict[str, Any]]) -> None:
    unknown = _verify(client, org, tag_id="NO-SUCH-TAG", **AN12196)
    assert unknown["authenticity"] == "unknown" and unknown["product"] is None
    passport = register()
    assert _verify(client, org, tag_id=passport["tag_id"])["authenticity"] == "unverified"
    assert _verify(client, org, tag_id=passport["tag_id"], **AN12196)["authenticity"] == "invalid"  # no SUN keys
    cases = [({"picc_data": "XYZ", "cmac": "00" * 8}, "$.picc_data"),
             ({"picc_data": "00" * 15, "cmac": "00" * 8}, "$.picc_data"),
             ({"picc_data": "00" * 16, "cmac": "00" * 7}, "$.cmac"),
             ({"picc_data": "00" * 16}, "$.cmac"),
             ({"picc_data": "00" * 16, "cmac": "00" * 8, "enc": "ABC"}, "$.enc"),
             ({"signature": "00" * 64}, "$.timestamp"),
             ({}, "$.tag_id")]
    for body, path in cases:
        response = client.post("/api/v1/passports/verify", json={"tag_id": passport["tag_id"], **body}
                               if path != "$.tag_id" else body, headers=org.headers)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["error"]["details"]["errors"][0]["path"] == path


def test_ed25519_signed_tap_with_freshness(client: TestClient, org: OrgContext,
                                           register: Callable[..., dict[str, Any]]) -> None:
    key = Ed25519PrivateKey.generate()
    passport = register(signature_public_key=crypto.raw_public_key(key).hex())
    tag_id, now = passport["tag_id"], int(time.time())

    def signed(ts: int) -> dict[str, Any]:
        return {"tag_id": tag_id, "timestamp": ts, "signature": "0x" + key.sign(f"{tag_id}|{ts}".encode()).hex()}

    assert _verify(client, org, **signed(now))["authenticity"] == "confirmed"
    assert _verify(client, org, **signed(now))["authenticity"] == "replayed"
    assert _verify(client, org, **signed(now - 3600))["authenticity"] == "replayed"
    forged = signed(now + 1) | {"timestamp": now + 2}
    assert _verify(client, org, **forged)["authenticity"] == "invalid"
    window = service.SIGNATURE_WINDOW_SECONDS
    assert _verify(client, org, **signed(now + window + 60))["authenticity"] == "replayed"  # from the future
    assert _verify(client, org, **signed(now + 5))["authenticity"] == "confirmed"  # fresh and newer
    other_key = Ed25519PrivateKey.generate()
    assert _verify(client, org, tag_id=tag_id, timestamp=now + 6,
                   signature=other_key.sign(f"{tag_id}|{now + 6}".encode()).hex())["authenticity"] == "invalid"
    unsigned_tag = register()["tag_id"]  # no key registered with this tag: a signature proves nothing
    assert _verify(client, org, tag_id=unsigned_tag, timestamp=now,
                   signature=key.sign(f"{unsigned_tag}|{now}".encode()).hex())["authenticity"] == "invalid"
    fetched = client.get(f"/api/v1/passports/{passport['id']}", headers=org.headers).json()["data"]
    assert fetched["verification_count"] == 7


def test_public_verify_needs_no_key_and_hides_the_owner(
        client: TestClient, org: OrgContext, register: Callable[..., dict[str, Any]], database: Database) -> None:
    passport = register(sun={"uid": "04DE5F1EACC040", "meta_read_key": ZERO_KEY, "file_read_key": ZERO_KEY})
    headers = {"X-Forwarded-For": f"198.51.100.{uuid.uuid4().int % 250}"}
    answer = client.get("/api/v1/public/verify", params={"tag_id": passport["tag_id"], "e": AN12196["picc_data"],
                                                         "c": AN12196["cmac"]}, headers=headers)
    assert answer.status_code == 200, answer.text
    data = answer.json()["data"]
    assert data["authenticity"] == "confirmed" and data["current_owner"] != org.id
    assert answer.headers["x-ratelimit-limit"]
    again = client.get("/api/v1/public/verify", params={"tag_id": passport["tag_id"], **AN12196}, headers=headers)
    assert again.json()["data"]["authenticity"] == "replayed"
    malformed = client.get("/api/v1/public/verify", params={"tag_id": passport["tag_id"], "e": "zz", "c": "00"},
                           headers=headers)
    assert malformed.status_code == 422
    with database.unit_of_work(organization_id=org.id, write=False) as session:
        kinds = session.execute(select(LedgerLeaf.event_type).where(LedgerLeaf.passport_id == passport["id"])
                                .order_by(LedgerLeaf.leaf_index)).scalars().all()
    assert kinds == ["passport.registered", "passport.verified", "passport.verified"]


def test_verify_public_service_for_the_page(client: TestClient, register: Callable[..., dict[str, Any]],
                                            database: Database) -> None:
    passport = register(sun={"uid": "04DE5F1EACC040", "meta_read_key": ZERO_KEY, "file_read_key": ZERO_KEY})
    with database.unit_of_work() as session:
        answer = service.verify_public(session, tag_id=passport["tag_id"], picc_data=AN12196["picc_data"],
                                       cmac=AN12196["cmac"])
    assert answer["authenticity"] == "confirmed" and answer["product"]["product_name"] == "Solitaire ring"
    assert "verification_count" in answer["product"] and answer["ledger"]["leaf_index"] is not None


def test_public_verify_is_rate_limited_per_address(client: TestClient) -> None:
    limit = client.app.state.settings.public_verify_rate_per_minute  # type: ignore[attr-defined]
    address = {"X-Forwarded-For": f"198.18.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"}
    statuses = [client.get("/api/v1/public/verify", params={"tag_id": "NOPE"}, headers=address).status_code
                for _ in range(limit + 1)]
    assert statuses[:limit] == [200] * limit and statuses[-1] == 429
    elsewhere = {"X-Forwarded-For": f"198.19.0.{uuid.uuid4().int % 250}"}
    other = client.get("/api/v1/public/verify", params={"tag_id": "NOPE"}, headers=elsewhere)
    assert other.status_code == 200 and other.json()["data"]["authenticity"] == "unknown"


def test_a_simulated_tag_tapped_many_times(client: TestClient, org: OrgContext,
                                           register: Callable[..., dict[str, Any]]) -> None:
    """Each tap's counter is higher than the last accepted one, so each confirms; every earlier URL, replayed
    later (a copied link), is ``replayed``; a gap in the counter (taps nobody verified) is fine."""
    tag = SimulatedTag(meta_key=os.urandom(16), file_key=os.urandom(16))
    passport = register(sun={"uid": tag.uid.hex(), "meta_read_key": tag.meta_key.hex(),
                             "file_read_key": tag.file_key.hex()})
    taps = []
    for number in range(1, 13):
        tap = tag.tap(file_data=b"SN-1|" + bytes(11)) if number % 4 == 0 else tag.tap()
        answer = _verify(client, org, tag_id=passport["tag_id"], **tap)
        assert (answer["authenticity"], answer["read_counter"]) == ("confirmed", number), tap
        taps.append(tap)
    tag.counter += 500
    assert _verify(client, org, tag_id=passport["tag_id"], **tag.tap())["read_counter"] == 513
    for tap in taps:
        assert _verify(client, org, tag_id=passport["tag_id"], **tap)["authenticity"] == "replayed"
    fetched = client.get(f"/api/v1/passports/{passport['id']}", headers=org.headers).json()["data"]
    assert fetched["sun"]["last_counter"] == 513 and fetched["verification_count"] == 25


def test_unknown_uid_and_another_organizations_tag_are_unknown(
        client: TestClient, org: OrgContext, other_org: OrgContext, register: Callable[..., dict[str, Any]],
        database: Database) -> None:
    register(sun={"uid": "04" + uuid.uuid4().hex[:12]})  # the organization now has a master key
    with database.unit_of_work(organization_id=org.id, write=False) as session:
        master = service.master_key(session, organization_id=org.id, create=False)
    assert master is not None
    # A genuine-looking tap (our meta-read key) from a tag nobody registered: the UID finds no passport.
    stranger = SimulatedTag(meta_key=simulator.vitrina_meta_read_key(master), file_key=os.urandom(16))
    answer = _verify(client, org, **stranger.tap())
    assert answer["authenticity"] == "unknown" and answer["product"] is None and answer["current_owner"] is None
    # Another organization's key never sees this organization's passports.
    passport = register(sun={"uid": "04DE5F1EACC040", "meta_read_key": ZERO_KEY, "file_read_key": ZERO_KEY})
    assert _verify(client, other_org, tag_id=passport["tag_id"], **AN12196)["authenticity"] == "unknown"
    assert _verify(client, other_org, **AN12196)["authenticity"] == "unknown"  # it has no master key at all
    fetched = client.get(f"/api/v1/passports/{passport['id']}", headers=org.headers).json()["data"]
    assert fetched["verification_count"] == 0 and fetched["sun"]["last_counter"] is None
    assert _verify(client, org, tag_id=passport["tag_id"], **AN12196)["authenticity"] == "confirmed"


def test_sun_keys_are_sealed_at_rest(client: TestClient, org: OrgContext, register: Callable[..., dict[str, Any]],
                                     database: Database, settings: Settings) -> None:
    meta, file = os.urandom(16), os.urandom(16)
    passport = register(sun={"uid": "04" + uuid.uuid4().hex[:12], "meta_read_key": meta.hex(),
                             "file_read_key": file.hex()})
    register(sun={"uid": "04" + uuid.uuid4().hex[:12]})  # makes the organization's master key
    with database.unit_of_work(organization_id=org.id, write=False) as session:
        row = session.get(Passport, passport["id"])
        keys = session.get(OrganizationKeys, org.id)
        assert row is not None and keys is not None
        sealed_meta, sealed_file = bytes(row.meta_key_sealed or b""), bytes(row.file_key_sealed or b"")
        sealed_master = bytes(keys.master_key_sealed)
    for sealed, key in ((sealed_meta, meta), (sealed_file, file)):
        assert key not in sealed and key.hex().encode() not in sealed.lower()
    assert crypto.unseal(settings.signing_secret, sealed_file, context=f"file|{passport['id']}") == file
    master = crypto.unseal(settings.signing_secret, sealed_master, context=f"master|{org.id}")
    assert master not in sealed_master
    with pytest.raises(ValueError):
        crypto.unseal(settings.signing_secret + "x", sealed_file, context=f"file|{passport['id']}")
    with pytest.raises(ValueError):  # bound to its row: it cannot be copied onto another passport
        crypto.unseal(settings.signing_secret, sealed_file, context="file|psp_other")


def test_the_tap_page_verifies_counts_and_records(client: TestClient, org: OrgContext, database: Database,
                                                  register: Callable[..., dict[str, Any]]) -> None:
    passport = register(sun={"uid": "04DE5F1EACC040", "meta_read_key": ZERO_KEY, "file_read_key": ZERO_KEY})
    headers = {"X-Forwarded-For": f"198.51.100.{uuid.uuid4().int % 250}"}
    page = client.get(f"/v/{passport['tag_id']}", params={"e": AN12196["picc_data"], "c": AN12196["cmac"]},
                      headers=headers)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    copied = client.get(f"/v/{passport['tag_id']}", params={"e": AN12196["picc_data"], "c": AN12196["cmac"]},
                        headers=headers)
    assert copied.status_code == 200 and copied.text != page.text
    fetched = client.get(f"/api/v1/passports/{passport['id']}", headers=org.headers).json()["data"]
    assert fetched["verification_count"] == 2 and fetched["sun"]["last_counter"] == 61
    with database.unit_of_work(organization_id=org.id, write=False) as session:
        leaves = session.execute(select(LedgerLeaf.leaf_data).where(LedgerLeaf.passport_id == passport["id"],
                                                                    LedgerLeaf.event_type == "passport.verified")
                                 .order_by(LedgerLeaf.leaf_index)).scalars().all()
    outcomes = [json.loads(bytes(leaf))["data"]["authenticity"] for leaf in leaves]
    assert outcomes == ["confirmed", "replayed"]
