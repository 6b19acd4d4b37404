"""The result page's benchmark, readiness and roadmap sections, drawn with the PDF's own chart code.

Each part reads a key of the result contract (``benchmarks``/``dimensions``, ``readiness``, ``advice``) and
returns None when the key is absent, so the page can say honestly that the part is not available yet.
Charts come from ``webapp.reports.charts`` (reportlab Drawings) and are inlined as CSP-safe SVG.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
from collections.abc import Mapping

from webapp import fields
from webapp.engine.advice.hnte import hnte_brief, score_text
from webapp.engine.cohorts.dimensions import DIMENSIONS
from webapp.engine.cohorts.geography import TIER_COHORTS
from webapp.reports import charts
from webapp.web import present, services
from webapp.web.i18n import fmt_number, fmt_value, localized
from webapp.web.svg import inline_svg

log = logging.getLogger(__name__)

_WORDS = {"zh": {"vs": "相对于{c}", "median": "50 = 对标群体中位数", "title": "取得{t}",
                 "pass_mark": "合格线：{above}分以上（不含{above}分）", "points": "{s} 分"},
          "en": {"vs": "against {c}", "median": "50 = cohort median", "title": "{t} title",
                 "pass_mark": "pass mark: above {above}", "points": "{s} points"}}


def _svg(drawing_fn, *args, label: str = "", pad: float = 0, **kwargs):
    """Draw with reports.charts and inline the SVG; None (logged) if the chart code is missing or fails.

    ``pad`` widens the canvas on both sides (the radar's side labels reach past its edge). A chart is a pure
    function of its data, so the SVG is kept in a small LRU cache keyed by that data: reloading a result,
    switching back to a language or reopening a saved assessment does not draw it again.
    """
    try:
        key = json.dumps([drawing_fn, args, label, pad, kwargs], sort_keys=True, default=str, ensure_ascii=False)
    except (TypeError, ValueError):
        return _draw(drawing_fn, args, label, pad, kwargs)
    return _cached_svg(key) if CHART_CACHE else _draw(drawing_fn, args, label, pad, kwargs)


CHART_CACHE = True
# Charts on the page are drawn narrow with large text and shown at their own width (shrunk, never enlarged):
# 14 px text at desktop width (the page's small print is about 12.5 px), about 12.5 px on a 390 px phone.
WEB_WIDTH, WEB_TEXT = 340.0, 14.0
WEB_BARS = {"width": WEB_WIDTH, "text": WEB_TEXT / 6.5, "stacked": True}


@functools.lru_cache(maxsize=512)
def _cached_svg(key: str):
    drawing_fn, args, label, pad, kwargs = json.loads(key)
    for name in ("start", "end"):  # timeline dates went through JSON as text
        if name in kwargs:
            kwargs[name] = dt.date.fromisoformat(kwargs[name])
    if drawing_fn == "timeline":
        args = [[{**item, "date": dt.date.fromisoformat(item["date"])} for item in args[0]], *args[1:]]
    return _draw(drawing_fn, args, label, pad, kwargs)


def _draw(drawing_fn, args, label, pad, kwargs):
    try:
        drawing = getattr(charts, drawing_fn)(*args, **kwargs)
        return inline_svg(charts.to_svg(_padded(drawing, pad) if pad else drawing), label=label)
    except (AttributeError, TypeError, ValueError, KeyError) as exc:
        log.warning("GiantStep: chart %s unavailable: %s", drawing_fn, exc)
        return None


def _padded(drawing, pad: float):
    """The same drawing on a canvas ``pad`` points wider on each side."""
    from reportlab.graphics.shapes import Drawing, Group

    out = Drawing(drawing.width + 2 * pad, drawing.height)
    group = Group(*drawing.contents)
    group.translate(pad, 0)
    out.add(group)
    return out


def _num(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _metric_label(metric: str, lang: str) -> tuple[str, str]:
    """(label, unit) of a benchmark metric, from the advice tables or the field registry."""
    labels = services.get_services().advice_data
    entry = labels.metric_labels.get(metric)
    if entry:
        return labels.metric_label(metric, lang), entry.get("unit", "number")
    if metric in fields.FIELDS:
        return fields.label(metric, lang), "number"
    return metric, "number"


def cohort_names(result: dict, lang: str) -> dict[str, str]:
    """Display names of the cohorts a result refers to."""
    names = {}
    entries = result.get("cohorts") if isinstance(result.get("cohorts"), Mapping) else {}
    cohorts = services.get_services().cohorts
    for cid in {*result.get("benchmarks", {}), *result.get("dimensions", {})}:
        entry = entries.get(cid)
        if isinstance(entry, Mapping) and localized(entry, "name", lang):
            names[cid] = localized(entry, "name", lang)
        elif cohorts is not None and cid in cohorts.ids:
            names[cid] = cohorts[cid].name_zh if lang == "zh" else cohorts[cid].name_en
        else:
            names[cid] = cid
    return names


def benchmarks(result: dict, lang: str) -> dict | None:
    """Percentile bars per cohort and the four-dimension radar, or None without benchmark data."""
    bench = result.get("benchmarks")
    if not isinstance(bench, Mapping) or not bench:
        return None
    names = cohort_names(result, lang)
    cohorts = []
    for cid, metrics in bench.items():
        if not isinstance(metrics, Mapping) or not metrics:
            continue
        rows, sources = [], []
        for metric, entry in metrics.items():
            if not isinstance(entry, Mapping):
                continue
            label, unit = _metric_label(metric, lang)
            rows.append({"label": label, "percentile": _num(entry.get("percentile")),
                         "value": fmt_value(_num(entry.get("value")), unit, lang),
                         "mean": fmt_value(_num(entry.get("cohort_mean")), unit, lang),
                         "basis": localized(entry.get("basis") or {}, "source", lang)})
            basis = localized(entry.get("basis") or {}, "source", lang)
            if basis and basis not in sources:
                sources.append(basis)
        chart_rows = [{"label": r["label"], "percentile": r["percentile"], "value": r["value"]} for r in rows]
        cohorts.append({"id": cid, "name": names.get(cid, cid), "rows": rows, "sources": sources,
                        "chart": _svg("percentile_bars", chart_rows, median_label=_WORDS[lang]["median"],
                                      label=names.get(cid, cid), **WEB_BARS)})
    return {"cohorts": cohorts, "radar": radar(result, lang, names)}


def radar(result: dict, lang: str, names: dict[str, str]) -> dict | None:
    """The four dimensions against little giants and the next tier's cohort."""
    dims = result.get("dimensions")
    if not isinstance(dims, Mapping) or not dims:
        return None
    wanted = ["little_giant", TIER_COHORTS.get(result.get("next_tier") or "", "")]
    chosen = [c for c in dict.fromkeys(wanted) if c in dims] or list(dims)[:2]
    first = next(iter(dims.values()))
    axes = [localized(first.get(d) or {}, "name", lang) or d for d in DIMENSIONS]
    series = [{"name": _WORDS[lang]["vs"].format(c=names.get(c, c)),
               "values": [_num((dims[c].get(d) or {}).get("score")) for d in DIMENSIONS]} for c in chosen]
    rows = [{"axis": axes[i], "values": [fmt_number(s["values"][i], 0) if s["values"][i] is not None else "—"
                                        for s in series]} for i in range(len(DIMENSIONS))]
    formula = localized(first.get(next(iter(DIMENSIONS))) or {}, "formula", lang)
    return {"chart": _svg("radar", axes, series, size=WEB_WIDTH - 140, width=WEB_WIDTH, label="radar",
                          text=WEB_TEXT / 7.5), "series": series,
            "rows": rows, "formula": formula}


def readiness(result: dict, lang: str) -> dict | None:
    """Probability of each tier with the drivers that move it most, or None without the model."""
    ready = result.get("readiness")
    if not isinstance(ready, Mapping):
        return None
    tiers = result.get("tiers", {})
    rows = []
    for tid, entry in ready.items():
        if tid not in tiers or not isinstance(entry, Mapping) or _num(entry.get("probability")) is None:
            continue
        p = _num(entry["probability"])
        drivers = []
        for d in entry.get("drivers") or []:
            if isinstance(d, Mapping) and d.get("field"):
                label, unit = _metric_label(d["field"], lang)
                delta = _num(d.get("delta"))
                drivers.append({"label": label, "current": fmt_value(_num(d.get("current")), unit, lang),
                                "target": fmt_value(_num(d.get("target")), unit, lang),
                                "delta": None if delta is None else f"{delta * 100:+.1f}"})
            elif isinstance(d, str):
                drivers.append({"label": _metric_label(d, lang)[0], "current": None, "target": None, "delta": None})
        rows.append({"tier": tid, "name": localized(tiers[tid], "name", lang), "percent": round(p * 100),
                     "drivers": drivers})
    if not rows:
        return None
    model = ready.get("_model") if isinstance(ready.get("_model"), Mapping) else {}
    chart = _svg("percentile_bars", [{"label": r["name"], "percentile": r["percent"], "value": f"{r['percent']}%"}
                                     for r in rows], median_label="", label="readiness", **WEB_BARS)
    return {"rows": rows, "chart": chart, "model": localized(model, "card_summary", lang)}


def advice(result: dict, lang: str, *, limit: int = 8) -> dict | None:
    """Milestones, a timeline, the top recommendations and the themes, or None without advice."""
    plan = result.get("advice")
    if not isinstance(plan, Mapping):
        return None
    actions = [{"title": localized(a, "title", lang), "detail": localized(a, "detail", lang), "eta": a.get("eta"),
                "tier": a.get("tier"), "criterion": a.get("criterion"), "source": localized(a, "source", lang),
                "required": a.get("required")} for a in plan.get("actions", [])[:limit]]
    milestones = [{"name": localized(m, "name", lang) or m.get("tier"), "earliest": m.get("earliest"),
                   "title": m.get("title"), "open": m.get("open", []), "reason": m.get("reason")}
                  for m in plan.get("milestones", [])]
    themes = [{"title": localized(t, "title", lang), "detail": localized(t, "detail", lang),
               "finding": localized(t, "finding", lang), "source": localized(t, "source", lang)}
              for t in plan.get("themes", [])]
    return {"actions": actions, "more": max(0, len(plan.get("actions", [])) - limit), "milestones": milestones,
            "themes": themes, "timeline": timeline(result, plan, lang)}


def timeline(result: dict, plan: Mapping, lang: str):
    """The roadmap's dated steps and expected titles on a time axis (same chart as the PDF)."""
    as_of = dt.date.fromisoformat(result.get("as_of") or dt.date.today().isoformat())
    items, seen = [], set()
    for m in plan.get("milestones", []):
        if m.get("title"):
            items.append({"date": dt.date.fromisoformat(m["title"]), "kind": "milestone",
                          "label": _WORDS[lang]["title"].format(t=localized(m, "name", lang) or m["tier"])})
    for e in plan.get("roadmap", []):
        if not e.get("eta") or not e.get("required") or e.get("kind") in ("gather", "manual", "manual_set"):
            continue
        label = f"{e.get('criterion') or ''} {localized(e, 'label', lang) or ''}".strip()
        if label not in seen:
            seen.add(label)
            items.append({"date": dt.date.fromisoformat(e["eta"]), "kind": "step", "label": label})
    if not items:
        return None
    end = max(max(i["date"] for i in items), as_of.replace(year=as_of.year + 2))
    end = dt.date(end.year + 1, 1, 1) if end.month > 6 else dt.date(end.year, 12, 31)
    return _svg("timeline", items[:14], start=as_of, end=end, label="timeline",
                today_label="今天" if lang == "zh" else "today", **WEB_BARS)


def hnte(result: dict, profile: dict | None, lang: str) -> dict | None:
    """The HNTE section (a qualification beside the ladder): its checklist, its score against the pass mark
    as the PDF's chart, and the consultant's brief; None when the result has no HNTE tier."""
    plan = result.get("advice") if isinstance(result.get("advice"), Mapping) else {}
    svc = services.get_services()
    brief = plan["hnte"] if "hnte" in plan else \
        hnte_brief(result, profile, data=svc.advice_data, book=svc.rule_book)  # saved before briefs existed
    if not brief or brief["tier"] not in result.get("tiers", {}):
        return None
    view = present.tier_view(brief["tier"], result["tiers"][brief["tier"]], lang)
    lo, hi, above = brief["score_min"], brief["score_max"], brief["above"]
    chart = None
    if lo is not None and above is not None:
        words = _WORDS[lang]
        chart = _svg("score_range", lo, hi, above, status=brief["status"], label=view["name"],
                     mark_label=words["pass_mark"].format(above=f"{above:g}"),
                     range_label=words["points"].format(s=score_text(lo, hi)), width=WEB_WIDTH,
                     text=WEB_TEXT / 6.5)
    return {**view, "message": brief[f"message_{lang}"], "held": brief["held"], "chart": chart,
            "above": None if above is None else f"{above:g}", "validity_years": brief["validity_years"]}
