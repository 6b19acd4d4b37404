"""The light SVG tree writes exactly what reportlab's renderSVG writes with minidom, for every chart kind."""

from __future__ import annotations

import datetime as dt

import pytest
from reportlab.graphics import renderSVG
from reportlab.graphics.shapes import Drawing, Group, String

from webapp.reports import charts, svgdom

ODD = 'R&D <b>"quoted"</b> 研发 & 万元'


def _drawings():
    rows = [{"label": label, "percentile": p, "value": v}
            for label, p, v in [("研发费用占比", 72.5, "6.3%"), (ODD, None, "—"), ("营业收入", 0, "0"),
                                ("Revenue growth", 100, "1,600 (p99)")]]
    yield charts.percentile_bars(rows, median_label="50 = 对标群体中位数", width=340, text=14 / 6.5, stacked=True)
    yield charts.percentile_bars(rows, median_label=ODD)
    yield charts.radar(["规模", "质量", "影响力", ODD], [{"name": "相对于小巨人", "values": [55, 70.5, None, 20]},
                                                    {"name": ODD, "values": [10, 20, 30, 40]}], size=200, width=340)
    yield charts.ladder([{"label": "创新型\n科技型", "status": "met", "caption": "80 分", "marker": "当前",
                          "current": True}, {"label": ODD, "status": "unknown", "caption": "", "marker": None},
                         {"label": "小巨人", "status": "not_met", "caption": ODD, "marker": "next"}])
    items = [{"date": dt.date(2027, 5, 31), "label": f"I-{i} {ODD}", "kind": "step"} for i in range(4)]
    items.append({"date": dt.date(2028, 5, 31), "label": "取得小巨人", "kind": "milestone"})
    yield charts.timeline(items, start=dt.date(2026, 11, 30), end=dt.date(2029, 1, 1), today_label="今天")
    yield charts.score_range(62, 78, 70, status="unknown", mark_label="合格线：70分以上", range_label="62–78 分")
    padded = Drawing(400, 120)  # a group with a transform, as the result page pads the radar
    group = Group(String(10, 10, ODD, fontName="Helvetica", fontSize=9, textAnchor="middle"))
    group.translate(30, 0)
    padded.add(group)
    yield padded


@pytest.mark.parametrize("drawing", list(_drawings()), ids=lambda d: f"{d.width:.0f}x{d.height:.0f}")
def test_same_svg_as_renderSVG(drawing):
    charts.register_fonts()
    hacks = {"Helvetica": {"family": "Helvetica,Arial,sans-serif"}, "STSong-Light": {"family": "serif"}}
    assert svgdom.draw_to_string(drawing, fontHacks=hacks) == renderSVG.drawToString(drawing, fontHacks=hacks)
    assert svgdom.draw_to_string(drawing) == renderSVG.drawToString(drawing)


def test_charts_to_svg_is_drawn_on_the_light_tree(monkeypatch):
    calls = []
    monkeypatch.setattr(svgdom, "draw_to_string", lambda d, **kw: calls.append(d) or "<svg/>")
    assert charts.to_svg(Drawing(10, 10)) == "<svg/>" and len(calls) == 1
