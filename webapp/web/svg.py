"""SVG for inline use under a strict CSP: style attributes become presentation attributes, ids are unique.

reportlab's ``renderSVG`` writes ``style="fill: …; stroke: …"`` on every shape. A content security policy
without 'unsafe-inline' would drop those, so the same properties are rewritten as SVG attributes
(``fill="…"``), which the policy does not touch. A chart and a PDF stay drawn by one piece of code.
"""

from __future__ import annotations

import itertools
import re

from markupsafe import Markup

_STYLE = re.compile(r'\sstyle="([^"]*)"')
_ID = re.compile(r'\bid="([^"]+)"')
_PROLOGUE = re.compile(r"^\s*(<\?xml[^>]*\?>\s*)?(<!DOCTYPE[^>]*>\s*)?", re.S)
_SCRIPT = re.compile(r"<script\b.*?</script\s*>|\son\w+=\"[^\"]*\"", re.S | re.I)
# CSS properties that SVG also accepts as presentation attributes.
PRESENTATION = frozenset("""
clip-path clip-rule color fill fill-opacity fill-rule font-family font-size font-style font-weight opacity
stroke stroke-dasharray stroke-dashoffset stroke-linecap stroke-linejoin stroke-miterlimit stroke-opacity
stroke-width text-anchor dominant-baseline visibility display
""".split())
_counter = itertools.count(1)


def _attributes(match: re.Match) -> str:
    out = []
    for decl in match.group(1).split(";"):
        name, sep, value = decl.partition(":")
        name, value = name.strip().lower(), value.strip()
        if sep and name in PRESENTATION and value and '"' not in value:
            out.append(f' {name}="{value}"')
    return "".join(out)


def inline_svg(svg: str, *, label: str = "") -> Markup:
    """An SVG document from reportlab (or anywhere) as safe inline markup for a strict-CSP page."""
    prefix = f"svg{next(_counter)}-"
    text = _PROLOGUE.sub("", svg, count=1)
    text = _SCRIPT.sub("", text)
    text = _STYLE.sub(_attributes, text)
    ids = set(_ID.findall(text))
    for old in ids:
        text = text.replace(f'id="{old}"', f'id="{prefix}{old}"').replace(f"url(#{old})", f"url(#{prefix}{old})")
        text = text.replace(f'href="#{old}"', f'href="#{prefix}{old}"')
    if label:
        text = text.replace("<svg ", f'<svg role="img" aria-label="{Markup.escape(label)}" ', 1)
    # width and height stay: a chart shows at its own size and CSS only shrinks it (max-width: 100%)
    return Markup(text)


def _pair(value):
    """A value as a (lo, hi) pair; None stays None."""
    if value is None:
        return None
    if isinstance(value, tuple | list):
        lo, hi = value
        return (float(lo), float(hi if hi is not None else lo))
    return (float(value), float(value))


def line_chart(series: list[dict], labels: list[str], *, height: int = 160, width: int = 560,
               y_max: float | None = None, y_ticks: tuple = ()) -> Markup:
    """A small line chart (trend of scores over time) drawn as SVG attributes only.

    ``series``: ``[{"name": str, "values": [float | (lo, hi) | None, ...], "css": "s1"}]`` aligned with
    ``labels``; a (lo, hi) pair is drawn as a point at ``lo`` with a whisker up to ``hi``.
    """
    series = [{**s, "values": [_pair(v) for v in s["values"]]} for s in series]
    values = [v[1] for s in series for v in s["values"] if v is not None]
    top = y_max or (max(values) if values else 1) or 1
    left, right, pad_top, bottom = 36, 12, 30, 28
    n = max(len(labels), 1)
    step = (width - left - right) / max(n - 1, 1)

    def xy(i, v):
        return left + (i * step if n > 1 else (width - left - right) / 2), \
            pad_top + (height - pad_top - bottom) * (1 - v / top)

    parts = [f'<svg viewBox="0 0 {width} {height}" class="trend-chart" role="img">']
    for tick in y_ticks or (0, top / 2, top):
        _, y = xy(0, tick)
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" class="grid-line"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="axis">{tick:g}</text>')
    for i, lab in enumerate(labels):
        x, _ = xy(i, 0)
        anchor = "middle" if n == 1 or 0 < i < n - 1 else ("start" if i == 0 else "end")
        parts.append(f'<text x="{x:.1f}" y="{height - 8}" text-anchor="{anchor}" class="axis">'
                     f'{Markup.escape(lab)}</text>')
    for s in series:
        known = [(i, v) for i, v in enumerate(s["values"]) if v is not None]
        pts = [xy(i, lo) for i, (lo, _) in known]
        if len(pts) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
            parts.append(f'<polyline points="{path}" class="line {s["css"]}" fill="none"/>')
        for i, (lo, hi) in known:
            x, y = xy(i, lo)
            if hi > lo:
                parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y:.1f}" y2="{xy(i, hi)[1]:.1f}" '
                             f'class="whisker {s["css"]}"/>')
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" class="dot {s["css"]}">'
                         f'<title>{Markup.escape(s["name"])}</title></circle>')
    x = left
    for s in series:  # legend along the top
        parts.append(f'<rect x="{x}" y="6" width="12" height="12" rx="2" class="swatch {s["css"]}"/>'
                     f'<text x="{x + 16}" y="16" class="legend">{Markup.escape(s["name"])}</text>')
        x += 28 + 13 * len(s["name"])
    parts.append("</svg>")
    return Markup("".join(parts))
