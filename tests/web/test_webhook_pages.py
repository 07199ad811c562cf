"""Webhook settings pages: create (secret shown once), test event, deliveries, retry, disable, delete."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.web.conftest import post_form

BASE = "/app/settings/webhooks"


def create(browser: TestClient, url: str = "http://127.0.0.1:9/hook", **extra: str) -> tuple[str, str]:
    response = post_form(browser, BASE, BASE, {"url": url, "events": "inventory.*", **extra})
    assert response.status_code == 200, response.text
    secret = response.text.split('id="new-webhook-secret">')[1].split("<")[0]
    subscription_id = re.search(r"/app/settings/webhooks/(whk_[0-9A-Z]+)", response.text)
    assert subscription_id
    return subscription_id.group(1), secret


def test_create_shows_the_secret_once(staff_browser: TestClient) -> None:
    subscription_id, secret = create(staff_browser, description="Shop sync")
    assert secret.startswith("whsec_")
    listing = staff_browser.get(BASE).text
    assert "Shop sync" in listing and secret not in listing
    assert secret not in staff_browser.get(f"{BASE}/{subscription_id}").text


def test_bad_urls_and_filters_are_refused(staff_browser: TestClient) -> None:
    response = post_form(staff_browser, BASE, BASE, {"url": "https://127.0.0.2.nip.invalid/x",
                                                     "other_events": "Inventory.Sold"})
    assert response.status_code == 422
    assert "Inventory.Sold" in response.text
    private = post_form(staff_browser, BASE, BASE, {"url": "https://10.0.0.1/hook", "events": "*"})
    assert private.status_code in (400, 422)


def test_test_event_retry_disable_and_delete(staff_browser: TestClient) -> None:
    subscription_id, _secret = create(staff_browser)
    page = f"{BASE}/{subscription_id}"
    assert post_form(staff_browser, page, f"{page}/test", {}).status_code == 303
    detail = staff_browser.get(page).text
    assert "webhook.test" in detail
    delivery_id = re.search(r'id="deliveries".*?(dlv_[0-9A-Z]+)', detail, re.S)
    assert delivery_id
    # A pending delivery has no retry button; retrying it anyway is allowed by the service (sends now).
    retried = post_form(staff_browser, page, f"{page}/deliveries/{delivery_id.group(1)}/retry", {})
    assert retried.status_code == 303
    assert post_form(staff_browser, page, f"{page}/status", {"status": "disabled"}).status_code == 303
    assert "badge-disabled" in staff_browser.get(page).text
    refused = post_form(staff_browser, page, f"{page}/test", {})
    assert refused.status_code == 409
    assert post_form(staff_browser, page, f"{page}/delete", {}).status_code == 303
    assert staff_browser.get(page).status_code == 404
