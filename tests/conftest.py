"""Fixtures for every test. The suite runs on SQLite (default) or PostgreSQL (``--db postgresql``).

Isolation: each run gets its own database (a temp SQLite file, or a uniquely named PostgreSQL database built
with Alembic and dropped afterwards) and its own Redis key prefix; each test gets a fresh organization, so
tenancy keeps tests apart even against a live server; service tests use ``db``, a session inside a
transaction that is rolled back.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.support import LiveServer, OrgContext, start_server, stop_server
from vitrina.accounts import service as accounts
from vitrina.app import create_app
from vitrina.config import Settings
from vitrina.db.migrate import upgrade
from vitrina.db.session import Database

PG_ADMIN_URL = os.environ.get("VITRINA_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--db", choices=("sqlite", "postgresql"), default="sqlite",
                     help="database the suite runs on")


@pytest.fixture(scope="session")
def db_kind(request: pytest.FixtureRequest) -> str:
    return str(request.config.getoption("--db"))


def _create_pg_database() -> tuple[str, Callable[[], None]]:
    import psycopg

    name = f"vitrina_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is unreachable in CI: {exc}")
        pytest.skip(f"PostgreSQL is unreachable: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{name}", drop


@pytest.fixture(scope="session")
def database_url(db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if db_kind == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'vitrina.db'}"
        upgrade(url)
        yield url
        return
    url, drop = _create_pg_database()
    try:
        upgrade(url)
        yield url
    finally:
        drop()


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data_dir: Path = tmp_path_factory.mktemp("data")
    return Settings(
        database_url=database_url, data_dir=data_dir, secret_key="test-secret-" + uuid.uuid4().hex,
        redis_prefix=f"vitrina-test-{uuid.uuid4().hex[:8]}:", log_level="WARNING",
        webhook_allow_hosts="127.0.0.1,localhost", webhook_allow_http=True, webhook_retry_schedule="1,1,2",
        public_base_url="http://testserver",
    )


@pytest.fixture(scope="session")
def database(settings: Settings) -> Iterator[Database]:
    db = Database(settings.database_url)
    yield db
    db.dispose()


@pytest.fixture(scope="session")
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture(scope="session")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def db(database: Database) -> Iterator[Session]:
    """A session whose work is rolled back at the end of the test (service-level tests)."""
    connection = database.engine.connect()
    transaction = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()
        transaction.rollback()
        connection.close()


@pytest.fixture
def make_org(database: Database) -> Callable[..., OrgContext]:
    """Create an organization (enterprise plan with a high limit unless a test asks otherwise)."""

    def make(plan: str = "enterprise", rate_limit_per_minute: int | None = 1_000_000,
             name: str = "Test Jewelers") -> OrgContext:
        with database.unit_of_work() as session:
            organization, issued = accounts.create_organization(
                session, name=name, plan=plan, rate_limit_per_minute=rate_limit_per_minute)
            org_id, api_key, api_secret = organization.id, issued.key.api_key, issued.api_secret

        def make_key(scopes: list[str], **kwargs: Any) -> tuple[str, str, str]:
            with database.unit_of_work() as session:
                new = accounts.create_api_key(session, organization_id=org_id, name="test key", scopes=scopes,
                                              **kwargs)
                return new.key.id, new.key.api_key, new.api_secret

        return OrgContext(id=org_id, api_key=api_key, api_secret=api_secret, make_key=make_key)

    return make


@pytest.fixture
def org(make_org: Callable[..., OrgContext]) -> OrgContext:
    return make_org()


@pytest.fixture
def other_org(make_org: Callable[..., OrgContext]) -> OrgContext:
    return make_org(name="Other Jewelers")


@pytest.fixture(scope="session")
def live_server(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real uvicorn process (2 workers) on the test database."""
    server = start_server(settings, workers=2, log_path=tmp_path_factory.mktemp("server") / "server.log")
    yield server
    stop_server(server)
