"""Fixtures for the web tests: staff accounts, a browser-like client with its own cookies, and sign-in."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.support import OrgContext
from vitrina.db.session import Database
from vitrina.web import service

PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class StaffAccount:
    org: OrgContext
    user_id: str
    email: str
    password: str
    role: str


MakeStaff = Callable[..., StaffAccount]


@pytest.fixture
def make_staff(make_org: Callable[..., OrgContext], database: Database) -> MakeStaff:
    def make(role: str = "owner", org: OrgContext | None = None, password: str = PASSWORD) -> StaffAccount:
        org = org or make_org()
        email = f"{role}-{uuid.uuid4().hex[:10]}@shop.example"
        with database.unit_of_work() as session:
            user = service.create_user(session, organization_id=org.id, email=email, password=password, role=role,
                                       name=f"Test {role}")
            user_id = user.id
        return StaffAccount(org=org, user_id=user_id, email=email, password=password, role=role)

    return make


@pytest.fixture
def owner(make_staff: MakeStaff) -> StaffAccount:
    return make_staff("owner")


@pytest.fixture
def browser(app: FastAPI) -> Iterator[TestClient]:
    """A client with its own cookie jar (the session-wide ``client`` is shared by every domain's tests)."""
    yield TestClient(app, base_url="http://testserver", follow_redirects=False)


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def sign_in(browser: TestClient, account: StaffAccount, password: str | None = None) -> httpx.Response:
    page = browser.get("/login")
    return browser.post("/login", data={"email": account.email, "password": password or account.password,
                                        "csrf_token": csrf_of(page.text), "next": "/app"})


@pytest.fixture
def staff_browser(browser: TestClient, owner: StaffAccount) -> TestClient:
    response = sign_in(browser, owner)
    assert response.status_code == 303, response.text
    return browser


def post_form(browser: TestClient, page_url: str, action: str, data: dict[str, Any]) -> httpx.Response:
    """Submit a form the way a browser would: load the page for its CSRF token, then post."""
    token = csrf_of(browser.get(page_url).text)
    return browser.post(action, data={"csrf_token": token, **data})
