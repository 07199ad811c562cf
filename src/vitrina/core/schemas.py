"""Base classes for request and response bodies."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, model_validator
from pydantic_core import PydanticCustomError

from vitrina.core.money import is_currency, to_decimal

# Free-form JSON (addresses, metadata, options) nests far less than this; deeper input is abuse, and past 255
# levels the response encoder itself would fail.
MAX_JSON_DEPTH = 32
_INT64 = 2**63  # the database's BIGINT and the response encoder (orjson) both stop at 64 bits


class RequestModel(BaseModel):
    """Request bodies: unknown fields are refused (a typo must not be silently ignored), strings trimmed,
    and fields may be sent by name or by the camelCase alias a seed used."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _refuse_unstorable(cls, data: Any) -> Any:
        problem = unstorable(data)
        if problem is not None:
            raise PydanticCustomError("unstorable_value", "{problem}", {"problem": problem})
        return data


def unstorable(value: Any, path: str = "$", depth: int = 0) -> str | None:
    """Why ``value`` (parsed JSON) cannot be stored faithfully on every database, or None.

    NUL characters (PostgreSQL text refuses them), non-finite numbers (JSON and JSONB have no NaN or Infinity),
    numbers past 64 bits (integers, and floats, which JSONB gives back as integers) and excessive nesting would
    otherwise surface as a 500 from the driver or the encoder.
    """
    if depth > MAX_JSON_DEPTH:
        return f"{path}: nested deeper than {MAX_JSON_DEPTH} levels"
    if isinstance(value, str):
        return f"{path}: NUL characters are not allowed" if "\x00" in value else None
    if isinstance(value, float):
        if not math.isfinite(value):
            return f"{path}: numbers must be finite"
        # PostgreSQL keeps a JSON number as an exact decimal and writes it back without an exponent: 8.7e62 is
        # read as a 63-digit integer, which no response can encode (a 500 on every later read of the row).
        return None if -_INT64 <= value < _INT64 else f"{path}: numbers must lie within ±2^63"
    if isinstance(value, int) and not -_INT64 <= value < _INT64:
        return f"{path}: integers must fit in 64 bits"
    items: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and "\x00" in key:
                return f"{path}: NUL characters are not allowed in names"
            items.append((f"{path}.{key}", item))
    elif isinstance(value, list | tuple):
        items = [(f"{path}[{index}]", item) for index, item in enumerate(value)]
    for item_path, item in items:
        problem = unstorable(item, item_path, depth + 1)
        if problem is not None:
            return problem
    return None


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: dict[str, object]


class ErrorEnvelope(BaseModel):
    success: bool = False
    error: ErrorDetail
    requestId: str


# --- input types every domain shares -------------------------------------------------------------------------

def money_amount(value: Any) -> Any:
    """A non-negative amount of money as ``Decimal`` (never a float): below 10^12, at most 6 decimal places."""
    if value is None:
        return None
    amount = to_decimal(value)
    if amount < 0:
        raise ValueError("must not be negative")
    if abs(amount) >= Decimal(10) ** 12:
        raise ValueError("is too large")
    if amount.as_tuple().exponent < -6:  # type: ignore[operator]
        raise ValueError("has more than 6 decimal places")
    return amount


def currency_code(value: Any) -> Any:
    value = value.strip().upper() if isinstance(value, str) else value
    if isinstance(value, str) and not is_currency(value):
        raise ValueError("must be an ISO 4217 currency code such as 'USD'")
    return value


Money = Annotated[Decimal, BeforeValidator(money_amount)]
Currency = Annotated[str, BeforeValidator(currency_code)]
