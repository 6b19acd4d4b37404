"""Charts drawn once as reportlab Drawings: into the PDF as flowables, to the web page as SVG."""

from __future__ import annotations

import datetime as dt
import math

from reportlab.graphics.shapes import Circle, Drawing, Line, Polygon, Rect, String
from reportlab.lib import colors
from reportlab.pdfbase import pdfmetrics

from webapp.reports import svgdom
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
                    median_label: str = "50", text: float = 1.0, stacked: bool = False) -> Drawing:
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
    text : float
        Scale of the text and of the rows that hold it (1 in the PDF; the web page draws a narrow chart with
        larger text, so it stays legible on a phone).
    stacked : bool
        Each label on a line of its own above its bar (for a narrow chart), instead of beside it.

    Returns
    -------
    reportlab.graphics.shapes.Drawing
    """
    t = text
    size, small = 7.5 * t, 6.5 * t
    bar_h, top, bottom = 9.0 * t, 14.0 * t, 16.0 * t
    row_h = (bar_h + size + 10 * t) if stacked else 15.0 * t
    edge = 4.0  # kept free at the right, and 15% of a value's width: browsers draw SVG text wider than Helvetica
    label_w = width if stacked else width * 0.30
    value_w = (width * 0.24 if stacked else width * 0.27) - edge
    bar_x = 0.0 if stacked else label_w + 6
    bar_w = width - bar_x - value_w - edge - 6 * t
    height = top + bottom + row_h * max(len(rows), 1)
    d = Drawing(width, height)
    for i, row in enumerate(rows):
        y = height - top - (i + 1) * row_h + 3 * t
        label_y = y + bar_h + 4 * t if stacked else y + 2 * t
        d.add(_text(0, label_y, row["label"], size, cjk=font, width=label_w - edge))
        d.add(Rect(bar_x, y, bar_w, bar_h, fillColor=ACCENT_LIGHT, strokeColor=None))
        p = row.get("percentile")
        if p is not None and math.isfinite(p):
            end = bar_x + bar_w * max(0.0, min(100.0, p)) / 100
            d.add(Rect(bar_x, y, end - bar_x, bar_h, fillColor=ACCENT, strokeColor=None))
            d.add(_bar_label(f"{p:.0f}", end, bar_x, bar_x + bar_w, y + 2 * t, font, size=7.0 * t))
        value = _text(width, y + 2 * t, str(row.get("value") or ""), 7 * t, cjk=font, colour=MUTED, anchor="end",
                      width=value_w / 1.15)
        value.x -= max(edge, 0.15 * pdfmetrics.stringWidth(value.text, value.fontName, value.fontSize))
        d.add(value)
    axis_y = bottom - 4 * t
    for tick in (0, 25, 50, 75, 100):
        x = bar_x + bar_w * tick / 100
        d.add(Line(x, axis_y, x, height - top + 4 * t, strokeColor=RULE if tick != 50 else INK,
                   strokeWidth=0.4 if tick != 50 else 0.8, strokeDashArray=None if tick != 50 else (2, 2)))
        anchor = {0: "start", 100: "end"}.get(tick, "middle") if stacked else "middle"  # never cut at an edge
        d.add(_text(x, axis_y - small - 1.5 * t, str(tick), small, cjk=font, colour=MUTED, anchor=anchor))
    d.add(_text(bar_x + bar_w / 2, height - top + 6 * t, median_label, small, cjk=font, colour=MUTED,
                anchor="middle"))
    return d


def radar(axes: list[str], series: list[dict], *, size: float = 230, font: str | None = None,
          width: float | None = None, text: float = 1.0) -> Drawing:
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
    text : float
        Scale of the text (and of the room kept for it).

    Returns
    -------
    reportlab.graphics.shapes.Drawing
    """
    t = text
    widest = max((pdfmetrics.stringWidth(a, _font(a, font), 7.5 * t) for a in axes), default=0.0)
    width = max(width or 0, size + max(90.0, 2 * (widest + 10)))  # room beside the rings for the side labels
    legend_h = 14 * t * len(series)
    d = Drawing(width, size + legend_h + 8 * t)
    cx, cy, r = width / 2, legend_h + 8 * t + size / 2, size / 2 - 20 - 14 * t
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
        d.add(_text(lx, ly - 3 * t, label, 7.5 * t, cjk=font, anchor=anchor,
                    width=(width / 2 - abs(lx - cx)) if anchor != "middle" else width))
    for j, s in enumerate(series[:3]):
        colour = SERIES[j]
        pts = [c for k, v in enumerate(s["values"]) for c in point(k, v or 0.0)]
        fill = colors.Color(colour.red, colour.green, colour.blue, alpha=0.12)
        d.add(Polygon(pts, fillColor=fill, strokeColor=colour, strokeWidth=1.2))
        for k, v in enumerate(s["values"]):
            if v is not None:
                x, y = point(k, v)
                d.add(Circle(x, y, 1.8, fillColor=colour, strokeColor=None))
        y = legend_h - 14 * t * j
        d.add(Rect(4, y - 2 * t, 10 * t, 6 * t, fillColor=colour, strokeColor=None))
        d.add(_text(8 + 10 * t, y - 2 * t, s["name"], 7.5 * t, cjk=font, width=width - 12 - 10 * t))
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
             font: str | None = None, today_label: str = "", text: float = 1.0, stacked: bool = False) -> Drawing:
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
    text : float
        Scale of the text and of the rows that hold it.
    stacked : bool
        Each label on a line of its own above its bar (for a narrow chart), instead of beside it.

    Returns
    -------
    reportlab.graphics.shapes.Drawing
    """
    items = sorted(items, key=lambda i: (i["date"], i.get("kind") != "milestone", i["label"]))
    t = text
    row_h, top, bottom = (13.0 + (8.0 if stacked else 0.0)) * t, 14.0 * t, 16.0 * t
    label_w = width if stacked else width * 0.38
    x0, x1 = (6.0 if stacked else label_w + 8), width - 6
    height = top + bottom + row_h * max(len(items), 1)
    d = Drawing(width, height)
    span = max((end - start).days, 1)

    def xpos(day: dt.date) -> float:
        return x0 + (x1 - x0) * min(max((day - start).days, 0), span) / span

    for year in range(start.year + 1, end.year + 1):
        x = xpos(dt.date(year, 1, 1))
        d.add(Line(x, bottom - 2 * t, x, height - top + 2 * t, strokeColor=RULE, strokeWidth=0.4))
        half = pdfmetrics.stringWidth(str(year), "Helvetica", 6.5 * t) / 2
        d.add(_text(max(half + 1, min(x, width - half - 1)), bottom - 11 * t, str(year), 6.5 * t, cjk=font,
                    colour=MUTED, anchor="middle"))
    d.add(Line(x0, bottom - 2 * t, x0, height - top + 2 * t, strokeColor=INK, strokeWidth=0.8))
    if today_label:
        d.add(_text(x0, height - top + 4 * t, today_label, 6.5 * t, cjk=font, colour=MUTED,
                    anchor="start" if stacked else "middle"))
    date_size = (6.5 if stacked else 6.0) * t
    date_w = pdfmetrics.stringWidth("2099-12-31", "Helvetica", date_size)
    for i, item in enumerate(items):
        y = height - top - (i + 1) * row_h + 4 * t
        milestone = item.get("kind") == "milestone"
        colour = ACCENT if milestone else MUTED
        x = xpos(item["date"])
        label_y = y + 9 * t if stacked else y
        d.add(_text(x0 + 4 * t if stacked else 0, label_y, item["label"], 7 * t, cjk=font,
                    colour=ACCENT if milestone else INK, width=label_w - (x0 + 4 * t if stacked else 0)))
        d.add(Rect(x0, y + t, max(x - x0, 0.5), 4 * t, fillColor=ACCENT_LIGHT, strokeColor=None))
        if milestone:
            d.add(Polygon([x, y - t, x + 4 * t, y + 3 * t, x, y + 7 * t, x - 4 * t, y + 3 * t], fillColor=colour,
                          strokeColor=None))
        else:
            d.add(Circle(x, y + 3 * t, 2.5 * t, fillColor=colour, strokeColor=None))
        # right of the marker, or left of it (clear of the marker) where it would run past the edge
        date_x = x + 6 * t if x + 6 * t + date_w <= x1 else x - 6 * t - date_w
        d.add(_text(date_x, y, item["date"].isoformat(), date_size, cjk=font, colour=MUTED))
    return d


def score_range(lo: float, hi: float, mark: float, *, status: str = "unknown", top: float = 100.0,
                width: float = FRAME_WIDTH, font: str | None = None, mark_label: str = "",
                range_label: str = "", text: float = 1.0) -> Drawing:
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
    text : float
        Scale of the text and of the bar.

    Returns
    -------
    reportlab.graphics.shapes.Drawing
    """
    t = text
    lift = 10.0 if t > 1 else 0.0  # large text: the pass mark's caption a line above the band's
    height, y, bar_h = (50.0 + lift) * t, 16.0 * t, 11.0 * t
    x0, x1 = 8.0, width - 8.0

    def xpos(v: float) -> float:
        return x0 + (x1 - x0) * max(0.0, min(top, v)) / top

    d = Drawing(width, height)
    d.add(Rect(x0, y, x1 - x0, bar_h, fillColor=ACCENT_LIGHT, strokeColor=None))
    colour = STATUS_COLOURS.get(status, MUTED)
    a, b = xpos(lo), xpos(hi)
    d.add(Rect(a, y, max(b - a, 2.0), bar_h, fillColor=colour, strokeColor=None))
    for tick in range(0, int(top) + 1, 25):
        d.add(Line(xpos(tick), y - 2 * t, xpos(tick), y, strokeColor=RULE, strokeWidth=0.4))
        anchor = "start" if tick == 0 else "end" if tick == int(top) else "middle"
        d.add(_text(xpos(tick), y - 10 * t, str(tick), 6.5 * t, cjk=font, colour=MUTED,
                    anchor=anchor if t > 1 else "middle"))
    m, centre = xpos(mark), (a + b) / 2
    d.add(Line(m, y - 3 * t, m, y + bar_h + (14 + lift) * t, strokeColor=INK, strokeWidth=1.0,
               strokeDashArray=(2, 2)))
    if mark_label:  # away from the band; on a line of its own (large text), on the side with more room
        right = (x1 - m >= m - x0) if lift else centre < m
        d.add(_text(m + 3 if right else m - 3, y + bar_h + (7 + lift) * t, mark_label, 7 * t, cjk=font,
                    anchor="start" if right else "end", width=(x1 - m if right else m - x0) - 3))
    if range_label:  # inside the band when it fits, else above it
        label_w = pdfmetrics.stringWidth(range_label, _font(range_label, font), 7.5 * t)
        inside = b - a >= label_w + 6
        centre = min(max(centre, label_w / 2 + 1), width - label_w / 2 - 1)  # never cut at an edge
        d.add(_text(centre, y + 3 * t if inside else y + bar_h + 7 * t, range_label, 7.5 * t, cjk=font,
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
    return svgdom.draw_to_string(drawing, fontHacks=hacks)  # renderSVG.drawToString's text, drawn faster
