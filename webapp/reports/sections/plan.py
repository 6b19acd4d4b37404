"""Gaps and roadmap: milestones, a timeline, every recommendation, the thresholds by date, and the themes."""

from __future__ import annotations

import datetime as dt

from reportlab.platypus import KeepTogether

from webapp import fields
from webapp.engine.advice.format import format_choice
from webapp.reports import charts
from webapp.reports.sections.common import Ctx, gap, table
from webapp.reports.styles import FRAME_WIDTH

_TEXT = {
    "zh": {"basis": {"growth": "按自身增速", "action": "采取行动", "unknown": "缺少数据",
           "not_reached": "10年内无法达到"},
           "reason": {"unknown": "部分条件缺少数据，日期仅计已知条件", "not_reached": "按当前增速10年内无法满足"},
           "tier_title": "取得{t}", "fy": "{y} 财年",
           "growth": "增长率：营业收入 {rev}，研发费用 {rd}，专利申请 {apps}（{note}）。",
           "no_growth": "未提供近三年数据，路线图无法按企业自身增速推算。",
           "fallback": "发明占比或授权率缺少企业数据时，采用小巨人平均值。"},
    "en": {"basis": {"growth": "own growth", "action": "by action", "unknown": "data missing",
                     "not_reached": "not within 10 years"},
           "reason": {"unknown": "some criteria lack data; the date counts the known ones",
                      "not_reached": "not met within 10 years at current growth"},
           "tier_title": "{t} title", "fy": "FY {y}",
           "growth": "Growth: revenue {rev}, R&D {rd}, patent applications {apps} ({note}).",
           "no_growth": "No three-year figures were given, so the roadmap cannot extrapolate the firm's own growth.",
           "fallback": "Where the firm's invention share or grant rate is unknown, the little-giant mean is used."},
}


def _milestones(ctx: Ctx) -> list:
    w, text = ctx.w, _TEXT[ctx.lang]
    rows = []
    for m in ctx.advice.get("milestones", []):
        note = text["reason"].get(m.get("reason") or "", "")
        rows.append([ctx.t(m) or m["tier"], m.get("earliest") or "—", m.get("title") or "—",
                     ", ".join(m.get("open", [])) or "—", note])
    if not rows:
        return []
    return [*ctx.heading(w["milestones"]),
            table(ctx, [w["next"], w["earliest"], w["title"], w["open"], w["notes"]], rows, [22, 14, 14, 25, 25])]


def _timeline(ctx: Ctx) -> list:
    as_of = dt.date.fromisoformat(ctx.assessment.get("as_of") or dt.date.today().isoformat())
    items = []
    for m in ctx.advice.get("milestones", []):
        if m.get("title"):
            items.append({"date": dt.date.fromisoformat(m["title"]), "kind": "milestone",
                          "label": _TEXT[ctx.lang]["tier_title"].format(t=ctx.t(m) or m["tier"])})
    seen = set()
    for e in ctx.advice.get("roadmap", []):
        if not e.get("eta") or not e.get("required") or e["kind"] in ("gather", "manual", "manual_set"):
            continue
        label = f"{e.get('criterion') or ''} {ctx.t(e, 'label') or ''}".strip()
        if label in seen:
            continue
        seen.add(label)
        items.append({"date": dt.date.fromisoformat(e["eta"]), "kind": "step", "label": label})
    if not items:
        return []
    end = max(max(i["date"] for i in items), as_of.replace(year=as_of.year + 2))
    end = dt.date(end.year + 1, 1, 1) if end.month > 6 else dt.date(end.year, 12, 31)
    drawing = charts.timeline(items[:18], start=as_of, end=end, width=FRAME_WIDTH, font=ctx.fonts.cjk,
                              today_label=ctx.w["today"])
    return [KeepTogether([ctx.p(ctx.w["timeline"], "h2"), drawing])]


