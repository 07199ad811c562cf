"""Jinja2 for the pages: one environment with autoescaping always on, the filters the templates share, and
``render`` which adds the security headers and the one-time flash message."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from vitrina.core.money import exponent, quantize
from vitrina.core.time import as_utc
from vitrina.web import security

HERE = Path(__file__).parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"

_SIGNS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CHF": "CHF ", "CAD": "CA$", "AUD": "A$"}


def money(amount: Any, currency: str | None = "USD") -> str:
    """``$12,499.99``: rounded half-up at the currency's exponent (display only; never used for arithmetic)."""
    if amount is None or amount == "":
        return "—"
    try:
        value = amount if isinstance(amount, Decimal) else Decimal(str(amount))
    except InvalidOperation:
        return str(amount)
    code = (currency or "USD").upper()
    places = exponent(code)
    text = f"{quantize(value, code):,.{places}f}"
    sign = _SIGNS.get(code)
    return f"{sign}{text}" if sign else f"{text} {code}"


def when(value: datetime | date | str | None, precise: bool = False) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return str(value)
    if isinstance(value, datetime):
        fmt = "%Y-%m-%d %H:%M:%S" if precise else "%Y-%m-%d %H:%M"
        return as_utc(value).strftime(fmt) + " UTC"
    return value.isoformat()


def iso(value: datetime | None) -> str:
    return "" if value is None else as_utc(value).isoformat().replace("+00:00", "Z")


def humanize(value: Any) -> str:
    return str(value or "").replace("_", " ").capitalize()


def attribute(value: Any) -> str:
    """A free-form attribute for people: lists and objects as readable text instead of Python reprs."""
    if isinstance(value, dict):
        return ", ".join(f"{humanize(k).lower()} {attribute(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return "; ".join(attribute(v) for v in value)
    return "" if value is None else str(value)


@lru_cache(maxsize=64)
def _static_version(name: str) -> str:
    path = STATIC_DIR / name
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    except OSError:
        return "0"


def static_url(name: str) -> str:
    """A cache-busting URL: the content hash changes whenever the file does."""
    return f"/static/{name}?v={_static_version(name)}"


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(money=money, when=when, iso=iso, humanize=humanize, attribute=attribute)
    env.globals.update(static_url=static_url, nav=[])
    return env


env = _environment()


def render(request: Request, template: str, context: dict[str, Any] | None = None, *, status: int = 200,
           headers: dict[str, str] | None = None, referrer: str = "same-origin") -> HTMLResponse:
    flash = security.read_flash(request)
    staff = getattr(request.state, "staff", None)
    values = {"request": request, "staff": staff, "flash": flash, "path": request.url.path} | (context or {})
    body = env.get_template(template).render(values)
    response = HTMLResponse(body, status_code=status, headers=headers)
    if flash is not None:
        security.delete_cookie(request, response, security.FLASH_COOKIE)
    security.page_headers(response, referrer=referrer)
    return response
