"""The monthly briefing's chart: one PNG a station leader reads on a phone.

1080 pixels wide (a phone screen's width, so WeChat shows it without scaling text
down), headline figures on top, then horizontal bars — categories, communities,
guard-post attendance per school — whose labels sit left of the bars and whose
numbers sit at their ends, so no legend has to be matched by colour.

Only values go in (`MonthChart`): what the figures mean and how they are worded is
the caller's. The text actually drawn is returned, so a test can check that the
font has every character of it.
"""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from bot.chart.fonts import CJKFont, NoCJKFont, cjk_font, missing_glyphs
from bot.ledger.files import write_file

WIDTH_PX = 1080
DPI = 200
TOP_BARS = 8  # more bars than this do not read on a phone: the rest are summed as 其他

BLUE = "#2F6DB5"
PALE_BLUE = "#A9C4E6"
GREEN = "#2E8B57"
GREY = "#5F6B7A"


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str  # what is written at the bar's end
    inner: float | None = None  # a second, darker bar inside (e.g. resolved of received)


@dataclass(frozen=True)
class Panel:
    title: str
    bars: tuple[Bar, ...]
    limit: float | None = None  # the axis' end (100 for rates); None: from the bars
    legend: tuple[str, str] | None = None  # (outer bar, inner bar) when bars have an inner part


@dataclass(frozen=True)
class MonthChart:
    title: str
    subtitle: str
    headline: tuple[tuple[str, str], ...]  # (label, value): 受理 630, 调处率 99.68%
    panels: tuple[Panel, ...]
    footer: str = ""


@dataclass(frozen=True)
class Drawn:
    """What `render` drew: the font, every text on the chart, and the image's size."""

    font: CJKFont
    texts: tuple[str, ...]
    size_px: tuple[int, int]
    glyph_warnings: tuple[str, ...] = field(default=())


def top(bars: list[Bar], limit: int = TOP_BARS, unit: str = "项") -> list[Bar]:
    """The `limit` largest bars (given largest first), the rest summed into one:
    `其他3个社区`."""
    if len(bars) <= limit:
        return bars
    rest = bars[limit - 1 :]
    total = sum(b.value for b in rest)
    return [*bars[: limit - 1], Bar(f"其他{len(rest)}{unit}", total, f"{total:g}")]


# Layout, in inches of a figure WIDTH_PX / DPI = 5.4 inches wide.
MARGIN = 0.25
LABEL_WIDTH = 1.55  # bar labels (community names run to six characters or more)
HEADER = 1.75  # title, subtitle, headline boxes
PANEL_TITLE = 0.42
BAR_PITCH = 0.34
FOOTER = 0.35


def render(chart: MonthChart, path: Path) -> Drawn:
    """Draw the chart into `path` (PNG, written atomically, owner-only)."""
    import matplotlib

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.text import Text

    font = cjk_font()
    width = WIDTH_PX / DPI
    panels = [(p, PANEL_TITLE + BAR_PITCH * max(1, len(p.bars)) + 0.15) for p in chart.panels]
    height = HEADER + sum(h for _, h in panels) + (FOOTER if chart.footer else 0.1)
    with matplotlib.rc_context({"font.family": [font.family], "font.size": 10, "axes.unicode_minus": False}):
        fig = Figure(figsize=(width, height), dpi=DPI, facecolor="white")
        FigureCanvasAgg(fig)

        def box(left: float, top: float, w: float, h: float) -> list[float]:
            """Inches from the top-left corner -> figure fractions for add_axes."""
            return [left / width, 1 - (top + h) / height, w / width, h / height]

        _headline(fig, chart, box, width)
        top_in = HEADER
        for panel, h in panels:
            ax = fig.add_axes(box(MARGIN + LABEL_WIDTH, top_in + PANEL_TITLE, width - 2 * MARGIN - LABEL_WIDTH, h - PANEL_TITLE - 0.15))
            fig.text(MARGIN / width, 1 - (top_in + 0.12) / height, panel.title, fontsize=12, fontweight="bold", va="top", ha="left")
            if panel.legend:
                outer, inner = panel.legend
                fig.text(1 - MARGIN / width, 1 - (top_in + 0.17) / height, f"■ {inner}", color=BLUE, fontsize=8, va="top", ha="right")
                fig.text(1 - (MARGIN + 0.75) / width, 1 - (top_in + 0.17) / height, f"■ {outer}", color=PALE_BLUE, fontsize=8, va="top", ha="right")
            _panel(ax, panel)
            top_in += h
        if chart.footer:
            fig.text(MARGIN / width, 1 - (top_in + 0.08) / height, chart.footer, fontsize=7.5, color=GREY, va="top", ha="left")
        texts = tuple(t.get_text() for t in fig.findobj(Text) if t.get_text())
        missing = missing_glyphs(font, "".join(texts))
        if missing:
            raise NoCJKFont(f"字体 {font.family} 缺少字符：{''.join(missing)}")
        buffer = io.BytesIO()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fig.savefig(buffer, format="png", dpi=DPI, facecolor="white")
        glyphs = tuple(str(w.message) for w in caught if "Glyph" in str(w.message))
    write_file(path, buffer.getvalue())
    w_px, h_px = fig.canvas.get_width_height()
    return Drawn(font, texts, (int(w_px), int(h_px)), glyphs)


