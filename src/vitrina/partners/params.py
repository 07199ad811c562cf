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


def page(limit: str | None, offset: str | None) -> WJPage:
    wanted_limit = optional_int(limit, "limit")
    wanted_offset = optional_int(offset, "offset")
    if wanted_limit is not None and wanted_limit > MAX_LIMIT:
        raise WJError(91, data={"param": "limit", "max": MAX_LIMIT})
    if wanted_offset is not None and wanted_offset > MAX_OFFSET:
        raise WJError(92, data={"param": "offset", "max": MAX_OFFSET})
    if wanted_limit is not None and wanted_limit < 1:
        raise WJError(1, data={"param": "limit", "message": f"must be 1 to {MAX_LIMIT}"})
    if wanted_offset is not None and wanted_offset < 0:
        raise WJError(1, data={"param": "offset", "message": "must not be negative"})
    return WJPage(limit=DEFAULT_LIMIT if wanted_limit is None else wanted_limit,
                  offset=wanted_offset or 0)
