"""Charts drawn once as reportlab Drawings: into the PDF as flowables, to the web page as SVG."""

from __future__ import annotations

import datetime as dt
import math

from reportlab.graphics import renderSVG
from reportlab.graphics.shapes import Circle, Drawing, Line, Polygon, Rect, String
from reportlab.lib import colors
from reportlab.pdfbase import pdfmetrics

from webapp.reports.stationery import fit
from webapp.reports.styles import (
    ACCENT,
    ACCENT_LIGHT,
    CJK_NAME,
    FALLBACK_CID,
    FRAME_WIDTH,
    INK,
    MUTED,
    RULE,
    SERIES,
    STATUS_COLOURS,
    SVG_FAMILY,
    register_fonts,
)

__all__ = ["percentile_bars", "radar", "ladder", "timeline", "score_range", "to_svg"]


def _font(text: str, cjk: str | None) -> str:
    """The CJK font for text with characters beyond Latin-1, Helvetica otherwise."""
    cjk = cjk or register_fonts().cjk
    return cjk if any(ord(ch) > 255 for ch in text) else "Helvetica"


def _text(x, y, text, size, *, cjk=None, colour=INK, anchor="start", width=None) -> String:
    font = _font(text, cjk)
    if width is not None:
        text = fit(text, font, size, width)
    return String(x, y, text, fontName=font, fontSize=size, fillColor=colour, textAnchor=anchor)


def _bar_label(text: str, end: float, left: float, right: float, y: float, cjk: str | None,
               size: float = 7.0) -> String:
    """A bar's value label: white inside the bar when it fits there, else ink just after the bar's end,
    moved back inside ``[left, right]`` (the bar's track) so it is never cut at the drawing's edge."""
    font = _font(text, cjk)
    text = fit(text, font, size, right - left)
    w = pdfmetrics.stringWidth(text, font, size)
    if end - left >= w + 6:
        return String(end - 3, y, text, fontName=font, fontSize=size, fillColor=colors.white, textAnchor="end")
    x = min(end + 3, right - w)
    return String(max(x, left), y, text, fontName=font, fontSize=size, fillColor=INK, textAnchor="start")


def percentile_bars(rows: list[dict], *, width: float = FRAME_WIDTH, font: str | None = None,
                    median_label: str = "50") -> Drawing:
    """Horizontal percentile bars (0-100), one row a metric, with the cohort median marked at 50.

    Parameters
    ----------
    rows : list of dict
        ``{"label": str, "percentile": float | None, "value": str}``; ``value`` is printed at the right
        (e.g. the firm's value against the cohort mean); a None percentile leaves the bar empty.
    width : float
        Drawing width in points.
    font : str, optional
        Registered CJK font name (default: the report font).
    median_label : str
        Caption of the median line.

    Returns
    -------
    reportlab.graphics.shapes.Drawing
    """
    row_h, top, bottom = 15.0, 14.0, 16.0
    edge = 4.0  # kept free at the right, and 15% of a value's width: browsers draw SVG text wider than Helvetica
    label_w, value_w = width * 0.30, width * 0.27 - edge
    bar_x, bar_w = label_w + 6, width - label_w - value_w - edge - 12
    height = top + bottom + row_h * max(len(rows), 1)
    d = Drawing(width, height)
    for i, row in enumerate(rows):
        y = height - top - (i + 1) * row_h + 3
        d.add(_text(0, y + 2, row["label"], 7.5, cjk=font, width=label_w))
        d.add(Rect(bar_x, y, bar_w, 9, fillColor=ACCENT_LIGHT, strokeColor=None))
        p = row.get("percentile")
        if p is not None and math.isfinite(p):
            end = bar_x + bar_w * max(0.0, min(100.0, p)) / 100
            d.add(Rect(bar_x, y, end - bar_x, 9, fillColor=ACCENT, strokeColor=None))
            d.add(_bar_label(f"{p:.0f}", end, bar_x, bar_x + bar_w, y + 2, font))
        value = _text(width, y + 2, str(row.get("value") or ""), 7, cjk=font, colour=MUTED, anchor="end",
                      width=value_w / 1.15)
        value.x -= max(edge, 0.15 * pdfmetrics.stringWidth(value.text, value.fontName, value.fontSize))
        d.add(value)
    axis_y = bottom - 4
    for tick in (0, 25, 50, 75, 100):
        x = bar_x + bar_w * tick / 100
        d.add(Line(x, axis_y, x, height - top + 4, strokeColor=RULE if tick != 50 else INK,
                   strokeWidth=0.4 if tick != 50 else 0.8, strokeDashArray=None if tick != 50 else (2, 2)))
        d.add(_text(x, axis_y - 8, str(tick), 6.5, cjk=font, colour=MUTED, anchor="middle"))
    d.add(_text(bar_x + bar_w / 2, height - top + 6, median_label, 6.5, cjk=font, colour=MUTED, anchor="middle"))
    return d


