"""Exception handlers: every error leaves as the envelope of API.md §1, with its stable code."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from vitrina.core.errors import (
    BadRequest,
    InternalError,
    MalformedJson,
    MethodNotAllowed,
    NotFoundError,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
    VitrinaError,
    json_path,
)
from vitrina.core.middleware import error_body

log = logging.getLogger("vitrina.errors")

_HTTP_STATUS_ERRORS: dict[int, type[VitrinaError]] = {
    400: BadRequest, 404: NotFoundError, 405: MethodNotAllowed, 413: PayloadTooLarge, 415: UnsupportedMediaType,
}


def render(request: Request, error: VitrinaError) -> Response:
    request_id = request.scope.get("state", {}).get("request_id", "req_unknown")
    return Response(error_body(error, request_id), status_code=error.status, media_type="application/json",
                    headers=error.headers)


def validation_error(exc: RequestValidationError) -> VitrinaError:
    errors: list[dict[str, Any]] = []
    for item in exc.errors():
        if item.get("type") == "json_invalid":
            return MalformedJson(details={"position": item.get("ctx", {}).get("error")})
        loc = list(item.get("loc", ()))
        where = loc.pop(0) if loc and loc[0] in ("body", "query", "path", "header", "cookie") else "body"
        entry: dict[str, Any] = {"path": json_path(loc), "in": where, "message": item.get("msg", "invalid"),
                                 "type": item.get("type")}
        errors.append(entry)
    return ValidationFailed(errors)


def install(app: FastAPI) -> None:
    @app.exception_handler(VitrinaError)
    async def _domain(request: Request, exc: VitrinaError) -> Response:
        return render(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        return render(request, validation_error(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        error_type = _HTTP_STATUS_ERRORS.get(exc.status_code, BadRequest)
        message = exc.detail if isinstance(exc.detail, str) and exc.status_code != 404 else None
        return render(request, error_type(message, headers=dict(exc.headers or {})))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error", extra={"path": request.url.path})
        return render(request, InternalError())
