"""Error codes of customers and sales transactions."""

from __future__ import annotations

from vitrina.core.errors import ConflictError, NotFoundError, ValidationFailed


class CustomerNotFound(NotFoundError):
    code = "CUSTOMER_NOT_FOUND"
    default_message = "No such customer."


class CustomerExists(ConflictError):
    code = "CUSTOMER_EXISTS"
    default_message = "Another customer already uses this external_id."


class TransactionNotFound(NotFoundError):
    code = "TRANSACTION_NOT_FOUND"
    default_message = "No such transaction."


class CurrencyMismatch(ValidationFailed):
    """Every line of one transaction is in one currency; a mix cannot be totalled."""

    code = "CURRENCY_MISMATCH"
    default_message = "All lines of a transaction must be in the transaction's currency."


class ReturnWithoutSale(ConflictError):
    code = "RETURN_WITHOUT_SALE"
    default_message = "There is no earlier sale of this piece to return against."


class ReturnExceedsSale(ConflictError):
    code = "RETURN_EXCEEDS_SALE"
    default_message = "The return is larger than what was sold and not yet returned."
