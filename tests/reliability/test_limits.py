"""Limits: a plan's burst is allowed and the next request is refused with 429 and correct headers
(``X-RateLimit-Limit/Remaining/Reset``, ``Retry-After``); the sustained rate holds over ten minutes; the public
verify endpoint is limited per client address.
"""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from tests.reliability import figures
from tests.reliability.conftest import collection_doc
from tests.reliability.population import new_org
from vitrina.accounts.plans import RateLimit, rate_limit_for
from vitrina.config import Settings
from vitrina.db.session import Database


def _drain(client: TestClient, headers: dict[str, str], plan: str) -> None:
    burst = rate_limit_for(plan).burst
    started = int(time.time())
    for number in range(1, burst + 1):
        response = client.get("/api/v1/me", headers=headers)
        assert response.status_code == 200, f"request {number} of a burst of {burst}: {response.status_code}"
        assert response.headers["x-ratelimit-limit"] == str(burst)
        assert int(response.headers["x-ratelimit-remaining"]) == burst - number
    refused = client.get("/api/v1/me", headers=headers)
    figures.count("limits.requests", burst + 1)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "RATE_LIMITED"
    assert refused.headers["x-ratelimit-remaining"] == "0"
    assert refused.headers["x-ratelimit-limit"] == str(burst)
    reset = int(refused.headers["x-ratelimit-reset"])
    retry_after = int(refused.headers["retry-after"])
    assert started < reset <= int(time.time()) + 61, "X-RateLimit-Reset is not within the minute window"
    assert 1 <= retry_after <= 61 and abs(reset - (int(time.time()) + retry_after)) <= 2
    assert refused.headers.get("x-request-id") and refused.json()["requestId"] == refused.headers["x-request-id"]
    # A refused request is not work done: nothing is written, and other keys are unaffected.
    assert client.post("/api/v1/locations", json={"name": "x", "code": "LIMITED"}, headers=headers
                       ).status_code == 429


def test_essential_plan_burst_then_429(client: TestClient, database: Database) -> None:
    org = new_org(database, "Essential Jewelers", plan="essential", rate_limit_per_minute=None)
    _drain(client, org.headers, "essential")
    assert client.get("/api/v1/me", headers=org.make_headers(["read"])).status_code == 200, "limits are per key"


@pytest.mark.slow
def test_professional_plan_burst_then_429(client: TestClient, database: Database) -> None:
    org = new_org(database, "Professional Jewelers", plan="professional", rate_limit_per_minute=None)
    _drain(client, org.headers, "professional")


class _Clock:
    def __init__(self) -> None:
        self.now = 1_900_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("period", [0.25, 1.0, 2.0, 3.0, 4.0])
def test_sustained_rate_is_the_plan_average(period: float, monkeypatch: pytest.MonkeyPatch) -> None:
    """An hour (simulated on the limiter's clock) of a client sending one request every ``period`` seconds to a
    "20 per minute, burst 40" plan: a client within the rate is never refused; a faster one averages the plan's
    rate over the hour (refused retries do not eat its allowance) and no minute admits more than twice the burst
    (the sliding-window-counter approximation's bound; see RELIABILITY.md)."""
    from limits.storage import memory

    from vitrina.core.ratelimit import RateLimiter

    clock = _Clock()
    monkeypatch.setattr(memory.time, "time", clock)
    limiter = RateLimiter()
    limit = RateLimit(per_minute=20, burst=40)
    horizon = 3600
    start = clock.now
    allowed_at: list[float] = []
    while clock.now < start + horizon:
        if limiter.hit("key:sustained", limit).allowed:
            allowed_at.append(clock.now - start)
        clock.now += period
    sent = int(horizon / period)
    figures.count("limits.simulated_requests", sent)
    busiest = max(sum(1 for t in allowed_at if s <= t < s + 60) for s in range(0, horizon - 59, 5))
    assert busiest <= 2 * limit.burst, f"{busiest} allowed within one minute"
    if 60 / period <= limit.per_minute:
        assert len(allowed_at) == sent, "a client within its plan's rate was refused"
    else:
        per_minute = len(allowed_at) / (horizon / 60)
        assert 0.9 * limit.per_minute <= per_minute <= 1.1 * limit.per_minute, f"{per_minute:.1f} a minute"


def test_public_verify_is_limited_per_address(client: TestClient, settings: Settings) -> None:
    operation = collection_doc().find("GET", "/api/v1/public/verify")
    if operation is None:
        pytest.skip("missing route: GET /api/v1/public/verify")
    limit = settings.public_verify_rate_per_minute
    responses = [client.get("/api/v1/public/verify", params={"tag_id": "NO-SUCH-TAG"},
                            headers={"X-Forwarded-For": "203.0.113.7"}) for _ in range(limit + 1)]
    statuses = [response.status_code for response in responses]
    figures.count("limits.requests", limit + 1)
    assert 429 not in statuses[:limit], f"refused before the limit of {limit}: {statuses.index(429)}"
    assert statuses[-1] == 429 and responses[-1].json()["error"]["code"] == "RATE_LIMITED", responses[-1].text
    assert 1 <= int(responses[-1].headers["retry-after"]) <= 61
    # Per address: a neighbour behind another address is unaffected, and so is an authenticated API key.
    neighbour = client.get("/api/v1/public/verify", params={"tag_id": "NO-SUCH-TAG"},
                           headers={"X-Forwarded-For": "203.0.113.8"})
    figures.count("limits.requests")
    assert neighbour.status_code != 429, neighbour.text[:300]
