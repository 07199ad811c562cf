"""Fixtures of the reliability suites (the shared ones live in tests/conftest.py)."""

from __future__ import annotations

import functools
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.reliability import figures
from tests.reliability.apimodel import ApiDoc, Operation
from tests.reliability.population import Tenant, new_org, populate
from tests.reliability.servers import OwnServer, start_own_server
from vitrina.app import create_app
from vitrina.config import Settings
from vitrina.db.session import Database


@functools.cache
def collection_doc() -> ApiDoc:
    """The OpenAPI document at collection time (no database needed), so tests parametrize over every route."""
    # A file URL (never opened: building the app connects to nothing) because the engine pools connections.
    unused = Path(tempfile.gettempdir()) / "vitrina-collection-never-opened.db"
    settings = Settings(database_url=f"sqlite:///{unused}", redis_url=None, log_level="WARNING")
    app = create_app(settings, check_migrations=False)
    return ApiDoc(app.openapi())


def operations(predicate: Callable[[Operation], bool]) -> list[Any]:
    """``pytest.param`` per matching operation, with its method and path as the test id."""
    return [pytest.param(op, id=op.label) for op in collection_doc().operations if predicate(op)]


@pytest.fixture(scope="session")
def live_server(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnServer]:
    """The shared fixture's server (2 workers on the test database), started with the suites' own, more
    patient, start-up deadline: under other engineers' load two workers take more than the shared 30 s."""
    server = start_own_server(settings, tmp_path_factory.mktemp("server") / "server.log", workers=2)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def api_doc(app: FastAPI) -> ApiDoc:
    return ApiDoc(app.openapi())


@pytest.fixture(scope="package")
def tenants(client: TestClient, api_doc: ApiDoc, database: Database) -> tuple[Tenant, Tenant]:
    """Organizations A and B, each filled through the API with whatever its routes let us create."""
    run = uuid.uuid4().hex[:6].upper()
    org_a = Tenant(org=new_org(database, "Tenant A Jewelers"), marker=f"TENANTA{run}")
    org_b = Tenant(org=new_org(database, "Tenant B Jewelers"), marker=f"TENANTB{run}")
    for tenant in (org_a, org_b):
        populate(client, api_doc, tenant)
    figures.count("walkers.resources_created_per_org", len(org_b.ids.all_ids()))
    for label, reason in sorted(org_b.failures.items()):
        figures.note(f"could not create through {label}: {reason[:160]}")
    return org_a, org_b


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not figures.FIGURES and not figures.NOTES:
        return
    terminalreporter.section("reliability figures")
    for name, value in sorted(figures.FIGURES.items()):
        terminalreporter.write_line(f"{name:48} {value}")
    for line in figures.NOTES:
        terminalreporter.write_line(f"note: {line}")
