"""Cover, one-page executive summary and the ladder with the firm's place."""

from __future__ import annotations

import io
from pathlib import Path

from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Image, KeepTogether, PageBreak, Table, TableStyle

from webapp.engine.advice.roadmap import number
from webapp.reports import charts
from webapp.reports.sections.common import MARKS, Ctx, gap, percent, table
from webapp.reports.styles import ACCENT_LIGHT, FRAME_WIDTH, RULE, markup

_DISCLAIMER = {
    "zh": "本报告由 GiantStep 根据企业自行填报的数据和公开的认定标准生成，仅供自我评估参考；"
          "是否认定以主管部门审核为准。",
    "en": "GiantStep generated this report from the firm's own figures and the published standards. It is a "
          "self-assessment: the authorities decide every recognition.",
}
_PRACTICE = {"zh": "咨询机构", "en": "Practice"}
_MODES = {"zh": {"new": "新申报", "review": "复核"}, "en": {"new": "new application", "review": "re-review"}}
_LIKELY = {
    "zh": {"likely": "可能层级（待确认）", "mark": "可能在此", "confirm": "待确认：{items}",
           "sentence": "按 {rules} 规则，企业的数据已满足{tier}的各项量化条件，尚待确认：{items}；"
                       "仅凭数据已确认：{placed}。"},
    "en": {"likely": "Likely tier (to confirm)", "mark": "likely here", "confirm": "to confirm: {items}",
           "sentence": "Under {rules}, the firm's figures pass every figure-based criterion of {tier}; left to "
                       "confirm: {items}. Confirmed by the figures alone: {placed}."},
}
_KINDS = {"zh": {"self": "自我声明", "manual": "人工审核", "missing": "缺少数据"},
          "en": {"self": "declaration", "manual": "manual review", "missing": "missing figures"}}


def likely_of(a: dict) -> str | None:
    """The likely tier when it differs from the tier (a conditional tier), else None."""
    likely = a.get("likely_tier")
    return likely if likely and likely != "none" and likely != a.get("tier") else None


def confirm_text(ctx: Ctx, tid: str) -> str:
    """What is left to confirm for tier ``tid``: "E3 无违法违规与失信记录（自我声明）、…"."""
    kinds, sep = _KINDS[ctx.lang], "、" if ctx.lang == "zh" else "; "
    items = []
    for c in ctx.assessment.get("to_confirm") or []:
        if c.get("tier") != tid:
            continue
        kind = kinds["self"] if c.get("self_declared") else kinds["manual"] if c.get("manual_review") else \
            kinds["missing"]
        name = c.get(f"name_{ctx.lang}") or ""
        items.append(f"{c['id']} {name}（{kind}）" if ctx.lang == "zh" else f"{c['id']} {name} ({kind})")
    return sep.join(items) or "—"


def rule_versions(a: dict) -> str:
    """"SME-2026 (2026.04-1) · TECH-2017 (…)": the rule tables a result was judged by."""
    versions = a.get("rule_versions") or {}
    ids = list(versions) or list((a.get("rules") or {}).values())
    return " · ".join(f"{rid} ({versions[rid]})" if rid in versions else rid for rid in ids)


def _logo(logo) -> Image | None:
    """The consultant's logo scaled into 45 x 18 mm, from a path, bytes or a binary file."""
    if logo is None:
        return None
    source = io.BytesIO(logo) if isinstance(logo, bytes | bytearray) else \
        str(logo) if isinstance(logo, str | Path) else logo
    iw, ih = ImageReader(source).getSize()
    if hasattr(source, "seek"):
        source.seek(0)
    scale = min(45 * mm / iw, 18 * mm / ih)
    return Image(source, width=iw * scale, height=ih * scale, hAlign="LEFT")


