"""The pages in a real browser: Playwright driving Debian's Chromium against a live server.

Screenshots of every main page go to test-artifacts/ (git-ignored). With VITRINA_README_SCREENSHOTS=1 the demo
store's dashboard, item page, configurator and verify page are also written to docs/screenshots/ for the README
(`make screenshots`-style: `VITRINA_README_SCREENSHOTS=1 pytest tests/web/test_browser.py -k demo`).
Without /usr/bin/chromium the tests are skipped with the reason, except in CI (CI=true), where a missing browser
is a failure.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.console import Console

from tests.support import LiveServer
from tests.web import sun
from tests.web.conftest import MakeStaff, StaffAccount
from vitrina.cli import DEMO_MODULES
from vitrina.config import Settings
from vitrina.db.session import Database
from vitrina.web import pages, verification
from vitrina.web.domains import is_missing_domain, optional_service

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
README_SHOTS = ROOT / "docs" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

if not CHROMIUM.exists():
    reason = f"{CHROMIUM} is missing (run `bash scripts/system-deps.sh` as root to install Chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser tests must run in CI: {reason}", pytrace=False)
    pytest.skip(reason, allow_module_level=True)

from playwright.sync_api import Browser, Dialog, Page, expect, sync_playwright  # noqa: E402


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield browser
        browser.close()


def open_page(chromium: Browser, live_server: LiveServer, viewport: dict[str, int] = DESKTOP) -> Page:
    context = chromium.new_context(viewport=viewport, base_url=live_server.url)  # type: ignore[arg-type]
    context.set_default_timeout(30_000)  # pages render slower while the suite runs on two xdist workers
    page = context.new_page()

    def refuse_dialog(dialog: Dialog) -> None:  # a confirm() we expect is accepted by the test itself
        if dialog.type != "confirm":
            raise AssertionError(f"unexpected {dialog.type} dialog: {dialog.message}")
        dialog.accept()

    page.on("dialog", refuse_dialog)
    return page


def sign_in(page: Page, account: StaffAccount) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(account.email)
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/app$"))


def nav(page: Page, name: str) -> Any:
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True)


def shot(page: Page, name: str, *, readme: str | None = None) -> None:
    """A full-page screenshot as a test artifact; with ``readme`` (and VITRINA_README_SCREENSHOTS=1), also the
    first screen as docs/screenshots/<readme>.png."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    if readme and os.environ.get("VITRINA_README_SCREENSHOTS") == "1":
        README_SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(README_SHOTS / f"{readme}.png"))


def images_loaded(page: Page) -> None:
    """Wait until every image on the page has loaded (a screenshot taken earlier shows empty boxes). Polled with
    ``expect`` because the pages' policy forbids the eval that ``wait_for_function`` needs."""
    images = page.locator("img")
    for index in range(images.count()):
        expect(images.nth(index)).to_have_js_property("complete", True)
        assert images.nth(index).evaluate("img => img.naturalWidth") > 0


@pytest.fixture
def staff_page(chromium: Browser, live_server: LiveServer, owner: StaffAccount) -> Iterator[Page]:
    page = open_page(chromium, live_server)
    sign_in(page, owner)
    yield page
    page.context.close()


def api(live_server: LiveServer, account: StaffAccount) -> httpx.Client:
    return live_server.client(account.org.headers)


