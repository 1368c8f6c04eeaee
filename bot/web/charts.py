"""Bar charts as inline SVG: no script, no image library, and every label escaped
here (the template inserts the result as markup)."""
from __future__ import annotations

from html import escape

from markupsafe import Markup

ROW = 26
LABEL_WIDTH = 120
BAR_WIDTH = 320
COLOURS = ("#2f6fb3", "#3f9b6b", "#d08a2a", "#b5473a", "#7a5bb0", "#4a9bb0", "#8c8c3a", "#a05c7b")


def bar_chart(title: str, values: dict[str, int] | list[tuple[str, int]]) -> Markup:
    items = list(values.items()) if isinstance(values, dict) else list(values)
    if not items:
        return Markup(f'<p class="empty">{escape(title)}：暂无数据</p>')
    top = max(n for _, n in items) or 1
    height = ROW * len(items) + 30
    width = LABEL_WIDTH + BAR_WIDTH + 60
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
        f'<text x="0" y="16" class="chart-title">{escape(title)}</text>',
    ]
    for i, (label, n) in enumerate(items):
        y = 28 + i * ROW
        bar = max(2, round(BAR_WIDTH * n / top))
        parts.append(f'<text x="{LABEL_WIDTH - 8}" y="{y + 15}" text-anchor="end">{escape(label[:12])}</text>')
        parts.append(f'<rect x="{LABEL_WIDTH}" y="{y + 2}" width="{bar}" height="{ROW - 8}" fill="{COLOURS[i % len(COLOURS)]}" rx="3"/>')
        parts.append(f'<text x="{LABEL_WIDTH + bar + 6}" y="{y + 15}">{n}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
