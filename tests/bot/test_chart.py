"""The briefing's chart is drawn with a real CJK font: every character on it is in
the font, and matplotlib never fell back to the empty box (豆腐块)."""
from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from PIL import Image

from bot.chart.fonts import PREFERRED_FAMILIES, CJKFont, NoCJKFont, cjk_font, missing_glyphs
from bot.chart.month import WIDTH_PX, Bar, MonthChart, Panel, render, top
from nlp.detection import CATEGORIES

COMMUNITIES = ["官园社区", "秀江社区", "下浦社区", "袁州区灵泉街道", "化成岩社区", "鼓楼社区", "宜阳新区翠微社区", "湛郎社区", "站前社区", "凤凰社区"]


def every_kind_of_text() -> MonthChart:
    """A chart with every category name, long community names, schools, rates and the
    punctuation the briefing uses."""
    return MonthChart(
        title="官园派出所 2026年3月通报",
        subtitle="统计口径：3月登记的案件，误报不计入受理",
        headline=(("受理", "634"), ("已办结", "633"), ("未结", "1"), ("调处率", "99.68%")),
        panels=(
            Panel("按类别", tuple(Bar(name, 10 - i, f"{10 - i}（办结{9 - i}）", inner=9 - i) for i, name in enumerate(CATEGORIES.values())), legend=("受理", "已办结")),
            Panel("按社区", tuple(top([Bar(c, 50 - i, str(50 - i)) for i, c in enumerate(COMMUNITIES)], unit="个社区"))),
            Panel("护学岗到岗率", (Bar("宜春一中", 97.5, "97.50%（39/40）"), Bar("秀江小学", 0, "无班次")), limit=100),
        ),
        footer="回访：完成12次，逾期1次 · 误报3件 — 疑似警情：核实2件／误报1件",
    )


def cmap_of(font: CJKFont) -> set[int]:
    """Read with fontTools, independently of matplotlib: the face's character map."""
    with TTFont(font.path, fontNumber=font.index, lazy=True) as face:
        return set(face.getBestCmap())


def test_every_character_drawn_is_in_the_cjk_font_and_nothing_fell_back(tmp_path, caplog):
    caplog.set_level(logging.DEBUG, logger="matplotlib")
    drawn = render(every_kind_of_text(), tmp_path / "chart.png")
    assert drawn.font.family in PREFERRED_FAMILIES  # a real CJK font, not matplotlib's DejaVu Sans
    text = "".join(drawn.texts)
    for name in (*CATEGORIES.values(), "调处率", "护学岗到岗率", "宜阳新区翠微社区", "其他3个社区"):
        assert name in text
    cmap = cmap_of(drawn.font)
    missing = sorted({ch for ch in text if not ch.isspace() and ord(ch) not in cmap})
    assert missing == []
    assert drawn.glyph_warnings == ()  # matplotlib's "Glyph … missing from font(s)"
    assert not [r for r in caplog.records if "findfont" in r.getMessage() and "not found" in r.getMessage()]


def test_the_png_reads_on_a_phone(tmp_path):
    path = tmp_path / "chart.png"
    drawn = render(every_kind_of_text(), path)
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size == drawn.size_px
        width, height = image.size
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert width == WIDTH_PX and 1000 <= height <= 2200
    assert len(colours) > 50  # drawn text and bars, not a blank page
    assert 30_000 < path.stat().st_size < 1_000_000
    assert path.stat().st_mode & 0o077 == 0


def test_a_font_without_chinese_is_refused_before_drawing(tmp_path, monkeypatch):
    """The check behind the test above works: DejaVu Sans has no Chinese, and a chart
    drawn with it is refused rather than sent full of empty boxes."""
    from matplotlib import font_manager

    dejavu = font_manager.findfont("DejaVu Sans")
    latin = CJKFont("DejaVu Sans", dejavu, 0)
    assert missing_glyphs(latin, "调处率99.68%") == sorted("调处率")
    monkeypatch.setattr("bot.chart.month.cjk_font", lambda: latin)
    with pytest.raises(NoCJKFont, match="缺少字符"):
        render(every_kind_of_text(), tmp_path / "chart.png")
    assert not (tmp_path / "chart.png").exists()


def test_the_installed_font_is_found():
    """The README's install and CI install fonts-noto-cjk; without it this fails,
    rather than the briefing silently losing its chart."""
    font = cjk_font()
    assert Path(font.path).is_file()
    assert missing_glyphs(font, "矛盾纠纷校园安全交通安全防诈骗防溺水消防安全走失求助治安防范") == []