def test_sign_in_receive_adjust_and_transfer(staff_page: Page, live_server: LiveServer,
                                             owner: StaffAccount) -> None:
    page = staff_page
    with api(live_server, owner) as http:
        store = http.post("/api/v1/locations", json={"name": "Fifth Avenue", "code": "NYC"}).json()["data"]
        http.post("/api/v1/locations", json={"name": "Main vault", "code": "VAULT"}).raise_for_status()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    page.get_by_role("link", name="Receive a piece").first.click()
    page.get_by_label("SKU").fill("PRL-STUD-7")
    page.get_by_label("Name").fill("Akoya pearl studs 7mm")
    page.get_by_label("Tracking").select_option("bulk")
    page.get_by_label("Quantity").fill("5")
    page.get_by_label("Retail price").fill("450")
    page.get_by_label("Cost").fill("180")
    page.get_by_label("Location").select_option(store["id"])
    page.get_by_role("button", name="Receive").click()
    expect(page.get_by_role("status")).to_contain_text("Akoya pearl studs 7mm (PRL-STUD-7) was received.")
    expect(page.locator("#item-quantity")).to_have_text("5")

    adjust = page.locator("#adjust-form")
    adjust.get_by_label("Change").fill("-1")
    adjust.get_by_label("Reason").select_option("DAMAGE")
    adjust.get_by_label("Notes").fill("clasp broken")
    adjust.get_by_role("button", name="Record adjustment").click()
    expect(page.get_by_role("status")).to_contain_text("quantity is now 4")
    expect(page.locator("#item-quantity")).to_have_text("4")
    first_row = page.locator("#movements tbody tr").first
    expect(first_row).to_contain_text("DAMAGE")
    expect(first_row).to_contain_text("clasp broken")

    transfer = page.locator("#transfer-form")
    transfer.get_by_label("To location").select_option(label="Main vault")
    transfer.get_by_label("To room").select_option("vault")
    transfer.get_by_label("Quantity").fill("2")
    transfer.get_by_role("button", name="Transfer").click()
    expect(page.get_by_role("status")).to_contain_text("Moved to vault")
    expect(page.locator("#item-quantity")).to_have_text("2")
    expect(page.locator("#movements tbody tr").first).to_contain_text("TRANSFER")
    shot(page, "item-page")

    nav(page, "Inventory").click()
    page.get_by_label("Search").fill("akoya")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("tbody tr")).to_have_count(2)  # the source and the split in the vault
    shot(page, "inventory-list")


def test_an_item_named_like_a_script_renders_as_text(staff_page: Page, live_server: LiveServer,
                                                     owner: StaffAccount) -> None:
    name = "<script>alert(1)</script>"
    with api(live_server, owner) as http:
        item = http.post("/api/v1/inventory", json={"sku": "XSS-1", "name": name, "price": "1"}).json()["data"]
    page = staff_page
    page.goto(f"/app/inventory/{item['id']}")
    expect(page.locator("#item-name")).to_have_text(name)
    page.goto("/app/inventory")
    expect(page.get_by_role("link", name=name)).to_be_visible()
    page.goto("/app")
    expect(page.get_by_role("link", name=name).first).to_be_visible()
    assert page.evaluate("document.querySelectorAll('main script').length") == 0


def test_keyboard_and_small_screens(chromium: Browser, live_server: LiveServer, owner: StaffAccount) -> None:
    page = open_page(chromium, live_server, PHONE)
    sign_in(page, owner)
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    menu = page.get_by_role("button", name="Menu")
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    menu.focus()
    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(nav(page, "Inventory")).to_be_visible()
    shot(page, "dashboard-phone")
    page.context.close()


def test_snapshot_page(staff_page: Page, live_server: LiveServer, owner: StaffAccount) -> None:
    with api(live_server, owner) as http:
        http.post("/api/v1/inventory", json={"sku": "SNAP-1", "name": "Chain", "tracking": "bulk", "quantity": 3,
                                             "price": "20", "cost": "8"}).raise_for_status()
    page = staff_page
    nav(page, "Snapshot").click()
    expect(page.locator("#snapshot-count")).to_have_text("1")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    assert "SNAP-1" in Path(download.value.path()).read_text()
    page.get_by_label("Date (end of day, UTC)").fill("2020-01-01")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#snapshot-count")).to_have_text("0")
    shot(page, "snapshot")


# --- the demo store, for the README's screenshots -----------------------------------------------------------------

