"""Turn a result contract dict into what the result page and history show: labels, formatted values, gaps."""

from __future__ import annotations

from webapp import fields
from webapp.engine.advice.format import direction_of, format_distance, format_money, readable_pair
from webapp.web import services
from webapp.web.i18n import field_unit, fmt_number, fmt_value, localized

OPS = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "==": "=", "!=": "≠"}
SET_OPS = {"in": {"zh": "为", "en": "one of"}, "not in": {"zh": "不为", "en": "none of"}}
VERIFICATION_NOTE = {
    "zh": {"secondary": "措辞取自二手来源", "unverified": "规则未核实", "verified-wording": ""},
    "en": {"secondary": "wording from a secondary source", "unverified": "rule unverified", "verified-wording": ""},
}


def result_view(result: dict, lang: str) -> dict:
    """Everything the result template needs, formatted for ``lang``."""
    beside = services.get_services().rule_book.beside_ladder(result["tiers"])
    every = [tier_view(tid, t, lang) for tid, t in result["tiers"].items()]
    rungs = [t for t in every if t["id"] not in beside]
    by_id = {t["id"]: t for t in every}
    tier = result["tier"]
    likely = result.get("likely_tier", tier)
    return {
        "firm_name": result.get("firm_name"),
        "tier": tier,
        "tier_name": by_id[tier]["name"] if tier in by_id else None,
        "likely_tier": likely,
        "likely_name": by_id[likely]["name"] if likely in by_id else None,
        "conditional": likely != tier,
        "confirm": confirm_items(result, likely, lang),
        "next_tier": result.get("next_tier"),
        "next_name": by_id[result["next_tier"]]["name"] if result.get("next_tier") in by_id else None,
        "tiers": rungs + [t for t in every if t["id"] in beside],  # every tier, those beside the ladder last
        "rungs": rungs,
        "beside": [t for t in every if t["id"] in beside],
        "ladder": ladder(rungs, likely),
        "next_gaps": by_id[result["next_tier"]]["open"] if result.get("next_tier") in by_id else [],
        "undecided": undecided(rungs, by_id.get(likely, {}).get("level", 0)),
        "rules": result["rules"],
        "rule_versions": result.get("rule_versions", {}),
        "as_of": result["as_of"],
        "mode": result.get("mode", "new"),
        "derived": derived_rows(result.get("derived", {}), lang),
    }


def confirm_items(result: dict, tid: str, lang: str) -> list[dict]:
    """What is left to confirm for tier ``tid`` (the likely tier): each unknown criterion's name and id, and
    whether it is a declaration, a manual review or missing figures (their labels)."""
    out = []
    for c in result.get("to_confirm") or []:
        if c.get("tier") != tid:
            continue
        missing = [fields.label(m, lang) for m in c.get("missing") or [] if m in fields.FIELDS]
        out.append({"id": c["id"], "name": localized(c, "name", lang), "self_declared": c.get("self_declared"),
                    "manual": c.get("manual_review"), "missing": missing})
    return out


def undecided(tiers: list[dict], level: int) -> list[str]:
    """Names of the nearest tiers above the likely one that missing inputs leave open (status unknown)."""
    open_tiers = [t for t in sorted(tiers, key=lambda t: t["level"]) if t["status"] == "unknown" and t["level"] > level]
    return [t["name"] for t in open_tiers[:3]]


def ladder(tiers: list[dict], placed: str) -> list[dict]:
    """The four rungs, bottom first; level 1 holds the innovative and tech-based SME tiers."""
    levels: dict[int, list[dict]] = {}
    for t in tiers:
        levels.setdefault(t["level"], []).append(t)
    return [{"level": lvl, "tiers": ts, "current": any(t["id"] == placed for t in ts),
             "met": any(t["status"] == "met" for t in ts)} for lvl, ts in sorted(levels.items())]


