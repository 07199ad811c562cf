"""Pure helpers of the pages: money display, charts, owner masking, CSV cells, form parsing."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from vitrina.core.errors import ValidationFailed
from vitrina.web import charts, forms
from vitrina.web.masking import mask_owner
from vitrina.web.templating import attribute, env, money
from vitrina.web.views.inventory import csv_cell


@pytest.mark.parametrize(("amount", "currency", "shown"), [
    (Decimal("12499.995"), "USD", "$12,500.00"), ("1250", "EUR", "€1,250.00"), (Decimal("1000"), "JPY", "¥1,000"),
    (Decimal("1.2345"), "KWD", "1.235 KWD"), (None, "USD", "—"),
])
def test_money_is_rounded_half_up_at_the_currency_exponent(amount: object, currency: str, shown: str) -> None:
    assert money(amount, currency) == shown


def test_templates_escape_by_default() -> None:
    rendered = env.from_string("{{ value }}").render(value="<script>alert(1)</script>")
    assert rendered == "&lt;script&gt;alert(1)&lt;/script&gt;"


def test_charts_escape_their_text_and_scale_to_a_round_maximum() -> None:
    days = [date(2026, 1, 1) + timedelta(days=n) for n in range(3)]
    svg = charts.line_chart("c", "<b>Stock</b>", days, [charts.Series("Retail", [Decimal(0), Decimal(730),
                                                                               Decimal(410)])])
    assert "<b>" not in svg and "&lt;b&gt;Stock&lt;/b&gt;" in svg
    assert ">1k</text>" in svg  # 730 rounds the axis up to 1,000
    bars = charts.bar_chart("b", "Sales", days, [Decimal(5), Decimal(0), Decimal("2.5")])
    assert bars.count("<rect") == 2


@pytest.mark.parametrize(("owner", "masked"), [
    ("eleanor.vance@example.com", "e••••••@e••••••.com"), ("Eleanor Vance", "E•••••• V••••"),
    ("cus_01JD3Z0000AAAA", "cus_••••AAAA"), (None, None),
])
def test_owner_masking(owner: str | None, masked: str | None) -> None:
    assert mask_owner(owner) == masked


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1"])
def test_csv_cells_never_start_a_formula(text: str) -> None:
    assert csv_cell(text).startswith("'")
    assert csv_cell("Ring") == "Ring"


def test_form_numbers_name_their_field() -> None:
    assert forms.integer(" 3 ", "quantity") == 3
    assert forms.integer("", "quantity", required=False) is None
    with pytest.raises(ValidationFailed) as error:
        forms.integer("three", "quantity")
    assert forms.field_errors(error.value) == {"quantity": "must be a whole number"}
    assert forms.decimal("1,250.50", "price") == Decimal("1250.50")


def test_attributes_read_as_text() -> None:
    stones = [{"type": "diamond", "carat": 1.02}, {"type": "sapphire", "carat": 0.2}]
    assert attribute(stones) == "type diamond, carat 1.02; type sapphire, carat 0.2"
