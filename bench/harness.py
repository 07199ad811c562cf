"""``vitrina bench`` / ``make bench``: load a realistic jeweler, measure the ceilings, run every scenario.

Every figure is printed absolute and as a ratio to a ceiling measured in the same run on the same machine:
a bare ASGI app on the same server software and workers (HTTP ceiling) and ``pgbench -N`` with the same
client count (durable-write ceiling). Results are saved as JSON under bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench import load
from bench.scenarios import SCENARIOS, Fixture, Scenario
from bench.tools import pgbench_tps, run_wrk, start_uvicorn, stop, worker_rss_mb, write_requests

RESULTS = Path(__file__).parent / "results"
SCALES = {"tiny": (2_000, 20_000), "small": (50_000, 500_000), "medium": (200_000, 2_000_000),
          "full": (1_000_000, 10_000_000)}
console = Console()


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="vitrina bench", description=__doc__)
    parser.add_argument("--scale", default="full", choices=list(SCALES),
                        help="items/movements: tiny 2k/20k, small 50k/500k, medium 200k/2M, full 1M/10M")
    parser.add_argument("--db", default="postgresql", choices=("postgresql", "sqlite"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=10, help="duration of each wrk run")
    parser.add_argument("--only", default="", help="comma-separated scenario names (substring match)")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database afterwards")
    parser.add_argument("--pg-admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    items, movements = SCALES[args.scale]
    work = Path(tempfile.mkdtemp(prefix="vitrina-bench-"))
    report: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(), "scale": args.scale, "items": items, "movements": movements,
        "db": args.db, "workers": args.workers, "connections": args.connections, "seconds": args.seconds,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()}, "scenarios": [],
    }
    database = load.BenchDatabase.create(args.db, work, args.pg_admin_url)
    try:
        console.rule(f"loading {items:,} items / {movements:,} movements into {args.db}")
        started = time.perf_counter()
        org = load.create_organization(database.url)
        fixture = load.load_inventory(database.url, org.organization_id, items=items, movements=movements)
        report["load_seconds"] = round(time.perf_counter() - started, 1)
        load.prepare_catalog(database.url, org.organization_id, fixture)
        load.prepare_passports(database.url, org.organization_id, fixture)
        console.print(f"loaded in {report['load_seconds']} s")
        report["ceilings"] = measure_ceilings(args, database, work)
        report["scenarios"] = run_http_scenarios(args, database, org, fixture, work, report["ceilings"])
        report["ledger_violations"] = load.ledger_violations(database.url)
        report["import"] = load.measure_import(database.url, org.organization_id, work, rows=100_000,
                                               location_id=fixture.location_ids[-1])
    finally:
        if not args.keep:
            database.drop()
    report["finished_at"] = datetime.now(UTC).isoformat()
    save_and_print(report)
    return 0


def measure_ceilings(args: argparse.Namespace, database: load.BenchDatabase, work: Path) -> dict[str, float]:
    ceilings: dict[str, float] = {}
    process, url = start_uvicorn("bench.ceiling:app", workers=args.workers, env=dict(os.environ))
    try:
        requests = write_requests(work / "ceiling.txt", [("GET", "/", "")])
        ceilings["http_rps"] = run_wrk(url, requests, connections=args.connections, seconds=args.seconds).rps
    finally:
        stop(process)
    if database.kind == "postgresql":
        ceilings["pgbench_tps"] = pgbench_tps(database.name, clients=args.connections, seconds=args.seconds)
    console.print(f"ceilings: {ceilings}")
    return ceilings


def run_http_scenarios(args: argparse.Namespace, database: load.BenchDatabase, org: load.BenchOrg,
                       fixture: Fixture, work: Path, ceilings: dict[str, float]) -> list[dict[str, Any]]:
    env = dict(os.environ) | {"VITRINA_DATABASE_URL": database.url, "VITRINA_LOG_LEVEL": "WARNING",
                              "VITRINA_DATA_DIR": str(work / "data"), "VITRINA_SECRET_KEY": uuid.uuid4().hex,
                              "VITRINA_REDIS_URL": ""}
    process, url = start_uvicorn("vitrina.app:create_app", factory=True, workers=args.workers, env=env,
                                 log=work / "server.log")
    results = []
    try:
        rss_before = worker_rss_mb(process.pid)
        for scenario in selected(args.only):
            results.append(run_scenario(scenario, args, url, database.url, org, fixture, work, ceilings))
        rss_after = worker_rss_mb(process.pid)
        results.append({"name": "memory", "target": "≤ 250 MB RSS per worker",
                        "rss_before_mb": rss_before, "rss_after_mb": rss_after,
                        "met": bool(rss_after) and max(rss_after) <= 250})
    finally:
        stop(process)
    return results


def selected(only: str) -> list[Scenario]:
    wanted = [w.strip().lower() for w in only.split(",") if w.strip()]
    return [s for s in SCENARIOS if not wanted or any(w in s.name.lower() for w in wanted)]


def run_scenario(scenario: Scenario, args: argparse.Namespace, url: str, db_url: str, org: load.BenchOrg,
                 fixture: Fixture, work: Path, ceilings: dict[str, float]) -> dict[str, Any]:
    requests = scenario.build(fixture, work)
    entry: dict[str, Any] = {"name": scenario.name, "target": scenario.target}
    if requests is None:
        entry["skipped"] = "the routes or data this scenario needs are not available"
        return entry
    console.print(f"running {scenario.name} ...")
    counts_updates = scenario.name == "inventory patch"
    before = load.sum_quantities(db_url, fixture.bulk_item_ids[:10_000]) if counts_updates else 0
    result = run_wrk(url, requests, connections=scenario.connections or args.connections, seconds=args.seconds,
                     auth=org.auth_header)
    entry.update(result.as_dict())
    if counts_updates:
        # Every acknowledged +1 must be in the final quantities: lost = acknowledged - observed increase.
        gained = load.sum_quantities(db_url, fixture.bulk_item_ids[:10_000]) - before
        entry["lost_updates"] = (result.requests - result.errors) - gained
    ceiling = ceilings.get({"http": "http_rps", "pgbench": "pgbench_tps"}.get(scenario.ceiling, ""), 0.0)
    if ceiling:
        entry["ratio"] = round(result.rps / ceiling, 3)
    entry["met"] = meets(scenario, entry)
    return entry


def meets(scenario: Scenario, entry: dict[str, Any]) -> bool:
    checks = [entry.get("errors", 1) == 0, entry.get("lost_updates", 0) == 0]
    if scenario.min_ratio is not None:
        checks.append(entry.get("ratio", 0) >= scenario.min_ratio)
    if scenario.max_p99_ms is not None:
        checks.append(entry["p99_ms"] <= scenario.max_p99_ms)
    if scenario.max_p50_ms is not None:
        checks.append(entry["p50_ms"] <= scenario.max_p50_ms)
    return all(checks)


def save_and_print(report: dict[str, Any]) -> None:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{report['started_at'][:19].replace(':', '')}-{report['scale']}-{report['db']}.json"
    path.write_text(json.dumps(report, indent=2, default=str))
    table = Table("scenario", "target", "req/s", "p50 ms", "p99 ms", "errors", "ratio", "met",
                  title=f"Vitrina benchmark ({report['scale']}, {report['db']}, {report['workers']} workers)")
    for s in report["scenarios"]:
        if "skipped" in s:
            table.add_row(s["name"], s["target"], "-", "-", "-", "-", "-", f"skipped: {s['skipped']}")
        elif s["name"] == "memory":
            table.add_row("memory", s["target"], "", "", "", "", "", f"{s['rss_after_mb']} MB {_mark(s['met'])}")
        else:
            table.add_row(s["name"], s["target"], f"{s['rps']:.0f}", f"{s['p50_ms']}", f"{s['p99_ms']}",
                          str(s["errors"]), str(s.get("ratio", "")), _mark(s["met"]))
    imported = report.get("import") or {}
    if imported:
        table.add_row("CSV import 100k rows", "≥ 20,000 rows/s", f"{imported.get('rows_per_second', 0):.0f} rows/s",
                      "", "", str(imported.get("errors", "")), "", _mark(imported.get("met", False)))
    console.print(table)
    console.print(f"ceilings {report.get('ceilings')}; load {report.get('load_seconds')} s; "
                  f"lost updates {report.get('lost_updates')}; saved {path}")


def _mark(ok: bool) -> str:
    return "yes" if ok else "NO"


if __name__ == "__main__":
    raise SystemExit(main())
