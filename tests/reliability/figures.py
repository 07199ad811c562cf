"""Counters the reliability suites report at the end of a run (the figures quoted in RELIABILITY.md).

Each suite adds what it did (requests fuzzed, races run, crashes survived, inputs tried); ``conftest.py`` prints
the totals in pytest's terminal summary, so the figures of the last run are in its output.
"""

from __future__ import annotations

from collections import Counter

FIGURES: Counter[str] = Counter()
NOTES: list[str] = []


def count(name: str, amount: int = 1) -> None:
    FIGURES[name] += amount


def note(line: str) -> None:
    """Something a reader of the figures should know (e.g. a race skipped because its route is missing)."""
    if line not in NOTES:
        NOTES.append(line)
