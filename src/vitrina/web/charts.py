"""Small server-drawn SVG charts (no charting library, no script): a line chart and a bar chart.

Each chart carries a <title> and <desc> for screen readers, and the page shows the same numbers in a table.
All text is escaped; values are plain numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 64, 12, 12, 28


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    values: Sequence[Decimal]
    css_class: str = ""


def _nice_max(value: Decimal) -> Decimal:
    """A round axis maximum at or above ``value`` (1, 2 or 5 times a power of ten)."""
    if value <= 0:
        return Decimal(1)
    magnitude = Decimal(10) ** (len(str(int(value))) - 1)
    for step in (1, 2, 5, 10):
        candidate = magnitude * step
        if candidate >= value:
            return candidate
    return magnitude * 10


def _compact(value: Decimal) -> str:
    number = float(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(number) >= limit:
            return f"{number / limit:.1f}".rstrip("0").rstrip(".") + suffix
    return f"{number:.2f}".rstrip("0").rstrip(".")


def _frame(chart_id: str, title: str, description: str, top: Decimal, days: Sequence[date],
           x_at: Callable[[int], float], y_at: Callable[[Decimal], float]) -> list[str]:
    ident = escape(chart_id)
    parts = [f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="{ident}-title {ident}-desc" '
             f'xmlns="http://www.w3.org/2000/svg">',
             f'<title id="{ident}-title">{escape(title)}</title><desc id="{ident}-desc">{escape(description)}</desc>']
    for step in range(5):
        level = top * step / 4
        y = y_at(level)
        parts.append(f'<line class="grid-line" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{_compact(level)}</text>')
    parts.append(f'<line class="axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{HEIGHT - BOTTOM}" '
                 f'y2="{HEIGHT - BOTTOM}"/>')
    if days:
        last = len(days) - 1
        for index in sorted({0, last // 2, last}):
            anchor = "start" if index == 0 and last else "end" if index == last and last else "middle"
            label = days[index].strftime("%d %b")
            parts.append(f'<text class="tick" x="{x_at(index):.1f}" y="{HEIGHT - 8}" text-anchor="{anchor}">'
                         f'{escape(label)}</text>')
    return parts


def line_chart(chart_id: str, title: str, days: Sequence[date], series: Sequence[Series],
               description: str = "") -> Markup:
    count = len(days)
    top = _nice_max(max((v for s in series for v in s.values), default=Decimal(0)))
    span = WIDTH - LEFT - RIGHT

    def x_at(index: int) -> float:
        return LEFT + (span * index / (count - 1) if count > 1 else span / 2)

    def y_at(value: Decimal) -> float:
        return float(HEIGHT - BOTTOM - (HEIGHT - TOP - BOTTOM) * (value / top))

    parts = _frame(chart_id, title, description, top, days, x_at, y_at)
    for number, line in enumerate(series):
        points = " ".join(f"{x_at(i):.1f},{y_at(v):.1f}" for i, v in enumerate(line.values))
        if number == 0 and count > 1:
            baseline = HEIGHT - BOTTOM
            parts.append(f'<polygon class="area" points="{x_at(0):.1f},{baseline} {points} '
                         f'{x_at(count - 1):.1f},{baseline}"/>')
        parts.append(f'<polyline class="line {escape(line.css_class)}" points="{points}"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(chart_id: str, title: str, days: Sequence[date], values: Sequence[Decimal],
              description: str = "") -> Markup:
    count = max(len(days), 1)
    top = _nice_max(max(values, default=Decimal(0)))
    slot = (WIDTH - LEFT - RIGHT) / count

    def x_at(index: int) -> float:
        return LEFT + slot * (index + 0.5)

    def y_at(value: Decimal) -> float:
        return float(HEIGHT - BOTTOM - (HEIGHT - TOP - BOTTOM) * (value / top))

    parts = _frame(chart_id, title, description, top, days, x_at, y_at)
    width = max(slot * 0.7, 1.0)
    for index, value in enumerate(values):
        if value <= 0:
            continue
        y = y_at(value)
        parts.append(f'<rect class="bar" x="{x_at(index) - width / 2:.1f}" y="{y:.1f}" width="{width:.1f}" '
                     f'height="{HEIGHT - BOTTOM - y:.1f}"><title>{escape(days[index].isoformat())}: '
                     f'{escape(str(value))}</title></rect>')
    parts.append("</svg>")
    return Markup("".join(parts))