def tier_view(tid: str, t: dict, lang: str) -> dict:
    """One tier: status, score range, rule table and version, and its criteria checklist."""
    table = services.table_info(t.get("rules", ""))
    rows = [criterion_view(c, t.get("rules", ""), lang) for c in t["criteria"]]
    rule_tier = table.tiers.get(tid) if table else None
    return {
        "id": tid, "name": localized(t, "name", lang), "status": t["status"], "level": t.get("level", 0),
        "score": range_text(t.get("score_min"), t.get("score_max")),
        "table": t.get("rules"), "version": table.version if table else "",
        "instrument": (table.instrument_zh if lang == "zh" else table.instrument_en) if table else "",
        "validity_years": rule_tier.validity_years if rule_tier else None,
        "route": t.get("route"), "criteria": rows,
        "open": [r for r in rows if r["status"] != "met" and r["kind"] != "advisory"],
        "counts": {s: sum(r["status"] == s for r in rows) for s in ("met", "not_met", "unknown")},
    }


def criterion_view(c: dict, table_id: str, lang: str) -> dict:
    """One checklist row: status, value, points, marks, official wording and source, and the gap."""
    rule = services.criterion_source(table_id, c["id"])
    value_name = rule.value if rule else None
    tags = []
    if c.get("self_declared"):
        tags.append("self")
    if c.get("via"):
        tags.append(c["via"])
    if c.get("manual_review"):
        tags.append("manual")
    gap = c.get("gap") or {}
    return {
        "id": c["id"], "status": c["status"], "kind": c["kind"], "name": localized(c, "name", lang),
        "value": None if c.get("value") is None else fmt_value(c["value"], unit_of(value_name), lang, value_name),
        "value_label": value_label(value_name, lang),
        "points": range_text(c.get("points_min"), c.get("points_max")) if c["kind"] == "scored" else None,
        "max_points": fmt_number(c["max_points"]) if c.get("max_points") is not None else None,
        "route": route_name(rule, c.get("route"), lang),
        "tags": tags,
        "verification": VERIFICATION_NOTE[lang].get(c.get("verification") or "", ""),
        "text": (rule.text_zh if lang == "zh" else rule.text_en) if rule else "",
        "source": rule.citation(lang) if rule else "",
        "gap": [gap_line(item, lang) for item in gap.get("items", [])],
        "missing": [fields.label(m, lang) for m in gap.get("missing", []) if m in fields.FIELDS],
    }


def unit_of(name: str | None) -> str | None:
    """Display unit of a metric or field name."""
    if not name:
        return None
    metric = services.get_services().rule_book.metrics.get(name)
    return metric.unit if metric else field_unit(name)


def value_label(name: str | None, lang: str) -> str:
    """What a criterion's value measures: a derived metric's name or a field's label ("" when unnamed)."""
    if not name:
        return ""
    metric = services.get_services().rule_book.metrics.get(name)
    if metric:
        return metric.name_zh if lang == "zh" else metric.name_en
    return fields.label(name, lang) if name in fields.FIELDS else ""


def route_name(rule, route: str | None, lang: str) -> str | None:
    """The zh/en name of the route that decided an any-of criterion."""
    if not route:
        return None
    for r in getattr(rule, "routes", ()):
        if r.id == route:
            return r.name_zh if lang == "zh" else r.name_en
    return {"score": "得分" if lang == "zh" else "score"}.get(route, route)


