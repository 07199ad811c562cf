"""The benchmark scenarios of issue 11, each with its target, as data the harness runs."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bench.tools import write_requests


@dataclass
class Fixture:
    """What the loader produced and the scenarios draw on."""

    location_ids: list[str]
    item_ids: list[str]
    bulk_item_ids: list[str]
    history_start: datetime
    history_end: datetime
    big_location_id: str
    sun_messages: list[tuple[str, str, str]] = field(default_factory=list)  # (tag_id, e, c)
    configuration_body: dict[str, Any] | None = None


@dataclass
class Scenario:
    name: str
    target: str
    ceiling: str  # "http", "pgbench" or "" (absolute target)
    min_ratio: float | None
    build: Callable[[Fixture, Path], Path | None]
    max_p99_ms: float | None = None
    max_p50_ms: float | None = None
    connections: int | None = None


def _list(fx: Fixture, out: Path) -> Path:
    lines = [("GET", f"/api/v1/inventory?limit=50&status=active&location_id={loc}", "") for loc in fx.location_ids]
    return write_requests(out / "list.txt", lines)


def _get(fx: Fixture, out: Path) -> Path:
    sample = random.sample(fx.item_ids, min(len(fx.item_ids), 20_000))
    return write_requests(out / "get.txt", [("GET", f"/api/v1/inventory/{i}", "") for i in sample])


def _patch(fx: Fixture, out: Path) -> Path:
    body = json.dumps({"quantity_change": 1, "reason_code": "ADJUSTMENT", "notes": "bench"})
    return write_requests(out / "patch.txt", [("PATCH", f"/api/v1/inventory/{i}", body)
                                               for i in fx.bulk_item_ids[:10_000]])


def _bulk(fx: Fixture, out: Path) -> Path:
    requests = []
    for start in range(0, min(len(fx.bulk_item_ids), 10_000), 1000):
        chunk = fx.bulk_item_ids[start:start + 1000]
        if len(chunk) < 1000:
            break
        body = json.dumps({"updates": [{"id": i, "quantity_change": 1, "reason_code": "ADJUSTMENT"} for i in chunk]})
        requests.append(("POST", "/api/v1/inventory/bulk-update", body))
    return write_requests(out / "bulk.txt", requests)


def _snapshot(fx: Fixture, out: Path) -> Path:
    span = (fx.history_end - fx.history_start).total_seconds()
    lines = []
    for _ in range(500):
        at = fx.history_start + timedelta(seconds=random.uniform(0.2, 0.95) * span)
        stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
        lines.append(("GET", f"/api/v1/inventory/snapshot?at={stamp}&location_id={fx.big_location_id}&limit=50", ""))
    return write_requests(out / "snapshot.txt", lines)


def _configure(fx: Fixture, out: Path) -> Path | None:
    if fx.configuration_body is None:
        return None
    return write_requests(out / "configure.txt",
                          [("POST", "/api/v1/product-configurations", json.dumps(fx.configuration_body))])


def _verify(fx: Fixture, out: Path) -> Path | None:
    if not fx.sun_messages:
        return None
    lines = [("POST", "/api/v1/passports/verify", json.dumps({"tag_id": tag, "picc_data": e, "cmac": c}))
             for tag, e, c in fx.sun_messages]
    return write_requests(out / "verify.txt", lines)


SCENARIOS = [
    Scenario("inventory list", "≥ 35% of HTTP ceiling, p99 ≤ 50 ms", "http", 0.35, _list, max_p99_ms=50),
    Scenario("inventory get", "≥ 50% of HTTP ceiling", "http", 0.50, _get),
    Scenario("inventory patch", "≥ 50% of pgbench -N TPS, zero lost updates", "pgbench", 0.50, _patch),
    Scenario("bulk-update 1,000 lines", "p50 ≤ 300 ms", "", None, _bulk, max_p50_ms=300, connections=4),
    Scenario("snapshot 50k-item location", "p50 ≤ 200 ms", "", None, _snapshot, max_p50_ms=200, connections=8),
    Scenario("configuration pricing", "≥ 30% of HTTP ceiling", "http", 0.30, _configure),
    Scenario("SUN verification", "≥ 30% of HTTP ceiling", "http", 0.30, _verify),
]