def cover(ctx: Ctx, *, consultant=None, client=None, logo=None, practice=None) -> list:
    """The cover page: report title, firm, date, rule versions; the consultant's logo and practice name above,
    the client, consultant and practice in the table (each optional)."""
    a, w = ctx.assessment, ctx.w
    story = []
    image = _logo(logo)
    if image is not None:
        story += [image, gap(6 if practice else 14)]
    if practice:
        story += [ctx.p(practice, "cover_meta"), gap(8)]
    if image is None and not practice:
        story.append(gap(40))
    story += [ctx.p(w["report"], "cover_title"), ctx.p("GiantStep", "cover_meta"), gap(30),
              ctx.p(a.get("firm_name") or "—", "cover_firm"), gap(10)]
    rows = [[w["as_of"], a.get("as_of", "")], [w["rules"], rule_versions(a)],
            [w["tier"], ctx.tier_name(a.get("tier"))]]
    likely = likely_of(a)
    if likely:
        confirm = _LIKELY[ctx.lang]["confirm"].format(items=confirm_text(ctx, likely))
        rows.append([_LIKELY[ctx.lang]["likely"], f"{ctx.tier_name(likely)}（{confirm}）" if ctx.lang == "zh"
                     else f"{ctx.tier_name(likely)} ({confirm})"])
    if a.get("mode"):
        rows.append([w["mode"], _MODES[ctx.lang].get(a["mode"], a["mode"])])
    if client:
        rows.append([w["client"], client])
    if consultant:
        rows.append([w["consultant"], consultant])
    if practice:
        rows.append([_PRACTICE[ctx.lang], practice])
    t = Table([[ctx.p(k, "cover_meta"), ctx.p(v, "lead")] for k, v in rows],
              colWidths=[FRAME_WIDTH * 0.22, FRAME_WIDTH * 0.78], hAlign="LEFT")
    t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LINEABOVE", (0, 0), (-1, 0), 0.6, RULE),
                           ("LINEBELOW", (0, -1), (-1, -1), 0.6, RULE)]))
    story += [t, gap(60), ctx.p(_DISCLAIMER[ctx.lang], "small"), PageBreak()]
    return story


def _kpi(ctx: Ctx, big: str, label: str):
    return [ctx.p(big, "big"), ctx.p(label, "big_label")]


_BREAK_AFTER = ("专精特新", "制造业")  # where a Chinese tier name breaks best: 专精特新 | 中小企业


def _name_kpi(ctx: Ctx, name: str, label: str):
    """A tier name as a summary tile: a Chinese name too wide for the tile breaks after 专精特新 or 制造业,
    never leaving one character ("业") alone on the second line."""
    style = ctx.styles["big"]
    room = FRAME_WIDTH / 4 - 14
    if ctx.lang == "zh" and stringWidth(name, ctx.fonts.cjk, style.fontSize) > room:
        for head in _BREAK_AFTER:
            if name.startswith(head) and len(name) > len(head):
                text = markup(head, ctx.fonts, ctx.lang) + "<br/>" + markup(name[len(head):], ctx.fonts, ctx.lang)
                return [ctx.raw(text, "big"), ctx.p(label, "big_label")]
    return _kpi(ctx, name, label)


def summary(ctx: Ctx) -> list:
    """The one-page executive summary: tier, next tier and its readiness, the three first actions."""
    a, w, adv = ctx.assessment, ctx.w, ctx.advice
    nxt = a.get("next_tier")
    readiness = a.get("readiness") if isinstance(a.get("readiness"), dict) else {}
    prob = number((readiness.get(nxt) or {}).get("probability")) if nxt and isinstance(readiness.get(nxt), dict) \
        else None
    milestone = next((m for m in adv.get("milestones", []) if m["tier"] == nxt), None)
    when = (milestone or {}).get("title") or "—"
    when_label = w["title"] if (milestone or {}).get("complete", True) else w["title_if"]
    likely = likely_of(a)
    cells = [_name_kpi(ctx, ctx.tier_name(likely), _LIKELY[ctx.lang]["likely"]) if likely else
             _name_kpi(ctx, ctx.tier_name(a.get("tier")), w["tier"]),
             _name_kpi(ctx, ctx.tier_name(nxt) if nxt else "—", w["next"]),
             _kpi(ctx, percent(prob), w["probability"]),
             _kpi(ctx, when, when_label)]
    kpis = Table([cells], colWidths=[FRAME_WIDTH / 4] * 4)
    kpis.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, -1), ACCENT_LIGHT), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                              ("LINEAFTER", (0, 0), (-2, -1), 0.6, "white"), ("TOPPADDING", (0, 0), (-1, -1), 10),
                              ("BOTTOMPADDING", (0, 0), (-1, -1), 10)]))
    story = [ctx.p(w["summary"], "h1"), kpis, gap(10), ctx.p(_sentence(ctx), "lead")]
    if prob is None:
        story.append(ctx.p(w["readiness_na"], "small"))
    top = _distinct(adv.get("actions", []), ctx.lang, 3)
    story += [ctx.p(w["top_actions"], "h2")]
    if top:
        rows = [[str(i), ctx.p(ctx.t(x, "title"), "cell_bold"), ctx.p(ctx.t(x, "detail"), "cell_small"),
                 "—" if x["lead_time_months"] is None else str(x["lead_time_months"]), x.get("eta") or "—"]
                for i, x in enumerate(top, 1)]
        story.append(table(ctx, ["#", w["action"], w["notes"], w["lead"], w["eta"]], rows, [3, 26, 50, 8, 13]))
    else:
        story.append(ctx.p(w["no_actions"]))
    story += [gap(12), ladder_section(ctx), PageBreak()]
    return story


