"""One pure-ASGI middleware for what every HTTP response shares: request id, API version negotiation,
body size limits, rate-limit headers, metrics and the access log.

Pure ASGI (not ``BaseHTTPMiddleware``) because it sits on every request's hot path.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

import orjson
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vitrina.core import metrics
from vitrina.core.errors import BadRequest, PayloadTooLarge, UnsupportedVersion, VitrinaError

log = logging.getLogger("vitrina.access")

_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
_VENDOR_VERSION = re.compile(r"application/vnd\.vitrina\.v(\d+)(?:\+json)?", re.IGNORECASE)
SUPPORTED_VERSION = "1"


def error_body(error: VitrinaError, request_id: str) -> bytes:
    return orjson.dumps({
        "success": False,
        "error": {"code": error.code, "message": error.message, "details": error.details},
        "requestId": request_id,
    })


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        request_id = _request_id(headers.get("x-request-id"))
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = request_id
        started = time.perf_counter()
        status_holder = {"status": 500}

        early = self._refuse_early(headers) or _refuse_nul(scope)
        if early is not None:
            await _send_error(send, early, request_id)
            self._observe(scope, early.status, started)
            return

        limit = self.max_upload_bytes if headers.get("content-type", "").startswith("multipart/") \
            else self.max_body_bytes
        receive = _limited_receive(receive, limit)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                extra = [(b"x-request-id", request_id.encode())]
                for name, value in state.get("rate_limit_headers", {}).items():
                    extra.append((name.lower().encode(), value.encode()))
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except _BodyTooLarge:
            await _send_error(send, PayloadTooLarge(), request_id)
            status_holder["status"] = 413
        finally:
            self._observe(scope, status_holder["status"], started)

    def _refuse_early(self, headers: dict[str, str]) -> VitrinaError | None:
        for version in _VENDOR_VERSION.findall(headers.get("accept", "")):
            if version != SUPPORTED_VERSION:
                return UnsupportedVersion()
        declared = headers.get("content-length")
        if declared and declared.isdigit():
            limit = self.max_upload_bytes if headers.get("content-type", "").startswith("multipart/") \
                else self.max_body_bytes
            if int(declared) > limit:
                return PayloadTooLarge(details={"limit_bytes": limit})
        return None

    @staticmethod
    def _observe(scope: Scope, status: int, started: float) -> None:
        elapsed = time.perf_counter() - started
        route = scope.get("route")
        template = getattr(route, "path", None) or "<unmatched>"
        metrics.observe_request(scope["method"], template, status, elapsed)
        state = scope.get("state", {})
        principal = state.get("principal")
        if log.isEnabledFor(logging.INFO):
            log.info("request", extra={
                "request_id": state.get("request_id"), "method": scope["method"], "path": scope["path"],
                "route": template, "status": status, "duration_ms": round(elapsed * 1000, 2),
                "organization_id": getattr(principal, "organization_id", None),
                "key_id": getattr(principal, "key_id", None),
            })


class _BodyTooLarge(HTTPException):
    """An HTTPException so that FastAPI's body parsing re-raises it instead of wrapping it in a 400."""

    def __init__(self) -> None:
        super().__init__(status_code=413, detail=PayloadTooLarge.default_message)


def _limited_receive(receive: Receive, limit: int) -> Receive:
    """Counts body bytes as they arrive, for chunked bodies that declared no length."""
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _BodyTooLarge()
        return message

    return wrapped


def _refuse_nul(scope: Scope) -> VitrinaError | None:
    # No id, filter or name legitimately holds NUL, and PostgreSQL text cannot: refuse it before any query.
    if "\x00" in scope.get("path", "") or b"%00" in scope.get("query_string", b"").lower():
        return BadRequest("NUL characters are not allowed in the URL.")
    return None


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def _request_id(supplied: str | None) -> str:
    if supplied and _SANE_REQUEST_ID.match(supplied):
        return supplied
    return f"req_{uuid.uuid4().hex}"


async def _send_error(send: Send, error: VitrinaError, request_id: str) -> None:
    body = error_body(error, request_id)
    await send({"type": "http.response.start", "status": error.status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"x-request-id", request_id.encode())]})
    await send({"type": "http.response.body", "body": body})
