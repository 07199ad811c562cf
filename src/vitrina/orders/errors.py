"""Error codes of made-to-order orders."""

from __future__ import annotations

from vitrina.core.errors import ConflictError, NotFoundError


class OrderNotFound(NotFoundError):
    code = "ORDER_NOT_FOUND"
    default_message = "No such order."


class OrderExists(ConflictError):
    code = "ORDER_EXISTS"
    default_message = "Another order already uses this external_order_id."


class InvalidTransition(ConflictError):
    """``details.allowed`` lists the statuses the order may move to from where it is."""

    code = "INVALID_TRANSITION"
    default_message = "The order cannot move to this status from its current one."


class OrderNotReceivable(ConflictError):
    code = "ORDER_NOT_RECEIVABLE"
    default_message = "Only a delivered (8) or finished (9) order can be received into stock."


class OrderAlreadyReceived(ConflictError):
    code = "ORDER_ALREADY_RECEIVED"
    default_message = "This order's pieces are already in stock."