def _distinct(actions: list[dict], lang: str, n: int) -> list[dict]:
    out, seen = [], set()
    for x in actions:
        if x[f"title_{lang}"] not in seen:
            seen.add(x[f"title_{lang}"])
            out.append(x)
        if len(out) == n:
            break
    return out


def _sentence(ctx: Ctx) -> str:
    a, adv = ctx.assessment, ctx.advice
    nxt = a.get("next_tier")
    rules = (a.get("rules") or {}).get("sme", "")
    likely = likely_of(a)
    text = _LIKELY[ctx.lang]["sentence"].format(rules=rules, tier=ctx.tier_name(likely),
                                                items=confirm_text(ctx, likely),
                                                placed=ctx.tier_name(a.get("tier"))) if likely else ""
    if not nxt:
        return text or {"zh": f"按 {rules} 规则，企业已达到{ctx.tier_name(a.get('tier'))}。",
                        "en": f"Under {rules}, the firm has reached {ctx.tier_name(a.get('tier'))}."}[ctx.lang]
    tier = a["tiers"][nxt]
    milestone = next((m for m in adv.get("milestones", []) if m["tier"] == nxt), {})
    open_ = milestone.get("open") or [c["id"] for c in tier.get("criteria", [])
                                      if c["status"] != "met" and c.get("kind") == "hard"]
    date = milestone.get("earliest")
    placed = a.get("tier") not in (None, "none")
    if ctx.lang == "zh":
        reached_zh = "达到" + ctx.tier_name(a["tier"]) if placed else "尚未达到任何层级"
        text = text or f"按 {rules} 规则，企业目前{reached_zh}。"
        text += f"距{ctx.tier_name(nxt)}尚未满足或待定的条件：{'、'.join(open_) or '—'}。"
        if date:
            text += f"按下列行动，最早于 {date} 满足全部已知条件"
            text += "（部分条件因缺少数据未计入）。" if not milestone.get("complete") else "。"
        return text
    reached = "has reached " + ctx.tier_name(a["tier"]) if placed else "has not reached a tier yet"
    text = text + " " if likely else f"Under {rules}, the firm {reached}. "
    text += f"For {ctx.tier_name(nxt)}, these criteria are not met or unknown yet: {', '.join(open_) or '—'}."
    if date:
        text += f" With the actions below, every dated criterion is met by {date}" + \
            (" (some criteria lack data)." if not milestone.get("complete") else ".")
    return text


def ladder_section(ctx: Ctx):
    """The ladder chart: four rungs, the firm's rung and the next one marked."""
    a, w = ctx.assessment, ctx.w
    tiers = a.get("tiers", {})
    rungs: list[list[str]] = [[t for t in ("innovative_sme", "tech_sme") if t in tiers]]
    rungs += [[t] for t in ("srdi_sme", "little_giant", "single_champion") if t in tiers]
    steps = []
    for ids in rungs:
        statuses = [tiers[t]["status"] for t in ids]
        status = "met" if "met" in statuses else "unknown" if "unknown" in statuses else "not_met"
        label = "\n".join(ctx.tier_name(t) for t in ids)
        if len(ids) > 1:  # two titles on one rung: each with its mark and score, so a failed one never reads as met
            label = "\n".join(f"{MARKS[tiers[t]['status']]} {ctx.tier_name(t)} {_score(tiers[t])}".rstrip()
                              for t in ids)
        here = likely_of(a) or a.get("tier")
        marker = (_LIKELY[ctx.lang]["mark"] if likely_of(a) else w["current"]) if here in ids else \
            w["next_mark"] if a.get("next_tier") in ids else None
        scores = [_score(tiers[t]) for t in ids if _score(tiers[t]) and len(ids) == 1]
        caption = w[status] + (f" · {' / '.join(scores)}" if scores else "")
        steps.append({"label": label, "status": status, "caption": caption, "marker": marker,
                      "current": here in ids})
    drawing = charts.ladder(steps, width=FRAME_WIDTH, font=ctx.fonts.cjk)
    return KeepTogether([ctx.p(w["ladder"], "h2"), drawing, gap(4), ctx.raw(ctx.legend(), "small")])


def _score(tier: dict) -> str:
    lo, hi = tier.get("score_min"), tier.get("score_max")
    if lo is None:
        return ""
    return f"{lo:g}" if lo == hi else f"{lo:g}–{hi:g}"
