"""The CJK font charts are drawn with.

matplotlib's default font (DejaVu Sans) has no Chinese: every character would be
drawn as an empty box (豆腐块). A chart is drawn only with a font that is really
installed and has every character of its text; `pip install` cannot bring one,
so the README's install and CI install Debian's `fonts-noto-cjk`.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

# Simplified Chinese faces first: Noto Sans CJK's JP face has Japanese glyph forms.
PREFERRED_FAMILIES = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Noto Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Microsoft YaHei",
    "PingFang SC",
    "SimHei",
)
INSTALL_HINT = "请安装中文字体（Debian/Ubuntu：apt-get install fonts-noto-cjk）"


class NoCJKFont(RuntimeError):
    """No installed font can draw Chinese."""


@dataclass(frozen=True)
class CJKFont:
    family: str
    path: str
    index: int  # the face in a .ttc collection


@lru_cache(maxsize=1)
def cjk_font() -> CJKFont:
    """The first of PREFERRED_FAMILIES that matplotlib finds installed."""
    from matplotlib import font_manager

    font = _preferred(font_manager.fontManager.ttflist)
    if font is None:
        # matplotlib caches the system's font list on first use (~/.cache/matplotlib):
        # a font installed after that is not in it. Add what the system has now.
        known = {f.fname for f in font_manager.fontManager.ttflist}
        for path in font_manager.findSystemFonts():
            if path not in known:
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue  # a broken font file is not ours to fix
        font = _preferred(font_manager.fontManager.ttflist)
    if font is None:
        raise NoCJKFont(f"没有可以显示中文的字体，无法生成统计图。{INSTALL_HINT}")
    return font


def _preferred(entries: list) -> CJKFont | None:
    # Regular weight first: a family's bold face is picked by matplotlib when asked.
    by_name = {f.name: f for f in entries if f.weight in (400, "normal", "regular")}
    by_name.update({f.name: f for f in entries if f.name not in by_name})
    for family in PREFERRED_FAMILIES:
        entry = by_name.get(family)
        if entry is not None:
            return CJKFont(family, entry.fname, getattr(entry, "index", 0))
    return None


def missing_glyphs(font: CJKFont, text: str) -> list[str]:
    """Characters of `text` the font cannot draw (spaces and line breaks aside)."""
    from matplotlib.ft2font import FT2Font

    charmap = FT2Font(font.path, face_index=font.index).get_charmap()
    return sorted({ch for ch in text if not ch.isspace() and ord(ch) not in charmap})