def radar(axes: list[str], series: list[dict], *, size: float = 230, font: str | None = None,
          width: float | None = None) -> Drawing:
    """A radar of 0-100 scores on a few axes (the four innovation dimensions), one polygon a series.

    Parameters
    ----------
    axes : list of str
        Axis labels, clockwise from the top.
    series : list of dict
        ``{"name": str, "values": [float | None, ...]}`` (None is drawn at 0 and listed as missing by the
        caller); at most three series, coloured in order.
    size : float
        Diameter area in points; the legend goes to the right when ``width`` leaves room.
    font : str, optional
    width : float, optional
        Drawing width (at least ``size`` + 90, so side labels are never clipped).

    Returns
    -------
    reportlab.graphics.shapes.Drawing
    """
    width = max(width or 0, size + 90)  # room beside the rings for the side labels
    legend_h = 14 * len(series)
    d = Drawing(width, size + legend_h + 8)
    cx, cy, r = width / 2, legend_h + 8 + size / 2, size / 2 - 34
    n = len(axes)

    def point(k: int, value: float) -> tuple[float, float]:
        angle = math.pi / 2 - 2 * math.pi * k / n
        return cx + r * value / 100 * math.cos(angle), cy + r * value / 100 * math.sin(angle)

    for ring in (25, 50, 75, 100):
        pts = [c for k in range(n) for c in point(k, ring)]
        d.add(Polygon(pts, fillColor=None, strokeColor=INK if ring == 50 else RULE,
                      strokeWidth=0.8 if ring == 50 else 0.4, strokeDashArray=(2, 2) if ring == 50 else None))
    for k, label in enumerate(axes):
        x, y = point(k, 100)
        d.add(Line(cx, cy, x, y, strokeColor=RULE, strokeWidth=0.4))
        lx, ly = point(k, 118)
        anchor = "middle" if abs(lx - cx) < 5 else ("start" if lx > cx else "end")
        d.add(_text(lx, ly - 3, label, 7.5, cjk=font, anchor=anchor, width=width / 2.2))
    for j, s in enumerate(series[:3]):
        colour = SERIES[j]
        pts = [c for k, v in enumerate(s["values"]) for c in point(k, v or 0.0)]
        fill = colors.Color(colour.red, colour.green, colour.blue, alpha=0.12)
        d.add(Polygon(pts, fillColor=fill, strokeColor=colour, strokeWidth=1.2))
        for k, v in enumerate(s["values"]):
            if v is not None:
                x, y = point(k, v)
                d.add(Circle(x, y, 1.8, fillColor=colour, strokeColor=None))
        y = legend_h - 14 * j
        d.add(Rect(4, y - 2, 10, 6, fillColor=colour, strokeColor=None))
        d.add(_text(18, y - 2, s["name"], 7.5, cjk=font, width=width - 22))
    return d


