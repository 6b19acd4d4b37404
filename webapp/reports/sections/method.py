"""Method and sources (rules with their verification, cohorts, model card, planning constants) and the glossary."""

from __future__ import annotations

from collections.abc import Mapping

from reportlab.platypus import PageBreak

from webapp import fields
from webapp.reports.sections.bench import basis_summary, cohort_name
from webapp.reports.sections.common import VERIFICATION, Ctx, gap, table

_TEXT = {
    "zh": {"cohorts": "对标数据来源", "no_cohorts": "本报告未使用对标数据。", "no_model": "本报告未使用就绪度模型。",
           "trained": "训练数据：{s}", "metrics": "留出集指标：{m}",
           "limits": "局限：模型在模拟总体上训练（按公开汇总数据校准），除非用户以真实认定结果重新训练；"
                     "概率仅供参考。",
           "trained_on": {"simulated population": "模拟总体", "real outcomes": "真实认定结果"},
           "criteria_sources": "各条件的出处与核实程度", "constant_value": "取值",
           "cohort_note": "百分位来自按公开汇总数据（均值、分档占比）拟合的分布，不是企业级数据；"
                          "每个指标的拟合方法与参数随 GiantStep 的对标数据一并记录。",
           "how": "建议如何排序、路线图如何推算",
           "tier_rule": "层级判断：某条件在未知输入取任何可能值时都满足为“符合”，都不满足为“不符合”，"
                        "否则为“待定”；未知输入从不按零处理。"},
    "en": {"cohorts": "Cohort sources", "no_cohorts": "This report uses no cohort data.",
           "no_model": "This report uses no readiness model.", "trained": "Trained on: {s}",
           "metrics": "Held-out metrics: {m}",
           "limits": "Limits: the model is trained on a simulated population calibrated to published aggregates "
                     "until a user retrains it on real outcomes; read its probabilities as indications.",
           "trained_on": {},
           "criteria_sources": "Where each criterion comes from, and how far it is verified", "constant_value": "Value",
           "cohort_note": "Fitted percentiles come from distributions fitted to published aggregates (means, bucket "
                          "shares), not firm-level data; GiantStep's cohort data record each metric's fit and "
                          "parameters.",
           "how": "How actions are ranked and the roadmap is dated",
           "tier_rule": "A criterion is met when it holds whatever values the unknown inputs take, not met when it "
                        "fails whatever they take, and unknown otherwise; an unknown input is never taken as zero."},
}


def _document(ctx: Ctx, table_):
    """A rule table's official document(s) with their government addresses, as one table cell."""
    lines = []
    for cite in table_.cite:
        line = ctx.esc(cite.text(ctx.lang, full=True))
        if cite.document.url:
            line += f'<br/><font size="6">{ctx.esc(cite.document.url)}</font>'
        lines.append(line)
    return ctx.raw("<br/>".join(lines), "cell_small")


def _rules(ctx: Ctx) -> list:
    book, w, a = ctx.rule_book, ctx.w, ctx.assessment
    rows = []
    for rid, version in (a.get("rule_versions") or {}).items():
        t = book.tables.get(rid)
        rows.append([rid, version, _document(ctx, t) if t else ""])
    story = [*ctx.heading(w["sources"]), ctx.p(_TEXT[ctx.lang]["tier_rule"], "small")]
    if rows:
        story.append(table(ctx, ["ID", w["version"], w["instrument"]], rows, [12, 10, 78]))
    seen, crit_rows = set(), []
    for tier in a.get("tiers", {}).values():
        t = book.tables.get(tier.get("rules", ""))
        for c in tier.get("criteria", []):
            key = (tier.get("rules"), c["id"])
            if key in seen or t is None or c["id"] not in t.criteria:
                continue
            seen.add(key)
            rule = t.criteria[c["id"]]
            crit_rows.append([c["id"], VERIFICATION[ctx.lang].get(rule.verification, rule.verification),
                              ctx.p(rule.citation(ctx.lang), "cell_small")])
    if crit_rows:
        story += [*ctx.heading(_TEXT[ctx.lang]["criteria_sources"]),
                  table(ctx, ["ID", w["verification"], w["source"]], crit_rows, [10, 14, 76])]
    return story


