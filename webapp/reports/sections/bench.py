"""Benchmarks (percentile bars per cohort, radar of the four dimensions) and readiness with its drivers."""

from __future__ import annotations

from collections.abc import Mapping

from reportlab.platypus import CondPageBreak, KeepTogether

from webapp import fields
from webapp.engine.advice.data import load_advice_data
from webapp.engine.advice.format import format_choice
from webapp.engine.advice.roadmap import number
from webapp.engine.cohorts.dimensions import DIMENSIONS
from webapp.engine.cohorts.geography import TIER_COHORTS
from webapp.reports import charts
from webapp.reports.sections.common import Ctx, gap, percent, table
from webapp.reports.styles import FRAME_WIDTH

_TEXT = {
    "zh": {"vs": "相对于{c}", "median": "50 = 对标群体中位数", "basis": "依据：{kind}，截至 {as_of}；来源：{src}",
           "radar_note": "各维度得分为该维度指标百分位的平均（0–100，50为对标群体中位数）；"
                         "缺少数据的维度按0绘制并在表中标为未知。",
           "value": "{v}（均值 {m}）", "model": "模型说明：{s}", "pp": "{d:+.1f} 个百分点",
           "suggests": "模型提示", "figure": "指标",
           "suggests_note": "模型提示不是认定条件：在模拟总体中，与贵企业相似的企业把下列指标提高到目标值时，"
                            "晋级概率上升最多。能否认定以各项条件为准。"},
    "en": {"vs": "against {c}", "median": "50 = cohort median", "basis": "Basis: {kind}, as of {as_of}; source: {src}",
           "radar_note": "A dimension's score is the mean percentile of its metrics (0-100, 50 is the cohort median); "
                         "a dimension without data is drawn at 0 and shown as unknown in the table.",
           "value": "{v} (mean {m})", "model": "Model: {s}", "pp": "{d:+.1f} pp",
           "suggests": "Model suggests", "figure": "Figure",
           "suggests_note": "Model suggestions are not rule requirements: in the simulated population, firms like "
                            "yours gain the most readiness by raising these figures to the target. The criteria "
                            "decide certification."},
}


def cohort_name(ctx: Ctx, cid: str) -> str:
    """A cohort's display name: from the result's ``cohorts`` key or the engine's cohorts, else its id."""
    names = ctx.assessment.get("cohorts")
    entry = names.get(cid) if isinstance(names, Mapping) else None
    if isinstance(entry, Mapping) and ctx.t(entry):
        return ctx.t(entry)
    if cid in ctx.cohorts.ids:
        return ctx.cohorts[cid].name_zh if ctx.lang == "zh" else ctx.cohorts[cid].name_en
    return cid


def basis_summary(ctx: Ctx, metrics: Mapping) -> tuple[str, str, str]:
    """(kind, as-of dates, short source references) of a cohort's metrics, each de-duplicated."""
    kinds, dates, refs = [], [], []
    for m in metrics.values():
        b = m.get("basis") if isinstance(m, Mapping) else None
        if not isinstance(b, Mapping):
            continue
        for bucket, value in ((kinds, ctx.w.get(b.get("kind", ""), b.get("kind", ""))), (dates, b.get("as_of"))):
            if value and value not in bucket:
                bucket.append(value)
        for ref in b.get(f"sources_{ctx.lang}") or []:
            if ref not in refs:
                refs.append(str(ref))
    return "、".join(kinds) if ctx.lang == "zh" else ", ".join(kinds), ", ".join(dates), "; ".join(refs)


def _basis_line(ctx: Ctx, metrics: Mapping) -> str:
    kind, dates, refs = basis_summary(ctx, metrics)
    if not kind:
        return ""
    return _TEXT[ctx.lang]["basis"].format(kind=kind, as_of=dates or "—", src=refs or "—")


def _bars(ctx: Ctx, cid: str, metrics: Mapping) -> list:
    data = load_advice_data()
    rows = []
    for m, entry in metrics.items():
        if not isinstance(entry, Mapping):
            continue
        unit = data.metric_labels.get(m, {}).get("unit", "number")
        text = _TEXT[ctx.lang]["value"].format(v=ctx.value(number(entry.get("value")), unit),
                                               m=ctx.value(number(entry.get("cohort_mean")), unit))
        rows.append({"label": data.metric_label(m, ctx.lang), "percentile": number(entry.get("percentile")),
                     "value": text})
    drawing = charts.percentile_bars(rows, width=FRAME_WIDTH, font=ctx.fonts.cjk,
                                     median_label=_TEXT[ctx.lang]["median"])
    return [KeepTogether([ctx.p(cohort_name(ctx, cid), "h2"), drawing, ctx.p(_basis_line(ctx, metrics), "small")])]


