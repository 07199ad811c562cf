"""``vitrina bench`` / ``make bench``: load a realistic jeweler, measure the ceilings, run every scenario.

Every figure is printed absolute and as a ratio to a ceiling measured in the same run on the same machine:
a bare ASGI app on the same server software and workers (HTTP ceiling) and ``pgbench -N`` with the same
client count (durable-write ceiling). Scenarios whose routes the server does not serve yet are skipped with
the reason. Results are saved as JSON under bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench import importer, load
from bench.scenarios import SCENARIOS, Fixture, Scenario, Skip, patch_items, route_missing
from bench.tools import (
    ceiling_command,
    openapi_routes,
    pgbench_tps,
    run_wrk,
    start_server,
    stop,
    vitrina_command,
    worker_rss_mb,
    write_requests,
)

RESULTS = Path(__file__).parent / "results"
# items, movements
SCALES = {"micro": (300, 1_500), "tiny": (5_000, 50_000), "small": (50_000, 500_000),
          "medium": (200_000, 2_000_000), "full": (1_000_000, 10_000_000)}
MEMORY_LIMIT_MB = 250
# Wide enough for the results table when the output is a file or a CI log.
console = Console(width=None if sys.stdout.isatty() else 200)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="vitrina bench", description=__doc__)
    parser.add_argument("--scale", default="full", choices=list(SCALES),
                        help="items/movements: micro 300/1.5k, tiny 5k/50k, small 50k/500k, medium 200k/2M, "
                             "full 1M/10M (default)")
    parser.add_argument("--db", default="postgresql", choices=("postgresql", "sqlite"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=10, help="duration of each wrk run")
    parser.add_argument("--only", default="", help="comma-separated scenario names (substring match)")
    parser.add_argument("--import-rows", type=int, default=100_000, help="rows of the CSV import measurement")
    parser.add_argument("--profile", action="store_true", help="write a pyinstrument profile of the import")
    parser.add_argument("--pgbench-scale", type=int, default=10, help="pgbench -i scale of the write ceiling")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database afterwards")
    parser.add_argument("--results", type=Path, default=RESULTS, help="directory for the JSON result")
    parser.add_argument("--pg-admin-url", default=os.environ.get(
        "VITRINA_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--redis-url", default=os.environ.get("VITRINA_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
                        help="Redis for rate limiting as in production ('' for none)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    # One server secret for the run: the passports' keys are sealed with it before the server starts.
    args.secret_key = uuid.uuid4().hex
    items, movements = SCALES[args.scale]
    work = Path(tempfile.mkdtemp(prefix="vitrina-bench-"))
    report: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(), "scale": args.scale, "items": items, "movements": movements,
        "db": args.db, "workers": args.workers, "connections": args.connections, "seconds": args.seconds,
        "command": "vitrina bench " + " ".join(sys.argv[1:] if argv is None else argv),
        "machine": machine(), "scenarios": [], "notes": [],
    }
    database = load.BenchDatabase.create(args.db, work, args.pg_admin_url)
    try:
        run(args, report, database, work)
    finally:
        if not args.keep:
            database.drop()
        shutil.rmtree(work, ignore_errors=True)
    report["finished_at"] = datetime.now(UTC).isoformat()
    save_and_print(report, args.results)
    return 0


def machine() -> dict[str, Any]:
    load_average = os.getloadavg()
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
            "load_average_at_start": [round(x, 2) for x in load_average]}


def run(args: argparse.Namespace, report: dict[str, Any], database: load.BenchDatabase, work: Path) -> None:
    items, movements = SCALES[args.scale]
    console.rule(f"loading {items:,} items / {movements:,} movements into {args.db}")
    started = time.perf_counter()
    org = load.create_organization(database.url)
    fixture = load.load_inventory(database.url, org.organization_id, items=items, movements=movements)
    report["load_seconds"] = round(time.perf_counter() - started, 1)
    report["load_rows_per_second"] = round((items + movements) / report["load_seconds"])
    domains = {scenario.domain for scenario in selected(args.only)}
    if "catalog" in domains:
        load.prepare_catalog(database.url, org.organization_id, fixture)
    if "provenance" in domains:
        load.prepare_passports(database.url, org.organization_id, fixture, server_secret=args.secret_key)
    report["notes"] += fixture.notes
    console.print(f"loaded in {report['load_seconds']} s ({report['load_rows_per_second']:,} rows/s)")
    report["ceilings"] = measure_ceilings(args, database, work)
    report["scenarios"] = run_http_scenarios(args, database, org, fixture, work, report["ceilings"])
    remeasure_http_ceiling(args, report, work)
    report["ledger_violations"] = load.ledger_violations(database.url)
    report["import"] = measure_import(args, database, org, fixture, work)


def measure_ceilings(args: argparse.Namespace, database: load.BenchDatabase, work: Path) -> dict[str, float]:
    ceilings: dict[str, float] = http_ceiling(args, work)
    if database.kind == "postgresql":
        ceilings["pgbench_tps"] = pgbench_tps(database.name, clients=args.connections, seconds=args.seconds,
                                              scale=args.pgbench_scale)
    console.print(f"ceilings: {ceilings}")
    return ceilings


def http_ceiling(args: argparse.Namespace, work: Path) -> dict[str, float]:
    process, url = start_server(ceiling_command(args.workers), env=dict(os.environ), log=work / "ceiling.log",
                                name="the HTTP ceiling app")
    try:
        requests = write_requests(work / "ceiling.txt", [("GET", "/", "")])
        result = run_wrk(url, requests, connections=args.connections, seconds=args.seconds)
    finally:
        stop(process)
    return {"http_rps": result.rps, "http_p50_ms": result.p50_ms, "http_p99_ms": result.p99_ms}


def remeasure_http_ceiling(args: argparse.Namespace, report: dict[str, Any], work: Path) -> None:
    """The HTTP ceiling again after the scenarios: on a shared machine the spread between the two says how far
    the ratios can be trusted."""
    if not any("ratio" in entry for entry in report["scenarios"]):
        return
    after = http_ceiling(args, work)["http_rps"]
    report["ceilings"]["http_rps_after"] = after
    report["ceilings"]["http_spread"] = round(abs(after - report["ceilings"]["http_rps"]) /
                                              max(after, report["ceilings"]["http_rps"]), 3)


def server_env(args: argparse.Namespace, database: load.BenchDatabase, work: Path) -> dict[str, str]:
    return dict(os.environ) | {"VITRINA_DATABASE_URL": database.url, "VITRINA_LOG_LEVEL": "WARNING",
                               "VITRINA_DATA_DIR": str(work / "data"), "VITRINA_SECRET_KEY": args.secret_key,
                               "VITRINA_AUTH_CACHE_SECONDS": "2",  # the documented operator option; see BENCH.md
                               "VITRINA_REDIS_URL": args.redis_url,
                               "VITRINA_REDIS_PREFIX": f"vitrina-bench-{uuid.uuid4().hex[:8]}:"}


def run_http_scenarios(args: argparse.Namespace, database: load.BenchDatabase, org: load.BenchOrg,
                       fixture: Fixture, work: Path, ceilings: dict[str, float]) -> list[dict[str, Any]]:
    process, url = start_server(vitrina_command(args.workers), env=server_env(args, database, work),
                                log=work / "server.log", name="vitrina serve")
    results = []
    try:
        routes = openapi_routes(url)
        rss_before = worker_rss_mb(process.pid)
        for scenario in selected(args.only):
            results.append(run_scenario(scenario, args, url, routes, database.url, org, fixture, work, ceilings))
        api_import = import_through_api(args, routes, url, org, fixture, work, server_env(args, database, work))
        rss_after = worker_rss_mb(process.pid)
        results.append({"name": "memory", "target": f"≤ {MEMORY_LIMIT_MB} MB RSS per worker after the run",
                        "rss_before_mb": rss_before, "rss_after_mb": rss_after,
                        "met": bool(rss_after) and max(rss_after) <= MEMORY_LIMIT_MB})
    finally:
        stop(process)
    if api_import is not None:
        results.append(api_import)
    return results


def import_through_api(args: argparse.Namespace, routes: set[tuple[str, str]], url: str, org: load.BenchOrg,
                       fixture: Fixture, work: Path, env: dict[str, str]) -> dict[str, Any] | None:
    """The same CSV through ``POST /inventory/import`` and a worker, when the jobs domain serves that route."""
    entry: dict[str, Any] = {"name": "CSV import through the API", "target": "≥ 20,000 rows/s"}
    wanted = [w.strip().lower() for w in args.only.split(",") if w.strip()]
    if (wanted and not any(w in entry["name"].lower() for w in wanted)) or not args.import_rows:
        return None
    if importer.IMPORT_ROUTE not in routes:
        entry["skipped"] = "route POST /api/v1/inventory/import is not served yet (the jobs domain is absent)"
    else:
        console.print(f"importing {args.import_rows:,} CSV rows through the API ...")
        path = importer.write_import_csv(work / "api-import.csv", args.import_rows, fixture.location_ids[-1],
                                         prefix="API")
        try:
            entry.update(importer.measure_api(url, org.auth_header, path, worker_env=env, log=work / "worker.log"))
        except Exception as exc:
            entry.update({"error": f"{type(exc).__name__}: {exc}", "met": False})
    return entry


def selected(only: str) -> list[Scenario]:
    wanted = [w.strip().lower() for w in only.split(",") if w.strip()]
    return [s for s in SCENARIOS if not wanted or any(w in s.name.lower() for w in wanted)]


def run_scenario(scenario: Scenario, args: argparse.Namespace, url: str, routes: set[tuple[str, str]],
                 db_url: str, org: load.BenchOrg, fixture: Fixture, work: Path,
                 ceilings: dict[str, float]) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": scenario.name, "target": scenario.target,
                             "connections": scenario.connections or args.connections}
    try:
        missing = route_missing(scenario, routes)
        if missing:
            raise Skip(missing)
        requests = scenario.build(fixture, work)
    except Skip as skip:
        entry["skipped"] = str(skip)
        console.print(f"[yellow]skipped {scenario.name}: {skip}[/]")
        return entry
    console.print(f"running {scenario.name} ...")
    try:
        entry.update(measure(scenario, args, url, db_url, org, fixture, requests))
    except Exception as exc:
        entry["error"] = f"{type(exc).__name__}: {exc}"
        entry["met"] = False
        console.print(f"[red]{scenario.name} failed: {entry['error']}[/]")
        return entry
    ceiling = ceilings.get({"http": "http_rps", "pgbench": "pgbench_tps"}.get(scenario.ceiling, ""), 0.0)
    if ceiling:
        entry["ceiling"] = ceiling
        entry["ratio"] = round(entry["rps"] / ceiling, 3)
    entry["met"] = meets(scenario, entry)
    return entry


def measure(scenario: Scenario, args: argparse.Namespace, url: str, db_url: str, org: load.BenchOrg,
            fixture: Fixture, requests: Path) -> dict[str, Any]:
    counts_updates = scenario.name == "inventory patch"
    watched = patch_items(fixture)
    before = load.sum_quantities(db_url, watched) if counts_updates else 0
    result = run_wrk(url, requests, connections=scenario.connections or args.connections, seconds=args.seconds,
                     auth=org.auth_header)
    entry: dict[str, Any] = dict(result.as_dict())
    if counts_updates:
        # Every acknowledged +1 must be in the final quantities. wrk stops with requests in flight, which the
        # server may still apply: those show as applied-but-unacknowledged, never as lost.
        gained = load.sum_quantities(db_url, watched) - before
        acknowledged = result.requests - result.errors
        entry["acknowledged"] = acknowledged
        entry["applied"] = gained
        entry["lost_updates"] = max(0, acknowledged - gained)
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


def measure_import(args: argparse.Namespace, database: load.BenchDatabase, org: load.BenchOrg, fixture: Fixture,
                   work: Path) -> dict[str, Any]:
    """The CSV import target through the inventory write path (in process; see bench/importer.py)."""
    if not args.import_rows:
        return {"skipped": "--import-rows 0"}
    console.print(f"importing {args.import_rows:,} CSV rows ...")
    path = importer.write_import_csv(work / "import.csv", args.import_rows, fixture.location_ids[-1])
    profile = args.results / "import-profile.txt" if args.profile else None
    if profile:
        args.results.mkdir(parents=True, exist_ok=True)
    try:
        return importer.measure_domain(database.url, org.organization_id, path, profile_to=profile)
    except Exception as exc:
        return {"rows": args.import_rows, "error": f"{type(exc).__name__}: {exc}", "met": False}


def save_and_print(report: dict[str, Any], directory: Path = RESULTS) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{report['started_at'][:19].replace(':', '')}-{report['scale']}-{report['db']}.json"
    path.write_text(json.dumps(report, indent=2, default=str) + "\n")
    console.print(results_table(report))
    ceilings = report.get("ceilings", {})
    console.print(f"ceilings: HTTP {ceilings.get('http_rps', '-')} req/s (again after the scenarios: "
                  f"{ceilings.get('http_rps_after', '-')}), pgbench -N {ceilings.get('pgbench_tps', '-')} TPS; "
                  f"load {report.get('load_seconds')} s; ledger violations {report.get('ledger_violations')}")
    for note in report.get("notes", []):
        console.print(f"note: {note}")
    console.print(f"saved {path}")
    return path


def results_table(report: dict[str, Any]) -> Table:
    table = Table("scenario", "target", "req/s", "p50 ms", "p99 ms", "errors", "ratio", "met",
                  title=f"Vitrina benchmark ({report['scale']}, {report['db']}, {report['workers']} workers, "
                        f"{report['connections']} connections)")
    for s in report["scenarios"]:
        if "skipped" in s:
            table.add_row(s["name"], s["target"], "-", "-", "-", "-", "-", f"skipped: {s['skipped']}")
        elif "error" in s:
            table.add_row(s["name"], s["target"], "-", "-", "-", "-", "-", f"NO: {s['error']}")
        elif "rows_per_second" in s:
            table.add_row(s["name"], s["target"], f"{s['rows_per_second']:,} rows/s", "", "", "", "", _mark(s["met"]))
        elif s["name"] == "memory":
            table.add_row("memory", s["target"], "", "", "", "", "", f"{s['rss_after_mb']} MB {_mark(s['met'])}")
        else:
            table.add_row(s["name"], s["target"], f"{s['rps']:.0f}", f"{s['p50_ms']}", f"{s['p99_ms']}",
                          str(s["errors"]), str(s.get("ratio", "")), _mark(s["met"]))
    imported = report.get("import") or {}
    if "rows_per_second" in imported:
        table.add_row(f"CSV import {imported['rows']:,} rows (write path)", "≥ 20,000 rows/s",
                      f"{imported['rows_per_second']:,} rows/s", "", "", "0", "", _mark(imported["met"]))
    elif imported:
        table.add_row("CSV import", "≥ 20,000 rows/s", "-", "", "", "", "",
                      imported.get("skipped") or f"NO: {imported.get('error')}")
    return table


def _mark(ok: bool) -> str:
    return "yes" if ok else "NO"


if __name__ == "__main__":
    raise SystemExit(main())
