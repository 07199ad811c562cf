"""WJ's query parameters: ``limit``/``offset`` (strings that may be empty) and integer filters.

WJ documents them as optional strings that "allow empty value"; a client may send ``?limit=`` and means the
default. Bad values are WJ errors (1 Params error), never Vitrina's 422, and limits beyond the maxima are WJ's
91 "Limit is too long" and 92 "Offset is too long".
"""

from __future__ import annotations

from dataclasses import dataclass

from vitrina.core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from vitrina.partners.codec import WJError

MAX_OFFSET = 10_000_000  # the same ceiling as /api/v1


@dataclass(frozen=True, slots=True)
class WJPage:
    limit: int
    offset: int


def optional_int(value: str | None, name: str) -> int | None:
    """An integer query parameter; absent or empty is None, anything but digits is WJ error 1."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if not text.lstrip("-").isdecimal() or len(text) > 18:
        raise WJError(1, data={"param": name, "message": "must be an integer"})
    return int(text)


def _count(value: str | None, name: str, *, too_long: int, maximum: int) -> int | None:
    """``limit`` or ``offset``: a whole number of any length beyond ``maximum`` is WJ's ``too_long`` error
    (91 or 92), however many digits it has; other text is error 1."""
    if value is not None and value.strip().isdecimal() and int(value.strip()) > maximum:
        raise WJError(too_long, data={"param": name, "max": maximum})
    return optional_int(value, name)


def page(limit: str | None, offset: str | None) -> WJPage:
    wanted_limit = _count(limit, "limit", too_long=91, maximum=MAX_LIMIT)
    wanted_offset = _count(offset, "offset", too_long=92, maximum=MAX_OFFSET)
    if wanted_limit is not None and wanted_limit < 1:
        raise WJError(1, data={"param": "limit", "message": f"must be 1 to {MAX_LIMIT}"})
    if wanted_offset is not None and wanted_offset < 0:
        raise WJError(1, data={"param": "offset", "message": "must not be negative"})
    return WJPage(limit=DEFAULT_LIMIT if wanted_limit is None else wanted_limit,
                  offset=wanted_offset or 0)
