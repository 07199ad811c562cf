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