def _headline(fig, chart: MonthChart, box, width: float) -> None:
    """Title, subtitle, and the headline figures as big numbers in boxes."""
    from matplotlib.patches import FancyBboxPatch

    ax = fig.add_axes(box(MARGIN, 0.95, width - 2 * MARGIN, 0.72))
    ax.axis("off")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.text(0, 1 + 0.86 / 0.72, chart.title, fontsize=16, fontweight="bold", va="top", ha="left", transform=ax.transAxes)
    ax.text(0, 1 + 0.44 / 0.72, chart.subtitle, fontsize=9, color=GREY, va="top", ha="left", transform=ax.transAxes)
    n = max(1, len(chart.headline))
    slot = 1 / n
    for i, (label, value) in enumerate(chart.headline):
        x0 = i * slot
        # Rounded corners of equal radius although the axes are ~7 times wider than high.
        ax.add_patch(FancyBboxPatch((x0 + 0.01, 0.02), slot - 0.02, 0.96, boxstyle="round,pad=0,rounding_size=0.015", facecolor="#EEF3FA", edgecolor="none", mutation_aspect=(width - 2 * MARGIN) / 0.72))
        ax.text(x0 + slot / 2, 0.62, value, fontsize=15 if len(value) <= 5 else 12.5, fontweight="bold", color=BLUE, ha="center", va="center")
        ax.text(x0 + slot / 2, 0.22, label, fontsize=9, color=GREY, ha="center", va="center")


def _panel(ax, panel: Panel) -> None:
    bars = list(panel.bars)
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    ax.spines["left"].set_color("#C8CED6")
    ax.tick_params(axis="x", bottom=False, labelbottom=False)
    ax.tick_params(axis="y", length=0, labelsize=10, pad=6)
    if not bars:
        ax.set_yticks([])
        ax.text(0.02, 0.5, "无", transform=ax.transAxes, fontsize=10, color=GREY, va="center")
        return
    positions = list(range(len(bars)))[::-1]  # the first bar on top
    values = [b.value for b in bars]
    end = panel.limit or max(values) or 1
    ax.set_xlim(0, end * 1.38)
    ax.set_ylim(-0.6, len(bars) - 0.4)
    has_inner = any(b.inner is not None for b in bars)
    ax.barh(positions, values, height=0.64, color=PALE_BLUE if has_inner else BLUE)
    inner = [(p, b.inner) for p, b in zip(positions, bars) if b.inner is not None]
    if inner:
        ax.barh([p for p, _ in inner], [v for _, v in inner], height=0.64, color=BLUE)
    ax.set_yticks(positions)
    ax.set_yticklabels([b.label for b in bars])
    for p, b in zip(positions, bars):
        ax.text(b.value + end * 0.02, p, b.text, va="center", ha="left", fontsize=9.5)