@dataclass
class DemoStore:
    owner: StaffAccount
    facts: dict[str, Any]  # what the seeders reported (e.g. a sample tap URL for the verify page)


@pytest.fixture
def demo_store(database: Database, settings: Settings, make_staff: MakeStaff) -> DemoStore:
    """An owner of an organization filled by every installed domain's demo seeder (as `make run` does)."""
    account = make_staff("owner")
    quiet = Console(quiet=True)
    facts: dict[str, Any] = {}
    provenance = optional_service("provenance", "configure")
    if provenance is not None:  # tag keys are sealed with the server's secret, as the live server's startup does
        provenance.configure(settings.signing_secret)
    for name in DEMO_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            if is_missing_domain(exc):  # a domain not built yet: the store has what exists
                continue
            raise
        if name == "vitrina.web.demo":
            continue
        with database.unit_of_work(organization_id=account.org.id) as session:
            facts.update(module.seed(session, organization_id=account.org.id, console=quiet) or {})
    return DemoStore(owner=account, facts=facts)


def test_demo_store_pages(chromium: Browser, live_server: LiveServer, demo_store: DemoStore) -> None:
    page = open_page(chromium, live_server)
    sign_in(page, demo_store.owner)
    expect(page.locator(".kpi").first).to_contain_text("$")
    expect(page.locator("#stock-chart-h ~ svg polyline").first).to_be_visible()
    shot(page, "dashboard", readme="dashboard")
    nav(page, "Inventory").click()
    page.get_by_label("Status").select_option("active")
    page.get_by_role("button", name="Apply").click()
    page.locator("tbody tr a").first.click()
    expect(page.locator("img.label-preview")).to_be_visible()
    images_loaded(page)
    shot(page, "demo-item-page")
    for section in ("Dashboard", "Inventory", "Snapshot", "Catalog", "Point of sale", "Transactions", "Orders",
                    "Passports", "Settings"):
        if nav(page, section).count():
            nav(page, section).click()
            assert unlabelled_controls(page) == [], section
    page.context.close()


