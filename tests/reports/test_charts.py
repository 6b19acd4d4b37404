"""Charts are reportlab Drawings, the same for the PDF and (as SVG) the web page."""

from __future__ import annotations

import datetime as dt

from reportlab.graphics.shapes import Drawing, String
from reportlab.pdfbase.pdfmetrics import stringWidth

from webapp.reports import charts
from webapp.reports.styles import FRAME_WIDTH


def _strings(d: Drawing) -> list[String]:
    return [s for s in d.getContents() if isinstance(s, String)]


def test_percentile_bars_one_row_a_metric_and_empty_when_unknown():
    rows = [{"label": "PCT 国际申请", "percentile": 81.2, "value": "2 (mean 1.65)"},
            {"label": "Citations", "percentile": None, "value": "unknown"}]
    d = charts.percentile_bars(rows, width=400)
    assert d.width == 400 and d.height > 40
    texts = [s.text for s in _strings(d)]
    assert "PCT 国际申请" in texts and "81" in texts and "unknown" in texts


def test_radar_draws_every_axis_and_series():
    d = charts.radar(["技术规模", "Quality", "Influence", "Globalisation"],
                     [{"name": "vs little giants", "values": [50, 60, None, 20]}, {"name": "vs champions",
                                                                                    "values": [5, 6, 7, 8]}])
    texts = [s.text for s in _strings(d)]
    assert {"技术规模", "Quality", "vs little giants", "vs champions"} <= set(texts)


def test_ladder_marks_the_current_rung():
    steps = [{"label": "创新型\n科技型", "status": "met", "caption": "符合", "marker": "当前", "current": True},
             {"label": "专精特新", "status": "unknown", "caption": "待定", "marker": "下一步"},
             {"label": "小巨人", "status": "not_met", "caption": "不符合"}]
    texts = [s.text for s in _strings(charts.ladder(steps, width=450))]
    assert "当前" in texts and "下一步" in texts and "创新型" in texts and "科技型" in texts


def test_timeline_gives_each_step_its_own_row():
    start = dt.date(2026, 11, 20)
    items = [{"date": dt.date(2027, 5, 31), "label": f"step {i}", "kind": "step"} for i in range(8)]
    items.append({"date": dt.date(2028, 5, 31), "label": "小巨人称号", "kind": "milestone"})
    d = charts.timeline(items, start=start, end=dt.date(2029, 1, 1), width=500)
    labels = [s for s in _strings(d) if s.text.startswith("step") or s.text == "小巨人称号"]
    assert len({round(s.y, 3) for s in labels}) == len(items)   # no two labels share a row


def test_to_svg_uses_a_css_font_stack_for_chinese():
    svg = charts.to_svg(charts.radar(["规模", "质量", "影响力", "全球化"], [{"name": "企业", "values": [1, 2, 3, 4]}]))
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert "WenQuanYi Zen Hei" in svg and "规模" in svg


def _all_strings(node):
    for item in getattr(node, "contents", None) or (node.getContents() if hasattr(node, "getContents") else []):
        if isinstance(item, String):
            yield item
        else:
            yield from _all_strings(item)


def _extent(s: String) -> tuple[float, float]:
    w = stringWidth(s.text, s.fontName, s.fontSize)
    start = {"start": s.x, "end": s.x - w, "middle": s.x - w / 2}[s.textAnchor]
    return start, start + w


def test_percentile_bar_labels_stay_inside_the_drawing_for_any_value():
    rows = [{"label": "研发费用占营业收入比重（近两年平均）", "percentile": p, "value": v}
            for p, v in [(100, "1,600 (p99)"), (160, "160 (p99)"), (99.6, "1,600,000,000 万元 (p99)"),
                         (0, "0"), (-20, "-5"), (None, ""), (float("nan"), "—"), (3, "1,600 (p99)"),
                         (12.5, "160"), (1e9, "1,600 (p99)")]]
    for width in (FRAME_WIDTH, 300, 160):
        d = charts.percentile_bars(rows, width=width, median_label="中位数")
        texts = list(_all_strings(d))
        assert texts
        for s in texts:
            lo, hi = _extent(s)
            assert -0.01 <= lo and hi <= d.width + 0.01, (width, s.text, lo, hi)
        svg = charts.to_svg(d)
        assert "160" in svg and "100" in svg


def _inside(d, *, min_size: float = 0.0) -> None:
    """Every string lies inside the drawing and is at least ``min_size`` points."""
    texts = list(_all_strings(d))
    assert texts
    for s in texts:
        lo, hi = _extent(s)
        assert -0.01 <= lo and hi <= d.width + 0.01, (s.text, lo, hi, d.width)
        assert s.fontSize >= min_size - 1e-9, (s.text, s.fontSize)


def test_web_charts_have_large_text_inside_a_narrow_drawing():
    """The web page's narrow charts (text scaled, labels stacked) keep every string inside the drawing and
    no string under 14 points, the size they are shown at on a desktop (drawn 340 wide, never enlarged)."""
    from webapp.web.insights import WEB_BARS, WEB_TEXT, WEB_WIDTH

    rows = [{"label": "研发费用占营业收入比重（近两年平均）", "percentile": p, "value": v}
            for p, v in [(100, "1,600 (p99)"), (0, "0"), (None, ""), (57, "41.67%"), (3, "3.75%")]]
    _inside(charts.percentile_bars(rows, median_label="50 = 对标群体中位数", **WEB_BARS), min_size=WEB_TEXT)
    start = dt.date(2026, 11, 30)
    items = [{"date": dt.date(2027, 1, 30), "label": "C-3 全球市场占有率排名", "kind": "step"},
             {"date": dt.date(2029, 12, 1), "label": "取得专精特新“小巨人”企业", "kind": "milestone"}]
    _inside(charts.timeline(items, start=start, end=dt.date(2030, 1, 1), today_label="今天", **WEB_BARS),
            min_size=WEB_TEXT)
    radar = charts.radar(["技术规模", "技术质量", "技术影响力", "技术全球化"],
                         [{"name": "相对于专精特新“小巨人”企业（五批）", "values": [60, 40, 70, 20]}],
                         size=WEB_WIDTH - 140, width=WEB_WIDTH, text=WEB_TEXT / 7.5)
    _inside(radar, min_size=WEB_TEXT)
    for lo, hi in ((58, 74), (0, 100), (95, 100)):
        _inside(charts.score_range(lo, hi, 70, width=WEB_WIDTH, text=WEB_TEXT / 6.5, mark_label="合格线：70 分以上",
                                   range_label=f"{lo}–{hi} 分"), min_size=WEB_TEXT)
