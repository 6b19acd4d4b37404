"""Fonts (an embedded CJK TrueType subset, else STSong-Light), paragraph styles, colours and page geometry."""

from __future__ import annotations

import functools
import os
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.pdfmetrics import registerFontFamily
from reportlab.pdfbase.ttfonts import TTFError, TTFont

ENV_FONT = "GIANTSTEP_CJK_FONT"
CJK_NAME = "GiantStepCJK"
FALLBACK_CID = "STSong-Light"
LATIN, LATIN_BOLD = "Helvetica", "Helvetica-Bold"
# TrueType (glyf) CJK fonts reportlab can subset and embed, most common first. "path" or ("path", index).
SYSTEM_FONTS: tuple[tuple[str, int], ...] = (
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0),
    ("C:/Windows/Fonts/simhei.ttf", 0),
    ("C:/Windows/Fonts/simsun.ttc", 0),
    ("/Library/Fonts/Arial Unicode.ttf", 0),
)
# CSS family a browser uses for the CJK font in SVG charts.
SVG_FAMILY = ("'Noto Sans CJK SC','Source Han Sans SC','WenQuanYi Zen Hei','PingFang SC','Microsoft YaHei',"
              "sans-serif")

PAGE = A4
MARGIN = 18 * mm
FRAME_WIDTH = PAGE[0] - 2 * MARGIN
INK = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#61707d")
ACCENT = colors.HexColor("#0b5d8c")
ACCENT_LIGHT = colors.HexColor("#dcebf5")
RULE = colors.HexColor("#c8d1d9")
MET = colors.HexColor("#2e7d32")
NOT_MET = colors.HexColor("#c62828")
UNKNOWN = colors.HexColor("#b26a00")
STATUS_COLOURS = {"met": MET, "not_met": NOT_MET, "unknown": UNKNOWN}
SERIES = (colors.HexColor("#0b5d8c"), colors.HexColor("#e07b00"), colors.HexColor("#6a3d9a"))

# Characters Helvetica lacks: CJK, full-width forms, number forms (Ⅰ), arrows, maths (≥), shapes (●).
_CJK_RUN = re.compile(r"[\u2150-\u218f\u2190-\u22ff\u2460-\u24ff\u25a0-\u25ff\u2e80-\u9fff\uff00-\uffef]+")


