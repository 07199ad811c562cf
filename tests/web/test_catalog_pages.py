"""Catalog pages: products, the configurator (server-priced form and live socket) and ordering the result."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from tests.web.conftest import StaffAccount, post_form
from vitrina.db.session import Database
from vitrina.web import pages

pytestmark = pytest.mark.skipif("catalog" in pages.MISSING_SECTIONS, reason="the catalog domain is not installed")

RING_OPTIONS = {"ring": {
    "metal": [{"material_sku": "f", "material_title": "14K Gold", "color": [{"sku": "y", "title": "Yellow"}]},
              {"material_sku": "p", "material_title": "Platinum", "color": [{"sku": "w", "title": "White"}]}],
    "metal_weight_g": 4, "labor": 100}}


def add_ring(database: Database, account: StaffAccount, vendor_model: str = "RING-T1",
             title: str = "Test solitaire") -> str:
    from vitrina.catalog import service as catalog

    with database.unit_of_work(organization_id=account.org.id) as session:
        for sku, title_, cost, density, purity in (("f", "14K Gold", "60", "13.0", "0.585"),
                                                   ("p", "Platinum", "35", "21.45", "0.95")):
            catalog.put_metal_price(session, organization_id=account.org.id, material_sku=sku,
                                    material_title=title_, cost_per_gram=Decimal(cost), currency="USD",
                                    density_g_cm3=Decimal(density), purity=Decimal(purity))
        product = catalog.create_product(session, organization_id=account.org.id, fields={
            "vendor_model": vendor_model, "title": title, "currency": "USD", "options": RING_OPTIONS})
        return str(product.id)


def price_of(html: str) -> str:
    match = re.search(r'id="config-price"[^>]*>([^<]+)<', html)
    assert match, "no price on the page"
    return match.group(1)


def test_products_are_listed_and_searchable(staff_browser: TestClient, database: Database,
                                            owner: StaffAccount) -> None:
    add_ring(database, owner)
    add_ring(database, owner, "PEND-T2", "<b>Pendant</b>")
    listing = staff_browser.get("/app/catalog").text
    assert "Test solitaire" in listing and "&lt;b&gt;Pendant&lt;/b&gt;" in listing and "<b>Pendant" not in listing
    found = staff_browser.get("/app/catalog?q=solitaire").text
    assert "Test solitaire" in found and "Pendant" not in found


def test_the_form_prices_each_metal(staff_browser: TestClient, database: Database, owner: StaffAccount) -> None:
    product_id = add_ring(database, owner)
    page = staff_browser.get(f"/app/catalog/{product_id}")
    assert page.status_code == 200
    assert '<option value="f|y"' in page.text and '<option value="p|w"' in page.text
    url = f"/app/catalog/{product_id}"
    gold = post_form(staff_browser, url, f"{url}/price", {"ring.metal": "f|y"})
    platinum = post_form(staff_browser, url, f"{url}/price", {"ring.metal": "p|w"})
    assert gold.status_code == 200 and platinum.status_code == 200, gold.text
    assert price_of(gold.text).startswith("$") and price_of(gold.text) != price_of(platinum.text)
    refused = post_form(staff_browser, url, f"{url}/price", {"ring.metal": "zz|q"})
    assert refused.status_code == 422 and "not offered" in refused.text


def ask(socket: Any, vendor_model: str, metal: str, color: str) -> dict[str, Any]:
    socket.send_text(json.dumps({"method_id": 1001, "vendor_model": vendor_model,
                                 "configuration": {"ring": {"metal": {"sku": metal, "color": color}}}}))
    return dict(json.loads(socket.receive_text()))


@pytest.mark.timeout(30)
def test_the_live_socket_prices_as_the_metal_changes(staff_browser: TestClient, database: Database,
                                                     owner: StaffAccount) -> None:
    add_ring(database, owner)
    with staff_browser.websocket_connect("/app/ws/configurator") as socket:
        gold = ask(socket, "RING-T1", "f", "y")
        platinum = ask(socket, "RING-T1", "p", "w")
        wrong = ask(socket, "RING-T1", "zz", "q")
        socket.send_text("not json")
        garbled = json.loads(socket.receive_text())
    assert gold["status"] == "success" and gold["message"]["ci"].startswith("RING-T1-")
    assert Decimal(gold["message"]["retail"]) != Decimal(platinum["message"]["retail"])
    assert wrong["status"] == "error" and "not offered" in wrong["message"]
    assert garbled["status"] == "error"


@pytest.mark.timeout(30)
def test_the_socket_needs_a_session_and_this_site(staff_browser: TestClient) -> None:
    anonymous = TestClient(staff_browser.app)
    with pytest.raises(WebSocketDisconnect), anonymous.websocket_connect("/app/ws/configurator") as socket:
        socket.receive_text()
    with pytest.raises(WebSocketDisconnect), staff_browser.websocket_connect(
            "/app/ws/configurator", headers={"origin": "https://evil.example"}) as socket:
        socket.receive_text()


@pytest.mark.skipif("orders" in pages.MISSING_SECTIONS, reason="the orders domain is not installed")
def test_a_configuration_becomes_an_order(staff_browser: TestClient, database: Database,
                                          owner: StaffAccount) -> None:
    product_id = add_ring(database, owner)
    url = f"/app/catalog/{product_id}"
    response = post_form(staff_browser, url, f"{url}/order", {
        "configuration": json.dumps({"ring": {"metal": {"sku": "p", "color": "w"}}}),
        "customer_name": "Eleanor <Vance>", "customer_email": "eleanor@example.com", "qty": "1"})
    assert response.status_code == 303, response.text
    order_page = staff_browser.get(response.headers["location"])
    assert order_page.status_code == 200 and "Eleanor &lt;Vance&gt;" in order_page.text


def test_owner_sets_a_metal_price(staff_browser: TestClient, database: Database, owner: StaffAccount) -> None:
    add_ring(database, owner)
    page = staff_browser.get("/app/settings/prices")
    assert page.status_code == 200 and "14K Gold" in page.text
    url = "/app/settings/prices"
    saved = post_form(staff_browser, url, f"{url}/metals", {"material_sku": "s", "material_title": "<Silver>",
                                                             "cost_per_gram": "0.95", "density_g_cm3": "10.4",
                                                             "purity": "0.925", "currency": "USD"})
    assert saved.status_code == 303
    listed = staff_browser.get(url).text
    assert "&lt;Silver&gt;" in listed and "$0.95" in listed
    refused = post_form(staff_browser, url, f"{url}/metals", {"material_sku": "s", "cost_per_gram": "-1"})
    assert refused.status_code == 422 and "must be a positive amount" in refused.text


def test_owner_sets_a_stone_price(staff_browser: TestClient, owner: StaffAccount) -> None:
    url = "/app/settings/prices"
    stone = {"s_material_sku": "dmnd", "s_material_title": "<Diamond>", "s_stone_shape": "rd",
             "s_weight_stone": "c", "s_quality": "SI2", "s_cost": "120.50", "s_currency": ""}
    saved = post_form(staff_browser, url, f"{url}/stones", stone)
    assert saved.status_code == 303, saved.text
    assert "$120.50" in staff_browser.get(url).text
    replaced = post_form(staff_browser, url, f"{url}/stones", stone | {"s_cost": "99"})
    assert replaced.status_code == 303
    listed = staff_browser.get(url).text
    assert "$99.00" in listed and "$120.50" not in listed
    refused = post_form(staff_browser, url, f"{url}/stones", stone | {"s_cost": "abc", "s_stone_shape": ""})
    assert refused.status_code == 422
    assert 'id="s_cost-error"' in refused.text and 'id="s_stone_shape-error"' in refused.text
    assert 'value="abc"' in refused.text


def test_price_tables_are_for_owners(browser: TestClient, make_staff: Any, owner: StaffAccount) -> None:
    from tests.web.conftest import sign_in

    sign_in(browser, make_staff("manager", org=owner.org))
    assert browser.get("/app/settings/prices").status_code == 403


def test_choice_groups_get_a_control_for_each_pick() -> None:
    from vitrina.catalog.demo import BRIDAL
    from vitrina.web import configurator

    parts = {part.name: part for part in configurator.part_controls(BRIDAL["options"])}
    head = {group.name: group for group in parts["head"].groups}
    assert set(head) == {"center_stone", "additional_stones"}
    diamond = head["center_stone"].entries[0]
    assert diamond.sku == "DI"
    assert {a.name for a in diamond.attributes} == {"stone_shape", "stone_weight", "stone_color", "stone_clarity"}
    sides = {group.name: group for group in parts["shank"].groups}["side_settings"].entries[0]
    lengths = {a.name: a for a in sides.attributes}["length"]
    assert [c.label for c in lengths.choices] == ["Half", "Three quarters", "Eternity"]


def test_the_form_sends_only_the_chosen_entrys_picks() -> None:
    from vitrina.web.views.catalog import _configuration_from_form

    configuration = _configuration_from_form({
        "head.metal": "q|W", "head.center_stone.sku": "DI", "head.center_stone.DI.stone_shape": "OV",
        "head.additional_stones.sku": "SA", "head.additional_stones.DI.stone_color": "W",
        "head.additional_stones.SA.stone_color": "U", "shank.type": "HS4"})
    assert configuration == {"head": {"metal": {"sku": "q", "color": "W"},
                                      "center_stone": {"sku": "DI", "stone_shape": "OV"},
                                      "additional_stones": {"sku": "SA", "stone_color": "U"}},
                             "shank": {"type": "HS4"}}


@pytest.mark.skipif("catalog" in pages.MISSING_SECTIONS, reason="the catalog domain is not installed")
def test_a_bridal_piece_prices_without_script(staff_browser: TestClient, database: Database,
                                              owner: StaffAccount) -> None:
    """Every choice group of the demo's bridal ring has controls whose first choices make a priceable piece."""
    from rich.console import Console

    from vitrina.catalog import demo

    with database.unit_of_work(organization_id=owner.org.id) as session:
        demo.seed(session, organization_id=owner.org.id, console=Console(quiet=True))
    listing = staff_browser.get("/app/catalog", params={"q": "Trio"}).text
    product_url = re.search(r'href="(/app/catalog/[^"]+)">Simplicity Petite Trio', listing)
    assert product_url, listing
    page = staff_browser.get(product_url.group(1)).text
    form: dict[str, str] = {}
    for name, options in re.findall(r'<select[^>]* name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        first = re.search(r'<option value="([^"]*)"', options)
        form.setdefault(name, first.group(1) if first else "")
    assert "head.center_stone.sku" in form and "shank.side_settings.PS.length" in form
    priced = post_form(staff_browser, product_url.group(1), f"{product_url.group(1)}/price", form)
    assert priced.status_code == 200, re.findall(r"<li><code>.*?</li>", priced.text)
    assert re.search(r'id="config-price"[^>]*>\$[\d,]+\.\d\d<', priced.text), priced.text[:3000]
