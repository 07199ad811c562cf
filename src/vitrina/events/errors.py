"""Error codes of events and webhooks (API.md §8)."""

from __future__ import annotations

from vitrina.core.errors import ConflictError, NotFoundError, ValidationFailed


class WebhookNotFound(NotFoundError):
    code = "WEBHOOK_NOT_FOUND"
    default_message = "No such webhook subscription."


class DeliveryNotFound(NotFoundError):
    code = "DELIVERY_NOT_FOUND"
    default_message = "No such delivery for this webhook subscription."


class WebhookUrlNotAllowed(ValidationFailed):
    """422: the URL fails the SSRF policy (scheme, credentials, or an address that is not public)."""

    code = "WEBHOOK_URL_NOT_ALLOWED"
    default_message = "This webhook URL is not allowed."

    def __init__(self, reason: str, path: str = "$.url") -> None:
        super().__init__([{"path": path, "message": reason}], message=f"This webhook URL is not allowed: {reason}.")


class WebhookDisabled(ConflictError):
    code = "WEBHOOK_DISABLED"
    default_message = "The webhook subscription is disabled; enable it first (PATCH status=active)."


class DeliveryInProgress(ConflictError):
    code = "DELIVERY_IN_PROGRESS"
    default_message = "A worker is sending this delivery right now; retry when it has finished."
