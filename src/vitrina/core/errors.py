"""Errors are data: each stable error code is one exception type; the app's handler renders the envelope.

Domains subclass these for their own codes (``class ItemNotAvailable(ConflictError): code = "ITEM_NOT_AVAILABLE"``)
so a service raises a meaningful type and never builds an HTTP response itself.
"""

from __future__ import annotations

from typing import Any, ClassVar


class VitrinaError(Exception):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "BAD_REQUEST"
    default_message: ClassVar[str] = "The request could not be processed."

    def __init__(self, message: str | None = None, *, details: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        self.message = message or self.default_message
        self.details = details or {}
        self.headers = headers or {}
        super().__init__(self.message)


class BadRequest(VitrinaError):
    status, code = 400, "BAD_REQUEST"


class MalformedJson(BadRequest):
    code = "MALFORMED_JSON"
    default_message = "The request body is not valid JSON."


class Unauthorized(VitrinaError):
    status, code = 401, "UNAUTHORIZED"
    default_message = "Missing or invalid credentials."


class TokenExpired(Unauthorized):
    code = "TOKEN_EXPIRED"
    default_message = "The access token has expired."


class ForbiddenError(VitrinaError):
    status, code = 403, "FORBIDDEN"
    default_message = "This credential lacks the scope for this operation."


class NotFoundError(VitrinaError):
    status, code = 404, "NOT_FOUND"
    default_message = "The resource does not exist."


class MethodNotAllowed(VitrinaError):
    status, code = 405, "METHOD_NOT_ALLOWED"
    default_message = "This method is not allowed on this resource."


class UnsupportedVersion(VitrinaError):
    status, code = 406, "UNSUPPORTED_VERSION"
    default_message = "This API version is not supported; use application/vnd.vitrina.v1+json."


class ConflictError(VitrinaError):
    status, code = 409, "CONFLICT"
    default_message = "The request conflicts with the current state of the resource."


class IdempotencyInProgress(ConflictError):
    code = "IDEMPOTENCY_IN_PROGRESS"
    default_message = "A request with this Idempotency-Key is still being processed."


class PreconditionFailed(VitrinaError):
    status, code = 412, "PRECONDITION_FAILED"
    default_message = "The resource changed since you read it (If-Match did not match)."


class PayloadTooLarge(VitrinaError):
    status, code = 413, "PAYLOAD_TOO_LARGE"
    default_message = "The request body is too large."


class UnsupportedMediaType(VitrinaError):
    status, code = 415, "UNSUPPORTED_MEDIA_TYPE"
    default_message = "The request body's media type is not supported."


class ValidationFailed(VitrinaError):
    """422 with ``details.errors``: one entry per bad field, each with its JSON path (``$.lines[0].quantity``)."""

    status, code = 422, "VALIDATION_ERROR"
    default_message = "The request has invalid fields."

    def __init__(self, errors: list[dict[str, Any]], message: str | None = None) -> None:
        super().__init__(message, details={"errors": errors})
        self.errors = errors

    @classmethod
    def field(cls, path: str, message: str, **extra: Any) -> ValidationFailed:
        return cls([{"path": path, "message": message, **extra}])


class IdempotencyKeyReused(ValidationFailed):
    code = "IDEMPOTENCY_KEY_REUSED"
    default_message = "This Idempotency-Key was used with a different request."

    def __init__(self) -> None:
        super().__init__([{"path": "$header.Idempotency-Key", "message": "already used with another body"}])


class RateLimited(VitrinaError):
    status, code = 429, "RATE_LIMITED"
    default_message = "Too many requests; retry after the time in Retry-After."


class ServiceUnavailable(VitrinaError):
    status, code = 503, "SERVICE_UNAVAILABLE"
    default_message = "A dependency is unavailable."


class InternalError(VitrinaError):
    status, code = 500, "INTERNAL_ERROR"
    default_message = "An unexpected error occurred; it has been logged."


def json_path(loc: tuple[Any, ...] | list[Any]) -> str:
    """Render a Pydantic location such as ``("body", "lines", 0, "qty")`` as ``$.lines[0].qty``."""
    path = "$"
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}"
    return path
