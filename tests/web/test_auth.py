"""Staff sign-in: passwords, session cookies, CSRF, throttling, roles, sign-out."""

from __future__ import annotations

import json
import subprocess
import sys

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.support import settings_env
from tests.web.conftest import PASSWORD, MakeStaff, StaffAccount, csrf_of, post_form, sign_in
from vitrina.app import create_app
from vitrina.config import Settings
from vitrina.core.models import AuditEntry
from vitrina.db.session import Database
from vitrina.web import demo, passwords
from vitrina.web.models import User
from vitrina.web.security import SESSION_COOKIE


def test_pages_need_a_session(browser: TestClient) -> None:
    response = browser.get("/app/inventory?q=ring")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fapp%2Finventory%3Fq%3Dring"


def test_sign_in_sets_a_safe_cookie_and_opens_the_dashboard(browser: TestClient, owner: StaffAccount) -> None:
    response = sign_in(browser, owner)
    assert response.status_code == 303 and response.headers["location"] == "/app"
    cookie = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and SESSION_COOKIE in v)
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    page = browser.get("/app")
    assert page.status_code == 200
    assert "Dashboard" in page.text and owner.email in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"


def test_cookie_is_secure_over_https(app: object, owner: StaffAccount) -> None:
    browser = TestClient(app, base_url="https://testserver", follow_redirects=False)  # type: ignore[arg-type]
    response = sign_in(browser, owner)
    cookie = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and SESSION_COOKIE in v)
    assert "Secure" in cookie


def test_wrong_password_and_unknown_email_answer_alike(browser: TestClient, owner: StaffAccount) -> None:
    wrong = sign_in(browser, owner, password="not the password")
    assert wrong.status_code == 401
    assert "The email or password is wrong." in wrong.text
    owner.email = "nobody@shop.example"
    unknown = sign_in(browser, owner)
    assert unknown.status_code == 401
    assert "The email or password is wrong." in unknown.text
    assert SESSION_COOKIE not in browser.cookies


def test_next_never_leaves_the_back_office(browser: TestClient, owner: StaffAccount) -> None:
    page = browser.get("/login")
    response = browser.post("/login", data={"email": owner.email, "password": owner.password,
                                            "csrf_token": csrf_of(page.text), "next": "//evil.example/app"})
    assert response.headers["location"] == "/app"


def test_sign_in_needs_the_form_token(browser: TestClient, owner: StaffAccount) -> None:
    browser.get("/login")
    response = browser.post("/login", data={"email": owner.email, "password": owner.password,
                                            "csrf_token": "forged"})
    assert response.status_code == 403
    assert SESSION_COOKIE not in browser.cookies


def test_forms_refuse_a_missing_or_foreign_csrf_token(staff_browser: TestClient, owner: StaffAccount) -> None:
    created = post_form(staff_browser, "/app/inventory/new", "/app/inventory/new",
                        {"sku": "CSRF-1", "name": "Ring"})
    item_url = created.headers["location"]
    forged = staff_browser.post(f"{item_url}/adjust", data={"csrf_token": "x", "quantity_change": "-1",
                                                           "reason_code": "DAMAGE"})
    assert forged.status_code == 403
    assert "CSRF_FAILED" in forged.text
    token = csrf_of(staff_browser.get(item_url).text)
    cross_site = staff_browser.post(f"{item_url}/adjust", headers={"Origin": "https://evil.example"},
                                    data={"csrf_token": token, "quantity_change": "-1", "reason_code": "DAMAGE"})
    assert cross_site.status_code == 403
    assert 'id="item-quantity">1<' in staff_browser.get(item_url).text


def test_failed_sign_ins_are_throttled_per_email(browser: TestClient, owner: StaffAccount,
                                                  make_staff: MakeStaff) -> None:
    for _ in range(5):
        assert sign_in(browser, owner, password="wrong password!").status_code == 401
    blocked = sign_in(browser, owner)  # even the right password waits now
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    assert "Too many failed sign-in attempts" in blocked.text
    other = make_staff("clerk")
    assert sign_in(browser, other).status_code == 303


def test_failed_sign_ins_are_throttled_per_address(settings: Settings, make_staff: MakeStaff) -> None:
    # Its own app, so its own in-memory counters: the shared app's address counter must stay clean.
    browser = TestClient(create_app(settings), follow_redirects=False)
    account = make_staff("clerk")
    for number in range(30):
        account.email = f"guess-{number}@shop.example"
        assert sign_in(browser, account).status_code == 401
    account.email = make_staff("clerk").email
    assert sign_in(browser, account).status_code == 429


def test_a_successful_sign_in_resets_the_email_counter(browser: TestClient, owner: StaffAccount) -> None:
    for _ in range(4):
        sign_in(browser, owner, password="wrong password!")
    assert sign_in(browser, owner).status_code == 303
    browser.cookies.clear()
    for _ in range(4):
        assert sign_in(browser, owner, password="wrong password!").status_code == 401
    assert sign_in(browser, owner).status_code == 303