class CachedTTFont(TTFont):
    """A TrueType font that remembers string widths: CJK line breaking measures each character many times,
    and reportlab's pure-Python width loop dominates report time without its C accelerator."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._widths: dict = {}

    def stringWidth(self, text, size, encoding="utf8"):  # noqa: N802 - reportlab's API
        """Width of ``text`` at ``size`` points (widths scale linearly with size)."""
        width = self._widths.get(text)
        if width is None:
            width = TTFont.stringWidth(self, text, 1000.0, encoding)
            if len(self._widths) < 100_000:
                self._widths[text] = width
        return width * size / 1000.0


@dataclass(frozen=True)
class FontSet:
    """The fonts one report uses: ``cjk`` for Chinese, ``latin`` for English body text."""

    cjk: str
    embedded: bool
    source: str
    latin: str = LATIN
    latin_bold: str = LATIN_BOLD

    def body(self, lang: str) -> str:
        """Base font of running text in ``lang``."""
        return self.cjk if lang == "zh" else self.latin

    def bold(self, lang: str) -> str:
        """Font of headings in ``lang`` (the CJK font has no bold face; size and colour carry headings)."""
        return self.cjk if lang == "zh" else self.latin_bold


def find_cjk_font(path: str | os.PathLike | None = None) -> tuple[str, int] | None:
    """The CJK TrueType font to embed: ``path``, else ``$GIANTSTEP_CJK_FONT``, else a known system font.

    A path may end in ``#N`` to pick subfont N of a TrueType collection (``.ttc``), e.g.
    ``/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc#0``. Returns ``(path, index)`` or None.
    """
    for candidate in (path, os.environ.get(ENV_FONT)):
        if candidate:
            text = str(candidate)
            name, _, index = text.partition("#") if "#" in text else (text, "", "0")
            if Path(name).is_file():
                return name, int(index or 0)
    for name, index in SYSTEM_FONTS:
        if Path(name).is_file():
            return name, index
    return None


@functools.cache
def register_fonts(path: str | None = None) -> FontSet:
    """Register the report fonts once per process and return them.

    Parameters
    ----------
    path : str, optional
        A CJK TrueType font (``.ttf`` or ``.ttc``, optional ``#index``); default ``$GIANTSTEP_CJK_FONT`` or a
        system font. reportlab embeds a subset of it, so Chinese renders on machines without Chinese fonts.
        When none is usable, reportlab's built-in CID font ``STSong-Light`` (not embedded) is used.

    Returns
    -------
    FontSet
    """
    found = find_cjk_font(path)
    if found is not None:
        name = f"{CJK_NAME}-{zlib.crc32(repr(found).encode()):08x}"
        try:
            if name not in pdfmetrics.getRegisteredFontNames():
                pdfmetrics.registerFont(CachedTTFont(name, found[0], subfontIndex=found[1]))
                registerFontFamily(name, normal=name, bold=name, italic=name, boldItalic=name)
            return FontSet(cjk=name, embedded=True, source=f"{found[0]}#{found[1]}")
        except (TTFError, OSError, ValueError):
            pass  # not a TrueType outline font (e.g. CFF-based OTF): fall back below
    if FALLBACK_CID not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_CID))
        registerFontFamily(FALLBACK_CID, normal=FALLBACK_CID, bold=FALLBACK_CID, italic=FALLBACK_CID,
                           boldItalic=FALLBACK_CID)
    return FontSet(cjk=FALLBACK_CID, embedded=False, source=FALLBACK_CID)


def markup(text, fonts: FontSet, lang: str) -> str:
    """Escape user or data text for a Paragraph; in English, set runs of CJK characters in the CJK font."""
    out = escape("" if text is None else str(text))
    if lang == "zh":
        return out
    return _CJK_RUN.sub(lambda m: f'<font name="{fonts.cjk}">{m.group(0)}</font>', out)


def _style(name, font, size, *, leading=None, colour=INK, lang="zh", **kw) -> ParagraphStyle:
    return ParagraphStyle(name, fontName=font, fontSize=size, leading=leading or size * 1.45,
                          textColor=colour, wordWrap="CJK" if lang == "zh" else None, splitLongWords=1, **kw)


@functools.cache
def get_styles(lang: str, fonts: FontSet) -> dict[str, ParagraphStyle]:
    """Paragraph styles for ``lang`` with ``fonts`` (built once per pair)."""
    body, bold = fonts.body(lang), fonts.bold(lang)
    return {
        "cover_title": _style("cover_title", bold, 26, leading=34, colour=ACCENT, lang=lang),
        "cover_firm": _style("cover_firm", bold, 20, leading=28, lang=lang, spaceBefore=6, spaceAfter=10),
        "cover_meta": _style("cover_meta", body, 10.5, lang=lang, colour=MUTED),
        "h1": _style("h1", bold, 16, leading=22, colour=ACCENT, lang=lang, spaceBefore=4, spaceAfter=8,
                     keepWithNext=1),
        "h2": _style("h2", bold, 12, leading=17, colour=INK, lang=lang, spaceBefore=10, spaceAfter=4),
        "theme": _style("theme", body, 9.5, lang=lang, spaceBefore=6, spaceAfter=2),
        "body": _style("body", body, 9.5, lang=lang, spaceAfter=4, alignment=TA_LEFT),
        "lead": _style("lead", body, 11, leading=16, lang=lang, spaceAfter=6),
        "small": _style("small", body, 8, lang=lang, colour=MUTED, spaceAfter=3),
        "cell": _style("cell", body, 8, leading=10.5, lang=lang),
        "cell_bold": _style("cell_bold", bold, 8, leading=10.5, lang=lang),
        "cell_small": _style("cell_small", body, 7, leading=9, lang=lang, colour=MUTED),
        "head": _style("head", bold, 8, leading=10.5, lang=lang, colour=colors.white),
        "big": _style("big", bold, 14, leading=18, lang=lang, colour=ACCENT, alignment=TA_CENTER),
        "big_label": _style("big_label", body, 8.5, lang=lang, colour=MUTED, alignment=TA_CENTER),
    }
