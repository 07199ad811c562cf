"""Inventory pages over HTTP (no browser): each form calls the inventory service and shows the result."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from fastapi.testclient import TestClient
from PIL import Image

from tests.web.conftest import StaffAccount, post_form

NEW = "/app/inventory/new"


def receive(browser: TestClient, **fields: Any) -> str:
    data = {"sku": "RING-1", "name": "Solitaire ring", "price": "1250.00", "cost": "500", "tracking": "serialized"}
    response = post_form(browser, NEW, NEW, data | fields)
    assert response.status_code == 303, response.text
    return str(response.headers["location"])


def make_location(browser: TestClient, owner: StaffAccount, name: str, code: str) -> str:
    response = browser.post("/api/v1/locations", json={"name": name, "code": code}, headers=owner.org.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["id"])


def test_receive_then_adjust_shows_the_movement(staff_browser: TestClient) -> None:
    url = receive(staff_browser, tracking="bulk", quantity="5", sku="BEAD-1", name="Pearl beads")
    page = staff_browser.get(url)
    assert "Pearl beads (BEAD-1) was received." in page.text
    assert 'id="item-quantity">5<' in page.text
    response = post_form(staff_browser, url, f"{url}/adjust",
                         {"quantity_change": "-2", "reason_code": "DAMAGE", "notes": "two cracked",
                          "expected_quantity": "5"})
    assert response.status_code == 303
    page = staff_browser.get(url)
    assert "Adjusted by -2 (DAMAGE); quantity is now 3." in page.text
    assert 'id="item-quantity">3<' in page.text
    assert "two cracked" in page.text and "RECEIVED" in page.text


def test_a_refused_adjustment_re_renders_with_the_reason(staff_browser: TestClient) -> None:
    url = receive(staff_browser, sku="RING-2")
    response = post_form(staff_browser, url, f"{url}/adjust", {"quantity_change": "-3", "reason_code": "DAMAGE"})
    assert response.status_code == 422
    assert "a serialized piece changes by 1 or -1" in response.text
    response = post_form(staff_browser, url, f"{url}/adjust", {"quantity_change": "abc", "reason_code": "AUDIT"})
    assert response.status_code == 422 and "must be a whole number" in response.text
    assert 'id="item-quantity">1<' in staff_browser.get(url).text


def test_transfer_moves_the_piece(staff_browser: TestClient, owner: StaffAccount) -> None:
    store = make_location(staff_browser, owner, "Fifth Avenue", "NYC")
    vault = make_location(staff_browser, owner, "Main vault", "VAULT")
    url = receive(staff_browser, sku="RING-3", location_id=store)
    response = post_form(staff_browser, url, f"{url}/transfer", {"to_location_id": vault, "to_room_type": "vault"})
    assert response.status_code == 303
    page = staff_browser.get(url).text
    assert 'id="item-location">Main vault · Vault<' in page
    assert page.count(">TRANSFER<") == 2


def test_reserve_and_archive(staff_browser: TestClient) -> None:
    url = receive(staff_browser, sku="RING-4")
    assert post_form(staff_browser, url, f"{url}/reserve", {"reference": "Mrs Vance"}).status_code == 303
    page = staff_browser.get(url).text
    assert "badge-reserved" in page
    refused = post_form(staff_browser, url, f"{url}/archive", {})
    assert refused.status_code == 409 and "reserved" in refused.text.lower()


def test_status_and_archive(staff_browser: TestClient) -> None:
    url = receive(staff_browser, sku="RING-5")
    assert post_form(staff_browser, url, f"{url}/status", {"status": "repair"}).status_code == 303
    assert "badge-repair" in staff_browser.get(url).text
    assert post_form(staff_browser, url, f"{url}/archive", {}).status_code == 303
    assert "badge-archived" in staff_browser.get(url).text


def test_receive_form_reports_each_bad_field(staff_browser: TestClient) -> None:
    response = post_form(staff_browser, NEW, NEW, {"sku": "", "name": "No sku", "price": "twelve"})
    assert response.status_code == 422
    assert "must be an amount" in response.text
    assert 'value="No sku"' in response.text  # the form keeps what was typed


def test_list_filters_search_and_pagination(staff_browser: TestClient) -> None:
    for number in range(27):
        receive(staff_browser, sku=f"PAGE-{number:02d}", name=f"Bangle {number}", category="bracelets")
    receive(staff_browser, sku="OTHER-1", name="Emerald pendant", category="pendants")
    first = staff_browser.get("/app/inventory?category=bracelets").text
    assert "Page 1 of 2 · 27 in all" in first
    assert ">Emerald pendant</a>" not in first
    found = staff_browser.get("/app/inventory?q=emerald").text
    assert ">Emerald pendant</a>" in found and "Bangle" not in found


def test_item_names_are_escaped(staff_browser: TestClient) -> None:
    url = receive(staff_browser, sku="XSS-1", name="<script>alert(1)</script>")
    for page in (staff_browser.get(url).text, staff_browser.get("/app/inventory").text,
                 staff_browser.get("/app").text):
        assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in staff_browser.get(url).text


def test_tag_label_is_a_printable_png(staff_browser: TestClient) -> None:
    url = receive(staff_browser, sku="LBL-1")
    response = staff_browser.get(f"{url}/label.png")
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert image.size == (600, 300)
    assert round(image.info["dpi"][0]) == 300
    pdf = staff_browser.get(f"{url}/label.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    assert re.search(rb"/MediaBox \[ ?0 0 144(\.0)? 72(\.0)? ?\]", pdf.content)  # 2 x 1 in, in points
    assert staff_browser.get(f"{url}/label.gif").status_code == 404


def test_snapshot_page_and_csv(staff_browser: TestClient) -> None:
    receive(staff_browser, sku="SNAP-1", name="=HYPERLINK(\"http://evil\")", price="10", cost="4")
    receive(staff_browser, sku="SNAP-2", name="Chain", tracking="bulk", quantity="3", price="20", cost="8")
    page = staff_browser.get("/app/snapshot")
    assert page.status_code == 200
    assert 'id="snapshot-count">2<' in page.text
    assert "$70.00" in page.text and "$28.00" in page.text
    exported = staff_browser.get("/app/snapshot.csv")
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert {row["sku"] for row in rows} == {"SNAP-1", "SNAP-2"}
    assert next(r for r in rows if r["sku"] == "SNAP-1")["name"].startswith("'=")
    past = staff_browser.get("/app/snapshot?date=2020-01-01")
    assert 'id="snapshot-count">0<' in past.text
    future = staff_browser.get("/app/snapshot?date=2999-01-01")
    assert future.status_code == 422 and "must not be in the future" in future.text


def test_dashboard_draws_its_charts(staff_browser: TestClient) -> None:
    receive(staff_browser, sku="DASH-1", tracking="bulk", quantity="4", price="10", cost="5")
    page = staff_browser.get("/app").text
    assert page.count("<svg viewBox") >= 1
    assert "Stock value by location" in page and "Recent movements" in page
    assert "$40.00" in page


def test_another_organizations_item_is_not_found(staff_browser: TestClient, make_staff: Any) -> None:
    url = receive(staff_browser, sku="MINE-1")
    stranger = make_staff("owner")
    other = TestClient(staff_browser.app, follow_redirects=False)
    from tests.web.conftest import sign_in

    sign_in(other, stranger)
    assert other.get(url).status_code == 404