def _dim(value) -> float | None:
    return number(value.get("score")) if isinstance(value, Mapping) else number(value)


def _radar(ctx: Ctx) -> list:
    dims = ctx.assessment.get("dimensions")
    if not isinstance(dims, Mapping) or not dims:
        return [ctx.p(ctx.w["dims_na"], "small")]
    nxt = ctx.assessment.get("next_tier") or ""
    wanted = ["little_giant", TIER_COHORTS.get(nxt, f"tier_{nxt}")]
    chosen = list(dict.fromkeys(c for c in wanted if c in dims)) or list(dims)[:2]
    names = [DIMENSIONS[d][f"name_{ctx.lang}"] for d in DIMENSIONS]
    series = [{"name": _TEXT[ctx.lang]["vs"].format(c=cohort_name(ctx, c)),
               "values": [_dim(dims[c].get(d)) for d in DIMENSIONS]} for c in chosen]
    drawing = charts.radar(names, series, size=230, width=FRAME_WIDTH * 0.55, font=ctx.fonts.cjk)
    rows = [[names[i], *[ctx.value(s["values"][i], "number") for s in series]] for i in range(len(DIMENSIONS))]
    t = table(ctx, [ctx.w["dimension"], *[s["name"] for s in series]], rows, [30, *[35] * len(series)])
    return [drawing, gap(4), t, ctx.p(_TEXT[ctx.lang]["radar_note"], "small")]


def benchmark_section(ctx: Ctx) -> list:
    """Percentile bars for each cohort and the radar; an honest line where a result has none."""
    title = ctx.p(ctx.w["benchmarks"], "h1")
    bench = ctx.assessment.get("benchmarks")
    if not isinstance(bench, Mapping) or not bench:
        return [CondPageBreak(110), title, ctx.p(ctx.w["bench_na"]), ctx.p(ctx.w["dims_na"], "small")]
    story = [KeepTogether([title, *_radar(ctx)])]
    for cid, metrics in bench.items():
        if isinstance(metrics, Mapping) and metrics:
            story += _bars(ctx, cid, metrics)
    return story


def readiness_section(ctx: Ctx) -> list:
    """Probability of each tier and what moves it most; an honest line where a result has none."""
    story = ctx.heading(ctx.w["readiness"], "h1", space=160)
    ready = ctx.assessment.get("readiness")
    tiers = ctx.assessment.get("tiers", {})
    entries = {t: v for t, v in ready.items() if t in tiers and isinstance(v, Mapping)} \
        if isinstance(ready, Mapping) else {}
    if not entries:
        return story + [ctx.p(ctx.w["readiness_na"])]
    rows = [{"label": ctx.tier_name(t), "percentile": None if number(v.get("probability")) is None
             else number(v["probability"]) * 100,
             "value": percent(number(v.get("probability")))}
            for t, v in entries.items()]
    story.append(charts.percentile_bars(rows, width=FRAME_WIDTH, font=ctx.fonts.cjk, median_label=""))
    words, noted = _TEXT[ctx.lang], False
    for t, v in entries.items():
        drivers = [d for d in v.get("drivers") or [] if isinstance(d, Mapping) and d.get("field")]
        if not drivers:
            continue
        body = []
        for d in drivers:
            f = d["field"]
            label = fields.label(f, ctx.lang) if f in fields.FIELDS else load_advice_data().metric_label(f, ctx.lang)
            delta = number(d.get("delta"))
            body.append([label, _fmt(ctx, f, d.get("current")), _fmt(ctx, f, d.get("target")),
                         "—" if delta is None else _TEXT[ctx.lang]["pp"].format(d=delta * 100)])
        story += [*ctx.heading(f"{words['suggests']} — {ctx.tier_name(t)}"),
                  *([] if noted else [ctx.p(words["suggests_note"], "small")]),
                  table(ctx, [words["figure"], ctx.w["now"], ctx.w["target"], ctx.w["delta"]], body,
                        [40, 20, 20, 20])]
        noted = True
    model = ready.get("_model") if isinstance(ready.get("_model"), Mapping) else {}
    if ctx.t(model, "card_summary"):
        story.append(ctx.p(_TEXT[ctx.lang]["model"].format(s=ctx.t(model, "card_summary")), "small"))
    return story


def _fmt(ctx: Ctx, name: str, value) -> str:
    from webapp.reports.sections.criteria import value_unit

    if isinstance(value, str):  # a choice: its label, never the code
        return format_choice(name, value, ctx.lang)
    if name in fields.FIELDS:
        unit = value_unit(name, ctx.rule_book.metrics)
    else:
        unit = load_advice_data().metric_labels.get(name, {}).get("unit", "")
    return ctx.value(number(value), unit)
