"""Operational routes: liveness, readiness, metrics. No credentials, no envelope."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from vitrina.core import metrics
from vitrina.core.responses import bare

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> Response:
    return bare({"status": "ok"})


@router.get("/readyz", summary="The database (and Redis, when configured) answer",
            responses={503: {"description": "A dependency is down"}})
async def readyz(request: Request) -> Response:
    checks = await run_in_threadpool(_check_dependencies, request)
    ready = all(value == "ok" for value in checks.values())
    return bare({"status": "ok" if ready else "unavailable", "checks": checks}, status_code=200 if ready else 503)


def _check_dependencies(request: Request) -> dict[str, str]:
    checks: dict[str, str] = {}
    try:
        with request.app.state.db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    if request.app.state.settings.redis_url:
        try:
            checks["redis"] = "ok" if request.app.state.rate_limiter.ping() else "error: no answer"
        except Exception as exc:
            checks["redis"] = f"error: {type(exc).__name__}"
    return checks


@router.get("/metrics", summary="Prometheus metrics", response_class=PlainTextResponse)
async def prometheus_metrics() -> Response:
    body, content_type = await run_in_threadpool(metrics.render)
    return Response(body, media_type=content_type)
