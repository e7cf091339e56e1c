"""The statement's daily chart as inline SVG: pure, no Django, numbers only in the
markup (nothing a customer typed reaches it)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

# Millimetres, so the chart fits the A4 text column exactly whatever the DPI.
WIDTH = 170.0
HEIGHT = 38.0
LEFT = 12.0  # room for the axis labels
BOTTOM = 6.0
TOP = 3.0
# Presentation attributes, not CSS: WeasyPrint's SVG renderer reads these.
BAR = 'fill="#1f4e79"'
GRID = 'stroke="#d5dbe3" stroke-width="0.2"'
BASE = 'stroke="#1c2430" stroke-width="0.3"'
AXIS = 'fill="#555555" font-size="2.4" font-family="Liberation Sans, DejaVu Sans, sans-serif"'


def _nice_ceiling(value: float) -> int:
    """The smallest 1-2-5 step ≥ value (axis maximum): 7 → 10, 37 → 50, 120 → 200."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def daily_downtime_svg(days: Sequence[tuple[date, int]]) -> str:
    """Bars of counted downtime per local day, in minutes; the y axis shows its top."""
    minutes = [seconds / 60 for _, seconds in days]
    top = _nice_ceiling(max(minutes, default=0) or 1)
    plot_w = WIDTH - LEFT
    plot_h = HEIGHT - BOTTOM - TOP
    slot = plot_w / max(len(days), 1)
    bar = slot * 0.7
    base = TOP + plot_h
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}mm" height="{HEIGHT}mm" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" class="chart" role="img">',
        f'<line x1="{LEFT}" y1="{TOP:.2f}" x2="{WIDTH}" y2="{TOP:.2f}" {GRID}/>',
        f'<line x1="{LEFT}" y1="{TOP + plot_h / 2:.2f}" x2="{WIDTH}" '
        f'y2="{TOP + plot_h / 2:.2f}" {GRID}/>',
        f'<text x="{LEFT - 1.5}" y="{TOP + 1.2:.2f}" {AXIS} text-anchor="end">{top}</text>',
        f'<text x="{LEFT - 1.5}" y="{TOP + plot_h / 2 + 1.2:.2f}" {AXIS} '
        f'text-anchor="end">{top / 2:g}</text>',
        f'<text x="{LEFT - 1.5}" y="{base + 1.2:.2f}" {AXIS} text-anchor="end">0</text>',
    ]
    for index, ((day, _), value) in enumerate(zip(days, minutes, strict=True)):
        x = LEFT + index * slot + (slot - bar) / 2
        if value > 0:
            # A bar always shows, however short: a minute's outage is still an outage.
            height = max(plot_h * value / top, 0.6)
            parts.append(
                f'<rect x="{x:.2f}" y="{base - height:.2f}" width="{bar:.2f}" '
                f'height="{height:.2f}" {BAR}/>'
            )
        if day.day == 1 or day.day % 5 == 0:
            parts.append(
                f'<text x="{x + bar / 2:.2f}" y="{HEIGHT - 1.5:.2f}" {AXIS} '
                f'text-anchor="middle">{day.day}</text>'
            )
    parts.append(f'<line x1="{LEFT}" y1="{base:.2f}" x2="{WIDTH}" y2="{base:.2f}" {BASE}/>')
    parts.append("</svg>")
    return "".join(parts)
