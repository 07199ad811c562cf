"""Plans and their rate limits (JewelTag's table: essential 100/min burst 200, professional 500/min burst 1000)."""

from __future__ import annotations

from dataclasses import dataclass

PLANS = ("essential", "professional", "enterprise")
ENTERPRISE_DEFAULT_PER_MINUTE = 5000


@dataclass(frozen=True, slots=True)
class RateLimit:
    per_minute: int
    burst: int


def rate_limit_for(plan: str, configured_per_minute: int | None = None) -> RateLimit:
    if plan == "essential":
        return RateLimit(100, 200)
    if plan == "professional":
        return RateLimit(500, 1000)
    per_minute = configured_per_minute or ENTERPRISE_DEFAULT_PER_MINUTE
    return RateLimit(per_minute, per_minute * 2)
