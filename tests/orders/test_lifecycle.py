"""The order state machine, pure (API.md §6)."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from vitrina.orders import lifecycle


def test_forward_path_and_cancel_window() -> None:
    assert lifecycle.allowed_next(1) == [2, 0]
    assert lifecycle.allowed_next(4) == [5, 0]
    assert lifecycle.allowed_next(5) == [6]
    assert lifecycle.allowed_next(8) == [9]
    assert lifecycle.allowed_next(9) == []
    assert lifecycle.allowed_next(0) == []


def test_initial_statuses() -> None:
    assert lifecycle.initial_status(1) == 1
    assert lifecycle.initial_status(2) == 2
    assert lifecycle.initial_status(3) == 2  # WJ: "Set 3 as Confirmed Order"
    assert lifecycle.initial_status(0) is None
    assert lifecycle.initial_status(4) is None


@given(st.lists(st.integers(min_value=0, max_value=9), max_size=30))
def test_any_walk_only_takes_legal_steps(targets: list[int]) -> None:
    status = lifecycle.CREATED
    path = [status]
    for target in targets:
        if lifecycle.can_move(status, target):
            status = target
            path.append(status)
    for before, after in itertools.pairwise(path):
        assert after == before + 1 or (after == 0 and 1 <= before <= 4)
    assert path == sorted(path) or path[-1] == 0