def ladder(steps: list[dict], *, width: float = FRAME_WIDTH, font: str | None = None) -> Drawing:
    """The certification ladder as rising steps, the firm's rung filled, the next one outlined.

    Parameters
    ----------
    steps : list of dict
        Bottom rung first: ``{"label": str, "status": "met" | "not_met" | "unknown", "caption": str,
        "marker": str | None, "current": bool}``; a label may hold line breaks (two tiers on one rung);
        ``marker`` (e.g. "当前", "next") is written above the rung; the ``current`` rung is filled.
    width : float
    font : str, optional

    Returns
    -------
    reportlab.graphics.shapes.Drawing
    """
    n = max(len(steps), 1)
    step_w, rise, base = width / n, 26.0, 30.0
    height = base + rise * n + 40
    d = Drawing(width, height)
    for i, step in enumerate(steps):
        x, h = i * step_w, base + rise * (i + 1)
        colour = STATUS_COLOURS.get(step.get("status"), MUTED)
        current = bool(step.get("current"))
        fill = colors.Color(colour.red, colour.green, colour.blue, alpha=0.9 if current else 0.15)
        d.add(Rect(x + 2, 0, step_w - 4, h, fillColor=fill, strokeColor=colour,
                   strokeWidth=1.6 if step.get("marker") else 0.6,
                   strokeDashArray=(3, 2) if step.get("marker") and not current else None))
        ink = colors.white if current else INK
        lines = str(step["label"]).split("\n")
        for k, line in enumerate(lines):
            d.add(_text(x + step_w / 2, h - 12 - 10 * k, line, 8, cjk=font, colour=ink, anchor="middle",
                        width=step_w - 10))
        d.add(_text(x + step_w / 2, h - 14 - 10 * len(lines), step.get("caption", ""), 6.5, cjk=font,
                    colour=ink if current else MUTED, anchor="middle", width=step_w - 10))
        if step.get("marker"):
            d.add(_text(x + step_w / 2, h + 6, step["marker"], 8, cjk=font, colour=ACCENT, anchor="middle",
                        width=step_w - 6))
    return d


def timeline(items: list[dict], *, start: dt.date, end: dt.date, width: float = FRAME_WIDTH,
             font: str | None = None, today_label: str = "") -> Drawing:
    """Dated steps as a Gantt-like chart: one row a step, a bar from ``start`` to its date, year gridlines.

    Parameters
    ----------
    items : list of dict
        ``{"date": datetime.date, "label": str, "kind": "milestone" | "step"}``, in any order (drawn by
        date); milestones (titles) are drawn in the accent colour with a diamond.
    start, end : datetime.date
        Axis range; ``start`` is the assessment date.
    width : float
    font : str, optional
    today_label : str
        Caption of the ``start`` line.

    Returns
    -------
    reportlab.graphics.shapes.Drawing
    """
    items = sorted(items, key=lambda i: (i["date"], i.get("kind") != "milestone", i["label"]))
    row_h, top, bottom = 13.0, 14.0, 16.0
    label_w = width * 0.38
    x0, x1 = label_w + 8, width - 6
    height = top + bottom + row_h * max(len(items), 1)
    d = Drawing(width, height)
    span = max((end - start).days, 1)

    def xpos(day: dt.date) -> float:
        return x0 + (x1 - x0) * min(max((day - start).days, 0), span) / span

    for year in range(start.year + 1, end.year + 1):
        x = xpos(dt.date(year, 1, 1))
        d.add(Line(x, bottom - 2, x, height - top + 2, strokeColor=RULE, strokeWidth=0.4))
        d.add(_text(x, bottom - 11, str(year), 6.5, cjk=font, colour=MUTED, anchor="middle"))
    d.add(Line(x0, bottom - 2, x0, height - top + 2, strokeColor=INK, strokeWidth=0.8))
    if today_label:
        d.add(_text(x0, height - top + 4, today_label, 6.5, cjk=font, colour=MUTED, anchor="middle"))
    for i, item in enumerate(items):
        y = height - top - (i + 1) * row_h + 4
        milestone = item.get("kind") == "milestone"
        colour = ACCENT if milestone else MUTED
        x = xpos(item["date"])
        d.add(_text(0, y, item["label"], 7, cjk=font, colour=ACCENT if milestone else INK, width=label_w))
        d.add(Rect(x0, y + 1, max(x - x0, 0.5), 4, fillColor=ACCENT_LIGHT, strokeColor=None))
        if milestone:
            d.add(Polygon([x, y - 1, x + 4, y + 3, x, y + 7, x - 4, y + 3], fillColor=colour, strokeColor=None))
        else:
            d.add(Circle(x, y + 3, 2.5, fillColor=colour, strokeColor=None))
        d.add(_text(min(x + 6, x1 - 40), y, item["date"].isoformat(), 6, cjk=font, colour=MUTED))
    return d


