"""The ``vitrina`` command line over the test database: import, export, sync, snapshot, and the help."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from tests.jobs import feed as feeds
from tests.jobs.conftest import INV, csv_bytes, item, movements
from tests.support import OrgContext, settings_env
from vitrina.cli import app
from vitrina.config import Settings


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in settings_env(settings).items():
        if name.startswith("VITRINA_"):
            monkeypatch.setenv(name, value)


@pytest.fixture
def feed() -> Iterator[feeds.Feed]:
    yield from feeds.serve()


def vitrina(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def last_json(result: Result) -> dict[str, Any]:
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def one_line_error(result: Result, fragment: str) -> None:
    """A failure ends with one clear line on stderr and exit code 1 (no traceback)."""
    assert result.exit_code == 1, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and fragment in errors[0], result.stderr
    assert result.stderr.rstrip().endswith(errors[0].rstrip()) and "Traceback" not in result.output


def test_help_lists_every_command_with_its_help() -> None:
    listed = vitrina("--help")
    assert listed.exit_code == 0
    for command in ("serve", "worker", "db", "org", "keys", "import", "export", "sync", "snapshot", "check",
                    "seed-demo", "bench", "backup"):
        assert f" {command} " in listed.stdout, command
    serve = vitrina("serve", "--help").stdout
    assert all(option in serve for option in ("--host", "--port", "--workers", "--reload"))
    assert all(sub in vitrina("keys", "--help").stdout for sub in ("create", "list", "revoke"))
    assert "upgrade" in vitrina("db", "--help").stdout and "create" in vitrina("org", "--help").stdout
    sync_help = vitrina("sync", "--help").stdout
    assert all(option in sync_help for option in ("--location", "--type", "--file", "--url", "--header", "--map"))


@pytest.mark.usefixtures("cli_env")
def test_import_then_export(org: OrgContext, tmp_path: Path) -> None:
    source = tmp_path / "stock.csv"
    source.write_bytes(csv_bytes([["Ref", "sku", "name", "quantity"], ["CLI-1", "S", "=cmd()", 1],
                                  ["CLI-2", "S2", "Bad", "x"]]))
    job = last_json(vitrina("import", str(source), "--org", org.id, "--map", "Ref=external_id", "--json"))
    assert job["status"] == "succeeded" and job["result"]["created"] == 1
    assert [(e["line"], e["field"]) for e in job["errors"]] == [(3, "quantity")]
    again = last_json(vitrina("import", str(source), "--org", org.id, "--map", "Ref=external_id", "--json"))
    assert (again["result"]["created"], again["result"]["unchanged"]) == (0, 1), "idempotent on external_id"
    out = tmp_path / "out.csv"
    assert vitrina("export", "--org", org.id, "--output", str(out)).exit_code == 0
    text = out.read_text(encoding="utf-8-sig")
    assert "CLI-1" in text and "'=cmd()" in text
    lines = vitrina("export", "--org", org.id, "--format", "jsonl", "--sku", "S").stdout.splitlines()
    assert [json.loads(line)["external_id"] for line in lines] == ["CLI-1"]


@pytest.mark.usefixtures("cli_env")
def test_import_shows_a_progress_bar_and_a_summary(org: OrgContext, tmp_path: Path) -> None:
    source = tmp_path / "stock.csv"
    source.write_bytes(csv_bytes([["external_id", "sku", "name", "quantity"], ["P-1", "S", "Ring", 1]]))
    result = vitrina("import", str(source), "--org", org.id)
    assert result.exit_code == 0, result.output
    assert "importing stock.csv" in result.stderr and "succeeded: created 1" in result.stderr


@pytest.mark.usefixtures("cli_env")
def test_import_errors_are_one_line(org: OrgContext, tmp_path: Path) -> None:
    broken = tmp_path / "broken.csv"
    broken.write_bytes(b"sku,name\nA,B\n")
    one_line_error(vitrina("import", str(broken), "--org", org.id), "missing required columns: external_id")
    latin = tmp_path / "latin.csv"
    latin.write_bytes("external_id,sku,name\nL-1,S,Bague en or \u00e9\n".encode("latin-1"))
    one_line_error(vitrina("import", str(latin), "--org", org.id), "not UTF-8")
    one_line_error(vitrina("import", str(broken), "--org", org.id, "--map", "nonsense"), "map: bad column mapping")
    one_line_error(vitrina("import", str(broken), "--org", "org_nope"), "no organization")
    one_line_error(vitrina("import", str(broken), "--org", org.id, "--format", "xml"), "--format")
    assert vitrina("import", str(tmp_path / "missing.csv"), "--org", org.id).exit_code == 2


@pytest.mark.usefixtures("cli_env")
def test_sync_from_a_csv_file_and_an_http_feed(client: TestClient, org: OrgContext, location: str, tmp_path: Path,
                                                feed: feeds.Feed) -> None:
    created = client.post(INV, json={"location_id": location, "tracking": "bulk", "external_id": "Y-1", "sku": "A",
                                     "name": "Chain", "quantity": 5}, headers=org.headers)
    assert created.status_code == 201, created.text
    pos = tmp_path / "pos.csv"
    pos.write_bytes(csv_bytes([["Code", "quantity"], ["Y-1", 3]]))
    job = last_json(vitrina("sync", "--org", org.id, "--location", location, "--file", str(pos), "--map",
                            "Code=external_id", "--json"))
    assert job["status"] == "succeeded" and job["result"]["changed"] == 1
    assert item(client, org, "Y-1")["quantity"] == 3
    feed.pages["/stock"] = (200, {"content-type": "application/json"},
                            json.dumps([{"external_id": "Y-1", "quantity": 4}]).encode())
    result = vitrina("sync", "--org", org.id, "--location", location, "--type", "incremental", "--url",
                     feed.url("/stock"), "--header", "Authorization: Bearer pos-token")
    assert result.exit_code == 0, result.output
    assert "succeeded: 1 entries" in result.stderr
    assert feed.requests[-1]["headers"]["Authorization"] == "Bearer pos-token"
    assert [m["reason_code"] for m in movements(client, org, "Y-1")] == ["AUDIT", "AUDIT", "RECEIVED"]


@pytest.mark.usefixtures("cli_env")
def test_sync_errors_are_one_line(client: TestClient, org: OrgContext, location: str, tmp_path: Path,
                                  feed: feeds.Feed) -> None:
    pos = tmp_path / "pos.csv"
    pos.write_bytes(csv_bytes([["external_id", "quantity"], ["Z-1", 1]]))
    base = ("sync", "--org", org.id, "--location", location)
    one_line_error(vitrina(*base), "exactly one of --file and --url")
    one_line_error(vitrina(*base, "--file", str(pos), "--url", feed.url("/x")), "exactly one of")
    one_line_error(vitrina(*base, "--file", str(pos), "--type", "sometimes"), "--type")
    one_line_error(vitrina("sync", "--org", org.id, "--location", "loc_nope", "--file", str(pos)), "location")
    one_line_error(vitrina(*base, "--url", "https://10.1.2.3/feed"), "url")
    one_line_error(vitrina(*base, "--url", feed.url("/x"), "--header", "no colon"), "--header")
    feed.pages["/html"] = (200, {"content-type": "text/html"}, b"<html>sign in</html>")
    one_line_error(vitrina(*base, "--url", feed.url("/html")), "not JSON")
    assert client.get(f"{INV}/Z-1", headers=org.headers).status_code == 404


@pytest.mark.usefixtures("cli_env")
def test_snapshot_prints_items_and_totals_for_a_date(client: TestClient, org: OrgContext, location: str) -> None:
    created = client.post(INV, json={"location_id": location, "tracking": "bulk", "external_id": "SN-1",
                                     "sku": "SNAP-1", "name": "Hoops", "quantity": 4, "price": "10", "cost": "4"},
                          headers=org.headers)
    assert created.status_code == 201, created.text
    table = vitrina("snapshot", "--org", org.id)
    assert table.exit_code == 0, table.output
    assert "SNAP-1" in table.stdout and "Totals" in table.stdout and "40.00" in table.stdout
    body = last_json(vitrina("snapshot", "--org", org.id, "--location", location, "--json"))
    assert (body["count"], body["units"], body["retail_value"]) == (1, 4, {"USD": "40.00"})
    assert [line["sku"] for line in body["items"]] == ["SNAP-1"]
    past = last_json(vitrina("snapshot", "--org", org.id, "--date", "2020-01-01", "--json"))
    assert (past["count"], past["items"]) == (0, [])
    one_line_error(vitrina("snapshot", "--org", org.id, "--date", "soon"), "--date")
    one_line_error(vitrina("snapshot", "--org", org.id, "--location", "loc_nope"), "location")


def test_database_problems_are_one_line(tmp_path: Path, settings: Settings) -> None:
    """Through the real entry point (a subprocess): no traceback for an operator's mistake."""
    import subprocess
    import sys

    command = str(Path(sys.executable).with_name("vitrina"))
    cases = {f"sqlite:///{tmp_path / 'empty.db'}": "run `vitrina db upgrade`",
             "postgresql+psycopg://someone:hunter2@127.0.0.1:1/none": "cannot use the database"}
    for url, expected in cases.items():
        env = settings_env(settings) | {"VITRINA_DATABASE_URL": url}
        result = subprocess.run([command, "check"], env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 1, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error:") and expected in lines[0], result.stderr
        assert "hunter2" not in result.stderr


def test_db_upgrade_on_a_new_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VITRINA_DATABASE_URL", f"sqlite:///{tmp_path / 'new.db'}")
    monkeypatch.setenv("VITRINA_DATA_DIR", str(tmp_path / "data"))
    first = vitrina("db", "upgrade")
    assert first.exit_code == 0 and "up to date" in first.stderr, first.output
    assert vitrina("db", "upgrade").exit_code == 0, "idempotent"
    assert last_json(vitrina("check", "--json")) == {"ok": True, "violations": []}


@pytest.mark.slow
@pytest.mark.usefixtures("cli_env")
def test_seed_demo_builds_a_store_that_passes_check(client: TestClient) -> None:
    demo = last_json(vitrina("seed-demo", "--name", "CLI Demo Jewelers", "--json"))
    assert demo["inventory_items"] >= 2000 and demo["inventory_locations"] >= 2
    headers = {"X-API-Key": f"{demo['api_key']}:{demo['api_secret']}"}
    listed = client.get(INV, params={"limit": 1}, headers=headers)
    assert listed.status_code == 200 and listed.json()["pagination"]["total"] >= demo["inventory_items"]
    assert last_json(vitrina("check", "--json"))["ok"] is True
