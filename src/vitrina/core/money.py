"""Money is ``Decimal`` with a currency; rounding happens half-up at the currency's exponent, only when shown
or charged."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# ISO 4217 minor-unit exponents that differ from 2, plus the common ones we list in the currency directory.
_EXPONENTS: dict[str, int] = {
    "BHD": 3, "CLP": 0, "IQD": 3, "ISK": 0, "JOD": 3, "JPY": 0, "KRW": 0, "KWD": 3, "LYD": 3, "OMR": 3,
    "PYG": 0, "TND": 3, "UGX": 0, "VND": 0, "XAF": 0, "XOF": 0,
}
KNOWN_CURRENCIES = frozenset(
    {"USD", "EUR", "GBP", "CHF", "CAD", "AUD", "NZD", "JPY", "CNY", "HKD", "SGD", "AED", "INR", "SEK", "NOK",
     "DKK", "PLN", "CZK", "MXN", "BRL", "ZAR", "KRW", "KWD", "BHD", "ILS", "TRY", "THB", "SAR", "QAR", "RUB",
     "UAH", "ISK", "CLP", "VND", "OMR", "JOD", "TND"}
)


def exponent(currency: str) -> int:
    return _EXPONENTS.get(currency.upper(), 2)


def is_currency(code: str) -> bool:
    return code.upper() in KNOWN_CURRENCIES


def to_decimal(value: object) -> Decimal:
    """Parse a request amount (string, int or float) exactly; floats go through ``repr`` so 0.1 stays 0.1."""
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool):
        raise ValueError("an amount must be a number or a decimal string")
    elif isinstance(value, int | float | str):
        try:
            result = Decimal(str(value).strip())
        except InvalidOperation as exc:
            raise ValueError("not a decimal amount") from exc
    else:
        raise ValueError("an amount must be a number or a decimal string")
    if not result.is_finite():
        raise ValueError("an amount must be finite")
    return result


def quantize(amount: Decimal, currency: str) -> Decimal:
    step = Decimal(1).scaleb(-exponent(currency))
    return amount.quantize(step, rounding=ROUND_HALF_UP)


def to_str(amount: Decimal | None, currency: str) -> str | None:
    """The JSON form of an amount: a string with exactly the currency's exponent (``"12499.99"``)."""
    if amount is None:
        return None
    return format(quantize(amount, currency), "f")