def _cohorts(ctx: Ctx) -> list:
    w, text = ctx.w, _TEXT[ctx.lang]
    bench = ctx.assessment.get("benchmarks")
    rows = []
    for cid, metrics in (bench.items() if isinstance(bench, Mapping) else ()):
        if isinstance(metrics, Mapping) and metrics:
            kind, dates, refs = basis_summary(ctx, metrics)
            first = next((m.get("basis") for m in metrics.values() if isinstance(m, Mapping)
                          and isinstance(m.get("basis"), Mapping)), {})
            rows.append([cohort_name(ctx, cid), kind or "—", dates or "—",
                         ctx.p(refs or ctx.t(first, "source") or "—", "cell_small")])
    story = ctx.heading(text["cohorts"])
    if rows:
        story += [table(ctx, [w["cohort"], w["basis"], w["as_of"], w["source"]], rows, [24, 18, 12, 46]),
                  ctx.p(text["cohort_note"], "small")]
    else:
        story.append(ctx.p(text["no_cohorts"]))
    return story


def _model(ctx: Ctx) -> list:
    text = _TEXT[ctx.lang]
    ready = ctx.assessment.get("readiness")
    model = ready.get("_model") if isinstance(ready, Mapping) and isinstance(ready.get("_model"), Mapping) else None
    story = ctx.heading(ctx.w["model"])
    if not model:
        return story + [ctx.p(text["no_model"])]
    if ctx.t(model, "card_summary"):
        story.append(ctx.p(ctx.t(model, "card_summary")))
    if model.get("trained_on"):
        trained_on = text["trained_on"].get(model["trained_on"], model["trained_on"])
        story.append(ctx.p(text["trained"].format(s=trained_on), "small"))
    metrics = model.get("metrics")
    if isinstance(metrics, Mapping) and metrics:
        shown = "; ".join(f"{k} {v:.3f}" if isinstance(v, int | float) else f"{k} {v}" for k, v in metrics.items())
        story.append(ctx.p(text["metrics"].format(m=shown), "small"))
    return story + [ctx.p(text["limits"], "small")]


_UNITS = {"zh": {"month": " 个月", "year": " 年", "count": " 项", "weight": ""},
          "en": {"month": " months", "year": " years", "count": "", "weight": ""}}
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")


def constant_value(name: str, c: dict, lang: str) -> str:
    """A planning constant's value in the reader's words: "24 个月" / "24 months", a ratio as a percent, and a
    month of the year (a constant named ``*_month``) as that month: "5月" / "May"."""
    value, unit = c["value"], c["unit"]
    if unit == "ratio":
        return f"{value * 100:g}%"
    if unit == "month" and name.endswith("_month"):
        return f"{value:g}月" if lang == "zh" else _MONTHS[int(value) - 1]
    return f"{value:g}{_UNITS[lang].get(unit, ' ' + unit)}"


def _planning(ctx: Ctx) -> list:
    w, basis = ctx.w, ctx.advice.get("basis", {})
    story = ctx.heading(_TEXT[ctx.lang]["how"])
    for key in ("ranking", "roadmap"):
        if basis.get(f"{key}_{ctx.lang}"):
            story.append(ctx.p(basis[f"{key}_{ctx.lang}"]))
    rows = [[ctx.t(c), constant_value(name, c, ctx.lang), VERIFICATION[ctx.lang].get(c["status"], c["status"]),
             ctx.p(c[f"source_{ctx.lang}"], "cell_small")] for name, c in basis.get("constants", {}).items()]
    if rows:
        story += [*ctx.heading(w["planning"]),
                  table(ctx, [w["planning"], _TEXT[ctx.lang]["constant_value"], w["verification"], w["source"]], rows,
                        [26, 10, 12, 52])]
    return story


def method_section(ctx: Ctx) -> list:
    """Rules, cohorts, the model card and the planning constants, each with its source."""
    return [PageBreak(), ctx.p(ctx.w["method"], "h1"), *_rules(ctx), *_cohorts(ctx), *_model(ctx), *_planning(ctx)]


def glossary_section(ctx: Ctx) -> list:
    """Every input field of the registry, by group: label, unit, meaning."""
    story = [PageBreak(), ctx.p(ctx.w["glossary"], "h1")]
    for group, zh, en in fields.GROUPS:
        rows = []
        for spec in fields.REGISTRY:
            if spec.group != group:
                continue
            label = spec.label_zh if ctx.lang == "zh" else spec.label_en
            unit = spec.unit_zh if ctx.lang == "zh" else spec.unit_en
            help_ = spec.help_zh if ctx.lang == "zh" else spec.help_en
            rows.append([f"{label}\n{spec.name}", unit or "—", ctx.p(help_, "cell_small")])
        story += [*ctx.heading(zh if ctx.lang == "zh" else en),
                  table(ctx, [ctx.w["field"], ctx.w["unit"], ctx.w["help"]], rows, [28, 8, 64]), gap(4)]
    return story
