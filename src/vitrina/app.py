"""``create_app(settings)``: the one place where Vitrina's HTTP application is assembled."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from types import ModuleType
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from vitrina.config import Settings
from vitrina.core import handlers, system
from vitrina.core.logging import configure_logging
from vitrina.core.middleware import RequestContextMiddleware
from vitrina.core.modules import import_present
from vitrina.core.ratelimit import RateLimiter
from vitrina.core.schemas import ErrorEnvelope
from vitrina.db.migrate import ensure_migrated
from vitrina.db.session import Database

API_PREFIX = "/api/v1"

# Each domain's router module. A module mounts ``router`` at its ``MOUNT_PREFIX`` (default /api/v1) and may
# offer ``root_router`` (mounted at /), ``startup(app)`` and ``shutdown(app)``.
DOMAIN_MODULES = (
    "vitrina.accounts.api", "vitrina.inventory.api", "vitrina.catalog.api", "vitrina.sales.api",
    "vitrina.orders.api", "vitrina.provenance.api", "vitrina.events.api", "vitrina.jobs.api",
    "vitrina.partners.api", "vitrina.web.pages",
    "vitrina.core.audit_api",
)

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorEnvelope, "description": description}
    for status, description in [
        (400, "Malformed JSON or parameters"), (401, "Missing or invalid credentials"),
        (403, "The credential lacks the scope"), (404, "Unknown id (also another organization's)"),
        (406, "Unsupported API version"), (409, "Conflict with the current state"),
        (412, "If-Match failed"), (413, "Body too large"), (422, "Invalid fields, each with its JSON path"),
        (429, "Rate limit exceeded; see Retry-After"),
    ]
}


def create_app(settings: Settings | None = None, *, check_migrations: bool = True) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings.log_level, json_logs=settings.log_json)
    modules = import_present(DOMAIN_MODULES)
    database = Database(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if check_migrations:
            ensure_migrated(database.engine)
        for hook in _hooks(modules, "startup"):
            hook(app)
        yield
        for hook in _hooks(modules, "shutdown"):
            hook(app)
        database.dispose()

    app = FastAPI(
        title="Vitrina API", version="1.0.0", lifespan=lifespan, responses=ERROR_RESPONSES,
        description="Inventory, catalog and provenance engine for jewelers. Conventions: see the README.",
    )
    app.state.settings = settings
    app.state.db = database
    app.state.rate_limiter = RateLimiter(settings.redis_url, settings.redis_prefix)

    app.include_router(system.router)
    for module in modules:
        if hasattr(module, "router"):
            app.include_router(module.router, prefix=getattr(module, "MOUNT_PREFIX", API_PREFIX))
        if hasattr(module, "root_router"):
            app.include_router(module.root_router)
    handlers.install(app)
    app.add_middleware(RequestContextMiddleware, max_body_bytes=settings.max_body_bytes,
                       max_upload_bytes=settings.max_upload_bytes)
    _document_security(app)
    return app


def _hooks(modules: list[ModuleType], name: str) -> list[Callable[[FastAPI], None]]:
    return [getattr(m, name) for m in modules if callable(getattr(m, name, None))]


def _document_security(app: FastAPI) -> None:
    """Describe both credential forms in the OpenAPI document so tools (and schemathesis) can use them."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description,
                             routes=app.routes)
        schema.setdefault("components", {})["securitySchemes"] = {
            "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            "apiKeyAuth": {"type": "apiKey", "in": "header", "name": "X-API-Key",
                           "description": "`<api_key>:<api_secret>`"},
        }
        schema["security"] = [{"bearerAuth": []}, {"apiKeyAuth": []}]
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


