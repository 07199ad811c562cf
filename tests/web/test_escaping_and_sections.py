"""Output escaping with hostile strings in every field a person can type, the pages' place outside the API
schema, and sections whose domain is not installed."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from tests.web.conftest import StaffAccount, post_form
from vitrina.web import pages

# Each breaks out of a different context: element text, a quoted attribute, a URL, a template, a textarea.
PAYLOADS = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(2)>',
    "'><svg onload=alert(3)>",
    "javascript:alert(4)",
    "{{ 7*7 }}{% raw %}",
    "</textarea><b>5</b>",
)


HOSTILE_MARKUP = re.compile(r"<script>alert|<img src=x|<svg onload|<b>5</b>")


def assert_inert(html: str, payload: str) -> None:
    """The payload shows only as escaped text: never as markup (and a template in it is never evaluated)."""
    if any(ch in payload for ch in "<>\"'"):
        assert payload not in html, f"unescaped {payload!r}"
    assert not HOSTILE_MARKUP.search(html), f"markup from {payload!r}"


def shown(html: str, payload: str) -> bool:
    return str(escape(payload)) in html


@pytest.mark.parametrize("payload", PAYLOADS)
def test_inventory_fields_render_as_text(staff_browser: TestClient, owner: StaffAccount, payload: str) -> None:
    location = staff_browser.post("/api/v1/locations", json={"name": payload, "code": "X1"},
                                  headers=owner.org.headers)
    assert location.status_code == 201, location.text
    response = post_form(staff_browser, "/app/inventory/new", "/app/inventory/new", {
        "sku": "INJ-1", "name": payload, "category": payload, "description": payload, "price": "10",
        "tracking": "bulk", "quantity": "3", "metal": payload, "location_id": location.json()["data"]["id"]})
    assert response.status_code == 303, response.text
    item_url = response.headers["location"]
    adjusted = post_form(staff_browser, item_url, f"{item_url}/adjust",
                         {"quantity_change": "-1", "reason_code": "DAMAGE", "notes": payload})
    assert adjusted.status_code == 303
    for url in (item_url, "/app/inventory", "/app", "/app/snapshot", f"/app/inventory?q={payload}"):
        page = staff_browser.get(url)
        assert page.status_code == 200, url
        assert_inert(page.text, payload)
    item_page = staff_browser.get(item_url).text
    assert shown(item_page, payload)
    assert 'id="item-name">' + str(escape(payload)) + "<" in item_page


@pytest.mark.parametrize("payload", PAYLOADS)
def test_re_rendered_forms_escape_what_was_typed(staff_browser: TestClient, payload: str) -> None:
    refused = post_form(staff_browser, "/app/inventory/new", "/app/inventory/new",
                        {"sku": payload, "name": payload, "price": "not a number"})
    assert refused.status_code == 422
    assert "must be an amount" in refused.text
    assert_inert(refused.text, payload)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_settings_names_render_as_text(staff_browser: TestClient, payload: str) -> None:
    key = post_form(staff_browser, "/app/settings", "/app/settings/api-keys", {"name": payload, "scope": "read"})
    assert key.status_code == 200
    person = post_form(staff_browser, "/app/settings", "/app/settings/users",
                       {"email": "x" + str(abs(hash(payload)))[:8] + "@shop.example", "role": "clerk",
                        "name": payload})
    assert person.status_code == 200
    hook = post_form(staff_browser, "/app/settings/webhooks", "/app/settings/webhooks",
                     {"url": "http://127.0.0.1:9/hook", "events": "inventory.*", "description": payload})
    assert hook.status_code == 200
    for url in ("/app/settings", "/app/settings/webhooks"):
        page = staff_browser.get(url).text
        assert_inert(page, payload)
        assert shown(page, payload)


def test_flash_messages_cannot_be_planted(staff_browser: TestClient) -> None:
    staff_browser.cookies.set("vitrina_flash", "00.6f6b3a3c7363726970743e")  # "ok:<script>" with a wrong MAC
    assert "<script>" not in staff_browser.get("/app").text


def test_pages_are_not_in_the_api_schema(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith(("/app", "/login", "/logout", "/v/", "/static"))]


def test_every_page_sends_the_browser_protections(staff_browser: TestClient) -> None:
    for url in ("/app", "/app/inventory", "/app/inventory/new", "/app/snapshot", "/app/settings"):
        headers = staff_browser.get(url).headers
        assert headers["x-frame-options"] == "DENY", url
        assert "frame-ancestors 'none'" in headers["content-security-policy"], url
        assert headers["x-content-type-options"] == "nosniff", url


def test_unknown_back_office_paths_are_html_not_found(staff_browser: TestClient) -> None:
    response = staff_browser.get("/app/no-such-page")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "There is no such page." in response.text


def test_unknown_paths_need_a_session_first(browser: TestClient) -> None:
    response = browser.get("/app/no-such-page")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


@pytest.mark.parametrize("section, url", [("catalog", "/app/catalog"), ("sales", "/app/pos"),
                                          ("orders", "/app/orders"), ("provenance", "/app/passports/psp_1")])
def test_a_section_without_its_domain_says_it_is_not_available(staff_browser: TestClient, section: str,
                                                               url: str) -> None:
    if section not in pages.MISSING_SECTIONS:
        pytest.skip(f"the {section} domain is installed")
    response = staff_browser.get(url)
    assert response.status_code == 404
    assert "not available in this installation" in response.text
    assert f'href="{url}"' not in staff_browser.get("/app").text  # and the navigation does not offer it


def test_installed_sections_are_in_the_navigation(staff_browser: TestClient) -> None:
    nav = staff_browser.get("/app").text.split('aria-label="Main"')[1].split("</nav>")[0]
    offered = [entry[1] for module in pages.VIEWS for entry in getattr(module, "NAV", ())]
    assert "/app/inventory" in offered
    for href in offered:  # an owner may use every section
        assert f'href="{href}"' in nav
