"""Smoke test of the benchmark harness (bench/): a micro run end to end, so CI notices a broken harness.

It asserts the shape of the result, never a speed: timings belong to ``make bench``, not to the test suite.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from bench.scenarios import SCENARIOS, route_missing
from fastapi.testclient import TestClient

from bench import fixtures, harness
from tests.conftest import PG_ADMIN_URL
from tests.support import OrgContext
from vitrina.db.session import Database


def test_scenarios_of_absent_domains_are_skipped_with_the_route_they_need() -> None:
    inventory_only = {scenario.route for scenario in SCENARIOS if scenario.domain == "inventory"}
    reasons = {scenario.name: route_missing(scenario, inventory_only) for scenario in SCENARIOS}
    assert reasons["inventory get"] is None
    assert "POST /api/v1/product-configurations" in str(reasons["configuration pricing"])
    assert "provenance" in str(reasons["SUN verification"])


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (make system-deps installs it)")
def test_a_micro_run_produces_a_well_formed_result(db_kind: str, tmp_path: Path) -> None:
    if db_kind == "postgresql" and shutil.which("pgbench") is None:
        pytest.skip("pgbench is not installed (make system-deps installs it)")
    code = harness.main(["--scale", "micro", "--db", db_kind, "--seconds", "1", "--connections", "4",
                         "--workers", "1", "--only", "inventory get", "--import-rows", "200",
                         "--pgbench-scale", "1", "--redis-url", "", "--pg-admin-url", PG_ADMIN_URL,
                         "--results", str(tmp_path)])

    assert code == 0
    [saved] = list(tmp_path.glob("*.json"))
    report = json.loads(saved.read_text())
    assert report["items"] == harness.SCALES["micro"][0]
    assert report["load_seconds"] > 0
    assert report["ceilings"]["http_rps"] > 0
    assert ("pgbench_tps" in report["ceilings"]) == (db_kind == "postgresql")
    scenarios = {entry["name"]: entry for entry in report["scenarios"]}
    assert set(scenarios) == {"inventory get", "memory"}
    get = scenarios["inventory get"]
    assert get["requests"] > 0 and get["errors"] == 0, get
    assert get["p50_ms"] <= get["p99_ms"]
    assert get["ratio"] == round(get["rps"] / report["ceilings"]["http_rps"], 3)
    assert isinstance(get["met"], bool)
    assert all(size > 0 for size in scenarios["memory"]["rss_after_mb"])
    assert report["import"]["created"] == 200
    assert report["import"]["rows_per_second"] > 0
    assert report["ledger_violations"] == 0


def test_the_pricing_and_verification_fixtures_are_accepted_by_the_api(client: TestClient, org: OrgContext,
                                                                        database: Database) -> None:
    """The bodies the catalog and provenance scenarios send are valid: the bridal ring prices (five stones
    chosen) and every SUN message verifies as genuine, in the order the harness sends them."""
    with database.unit_of_work(organization_id=org.id) as session:
        fixtures.seed_catalog(session, org.id)
        messages = fixtures.sun_messages(session, organization_id=org.id, tags=2, taps_per_tag=2,
                                         server_secret=client.app.state.settings.signing_secret)

    priced = client.post("/api/v1/product-configurations", json=fixtures.bridal_configuration(), headers=org.headers)
    assert priced.status_code == 200, priced.text
    lines = priced.json()["data"]["breakdown"]["lines"]
    chosen = [line for line in lines if line["item"] in ("center_stone", "stone")]
    assert sum(line["count"] for line in chosen) == 5
    assert len(messages) == 4
    for tag_id, picc_data, cmac in messages:
        verified = client.post("/api/v1/passports/verify", headers=org.headers,
                               json={"tag_id": tag_id, "picc_data": picc_data, "cmac": cmac})
        assert verified.status_code == 200, verified.text
        assert verified.json()["data"]["authenticity"] == "confirmed", verified.json()
