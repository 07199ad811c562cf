"""Smoke test of the benchmark harness (bench/): a micro run end to end, so CI notices a broken harness.

It asserts the shape of the result, never a speed: timings belong to ``make bench``, not to the test suite.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from bench.scenarios import SCENARIOS, route_missing

from bench import harness
from tests.conftest import PG_ADMIN_URL


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
