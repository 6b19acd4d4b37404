"""HNTE (高新技术企业) on a page of its own after the ladder's criteria: a qualification beside the ladder.

The page shows the status, the innovation score (or the range it can still take) against the pass mark, the
consultant's brief (:func:`webapp.engine.advice.hnte.hnte_brief`) and the conditions H1-H8 with their
official wording and citation. Criterion notes (research provenance) are never printed.
"""

from __future__ import annotations

from reportlab.platypus import KeepTogether, PageBreak, Table, TableStyle

from webapp.engine import defaults
from webapp.engine.advice.hnte import hnte_brief, score_text
from webapp.reports import charts
from webapp.reports.sections.common import Ctx, gap
from webapp.reports.sections.criteria import criteria_table
from webapp.reports.styles import ACCENT, ACCENT_LIGHT, FRAME_WIDTH

_TEXT = {
    "zh": {"title": "{name}认定", "beside": "与梯度培育阶梯并行的资质，不是阶梯的一级。认定依据：{instrument}。",
           "status": "认定结果", "score": "创新能力评价得分", "pass": "合格线（不含{above}分）",
           "validity": "资格有效期", "mark": "{above}分以上", "years": "{n}年", "message": "顾问意见",
           "conditions": "认定条件与创新能力评价", "pass_mark": "合格线：{above}分以上（不含{above}分）",
           "points": "{s} 分",
           "range_note": "创新能力评价由专家在各档次内评分（如A档7–8分），未填写的自评档次按其全部可能得分计，"
                         "因此得分可能是一个区间；区间全部高于合格线才判为符合。"},
    "en": {"title": "{name}", "beside": "A qualification beside the ladder, not one of its rungs. Judged under: "
                                        "{instrument}.",
           "status": "Result", "score": "Innovation score", "pass": "Pass mark", "validity": "Valid for",
           "mark": "above {above}", "years": "{n} years", "message": "Our reading",
           "conditions": "Conditions and the innovation score", "pass_mark": "pass mark: above {above}",
           "points": "{s} points",
           "range_note": "Experts score the innovation items within each grade (grade A of an item gives 7-8 "
                         "points) and an item left empty counts with every score it could get, so the score "
                         "can be a range; it passes only when the whole range is above the pass mark."},
}


def brief_of(ctx: Ctx) -> dict | None:
    """The HNTE brief of the report's advice, or one made from the result (advice saved before briefs)."""
    brief = ctx.advice.get("hnte")
    if brief is None and "hnte" not in ctx.advice:
        brief = hnte_brief(ctx.assessment, None, data=defaults.load(defaults.advice_data), book=ctx.rule_book)
    return brief


def hnte_section(ctx: Ctx) -> list:
    """The HNTE page: status, score against the pass mark, the consultant's message, H1-H8 with citations."""
    brief = brief_of(ctx)
    if not brief or brief["tier"] not in ctx.assessment.get("tiers", {}):
        return []
    text, lang = _TEXT[ctx.lang], ctx.lang
    instrument = brief[f"instrument_{lang}"]
    story = [PageBreak(), ctx.p(text["title"].format(name=ctx.tier_name(brief["tier"])), "h1"),
             ctx.p(text["beside"].format(instrument=instrument), "small"), gap(4), _figures(ctx, brief, text)]
    if brief["score_min"] is not None and brief["above"] is not None:
        lo, hi = brief["score_min"], brief["score_max"]
        story += [gap(6), charts.score_range(
            lo, hi, brief["above"], status=brief["status"], width=FRAME_WIDTH, font=ctx.fonts.cjk,
            mark_label=text["pass_mark"].format(above=f"{brief['above']:g}"),
            range_label=text["points"].format(s=score_text(lo, hi)))]
    rows = criteria_table(ctx, brief["tier"], sources=True, labelled=True, widths=(7, 26, 10, 17, 31, 9))
    story += [gap(8), _message(ctx, brief, text), gap(6),
              KeepTogether([ctx.p(text["conditions"], "h2"), ctx.raw(ctx.legend(), "small")]),
              rows, gap(4), ctx.p(text["range_note"], "small")]
    return story


def _figures(ctx: Ctx, brief: dict, text: dict) -> Table:
    """Status, score, pass mark and validity side by side."""
    above = "—" if brief["above"] is None else f"{brief['above']:g}"
    cells = [(ctx.raw(ctx.status(brief["status"]), "big"), text["status"]),
             (ctx.p(score_text(brief["score_min"], brief["score_max"]), "big"), text["score"]),
             (ctx.p(text["mark"].format(above=above), "big"), text["pass"].format(above=above)),
             (ctx.p(text["years"].format(n=brief["validity_years"]), "big"), text["validity"])]
    t = Table([[[big, ctx.p(label, "big_label")] for big, label in cells]], colWidths=[FRAME_WIDTH / 4] * 4)
    t.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, -1), ACCENT_LIGHT), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                           ("LINEAFTER", (0, 0), (-2, -1), 0.6, "white"), ("TOPPADDING", (0, 0), (-1, -1), 8),
                           ("BOTTOMPADDING", (0, 0), (-1, -1), 8)]))
    return t


def _message(ctx: Ctx, brief: dict, text: dict) -> Table:
    """The consultant's message in a ruled box."""
    box = Table([[[ctx.p(text["message"], "cell_bold"), ctx.p(brief[f"message_{ctx.lang}"], "body")]]],
                colWidths=[FRAME_WIDTH])
    box.setStyle(TableStyle([("LINEBEFORE", (0, 0), (0, -1), 2.5, ACCENT), ("LEFTPADDING", (0, 0), (-1, -1), 10),
                             ("TOPPADDING", (0, 0), (-1, -1), 6), ("BOTTOMPADDING", (0, 0), (-1, -1), 4)]))
    return box
