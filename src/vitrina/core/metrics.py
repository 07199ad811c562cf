"""Prometheus metrics. With several worker processes set ``PROMETHEUS_MULTIPROC_DIR`` so ``/metrics``
aggregates all of them (prometheus_client's multiprocess mode)."""

from __future__ import annotations

import os
from collections.abc import Callable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as _multiprocess

REQUESTS = Counter("vitrina_http_requests_total", "HTTP requests by route template and status",
                   ["method", "route", "status"])
LATENCY = Histogram("vitrina_http_request_duration_seconds", "HTTP request latency by route template",
                    ["method", "route"],
                    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))

_gauges: dict[str, tuple[Gauge, Callable[[], float]]] = {}


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(seconds)


def register_gauge(name: str, documentation: str, read: Callable[[], float]) -> None:
    """A gauge whose value is read when /metrics is scraped (ledger size, webhook backlog, ...)."""
    if name not in _gauges:
        _gauges[name] = (Gauge(name, documentation, multiprocess_mode="max"), read)


def render() -> tuple[bytes, str]:
    for gauge, read in _gauges.values():
        try:
            gauge.set(read())
        except Exception:  # a metric must never break the scrape
            gauge.set(float("nan"))
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        _multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