def _actions(ctx: Ctx) -> list:
    w = ctx.w
    actions = ctx.advice.get("actions", [])
    if not actions:
        return [ctx.p(w["no_actions"])]
    rows = []
    for i, x in enumerate(actions, 1):
        cell = ctx.raw(f"<b>{ctx.esc(ctx.t(x, 'title'))}</b><br/>"
                       f'<font size="7" color="#61707d">{ctx.esc(ctx.t(x, "detail"))}</font>', "cell")
        rows.append([str(i), cell, ctx.tier_name(x["tier"]),
                     "—" if x["lead_time_months"] is None else str(x["lead_time_months"]), x.get("eta") or "—",
                     f"{x['score']:.3f}"])
    return [*ctx.heading(w["actions_all"]),
            table(ctx, ["#", w["action"], w["next"], w["lead"], w["eta"], w["score"]], rows, [4, 56, 14, 7, 11, 8])]


def _need(ctx: Ctx, e: dict, unit: str) -> str:
    """"value → threshold" of a roadmap entry; for a choice (the R&D institution's level, a scored ordinal
    whose entry carries no level of its own) its label and the step: "未建立研发机构 → 更高一档"."""
    spec = fields.FIELDS.get(e.get("metric") or "")
    if spec is None or spec.kind != "enum":
        return f"{ctx.value(e.get('value'), unit)} → {ctx.value(e['threshold'], unit)}"
    now = format_choice(spec.name, e.get("value"), ctx.lang)
    return f"{now} → {'更高一档' if ctx.lang == 'zh' else 'the next level up'}"


def _roadmap(ctx: Ctx) -> list:
    w, text = ctx.w, _TEXT[ctx.lang]
    rows = []
    for e in ctx.advice.get("roadmap", []):
        if not e.get("metric") or not isinstance(e.get("threshold"), int | float):
            continue
        unit = e.get("unit") or ""
        need = _need(ctx, e, unit)
        growth = text["fy"].format(y=e["fiscal_year"]) + f" · {e['eta_growth']}" if e.get("fiscal_year") else "—"
        rows.append([f"{ctx.tier_name(e['tier'])} {', '.join(e.get('criteria') or [e.get('criterion') or ''])}",
                     ctx.t(e, "label") or e["metric"], need, growth, e.get("eta_action") or "—",
                     text["basis"].get(e.get("basis"), e.get("basis") or "")])
    if not rows:
        return []
    return [*ctx.heading(w["roadmap"]),
            table(ctx, [w["next"], w["criterion"], w["gap"], w["at_growth"], w["with_action"], w["basis"]], rows,
                  [18, 24, 20, 16, 11, 11]), ctx.p(_growth_line(ctx), "small")]


def _growth_line(ctx: Ctx) -> str:
    text = _TEXT[ctx.lang]
    growth = ctx.advice.get("growth") or {}
    if not any((g or {}).get("rate") is not None for g in growth.values()):
        return text["no_growth"]

    def rate(key):
        g = (growth.get(key) or {}).get("rate")
        return "—" if g is None else f"{g * 100:.1f}%"

    line = text["growth"].format(rev=rate("revenue"), rd=rate("rd_expense"), apps=rate("applications"),
                                 note=ctx.w["at_growth_note"])
    if ctx.advice.get("basis", {}).get("fallbacks"):
        line += " " + text["fallback"]
    return line


def _themes(ctx: Ctx) -> list:
    story = ctx.heading(ctx.w["themes"])
    themes = ctx.advice.get("themes", [])
    if themes and all(t.get("score") is None for t in themes):
        story.append(ctx.p(ctx.w["bench_na"], "small"))
    for t in themes:
        parts = [f"<b>{t.get('rank', '')}. {ctx.esc(ctx.t(t, 'title'))}</b>", ctx.esc(ctx.t(t, "detail"))]
        if ctx.t(t, "finding"):
            parts.append(f'<font color="#0b5d8c">{ctx.esc(ctx.t(t, "finding"))}</font>')
        story.append(ctx.raw("<br/>".join(parts), "theme"))
    if themes:
        story.append(ctx.p(ctx.t(themes[0], "source"), "small"))
    return story


def plan_section(ctx: Ctx) -> list:
    """The whole gaps-and-roadmap section."""
    return [*ctx.heading(ctx.w["plan"], "h1", space=200), *_milestones(ctx), gap(6), *_timeline(ctx), *_roadmap(ctx),
            *_actions(ctx), *_themes(ctx)]
