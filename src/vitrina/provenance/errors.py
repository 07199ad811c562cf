"""Provenance error codes (API.md §7): one exception type per stable code."""

from __future__ import annotations

from vitrina.core.errors import ConflictError, NotFoundError, RateLimited


class PassportNotFound(NotFoundError):
    code = "PASSPORT_NOT_FOUND"
    default_message = "No such passport."


class TagIdTaken(ConflictError):
    code = "TAG_ID_TAKEN"
    default_message = "Another passport already uses this tag_id."


class TagUidTaken(ConflictError):
    code = "TAG_UID_TAKEN"
    default_message = "Another passport already uses this NTAG UID."


class InventoryItemNotFound(NotFoundError):
    code = "ITEM_NOT_FOUND"
    default_message = "No such inventory item."


class InventoryAlreadyLinked(ConflictError):
    code = "INVENTORY_ALREADY_LINKED"
    default_message = "Another passport is already linked to this inventory item."


class TransferNotFound(NotFoundError):
    code = "TRANSFER_NOT_FOUND"
    default_message = "No such transfer."


class TransferPending(ConflictError):
    code = "TRANSFER_PENDING"
    default_message = "This passport already has a pending transfer."


class TransferNotPending(ConflictError):
    code = "TRANSFER_NOT_PENDING"
    default_message = "This transfer is no longer pending."


class TransferExpired(ConflictError):
    code = "TRANSFER_EXPIRED"
    default_message = "This transfer has expired."


class PassportFlagged(ConflictError):
    code = "PASSPORT_FLAGGED"
    default_message = "The piece is flagged stolen, lost or destroyed; it cannot change hands."


class TooManyClaimAttempts(RateLimited):
    code = "RATE_LIMITED"
    default_message = "Too many claim attempts for this transfer; retry after the time in Retry-After."
