"""``vitrina inventory snapshot`` and ``vitrina check`` over the test database."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.inventory.conftest import INV, Maker
from tests.support import OrgContext, settings_env
from vitrina.cli import app
from vitrina.config import Settings


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in settings_env(settings).items():
        if name.startswith("VITRINA_"):
            monkeypatch.setenv(name, value)


@pytest.mark.usefixtures("cli_env")
def test_snapshot_command(client: TestClient, org: OrgContext, make_item: Maker) -> None:
    make_item(tracking="bulk", quantity=4, price="10", cost="4")
    result = CliRunner().invoke(app, ["inventory", "snapshot", "--org", org.id, "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout.strip().splitlines()[-1])
    assert (body["count"], body["units"], body["retail_value"]) == (1, 4, {"USD": "40.00"})
    bad = CliRunner().invoke(app, ["inventory", "snapshot", "--org", org.id, "--date", "soon"])
    assert bad.exit_code == 1
    table = CliRunner().invoke(app, ["inventory", "snapshot", "--org", org.id, "--date", "2020-01-01"])
    assert table.exit_code == 0


@pytest.mark.usefixtures("cli_env")
def test_release_expired_command(client: TestClient, org: OrgContext) -> None:
    result = CliRunner().invoke(app, ["inventory", "release-expired", "--org", org.id, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"released_units": 0}
    assert client.get(INV, headers=org.headers).status_code == 200
