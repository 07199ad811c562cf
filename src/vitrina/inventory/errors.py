"""Inventory's error codes: one exception type per stable code (API.md §3)."""

from __future__ import annotations

from typing import Any

from vitrina.core.errors import ConflictError, NotFoundError, ValidationFailed


class LocationNotFound(NotFoundError):
    code = "LOCATION_NOT_FOUND"
    default_message = "No such location."


class LocationCodeTaken(ConflictError):
    code = "LOCATION_CODE_TAKEN"
    default_message = "Another location already uses this code."


class LocationHoldsStock(ConflictError):
    code = "LOCATION_HOLDS_STOCK"
    default_message = "The location still holds stock; transfer or adjust it to zero first."


class ItemNotFound(NotFoundError):
    code = "ITEM_NOT_FOUND"
    default_message = "No such inventory item."


class ReservationNotFound(NotFoundError):
    code = "RESERVATION_NOT_FOUND"
    default_message = "No such reservation on this item."


class ExternalIdTaken(ConflictError):
    code = "EXTERNAL_ID_TAKEN"
    default_message = "Another item already uses this external_id."


class CertificateTaken(ConflictError):
    code = "CERTIFICATE_TAKEN"
    default_message = "A serialized item with this sku and cert_number already exists."


class InsufficientStock(ConflictError):
    code = "INSUFFICIENT_STOCK"
    default_message = "The quantity may not go below zero or below the reserved quantity."


class QuantityChanged(ConflictError):
    code = "QUANTITY_CHANGED"
    default_message = "The item's quantity is not the expected_quantity; read it again and retry."


class QuantityOutOfRange(ConflictError):
    code = "QUANTITY_OUT_OF_RANGE"
    default_message = "A serialized item's quantity stays within 0..1."


class ItemNotAvailable(ConflictError):
    code = "ITEM_NOT_AVAILABLE"
    default_message = "The item is not available in that quantity (sold, reserved, archived or in repair)."


class ItemArchived(ConflictError):
    code = "ITEM_ARCHIVED"
    default_message = "The item is archived; set its status back to active first."


class ItemReserved(ConflictError):
    code = "ITEM_RESERVED"
    default_message = "The item has active reservations; release them first."


class InvalidTransition(ConflictError):
    code = "INVALID_TRANSITION"
    default_message = "The item cannot move to that status from its current one."


class BulkUpdateFailed(ConflictError):
    """Some lines of an all-or-nothing bulk update conflict with the stock; nothing was applied."""

    code = "BULK_UPDATE_FAILED"
    default_message = "Some lines cannot be applied; nothing was changed."

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(details={"errors": errors})
        self.errors = errors


class UseAdjustment(ValidationFailed):
    code = "USE_ADJUSTMENT"
    default_message = "Quantities change only through adjustments (PATCH), sales and transfers."


class UseTransfer(ValidationFailed):
    code = "USE_TRANSFER"
    default_message = "An item changes location or room only through POST /inventory/{id}/transfer."