def gap_line(item: dict, lang: str) -> dict:
    """One gap item: the metric, its value against the threshold, the distance and the cheapest lever."""
    unit = item.get("unit")
    label = localized(item, "label", lang) or item.get("metric") or item.get("condition", "")
    line = {"label": label, "value": None, "target": None, "distance": None, "lever": None,
            "direction": direction_of(item),
            "missing": [fields.label(m, lang) for m in item.get("missing", []) if m in fields.FIELDS]}
    metric, op = item.get("metric"), item.get("op", "")
    sign = SET_OPS[op][lang] if op in SET_OPS else OPS.get(op, op)
    if item.get("value") is not None and item.get("threshold") is not None:
        line["value"], target = readable_pair(
            item["value"], item["threshold"], unit, lambda x: _item_value(x, unit, lang, metric),
            lambda x: fmt_value(x, unit, lang).replace(fmt_number(x), fmt_number(x, 4), 1))  # 0.0001 万元 = 1 元
        line["target"] = f"{sign} {target}"
    elif item.get("threshold") is not None:
        line["target"] = f"{sign} {_item_value(item['threshold'], unit, lang, metric)}"
    elif item.get("value") is not None:
        line["value"] = _item_value(item["value"], unit, lang, metric)
    if item.get("distance"):
        dist = item["distance"]
        line["distance"] = format_distance(dist, unit, lang) if unit in ("ratio", "pct") else \
            format_money(dist, lang) if unit == "wan" and abs(dist) < 0.01 else fmt_value(dist, unit, lang)
    lever = item.get("lever")
    if lever and lever.get("field") in fields.FIELDS:
        line["lever"] = f"{fields.label(lever['field'], lang)} +{fmt_value(lever['amount'], lever.get('unit'), lang)}"
    return line


def _item_value(value, unit: str | None, lang: str, metric: str | None) -> str:
    """A gap value or threshold: a number with its unit, an enum code by its label, or a list of those."""
    if isinstance(value, list | tuple):
        return ("、" if lang == "zh" else ", ").join(_item_value(v, unit, lang, metric) for v in value)
    return fmt_value(value, None if unit == "enum" else unit, lang, metric if metric in fields.FIELDS else None)


def range_text(lo, hi) -> str | None:
    """"80" or "75–90" for a score range; None when there is no score."""
    if lo is None and hi is None:
        return None
    if lo == hi or hi is None:
        return fmt_number(lo)
    return f"{fmt_number(lo)}–{fmt_number(hi)}"


def derived_rows(derived: dict, lang: str) -> list[dict]:
    """Derived ratios (R&D intensity, growth …) with their labels."""
    metrics = services.get_services().rule_book.metrics
    rows = []
    for name, value in derived.items():
        metric = metrics.get(name)
        if metric is None:
            continue
        rows.append({"label": metric.name_zh if lang == "zh" else metric.name_en,
                     "value": fmt_value(value, metric.unit, lang)})
    return rows


def profile_rows(profile: dict, lang: str) -> list[dict]:
    """The inputs as entered, grouped like the form, for the result page and exports."""
    groups = []
    for gid, zh, en in fields.GROUPS:
        rows = [{"name": s.name, "label": s.label_zh if lang == "zh" else s.label_en,
                 "value": fmt_value(profile[s.name], field_unit(s.name), lang, s.name)}
                for s in fields.REGISTRY if s.group == gid and s.name in profile]
        if rows:
            groups.append({"id": gid, "label": zh if lang == "zh" else en, "rows": rows})
    return groups


def trend_chart(rows: list[dict], lang: str):
    """SVG of the scored tiers' scores (and readiness, when present) over a client's assessments."""
    from webapp.web.svg import line_chart
    from webapp.web.templating import tier_name

    if len(rows) < 2:
        return None, ""
    tids = sorted({tid for r in rows for tid in r["scores"]})
    series = [{"name": tier_name(tid, lang), "values": [r["scores"].get(tid) for r in rows], "css": f"s{i + 1}"}
              for i, tid in enumerate(tids[:4])]
    labels = [r["as_of"].isoformat() for r in rows]
    chart = line_chart(series, labels, y_max=100, y_ticks=(0, 25, 50, 75, 100))
    return chart, ("各层级得分走势（满分100；竖线表示数据不全时得分的可能范围）" if lang == "zh" else
                   "Scores over time (out of 100; a vertical bar is the possible range while inputs are missing)")
