"""Passport pages: the list, a passport, and flagging it (provenance service calls)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import StaffAccount, post_form
from tests.web.test_verify_page import register
from vitrina.config import Settings
from vitrina.db.session import Database
from vitrina.web import pages

pytestmark = pytest.mark.skipif("provenance" in pages.MISSING_SECTIONS,
                                reason="the provenance domain is not installed")


def test_list_show_and_flag(staff_browser: TestClient, database: Database, settings: Settings,
                            owner: StaffAccount) -> None:
    passport = register(database, settings, owner.org)
    listing = staff_browser.get("/app/passports").text
    assert passport["tag_id"] in listing and "Solitaire &lt;b&gt;ring&lt;/b&gt;" in listing
    url = f"/app/passports/{passport['id']}"
    assert f"/v/{passport['tag_id']}" in staff_browser.get(url).text
    flagged = post_form(staff_browser, url, f"{url}/flag", {"status": "stolen", "note": "<i>gone</i>"})
    assert flagged.status_code == 303
    assert "The passport is now stolen." in staff_browser.get(url).text
    refused = post_form(staff_browser, url, f"{url}/flag", {"status": "melted"})
    assert refused.status_code == 422


def test_another_organizations_passport_is_not_found(staff_browser: TestClient, database: Database,
                                                     settings: Settings, make_org: object) -> None:
    stranger = make_org()  # type: ignore[operator]
    passport = register(database, settings, stranger)
    assert staff_browser.get(f"/app/passports/{passport['id']}").status_code == 404


def test_start_a_transfer_shows_the_claim_code_once(staff_browser: TestClient, database: Database,
                                                    settings: Settings, owner: StaffAccount) -> None:
    passport = register(database, settings, owner.org)
    url = f"/app/passports/{passport['id']}"
    started = post_form(staff_browser, url, f"{url}/transfer", {"to_owner": "<Marcus>", "message": "gift"})
    assert started.status_code == 200, started.text
    code = started.text.split('id="claim-code">')[1].split("<")[0]
    assert len(code) >= 12 and "&lt;Marcus&gt;" in started.text
    assert code not in staff_browser.get(url).text
    again = post_form(staff_browser, url, f"{url}/transfer", {"to_owner": "Someone else"})
    assert again.status_code == 409  # one pending transfer per passport


def test_register_a_tag_with_the_api_rules(staff_browser: TestClient, owner: StaffAccount) -> None:
    bad = post_form(staff_browser, "/app/passports", "/app/passports",
                    {"tag_id": "", "product_name": "Ring", "sun": "XYZ"})
    assert bad.status_code == 422
    assert 'id="tag_id-error"' in bad.text and 'id="sun-error"' in bad.text  # the API's JSON paths, per field
    assert 'value="XYZ"' in bad.text  # what was typed comes back
    registered = post_form(staff_browser, "/app/passports", "/app/passports",
                           {"tag_id": "TAG-WEB-1", "product_name": "<i>Signet</i>", "brand": "Maison",
                            "sun": "04AABBCCDDEEFF"})
    assert registered.status_code == 303, registered.text
    page = staff_browser.get(registered.headers["location"]).text
    assert "Tag TAG-WEB-1 was registered." in page and "&lt;i&gt;Signet&lt;/i&gt;" in page
    taken = post_form(staff_browser, "/app/passports", "/app/passports",
                      {"tag_id": "TAG-WEB-1", "product_name": "Another"})
    assert taken.status_code == 409


def test_history_shows_each_ledger_entry_with_a_proof_that_checks(staff_browser: TestClient, database: Database,
                                                                   settings: Settings, owner: StaffAccount) -> None:
    passport = register(database, settings, owner.org)
    url = f"/app/passports/{passport['id']}"
    post_form(staff_browser, url, f"{url}/flag", {"status": "lost"})
    page = staff_browser.get(url).text
    history = page.split('id="history"')[1].split("</section>")[0]
    assert history.count("<tr>") == 1 + 2  # the header, registered, flagged
    assert history.count("✓ in the signed tree") == 2 and "✗" not in history
    assert "passport.registered" in history


def test_a_forged_proof_does_not_check() -> None:
    import base64
    import hashlib

    from vitrina.web import ledgerproof

    leaves = [b"a", b"b", b"c"]
    hashes = [hashlib.sha256(b"\x00" + leaf).digest() for leaf in leaves]

    def node(left: bytes, right: bytes) -> bytes:
        return hashlib.sha256(b"\x01" + left + right).digest()

    root = node(node(hashes[0], hashes[1]), hashes[2])
    proof = {"leaf_index": 1, "tree_size": 3, "leaf_data": base64.b64encode(b"b").decode(),
             "leaf_hash": base64.b64encode(hashes[1]).decode(),
             "audit_path": [base64.b64encode(hashes[0]).decode(), base64.b64encode(hashes[2]).decode()]}
    assert ledgerproof.proof_holds(proof, base64.b64encode(root).decode())
    assert ledgerproof.proof_holds(proof | {"leaf_index": 2, "tree_size": 3}, base64.b64encode(root).decode()) is False
    assert not ledgerproof.proof_holds(proof | {"leaf_data": base64.b64encode(b"x").decode()},
                                       base64.b64encode(root).decode())
    last = {"leaf_index": 2, "tree_size": 3, "leaf_data": base64.b64encode(b"c").decode(),
            "leaf_hash": base64.b64encode(hashes[2]).decode(),
            "audit_path": [base64.b64encode(node(hashes[0], hashes[1])).decode()]}
    assert ledgerproof.proof_holds(last, base64.b64encode(root).decode())
