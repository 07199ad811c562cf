"""Subscription filters: which event types a webhook receives.

A filter is an exact type (``inventory.sold``), a prefix wildcard (``inventory.*`` matches
``inventory.created`` and ``inventory.sync.completed``, but not ``inventory`` itself) or ``*`` (everything).
Event types are lowercase dotted names; filters are validated with the same grammar so that a typo such as
``inventory.*.sold`` or ``Inventory.sold`` is refused at creation instead of silently matching nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

WILDCARD = "*"
MAX_FILTERS = 100
_SEGMENT = r"[a-z0-9_]+"
_TYPE = re.compile(rf"^{_SEGMENT}(?:\.{_SEGMENT})*$")
_PREFIX = re.compile(rf"^({_SEGMENT}(?:\.{_SEGMENT})*)\.\*$")


def is_event_type(value: str) -> bool:
    return len(value) <= 64 and bool(_TYPE.match(value))


def filter_problem(pattern: str) -> str | None:
    """Why ``pattern`` is not a valid filter, or None."""
    if pattern == WILDCARD or (len(pattern) <= 64 and (_TYPE.match(pattern) or _PREFIX.match(pattern))):
        return None
    return ("must be an event type such as 'inventory.sold', a prefix wildcard such as 'inventory.*', "
            "or '*' (lowercase letters, digits and underscores between dots)")


def normalize(patterns: Iterable[str]) -> list[str]:
    """Deduplicate while keeping the caller's order; ``*`` alone stands for any list that contains it."""
    unique = list(dict.fromkeys(patterns))
    return [WILDCARD] if WILDCARD in unique else unique


def matches(patterns: Sequence[str], event_type: str) -> bool:
    for pattern in patterns:
        if pattern in (WILDCARD, event_type):
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
            return True
    return False
