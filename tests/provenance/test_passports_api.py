"""Passports over HTTP: registration, reads, flags, links, and the verifiable ledger endpoints."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.provenance.rfc9162 import verify_consistency, verify_inclusion
from tests.support import OrgContext
from vitrina.db.session import Database
from vitrina.provenance import checks, crypto
from vitrina.provenance.models import LedgerCheckpoint


def test_register_with_tag_it_camel_case_body(client: TestClient, org: OrgContext) -> None:
    body = {"tagId": "NFC-TAG-002-XYZ", "productName": "Designer Handbag Limited Edition",
            "brand": "Luxury Fashion House", "serialNumber": "SN-2024-005678", "category": "fashion",
            "metadata": {"material": "Italian Leather", "origin": "Italy"}}
    response = client.post("/api/v1/passports", json=body, headers=org.headers)
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert data["id"].startswith("psp_")
    assert (data["tag_id"], data["product_name"], data["serial_number"]) == \
        ("NFC-TAG-002-XYZ", "Designer Handbag Limited Edition", "SN-2024-005678")
    assert data["status"] == "active" and data["current_owner"] == org.id
    assert data["transfer_count"] == 0 and data["verification_count"] == 0 and data["last_verified_at"] is None
    assert data["registered_at"].endswith("Z")
    assert data["ledger"]["leaf_index"] is not None and data["ledger"]["leaf_hash"]
    duplicate = client.post("/api/v1/passports", json=body, headers=org.headers)
    assert duplicate.status_code == 409 and duplicate.json()["error"]["code"] == "TAG_ID_TAKEN"


def test_sun_keys_are_never_returned(client: TestClient, org: OrgContext,
                                     register: Callable[..., dict[str, Any]]) -> None:
    key = "11" * 16
    passport = register(sun={"uid": "04AABBCCDDEEFF", "meta_read_key": key, "file_read_key": key})
    fetched = client.get(f"/api/v1/passports/{passport['id']}", headers=org.headers)
    assert fetched.status_code == 200
    assert key not in fetched.text.lower() and fetched.json()["data"]["sun"]["uid"] == "04AABBCCDDEEFF"
    again = client.post("/api/v1/passports", json={"tag_id": "OTHER", "product_name": "x",
                                                   "sun": {"uid": "04aabbccddeeff"}}, headers=org.headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "TAG_UID_TAKEN"


def test_bad_registration_bodies_are_422_with_paths(client: TestClient, org: OrgContext) -> None:
    cases = [({"product_name": "x"}, "$.tag_id"),
             ({"tag_id": "T", "product_name": "x", "sun": {"uid": "04ZZ"}}, "$.sun.uid"),
             ({"tag_id": "T", "product_name": "x", "sun": {"uid": "04AABBCCDDEEFF", "file_read_key": "00"}},
              "$.sun.file_read_key"),
             ({"tag_id": "T", "product_name": "x", "unknown": 1}, "$.unknown")]
    for body, path in cases:
        response = client.post("/api/v1/passports", json=body, headers=org.headers)
        assert response.status_code == 422, response.text
        assert any(e["path"] == path for e in response.json()["error"]["details"]["errors"]), response.text


def test_get_list_filters_and_tenancy(client: TestClient, org: OrgContext, other_org: OrgContext,
                                      register: Callable[..., dict[str, Any]]) -> None:
    first, second = register(), register()
    listed = client.get("/api/v1/passports", params={"tag_id": first["tag_id"]}, headers=org.headers)
    assert listed.status_code == 200 and [p["id"] for p in listed.json()["data"]] == [first["id"]]
    assert listed.headers["x-total-count"] == "1"
    everything = client.get("/api/v1/passports", params={"owner": org.id, "status": "active"}, headers=org.headers)
    assert {first["id"], second["id"]} <= {p["id"] for p in everything.json()["data"]}
    assert client.get(f"/api/v1/passports/{first['id']}", headers=other_org.headers).status_code == 404
    assert client.get("/api/v1/passports", params={"tag_id": first["tag_id"]},
                      headers=other_org.headers).json()["data"] == []
    assert client.get("/api/v1/passports", params={"status": "gone"}, headers=org.headers).status_code == 422


def test_flag_then_recover(client: TestClient, org: OrgContext, register: Callable[..., dict[str, Any]]) -> None:
    passport = register()
    flagged = client.post(f"/api/v1/passports/{passport['id']}/flag", json={"status": "stolen", "note": "burglary"},
                          headers=org.headers)
    assert flagged.status_code == 200 and flagged.json()["data"]["status"] == "stolen"
    verdict = client.post("/api/v1/passports/verify", json={"tag_id": passport["tag_id"]}, headers=org.headers)
    assert verdict.json()["data"]["authenticity"] == "flagged" and verdict.json()["data"]["verified"] is False
    stolen = client.get("/api/v1/passports", params={"status": "stolen"}, headers=org.headers).json()["data"]
    assert [p["id"] for p in stolen] == [passport["id"]]
    recovered = client.post(f"/api/v1/passports/{passport['id']}/flag", json={"status": "active"},
                            headers=org.headers)
    assert recovered.json()["data"]["status"] == "active"
    bad = client.post(f"/api/v1/passports/{passport['id']}/flag", json={"status": "sold"}, headers=org.headers)
    assert bad.status_code == 422


def test_link_to_a_serialized_inventory_piece(client: TestClient, org: OrgContext,
                                              register: Callable[..., dict[str, Any]]) -> None:
    item = client.post("/api/v1/inventory", json={"sku": "RING-1", "name": "Ring", "tracking": "serialized",
                                                  "quantity": 1, "external_id": "JWL-LINK-1"}, headers=org.headers)
    assert item.status_code == 201, item.text
    item_id = item.json()["data"]["id"]
    passport = register()
    linked = client.post(f"/api/v1/passports/{passport['id']}/link", json={"inventory_id": "JWL-LINK-1"},
                         headers=org.headers)
    assert linked.status_code == 200, linked.text
    assert linked.json()["data"]["inventory_id"] == item_id
    second = register()
    taken = client.post(f"/api/v1/passports/{second['id']}/link", json={"inventory_id": item_id},
                        headers=org.headers)
    assert taken.status_code == 409
    missing = client.post(f"/api/v1/passports/{second['id']}/link", json={"inventory_id": "itm_nope"},
                          headers=org.headers)
    assert missing.status_code == 404


def test_checkpoint_is_signed_by_the_published_key_and_proofs_verify(
        client: TestClient, org: OrgContext, register: Callable[..., dict[str, Any]]) -> None:
    passports = [register() for _ in range(3)]
    checkpoint = client.get("/api/v1/ledger/checkpoints/latest", headers=org.headers).json()["data"]
    assert checkpoint["tree_size"] == 3
    assert checkpoint["checkpoint"] == f"vitrina/{org.id}\n3\n{checkpoint['root_hash']}\n"
    keys = client.get("/.well-known/vitrina/ledger-keys").json()["keys"]
    key = next(k for k in keys if k["key_id"] == checkpoint["key_id"])
    assert key["organization_id"] == org.id
    assert crypto.ed25519_verify(base64.b64decode(key["public_key"]), base64.b64decode(checkpoint["signature"]),
                                 checkpoint["checkpoint"].encode())
    index = passports[1]["ledger"]["leaf_index"]
    proof = client.get("/api/v1/ledger/proof", params={"leaf_index": index}, headers=org.headers).json()["data"]
    assert proof["tree_size"] == 3 and proof["leaf_hash"] == passports[1]["ledger"]["leaf_hash"]
    assert verify_inclusion(base64.b64decode(proof["leaf_data"]), index, 3,
                            [base64.b64decode(h) for h in proof["audit_path"]],
                            base64.b64decode(checkpoint["root_hash"]))
    consistency = client.get("/api/v1/ledger/consistency", params={"first": 1, "second": 3}, headers=org.headers)
    assert consistency.status_code == 200 and consistency.json()["data"]["second_root"] == checkpoint["root_hash"]
    too_far = client.get("/api/v1/ledger/proof", params={"leaf_index": 3}, headers=org.headers)
    assert too_far.status_code == 422


def test_an_auditor_checks_two_checkpoints_offline(client: TestClient, org: OrgContext, database: Database,
                                                   register: Callable[..., dict[str, Any]]) -> None:
    """What a third party does with only the public endpoints' output: verify each checkpoint's signature with the
    published key (plain Ed25519), then that the later tree extends the earlier one (RFC 9162 consistency)."""
    register()
    old = client.get("/api/v1/ledger/checkpoints/latest", headers=org.headers).json()["data"]
    for _ in range(4):
        register()
    new = client.get("/api/v1/ledger/checkpoints/latest", headers=org.headers).json()["data"]
    keys = {k["key_id"]: k for k in client.get("/.well-known/vitrina/ledger-keys",
                                               params={"organization_id": org.id}).json()["keys"]}
    for signed in (old, new):
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(keys[signed["key_id"]]["public_key"]))
        public.verify(base64.b64decode(signed["signature"]), signed["checkpoint"].encode())  # raises if forged
        size, root = signed["checkpoint"].splitlines()[1:3]
        assert (int(size), root) == (signed["tree_size"], signed["root_hash"])
    proof = client.get("/api/v1/ledger/consistency", params={"first": old["tree_size"], "second": new["tree_size"]},
                       headers=org.headers).json()["data"]
    assert verify_consistency(old["tree_size"], new["tree_size"], [base64.b64decode(h) for h in proof["proof"]],
                              base64.b64decode(old["root_hash"]), base64.b64decode(new["root_hash"]))
    with database.unit_of_work(organization_id=org.id, write=False) as session:
        kept = session.execute(select(LedgerCheckpoint.tree_size)
                               .where(LedgerCheckpoint.organization_id == org.id)).scalars().all()
        assert sorted(kept) == [old["tree_size"], new["tree_size"]]
        assert checks.run_checks(session, organization_id=org.id) == []


def test_ledger_routes_need_credentials(client: TestClient) -> None:
    assert client.get("/api/v1/ledger/checkpoints/latest").status_code == 401
    assert client.get("/api/v1/passports").status_code == 401