def test_sign_out_ends_the_session(staff_browser: TestClient) -> None:
    stolen = staff_browser.cookies[SESSION_COOKIE]
    token = csrf_of(staff_browser.get("/app").text)
    response = staff_browser.post("/logout", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["location"] == "/login"
    staff_browser.cookies.set(SESSION_COOKIE, stolen)
    assert staff_browser.get("/app").status_code == 303


def test_a_clerk_reads_but_cannot_change(browser: TestClient, make_staff: MakeStaff, owner: StaffAccount) -> None:
    clerk = make_staff("clerk", org=owner.org)
    sign_in(browser, clerk)
    assert browser.get("/app/inventory").status_code == 200
    assert "Receive a piece" not in browser.get("/app/inventory").text
    response = post_form(browser, "/app", "/app/inventory/new", {"sku": "X-1", "name": "Ring"})
    assert response.status_code == 403
    assert "ROLE_FORBIDDEN" in response.text


def test_page_changes_are_audited_with_the_person_as_actor(staff_browser: TestClient, owner: StaffAccount,
                                                           database: Database) -> None:
    response = post_form(staff_browser, "/app/inventory/new", "/app/inventory/new",
                         {"sku": "AUD-1", "name": "Audited ring", "price": "100"})
    assert response.status_code == 303
    with database.unit_of_work(write=False) as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.organization_id == owner.org.id)).all()
    assert [(e.actor, e.method, e.path) for e in entries] == [(owner.user_id, "POST", "/app/inventory/new")]


def test_passwords_are_argon2id(database: Database, owner: StaffAccount) -> None:
    with database.unit_of_work(write=False) as session:
        user = session.scalar(select(User).where(User.id == owner.user_id))
        assert user is not None
        assert user.password_hash.startswith("$argon2id$")
    assert passwords.verify_password(user.password_hash, PASSWORD)


def test_users_create_command(settings: Settings, owner: StaffAccount) -> None:
    env = settings_env(settings)
    command = [sys.executable, "-m", "vitrina.cli", "users", "create", "--org", owner.org.id, "--email",
               "New.Manager@Shop.example", "--role", "manager", "--json"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    created = json.loads(done.stdout)
    assert created["email"] == "new.manager@shop.example"
    assert created["role"] == "manager" and created["scopes"] == ["read", "write"]
    assert len(created["password"]) >= 10
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert again.returncode == 1
    assert "already exists" in again.stderr


def test_demo_owner_can_sign_in(browser: TestClient, database: Database, owner: StaffAccount) -> None:
    with database.unit_of_work(organization_id=owner.org.id) as session:
        first = demo.seed(session, organization_id=owner.org.id)
    with database.unit_of_work(organization_id=owner.org.id) as session:
        second = demo.seed(session, organization_id=owner.org.id)  # another demo store on the same database
    assert first["demo_sign_in_email"] != second["demo_sign_in_email"]
    account = StaffAccount(owner.org, "", first["demo_sign_in_email"], first["demo_sign_in_password"], "owner")
    assert sign_in(browser, account).status_code == 303


def test_owner_creates_an_api_key_and_sees_the_secret_once(staff_browser: TestClient) -> None:
    response = post_form(staff_browser, "/app/settings", "/app/settings/api-keys", {"name": "Shop POS",
                                                                                   "scope": "write"})
    assert response.status_code == 200
    secret = response.text.split('id="new-api-secret">')[1].split("<")[0]
    api_key = response.text.split('id="new-api-key">')[1].split("<")[0]
    assert staff_browser.get("/api/v1/me", headers={"X-API-Key": f"{api_key}:{secret}"}).status_code == 200
    later = staff_browser.get("/app/settings").text
    assert "Shop POS" in later and secret not in later
    key_id = later.split("/app/settings/api-keys/")[-1].split("/revoke")[0]
    assert post_form(staff_browser, "/app/settings", f"/app/settings/api-keys/{key_id}/revoke", {}).status_code == 303
    assert staff_browser.get("/api/v1/me", headers={"X-API-Key": f"{api_key}:{secret}"}).status_code == 401


def test_settings_are_for_owners(browser: TestClient, make_staff: MakeStaff, owner: StaffAccount) -> None:
    manager = make_staff("manager", org=owner.org)
    sign_in(browser, manager)
    assert browser.get("/app/settings").status_code == 403
    assert "/app/settings" not in browser.get("/app").text


def test_owner_adds_a_person(staff_browser: TestClient, browser: TestClient) -> None:
    response = post_form(staff_browser, "/app/settings", "/app/settings/users",
                         {"email": "clerk.new@shop.example", "role": "clerk", "name": "New Clerk"})
    assert response.status_code == 200
    password = response.text.split('id="new-user-password">')[1].split("<")[0]
    duplicate = post_form(staff_browser, "/app/settings", "/app/settings/users",
                          {"email": "clerk.new@shop.example", "role": "clerk"})
    assert duplicate.status_code == 409
    fresh = TestClient(staff_browser.app, follow_redirects=False)
    account = StaffAccount(org=None, user_id="", email="clerk.new@shop.example", password=password,  # type: ignore[arg-type]
                           role="clerk")
    assert sign_in(fresh, account).status_code == 303
