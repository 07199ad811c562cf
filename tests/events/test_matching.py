"""Subscription filters and the retry schedule (pure functions)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from vitrina.events import matching, schedule


@pytest.mark.parametrize(("patterns", "event_type", "expected"), [
    (["*"], "inventory.created", True),
    (["inventory.*"], "inventory.created", True),
    (["inventory.*"], "inventory.sync.completed", True),
    (["inventory.*"], "inventory", False),
    (["inventory.*"], "inventorying.created", False),
    (["inventory.sync.*"], "inventory.sync.completed", True),
    (["inventory.sync.*"], "inventory.sold", False),
    (["inventory.sold", "transaction.completed"], "transaction.completed", True),
    (["inventory.sold"], "inventory.sold.extra", False),
    ([], "inventory.sold", False),
])
def test_matches(patterns: list[str], event_type: str, expected: bool) -> None:
    assert matching.matches(patterns, event_type) is expected


@pytest.mark.parametrize("pattern", ["*", "inventory.*", "inventory.sold", "inventory.sync.completed", "webhook.test",
                                     "a_b.c1"])
def test_valid_filters(pattern: str) -> None:
    assert matching.filter_problem(pattern) is None


@pytest.mark.parametrize("pattern", ["", "Inventory.sold", "inventory.*.sold", "inventory*", "*.sold", "inventory.",
                                     ".sold", "inventory..sold", "inventory sold", "**", "x" * 65])
def test_invalid_filters(pattern: str) -> None:
    assert matching.filter_problem(pattern) is not None


def test_normalize_deduplicates_and_collapses_wildcard() -> None:
    assert matching.normalize(["b.x", "a.y", "b.x"]) == ["b.x", "a.y"]
    assert matching.normalize(["a.y", "*"]) == ["*"]


def test_default_schedule_matches_the_contract() -> None:
    hours = [d / timedelta(hours=1) for d in schedule.parse_schedule("5,300,1800,7200,18000,36000,36000")]
    assert hours == pytest.approx([5 / 3600, 5 / 60, 0.5, 2, 5, 10, 10])
    assert schedule.parse_schedule("5s, 5m,30m,2h ,5h,10h,10h") == schedule.DEFAULT
    assert schedule.max_attempts(schedule.DEFAULT) == 8


def test_schedule_units_and_errors() -> None:
    assert schedule.parse_schedule("0.5,1d") == (timedelta(seconds=0.5), timedelta(days=1))
    assert schedule.parse_schedule("") == ()
    for bad in ("five", "-5", "5w", "8d"):
        with pytest.raises(ValueError):
            schedule.parse_schedule(bad)


def test_next_delay_walks_the_schedule_then_stops() -> None:
    steps = schedule.parse_schedule("1,2")
    assert schedule.next_delay(steps, 1) == timedelta(seconds=1)
    assert schedule.next_delay(steps, 2) == timedelta(seconds=2)
    assert schedule.next_delay(steps, 3) is None
    with pytest.raises(ValueError):
        schedule.next_delay(steps, 0)
