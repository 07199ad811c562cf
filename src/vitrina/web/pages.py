"""The web pages, mounted at / by ``vitrina.app`` (``root_router``).

Each section of the back office lives in ``vitrina.web.views.<section>`` and calls its domain's
``service.py``. Domains are built independently, so a section whose domain is not installed is left out
(with its navigation link) instead of breaking the others.
"""

from __future__ import annotations

import importlib
import logging
import mimetypes
from dataclasses import dataclass
from types import ModuleType

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, RedirectResponse

from vitrina.core.errors import NotFoundError
from vitrina.web.domains import is_missing_domain
from vitrina.web.errors import SectionUnavailable
from vitrina.web.routing import StaffReader, error_page, page_router
from vitrina.web.templating import STATIC_DIR, env, static_url

log = logging.getLogger("vitrina.web")

# In navigation order. ``auth`` and ``verify`` have no navigation entry.
VIEW_MODULES = ("auth", "dashboard", "inventory", "catalog", "sales", "orders", "provenance", "settings",
                "webhooks", "verify")
# The back-office paths of each section that needs another domain, so a link into a section that is not
# installed gets a page saying so (instead of a bare 404).
SECTION_PATHS = {
    "catalog": ("Catalog and configurator", ("/app/catalog", "/app/settings/prices")),
    "sales": ("Point of sale and transactions", ("/app/pos", "/app/transactions")),
    "orders": ("Orders", ("/app/orders",)),
    "provenance": ("Passports", ("/app/passports",)),
}


@dataclass(frozen=True, slots=True)
class NavItem:
    label: str
    href: str
    scope: str = "read"


def _load_views() -> tuple[list[ModuleType], list[str]]:
    loaded, missing = [], []
    for name in VIEW_MODULES:
        try:
            loaded.append(importlib.import_module(f"vitrina.web.views.{name}"))
        except ImportError as exc:
            # Only a domain that is not installed (yet) is skipped; any other import error is a bug.
            if not is_missing_domain(exc):
                raise
            log.info("web section %s left out: %s is not installed", name, exc.name)
            missing.append(name)
    return loaded, missing


VIEWS, MISSING_SECTIONS = _load_views()
env.globals["nav"] = [NavItem(*entry) for module in VIEWS for entry in getattr(module, "NAV", ())]

root_router = APIRouter(include_in_schema=False)


@root_router.get("/")
def home() -> Response:
    return RedirectResponse("/app", status_code=303)


@root_router.get("/favicon.ico")
def favicon() -> Response:
    return RedirectResponse(static_url("favicon.svg"), status_code=301)


@root_router.get("/static/{name:path}")
def static_file(name: str, request: Request) -> Response:
    """The pages' own CSS, scripts and images. A URL carrying the content hash (``?v=``) is cached for good."""
    root = STATIC_DIR.resolve()
    path = (root / name).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise NotFoundError()
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    cache = "public, max-age=31536000, immutable" if "v" in request.query_params else "public, max-age=300"
    return FileResponse(path, media_type=media_type,
                        headers={"Cache-Control": cache, "X-Content-Type-Options": "nosniff"})


for _module in VIEWS:
    root_router.include_router(_module.router)


def unavailable_section(path: str) -> str | None:
    """The name of the left-out section that ``path`` belongs to, if any."""
    for section in MISSING_SECTIONS:
        label, prefixes = SECTION_PATHS.get(section, (section, ()))
        if any(path == prefix or path.startswith(prefix + "/") for prefix in prefixes):
            return label
    return None


# Last, so every real page matches first: what is left under /app is a section that is not installed, or nothing.
_fallback = page_router()


@_fallback.api_route("/app/{rest:path}", methods=["GET", "POST"])
def not_here(request: Request, staff: StaffReader, rest: str) -> Response:
    label = unavailable_section(request.url.path)
    if label is None:
        return error_page(request, NotFoundError("There is no such page."))
    return error_page(request, SectionUnavailable(f"{label} is not available in this installation yet.",
                                                  details={"section": label}))


root_router.include_router(_fallback)