UNLABELLED = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')]
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !el.getAttribute('aria-labelledby') && !(el.tagName === 'BUTTON' && el.textContent.trim()))
  .map(el => el.outerHTML.slice(0, 120))"""


def unlabelled_controls(page: Page) -> list[str]:
    """Form controls a screen reader would announce without a name."""
    return list(page.evaluate(UNLABELLED))


@pytest.mark.skipif("provenance" in pages.MISSING_SECTIONS, reason="the provenance domain is not installed")
def test_demo_item_with_its_passport(chromium: Browser, live_server: LiveServer, demo_store: DemoStore) -> None:
    page = open_page(chromium, live_server)
    sign_in(page, demo_store.owner)
    nav(page, "Passports").click()
    page.get_by_role("search").get_by_label("Tag id").fill("VTR-00001")
    page.get_by_role("button", name="Apply").click()
    page.locator("tbody tr a").first.click()
    expect(page.locator("#history tbody tr").first).to_contain_text("in the signed tree")
    shot(page, "passport")
    page.get_by_role("link", name="Open the inventory item").click()
    expect(page.locator("#item-quantity")).to_be_visible()
    expect(page.locator("#passport")).to_contain_text("VTR-00001")
    images_loaded(page)
    shot(page, "item-page-with-passport", readme="item-page")
    page.context.close()


@pytest.mark.skipif("catalog" in pages.MISSING_SECTIONS, reason="the catalog domain is not installed")
def test_demo_configurator(chromium: Browser, live_server: LiveServer, demo_store: DemoStore) -> None:
    page = open_page(chromium, live_server)
    sign_in(page, demo_store.owner)
    nav(page, "Catalog").click()
    page.get_by_role("link", name="Simplicity Petite Trio Engagement Ring").click()
    price = page.locator("#config-price")
    expect(page.locator("[data-live-state]")).to_have_text("Live prices")
    expect(price).to_have_attribute("data-amount", re.compile(r"^\d"))
    images_loaded(page)
    shot(page, "configurator", readme="configurator")
    page.context.close()


@pytest.mark.skipif(optional_service("provenance", verification.VERIFY_FUNCTION) is None,
                    reason="the provenance domain is not installed")
def test_demo_verify_page(chromium: Browser, live_server: LiveServer, demo_store: DemoStore) -> None:
    page = open_page(chromium, live_server, PHONE)
    page.goto(demo_store.facts["provenance_sample_tap"])
    expect(verdict(page)).to_have_text("Genuine")
    shot(page, "verify-demo", readme="verify")
    page.context.close()


# --- the public verify page on a phone ----------------------------------------------------------------------------

def verdict(page: Page) -> Any:
    return page.locator("#verdict h1")


def test_verify_page_on_a_phone(chromium: Browser, live_server: LiveServer, database: Database, settings: Settings,
                                owner: StaffAccount) -> None:
    page = open_page(chromium, live_server, PHONE)
    if optional_service("provenance", verification.VERIFY_FUNCTION) is None:
        page.goto(f"/v/TAG-PHONE?e={sun.EXAMPLE_E}&c={sun.EXAMPLE_C}")
        expect(verdict(page)).to_have_text("Verification unavailable")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        shot(page, "verify-unavailable")
        page.context.close()
        return
    from tests.web.test_verify_page import flag, register

    passport = register(database, settings, owner.org)
    genuine_url = f"/v/{passport['tag_id']}?e={sun.EXAMPLE_E}&c={sun.EXAMPLE_C}"
    page.goto(genuine_url)
    expect(verdict(page)).to_have_text("Genuine")
    expect(page.locator("#piece-name")).to_have_text("Solitaire <b>ring</b>")
    expect(page.locator("#owner")).not_to_contain_text("Eleanor Vance")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "verify-genuine")
    page.goto(genuine_url)  # the same link again: a copy
    expect(verdict(page)).to_have_text("Copied link")
    shot(page, "verify-replayed")
    flag(database, owner.org, passport["id"], "stolen")
    fresh = sun.tap(sun.EXAMPLE_UID, 90)
    page.goto(f"/v/{passport['tag_id']}?e={fresh['e']}&c={fresh['c']}")
    expect(verdict(page)).to_have_text("Reported stolen or lost")
    shot(page, "verify-flagged")
    page.context.close()


@pytest.mark.skipif(optional_service("provenance", verification.VERIFY_FUNCTION) is None,
                    reason="the provenance domain is not installed")
def test_pass_a_piece_on_from_a_phone(chromium: Browser, live_server: LiveServer, database: Database,
                                      settings: Settings, owner: StaffAccount) -> None:
    from tests.web.test_verify_page import register

    passport = register(database, settings, owner.org)
    page = open_page(chromium, live_server, PHONE)
    page.goto(f"/v/{passport['tag_id']}?" + "&".join(f"{k}={v}" for k, v in sun.tap(sun.EXAMPLE_UID, 200).items()))
    expect(verdict(page)).to_have_text("Genuine")
    page.get_by_text("You own this piece? Pass it on").click()
    page.get_by_label("Your name or email, as on record").fill("Eleanor Vance")
    page.get_by_label("New owner (name or email)").fill("Sam Lee")
    page.get_by_role("button", name="Start the transfer").click()
    expect(verdict(page)).to_have_text("Transfer started")
    code = page.locator("#claim-code-value").inner_text()
    shot(page, "verify-transfer-started")

    page.goto(f"/v/{passport['tag_id']}?" + "&".join(f"{k}={v}" for k, v in sun.tap(sun.EXAMPLE_UID, 201).items()))
    page.get_by_label("Claim code").fill(code)
    page.get_by_role("button", name="Accept and become the owner").click()
    expect(verdict(page)).to_have_text("You are the owner now")
    shot(page, "verify-transfer-accepted")
    page.context.close()


# --- sections that need other domains -----------------------------------------------------------------------------

needs_sales = pytest.mark.skipif("sales" in pages.MISSING_SECTIONS, reason="the sales domain is not installed")
needs_orders = pytest.mark.skipif("orders" in pages.MISSING_SECTIONS, reason="the orders domain is not installed")


@needs_sales
def test_complete_a_sale_at_the_pos(staff_page: Page, live_server: LiveServer, owner: StaffAccount) -> None:
    with api(live_server, owner) as http:
        item = http.post("/api/v1/inventory", json={"sku": "POS-BULK-1", "name": "Silver chain", "tracking": "bulk",
                                                    "quantity": 4, "price": "80"}).json()["data"]
        page = staff_page
        nav(page, "Point of sale").click()
        page.get_by_label("Scan or type a SKU, id or external id").fill("POS-BULK-1")
        page.keyboard.press("Enter")
        expect(page.locator("#cart tbody tr")).to_have_count(1)
        page.get_by_label("Quantity of Silver chain").fill("2")
        page.get_by_role("button", name="Complete sale").click()
        expect(page.get_by_role("status")).to_contain_text("completed")
        shot(page, "pos-sale")
        after = http.get(f"/api/v1/inventory/{item['id']}").json()["data"]
    assert after["quantity"] == 2


@pytest.mark.skipif("catalog" in pages.MISSING_SECTIONS, reason="the catalog domain is not installed")
def test_configurator_price_follows_the_metal(staff_page: Page, database: Database, owner: StaffAccount) -> None:
    from tests.web.test_catalog_pages import add_ring

    product_id = add_ring(database, owner)
    page = staff_page
    page.goto(f"/app/catalog/{product_id}")
    price = page.locator("#config-price")
    expect(page.locator("[data-live-state]")).to_have_text("Live prices")
    expect(price).to_have_attribute("data-amount", re.compile(r"^\d"))
    gold = price.get_attribute("data-amount")
    page.get_by_label("Metal").select_option(label="Platinum White")
    expect(price).not_to_have_attribute("data-amount", gold or "")
    expect(page.locator("#config-ci")).to_contain_text("RING-T1-")
    shot(page, "configurator-metal-changed")


@needs_orders
@pytest.mark.skipif("catalog" in pages.MISSING_SECTIONS, reason="the catalog domain is not installed")
def test_order_from_the_configurator_and_move_it_along_the_board(staff_page: Page, database: Database,
                                                                 owner: StaffAccount) -> None:
    from tests.web.test_catalog_pages import add_ring

    page = staff_page
    page.goto(f"/app/catalog/{add_ring(database, owner)}")
    expect(page.locator("[data-live-state]")).to_have_text("Live prices")
    page.get_by_label("Customer name").fill("Ada Lovelace")
    page.get_by_label("Customer email").fill("ada@example.com")
    page.get_by_role("button", name="Create the order").click()
    expect(page.get_by_role("status")).to_contain_text("was created")
    order_id = page.url.rstrip("/").rsplit("/", 1)[1]
    expect(page.locator("#order-status")).to_have_text("Created")

    nav(page, "Orders").click()
    card = page.locator(f"#status-1 [data-order='{order_id}']")
    expect(card).to_contain_text("Ada Lovelace")
    card.get_by_role("button", name=re.compile("Confirmed")).click()
    expect(page.get_by_role("status")).to_contain_text("is now Confirmed")
    moved = page.locator(f"#status-2 [data-order='{order_id}']")
    expect(moved).to_be_visible()
    expect(page.locator(f"#status-1 [data-order='{order_id}']")).to_have_count(0)
    shot(page, "orders-board")
    moved.get_by_role("link").first.click()
    expect(page.locator("#order-status")).to_have_text("Confirmed")
    expect(page.locator("#order-history li")).to_have_count(2)
    expect(page.locator("#order-history li").last).to_contain_text("Confirmed")
    shot(page, "order-page")
