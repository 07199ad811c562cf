"""Rate limits per API key (and per client address on public routes), built on the ``limits`` library.

A plan's "N per minute, burst B" is enforced as two sliding windows: at most B requests in any minute, and at
most 10·N in any ten minutes, so a client may burst to B but averages N. With Redis configured, every server
process shares the same counters.
"""

from __future__ import annotations

from dataclasses import dataclass

from limits import RateLimitItem, RateLimitItemPerMinute, parse
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import SlidingWindowCounterRateLimiter

from vitrina.accounts.plans import RateLimit


@dataclass(frozen=True, slots=True)
class RateState:
    allowed: bool
    limit: int
    remaining: int
    reset_at: int

    def headers(self) -> dict[str, str]:
        return {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Remaining": str(self.remaining),
                "X-RateLimit-Reset": str(self.reset_at)}


class RateLimiter:
    def __init__(self, redis_url: str | None = None, key_prefix: str = "vitrina:") -> None:
        self.storage: Storage = (
            RedisStorage(redis_url, key_prefix=f"{key_prefix}rl") if redis_url else MemoryStorage()
        )
        self._limiter = SlidingWindowCounterRateLimiter(self.storage)
        self._items: dict[tuple[int, int], tuple[RateLimitItem, RateLimitItem]] = {}

    def _windows(self, limit: RateLimit) -> tuple[RateLimitItem, RateLimitItem]:
        key = (limit.per_minute, limit.burst)
        if key not in self._items:
            self._items[key] = (RateLimitItemPerMinute(limit.burst), parse(f"{limit.per_minute * 10}/10 minutes"))
        return self._items[key]

    def hit(self, identifier: str, limit: RateLimit) -> RateState:
        """Count one request; the state reported is that of the window closest to exhaustion.

        The burst window is hit first and a request it refuses is not counted in the ten-minute window: a client
        retrying after a 429 must not burn its sustained allowance on requests that were never served.
        """
        states = []
        for item in self._windows(limit):
            state = self._hit_window(item, identifier)
            if not state.allowed:
                return state
            states.append(state)
        return min(states, key=lambda s: s.remaining)

    def _hit_window(self, item: RateLimitItem, identifier: str) -> RateState:
        allowed = self._limiter.hit(item, identifier)
        stats = self._limiter.get_window_stats(item, identifier)
        return RateState(allowed=allowed, limit=item.amount, remaining=max(stats.remaining, 0),
                         reset_at=int(stats.reset_time) + 1)

    def ping(self) -> bool:
        return bool(self.storage.check())
