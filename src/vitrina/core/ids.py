"""Opaque, prefixed, time-sortable identifiers (``itm_01JD...``).

The suffix is a ULID: 48 bits of milliseconds then 80 random bits in Crockford base32, so ids sort by
creation time (useful for keyset pagination and index locality) without revealing a counter.
"""

from __future__ import annotations

import os
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

PREFIXES = frozenset(
    {"org", "itm", "loc", "prd", "cfg", "tier", "price", "cus", "txn", "ord", "psp", "trf", "whk", "dlv",
     "evt", "job", "key", "mov", "rsv", "usr", "req", "img", "lyr", "aud", "upl"}
)


def _ulid() -> str:
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def new_id(prefix: str) -> str:
    """A fresh id such as ``itm_01JD3Z...``; ``prefix`` must be one of the documented prefixes."""
    if prefix not in PREFIXES:
        raise ValueError(f"unknown id prefix {prefix!r}")
    return f"{prefix}_{_ulid()}"


def has_prefix(value: str, prefix: str) -> bool:
    return value.startswith(prefix + "_") and len(value) == len(prefix) + 27
