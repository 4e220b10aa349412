"""Charts drawn on the server as inline SVG: no script, no CDN, readable without styles.

:func:`bar_chart` draws one bar per day for sales and a line for commissions over it, with
a title and a description for screen readers; the page shows the same figures as a table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from ..pages import gettext as _

#: Drawing area (the SVG scales to the page's width).
WIDTH, HEIGHT = 640, 220
_PAD_LEFT, _PAD_RIGHT, _PAD_TOP, _PAD_BOTTOM = 56, 8, 12, 28


@dataclass(frozen=True, slots=True)
class Point:
    """One column of the chart: its label and its two figures (minor units)."""

    label: str
    bars: int
    line: int


def _legend(bars_name: str, line_name: str) -> str:
    return _("%(bars)s: bars; %(line)s: line.", bars=bars_name, line=line_name)


def bar_chart(
    points: Sequence[Point],
    *,
    title: str,
    bars_name: str,
    line_name: str,
    money: Callable[[int], str],
) -> str:
    """An ``<svg>`` of ``points``: bars (e.g. sales) and a line (e.g. commission) on one
    scale; ``money`` formats the axis' top figure. Empty or all-zero data draws the axes."""
    top = max([p.bars for p in points] + [p.line for p in points] + [1])
    inner_w = WIDTH - _PAD_LEFT - _PAD_RIGHT
    inner_h = HEIGHT - _PAD_TOP - _PAD_BOTTOM
    step = inner_w / max(len(points), 1)

    def y(value: int) -> float:
        return _PAD_TOP + inner_h - inner_h * max(value, 0) / top

    parts = [
        f'<svg class="c-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="chart-title chart-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="chart-title">{escape(title)}</title>',
        f'<desc id="chart-desc">{escape(_legend(bars_name, line_name))}</desc>',
        f'<line x1="{_PAD_LEFT}" y1="{y(0):.1f}" x2="{WIDTH - _PAD_RIGHT}" y2="{y(0):.1f}" '
        'stroke="#9ca3af"/>',
        f'<text x="{_PAD_LEFT - 4}" y="{_PAD_TOP + 10}" text-anchor="end" font-size="11" '
        f'fill="#6b7280">{escape(money(top))}</text>',
    ]
    for index, point in enumerate(points):
        x = _PAD_LEFT + index * step
        height = y(0) - y(point.bars)
        parts.append(
            f'<rect x="{x + step * 0.15:.1f}" y="{y(point.bars):.1f}" width="{step * 0.7:.1f}" '
            f'height="{height:.1f}" fill="#93b4f5"><title>{escape(point.label)}: '
            f"{escape(money(point.bars))}</title></rect>"
        )
        if len(points) <= 12 or index % max(len(points) // 6, 1) == 0:
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{HEIGHT - 8}" text-anchor="middle" '
                f'font-size="11" fill="#6b7280">{escape(point.label)}</text>'
            )
    if points:
        path = " ".join(
            f"{_PAD_LEFT + (i + 0.5) * step:.1f},{y(p.line):.1f}" for i, p in enumerate(points)
        )
        parts.append(f'<polyline points="{path}" fill="none" stroke="#0a6b2d" stroke-width="2"/>')
    parts.append("</svg>")
    return "".join(parts)