def score_range(lo: float, hi: float, mark: float, *, status: str = "unknown", top: float = 100.0,
                width: float = FRAME_WIDTH, font: str | None = None, mark_label: str = "",
                range_label: str = "") -> Drawing:
    """A score, or the range it can still take, on a 0-``top`` scale against a pass mark.

    Parameters
    ----------
    lo, hi : float
        The lowest and highest score the firm can have (equal when the score is known).
    mark : float
        Where the pass mark is drawn (for "above 70", 70).
    status : {"met", "not_met", "unknown"}
        Colours the range band.
    top : float
        The scale's maximum.
    width : float
    font : str, optional
    mark_label, range_label : str
        Captions of the pass mark (above its line) and of the band (above the band).

    Returns
    -------
    reportlab.graphics.shapes.Drawing
    """
    height, y, bar_h = 50.0, 16.0, 11.0
    x0, x1 = 8.0, width - 8.0

    def xpos(v: float) -> float:
        return x0 + (x1 - x0) * max(0.0, min(top, v)) / top

    d = Drawing(width, height)
    d.add(Rect(x0, y, x1 - x0, bar_h, fillColor=ACCENT_LIGHT, strokeColor=None))
    colour = STATUS_COLOURS.get(status, MUTED)
    a, b = xpos(lo), xpos(hi)
    d.add(Rect(a, y, max(b - a, 2.0), bar_h, fillColor=colour, strokeColor=None))
    for tick in range(0, int(top) + 1, 25):
        d.add(Line(xpos(tick), y - 2, xpos(tick), y, strokeColor=RULE, strokeWidth=0.4))
        d.add(_text(xpos(tick), y - 10, str(tick), 6.5, cjk=font, colour=MUTED, anchor="middle"))
    m, centre = xpos(mark), (a + b) / 2
    d.add(Line(m, y - 3, m, y + bar_h + 14, strokeColor=INK, strokeWidth=1.0, strokeDashArray=(2, 2)))
    if mark_label:  # on the side of the line away from the band
        right = centre < m
        d.add(_text(m + 3 if right else m - 3, y + bar_h + 7, mark_label, 7, cjk=font,
                    anchor="start" if right else "end", width=(x1 - m if right else m - x0) - 3))
    if range_label:  # inside the band when it fits, else above it
        inside = b - a >= pdfmetrics.stringWidth(range_label, _font(range_label, font), 7.5) + 6
        d.add(_text(centre, y + 3 if inside else y + bar_h + 7, range_label, 7.5, cjk=font,
                    colour=colors.white if inside else colour, anchor="middle"))
    return d


def to_svg(drawing: Drawing) -> str:
    """Render a chart to an SVG document (text), with a CSS font stack for the CJK font.

    Parameters
    ----------
    drawing : reportlab.graphics.shapes.Drawing

    Returns
    -------
    str
        The SVG markup, ready to inline in a web page.
    """
    register_fonts()
    hacks = {name: {"family": SVG_FAMILY} for name in pdfmetrics.getRegisteredFontNames()
             if name.startswith(CJK_NAME) or name == FALLBACK_CID}
    hacks["Helvetica"] = {"family": "Helvetica,Arial,sans-serif"}
    return renderSVG.drawToString(drawing, fontHacks=hacks)
