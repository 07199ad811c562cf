"""A sale makes the customer the owner (``record_sale``, called by the sales domain), and the EPCIS export of the
passport's history validates against GS1's EPCIS 2.0 JSON schema."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft7Validator, FormatChecker

from tests.support import OrgContext
from vitrina.db.session import Database
from vitrina.provenance import checks, service

SCHEMA = Path(__file__).resolve().parents[3] / "shared" / "standards" / "EPCIS-JSON-Schema.json"


def _item(client: TestClient, org: OrgContext, sku: str) -> str:
    response = client.post("/api/v1/inventory", json={"sku": sku, "name": "Ring", "tracking": "serialized",
                                                      "quantity": 1}, headers=org.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["id"])


def test_sale_of_a_linked_piece_passes_ownership(client: TestClient, org: OrgContext, database: Database,
                                                 register: Callable[..., dict[str, Any]]) -> None:
    item_id = _item(client, org, "SALE-1")
    passport = register(inventory_id=item_id)
    transfer = client.post("/api/v1/transfers", json={"passport_id": passport["id"], "to_owner": "someone"},
                           headers=org.headers).json()["data"]
    with database.unit_of_work(organization_id=org.id) as session:
        service.record_sale(session, organization_id=org.id, inventory_id=item_id, customer_id="cus_1",
                            customer_name="Ada Lovelace", transaction_id="txn_1")
    after = client.get(f"/api/v1/passports/{passport['id']}", headers=org.headers).json()["data"]
    assert after["current_owner"] == "cus_1" and after["transfer_count"] == 1
    stale = client.get("/api/v1/transfers", params={"passport_id": passport["id"]}, headers=org.headers)
    assert stale.json()["data"][0]["id"] == transfer["id"] and stale.json()["data"][0]["status"] == "cancelled"
    with database.unit_of_work(organization_id=org.id, write=False) as session:
        assert checks.run_checks(session, organization_id=org.id) == []


def test_sale_of_a_piece_without_passport_is_a_no_op(client: TestClient, org: OrgContext,
                                                     database: Database) -> None:
    item_id = _item(client, org, "SALE-2")
    with database.unit_of_work(organization_id=org.id) as session:
        service.record_sale(session, organization_id=org.id, inventory_id=item_id, customer_id="cus_2",
                            customer_name="B", transaction_id="txn_2")
    checkpoint = client.get("/api/v1/ledger/checkpoints/latest", headers=org.headers).json()["data"]
    assert checkpoint["tree_size"] == 0


@pytest.fixture(scope="module")
def validator() -> Draft7Validator:
    if not SCHEMA.exists():
        pytest.skip("GS1 EPCIS schema not present")
    return Draft7Validator(json.loads(SCHEMA.read_text()), format_checker=FormatChecker())


def test_epcis_export_of_a_full_history_is_schema_valid(client: TestClient, org: OrgContext, database: Database,
                                                        register: Callable[..., dict[str, Any]],
                                                        validator: Draft7Validator) -> None:
    item_id = _item(client, org, "EPCIS-1")
    passport = register(inventory_id=item_id)
    client.post("/api/v1/passports/verify", json={"tag_id": passport["tag_id"]}, headers=org.headers)
    with database.unit_of_work(organization_id=org.id) as session:
        service.record_sale(session, organization_id=org.id, inventory_id=item_id, customer_id="cus_9",
                            customer_name="C", transaction_id="txn_9")
    transfer = client.post("/api/v1/transfers", json={"passport_id": passport["id"], "to_owner": "0xABC def"},
                           headers=org.headers).json()["data"]
    client.post(f"/api/v1/transfers/{transfer['id']}/confirm", json={"claim_code": transfer["claim_code"]},
                headers=org.headers)
    client.post(f"/api/v1/passports/{passport['id']}/flag", json={"status": "stolen"}, headers=org.headers)
    response = client.get(f"/api/v1/passports/{passport['id']}/epcis", headers=org.headers)
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/ld+json")
    document = response.json()
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
    assert errors == []
    events = document["epcisBody"]["eventList"]
    assert [e.get("bizStep") for e in events] == ["commissioning", "inspecting", "retail_selling", None, None]
    assert events[0]["action"] == "ADD" and events[2]["disposition"] == "retail_sold"
    assert events[3]["destinationList"][0]["type"] == "owning_party"
    assert events[3]["sourceList"][0]["source"].endswith("cus_9") and events[4]["disposition"] == "stolen"


def test_schema_catches_a_broken_document(validator: Draft7Validator) -> None:
    broken = {"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"], "type": "EPCISDocument",
              "schemaVersion": "2.0", "creationDate": "2026-01-01T00:00:00Z",
              "epcisBody": {"eventList": [{"type": "ObjectEvent", "eventTime": "2026-01-01T00:00:00Z",
                                           "eventTimeZoneOffset": "+00:00", "action": "ADD",
                                           "bizStep": "comissioning", "epcList": ["not a uri"]}]}}
    assert list(validator.iter_errors(broken))


def test_gs1_examples_pass_the_same_validator(validator: Draft7Validator) -> None:
    """The validator accepts GS1's own example documents, so a failure of ours is ours, not the harness's."""
    examples = sorted(SCHEMA.parent.glob("*.jsonld"))
    assert examples
    for example in examples:
        assert list(validator.iter_errors(json.loads(example.read_text()))) == [], example.name
