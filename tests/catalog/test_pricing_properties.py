"""Property tests of the pure engine: canonical configuration ids and exact money (no database needed)."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from vitrina.catalog import demo, directories, pricing


def _book() -> pricing.PriceBook:
    book = pricing.PriceBook(rates=dict(directories.RATES))
    for row in demo.metal_rows():
        book.metals[row["material_sku"]] = pricing.MetalCost(
            row["material_sku"], row["material_title"], Decimal(row["cost_per_gram"]), "USD",
            Decimal(row["density_g_cm3"]), Decimal(row["purity"]))
    for row in demo.stone_rows():
        key = tuple(str(row[k]).casefold() for k in ("material_sku", "stone_shape", "weight_stone", "quality"))
        book.stones[key] = pricing.StoneCost(row["material_sku"], Decimal(row["cost"]), "USD")  # type: ignore[index]
    return book


BOOK = _book()
OPTIONS = demo.PENDANT["options"]
STONE_SKUS = [sku for sku, *_ in demo.BIRTHSTONES]


def _price(configuration: dict[str, Any]) -> pricing.Priced:
    return pricing.evaluate(OPTIONS, configuration, None, book=BOOK, currency="USD", markup=Decimal("2.2"))


def _ci(configuration: dict[str, Any]) -> str:
    priced = _price(configuration)
    return pricing.configuration_id("RPD104", priced.canonical, priced.size)


def _shuffle_case(value: Any, flip: bool) -> Any:
    if isinstance(value, dict):
        items = list(value.items())
        if flip:
            items.reverse()
        return {k: (v if k == "text" else _shuffle_case(v, flip)) for k, v in items}
    if isinstance(value, list):
        return [_shuffle_case(v, flip) for v in (reversed(value) if flip else value)]
    if isinstance(value, str):
        return value.swapcase() if flip else value
    return value


configurations = st.builds(
    lambda stones, metal, color, chain: {
        "chain": {"type": "C1", "metal": {"sku": chain, "color": "W"}},
        "pendant": {"metal": {"sku": metal, "color": color},
                    "stone": [{"sku": sku, "shape": "rd", "weight": "k", "position": i + 1}
                              for i, sku in enumerate(stones)]}},
    st.lists(st.sampled_from(STONE_SKUS), max_size=7), st.sampled_from(["f", "q"]), st.sampled_from(["R", "Y", "W"]),
    st.sampled_from(["f", "q", "s"]))


@settings(max_examples=60, deadline=None)
@given(configurations, st.booleans())
def test_ci_ignores_key_order_stone_order_and_case(configuration: dict[str, Any], flip: bool) -> None:
    assert _ci(_shuffle_case(copy.deepcopy(configuration), flip)) == _ci(configuration)


@settings(max_examples=60, deadline=None)
@given(configurations, st.integers(min_value=0, max_value=6))
def test_any_real_difference_changes_the_ci(configuration: dict[str, Any], index: int) -> None:
    stones = configuration["pendant"]["stone"]
    if not stones:
        return
    changed = copy.deepcopy(configuration)
    target = changed["pendant"]["stone"][index % len(stones)]
    target["sku"] = next(s for s in STONE_SKUS if s != target["sku"])
    assert _ci(changed) != _ci(configuration)


@settings(max_examples=60, deadline=None)
@given(configurations)
def test_retail_is_the_rounded_sum_of_the_breakdown(configuration: dict[str, Any]) -> None:
    priced = _price(configuration)
    total = sum(Decimal(line["amount"]) for line in priced.lines)
    assert total == priced.subtotal
    assert priced.retail == (total * Decimal("2.2")).quantize(Decimal("0.01"))
    assert priced.retail.as_tuple().exponent == -2
