"""Page furniture: header with the firm and report name, footer with rule versions and "page x of y"."""

from __future__ import annotations

from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from webapp.reports.styles import ACCENT, MARGIN, MUTED, PAGE, RULE, FontSet

_PAGE_WORDS = {"zh": "第 {n} 页 / 共 {total} 页", "en": "Page {n} of {total}"}


def fit(text: str, font: str, size: float, width: float) -> str:
    """``text`` cut with an ellipsis so that it fits ``width`` points in ``font`` at ``size``."""
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def _font_for(text: str, fonts: FontSet, lang: str) -> str:
    """The CJK font when ``text`` has characters outside Latin-1 (the built-in Helvetica lacks them)."""
    return fonts.cjk if lang == "zh" or any(ord(ch) > 255 for ch in text) else fonts.latin


def furniture_canvas(*, header: str, footer: str, fonts: FontSet, lang: str, skip_first: bool = True):
    """A canvas class that draws header, footer and "page x of y" once the page count is known.

    Parameters
    ----------
    header : str
        Left header text (the firm); the right header says GiantStep.
    footer : str
        Left footer text (rule versions and assessment date).
    fonts : FontSet
    lang : {"zh", "en"}
    skip_first : bool
        Leave the cover page bare.

    Returns
    -------
    type
        A :class:`reportlab.pdfgen.canvas.Canvas` subclass to pass as ``canvasmaker``.
    """

    class FurnitureCanvas(Canvas):
        """Defers each page so the furniture can name the total page count."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []

        def showPage(self):  # noqa: N802 - reportlab's API
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for n, state in enumerate(self._pages, 1):
                self.__dict__.update(state)
                if n > 1 or not skip_first:
                    self._draw(n, total)
                super().showPage()
            super().save()

        def _draw(self, n: int, total: int) -> None:
            width, height = PAGE
            self.saveState()
            self.setStrokeColor(RULE)
            self.setLineWidth(0.5)
            self.line(MARGIN, height - MARGIN + 6, width - MARGIN, height - MARGIN + 6)
            self.line(MARGIN, MARGIN - 8, width - MARGIN, MARGIN - 8)
            self.setFillColor(ACCENT)
            self.setFont(fonts.latin_bold, 8)
            self.drawRightString(width - MARGIN, height - MARGIN + 10, "GiantStep")
            room = width - 2 * MARGIN - stringWidth("GiantStep", fonts.latin_bold, 8) - 20
            font = _font_for(header, fonts, lang)
            self.setFillColor(MUTED)
            self.setFont(font, 8)
            self.drawString(MARGIN, height - MARGIN + 10, fit(header, font, 8, room))
            page = _PAGE_WORDS[lang].format(n=n, total=total)
            pfont = _font_for(page, fonts, lang)
            room = width - 2 * MARGIN - stringWidth(page, pfont, 7.5) - 20
            ffont = _font_for(footer, fonts, lang)
            # a long list of rule versions shrinks (down to 6 pt) before it is cut
            fsize = max(6.0, min(7.5, 7.4 * room / max(stringWidth(footer, ffont, 7.5), 1.0)))
            self.setFont(ffont, fsize)
            self.drawString(MARGIN, MARGIN - 18, fit(footer, ffont, fsize, room))
            self.setFont(pfont, 7.5)
            self.drawRightString(width - MARGIN, MARGIN - 18, page)
            self.restoreState()

    return FurnitureCanvas
