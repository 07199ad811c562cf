"""The benchmark scenarios of issue 11, each with its target, as data the harness runs.

Each scenario names the route it drives; the harness skips it (with the reason) when the running server's
``/openapi.json`` does not list that route, so the harness works while domains are still being built.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bench.tools import write_requests

API = "/api/v1"
PATCH_ITEMS = 10_000  # the PATCH scenario spreads its adjustments over this many items
BULK_LINES = 1_000


class Skip(Exception):
    """A scenario that cannot run on this tree or at this scale; the message says why."""


@dataclass
class Fixture:
    """What the loader produced and the scenarios draw on."""

    location_ids: list[str]
    item_ids: list[str]
    bulk_item_ids: list[str]
    history_start: datetime
    history_end: datetime
    big_location_id: str
    big_location_items: int = 0
    sun_messages: list[tuple[str, str, str]] = field(default_factory=list)  # (tag_id, e, c)
    configuration_body: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)  # why optional data (catalog, passports) is absent


@dataclass
class Scenario:
    name: str
    target: str
    ceiling: str  # "http", "pgbench" or "" (absolute target)
    min_ratio: float | None
    build: Callable[[Fixture, Path], Path]
    route: tuple[str, str]  # (method, OpenAPI path) the scenario needs
    domain: str
    max_p99_ms: float | None = None
    max_p50_ms: float | None = None
    connections: int | None = None


def _list(fx: Fixture, out: Path) -> Path:
    lines = [("GET", f"{API}/inventory?limit=50&status=active&location_id={loc}", "") for loc in fx.location_ids]
    return write_requests(out / "list.txt", lines)


def _get(fx: Fixture, out: Path) -> Path:
    sample = random.Random(1).sample(fx.item_ids, min(len(fx.item_ids), 20_000))
    return write_requests(out / "get.txt", [("GET", f"{API}/inventory/{i}", "") for i in sample])


def patch_items(fx: Fixture) -> list[str]:
    return fx.bulk_item_ids[:PATCH_ITEMS]


def _patch(fx: Fixture, out: Path) -> Path:
    body = json.dumps({"quantity_change": 1, "reason_code": "ADJUSTMENT", "notes": "bench"})
    return write_requests(out / "patch.txt", [("PATCH", f"{API}/inventory/{i}", body) for i in patch_items(fx)])


def _bulk(fx: Fixture, out: Path) -> Path:
    chunks = [fx.bulk_item_ids[start:start + BULK_LINES]
              for start in range(0, len(fx.bulk_item_ids) - BULK_LINES + 1, BULK_LINES)][:10]
    if not chunks:
        raise Skip(f"needs at least {BULK_LINES:,} bulk items; this scale has {len(fx.bulk_item_ids):,}")
    requests = []
    for chunk in chunks:
        body = json.dumps({"updates": [{"id": i, "quantity_change": 1, "reason_code": "ADJUSTMENT"} for i in chunk]})
        requests.append(("POST", f"{API}/inventory/bulk-update", body))
    return write_requests(out / "bulk.txt", requests)


def _snapshot(fx: Fixture, out: Path) -> Path:
    span = (fx.history_end - fx.history_start).total_seconds()
    rng = random.Random(2)
    lines = []
    for _ in range(500):
        at = fx.history_start + timedelta(seconds=rng.uniform(0.2, 0.95) * span)
        stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
        lines.append(("GET", f"{API}/inventory/snapshot?at={stamp}&location_id={fx.big_location_id}&limit=50", ""))
    return write_requests(out / "snapshot.txt", lines)


def _configure(fx: Fixture, out: Path) -> Path:
    if fx.configuration_body is None:
        raise Skip("no bridal-ring configuration to price: vitrina.catalog.demo provides no BENCH_CONFIGURATION")
    return write_requests(out / "configure.txt",
                          [("POST", f"{API}/product-configurations", json.dumps(fx.configuration_body))])


def _verify(fx: Fixture, out: Path) -> Path:
    if not fx.sun_messages:
        raise Skip("no SUN messages to verify: vitrina.provenance.demo provides no bench_sun_messages()")
    lines = [("POST", f"{API}/passports/verify", json.dumps({"tag_id": tag, "picc_data": e, "cmac": c}))
             for tag, e, c in fx.sun_messages]
    return write_requests(out / "verify.txt", lines)


ITEM = f"{API}/inventory/{{item_id}}"
SCENARIOS = [
    Scenario("inventory list", "≥ 35% of HTTP ceiling, p99 ≤ 50 ms", "http", 0.35, _list,
             ("get", f"{API}/inventory"), "inventory", max_p99_ms=50),
    Scenario("inventory get", "≥ 50% of HTTP ceiling", "http", 0.50, _get, ("get", ITEM), "inventory"),
    Scenario("inventory patch", "≥ 50% of pgbench -N TPS, zero lost updates", "pgbench", 0.50, _patch,
             ("patch", ITEM), "inventory"),
    Scenario("bulk-update 1,000 lines", "p50 ≤ 300 ms", "", None, _bulk,
             ("post", f"{API}/inventory/bulk-update"), "inventory", max_p50_ms=300, connections=4),
    Scenario("snapshot of the largest location", "p50 ≤ 200 ms", "", None, _snapshot,
             ("get", f"{API}/inventory/snapshot"), "inventory", max_p50_ms=200, connections=8),
    Scenario("configuration pricing", "≥ 30% of HTTP ceiling", "http", 0.30, _configure,
             ("post", f"{API}/product-configurations"), "catalog"),
    Scenario("SUN verification", "≥ 30% of HTTP ceiling", "http", 0.30, _verify,
             ("post", f"{API}/passports/verify"), "provenance"),
]


def route_missing(scenario: Scenario, routes: set[tuple[str, str]]) -> str | None:
    """Why ``scenario`` cannot run against a server whose OpenAPI document lists ``routes``, or None."""
    method, path = scenario.route
    if (method, path) in routes:
        return None
    return (f"route {method.upper()} {path} is not served yet (the {scenario.domain} domain is absent or "
            "incomplete in this tree)")
