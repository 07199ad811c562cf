"""``vitrina import`` and ``vitrina export`` over the test database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.jobs.conftest import csv_bytes
from tests.support import OrgContext, settings_env
from vitrina.cli import app
from vitrina.config import Settings


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in settings_env(settings).items():
        if name.startswith("VITRINA_"):
            monkeypatch.setenv(name, value)


@pytest.mark.usefixtures("cli_env")
def test_import_then_export(org: OrgContext, tmp_path: Path) -> None:
    source = tmp_path / "stock.csv"
    source.write_bytes(csv_bytes([["Ref", "sku", "name", "quantity"], ["CLI-1", "S", "=cmd()", 1],
                                  ["CLI-2", "S2", "Bad", "x"]]))
    result = CliRunner().invoke(app, ["import", str(source), "--org", org.id, "--map", "Ref=external_id", "--json"])
    assert result.exit_code == 0, result.output
    job = json.loads(result.stdout.strip().splitlines()[-1])
    assert job["status"] == "succeeded" and job["result"]["created"] == 1
    assert [(e["line"], e["field"]) for e in job["errors"]] == [(3, "quantity")]
    out = tmp_path / "out.csv"
    exported = CliRunner().invoke(app, ["export", "--org", org.id, "--output", str(out)])
    assert exported.exit_code == 0, exported.output
    text = out.read_text(encoding="utf-8-sig")
    assert "CLI-1" in text and "'=cmd()" in text
    broken = tmp_path / "broken.csv"
    broken.write_bytes(b"sku,name\nA,B\n")
    failed = CliRunner().invoke(app, ["import", str(broken), "--org", org.id])
    assert failed.exit_code == 1
