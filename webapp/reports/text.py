"""Plain-text rendering of an assessment result for people at a terminal, in Chinese or English."""

from __future__ import annotations

from webapp import fields

_MARK = {"met": "✓", "not_met": "✗", "unknown": "?"}
_WORDS = {
    "zh": {"met": "符合", "not_met": "不符合", "unknown": "未知", "tier": "当前层级", "next": "下一层级",
           "none": "尚未达到任何层级", "score": "得分", "rules": "规则", "as_of": "评估日期", "missing": "缺少",
           "route": "路径", "self": "自我声明", "need": "还需", "points": "分", "manual": "需人工审核",
           "firm": "企业", "unverified": "规则未核实", "held": "已持有", "eligible": "本次评估符合"},
    "en": {"met": "met", "not_met": "not met", "unknown": "unknown", "tier": "Tier", "next": "Next tier",
           "none": "no tier reached yet", "score": "score", "rules": "Rules", "as_of": "Assessed on",
           "missing": "missing", "route": "route", "self": "self-declared", "need": "needs", "points": "pts",
           "manual": "manual review", "firm": "Firm", "unverified": "rule unverified", "held": "title held",
           "eligible": "eligible here"},
}


def format_amount(value: float | None, unit: str, lang: str) -> str:
    """A value with its unit: ratios as percent, money in 万元 with separators."""
    if value is None:
        return "—"
    if unit == "ratio":
        return f"{value * 100:.2f}%"
    if unit == "pct":
        return f"{value:g}%"
    if unit == "wan":
        return f"{value:,.2f} 万元" if lang == "zh" else f"{value:,.2f} (10k CNY)"
    if unit == "bool":
        return {1.0: "yes", 0.0: "no"}.get(value, str(value)) if lang == "en" else {1.0: "是", 0.0: "否"}.get(
            value, str(value))
    return f"{value:,.4g}"


def describe_item(item: dict, lang: str) -> str:
    """One gap item as a sentence fragment: metric value against threshold, distance and lever."""
    name = item.get("metric") or item.get("condition", "")
    label = item.get(f"label_{lang}") or name
    w = _WORDS[lang]
    if item.get("value") is None:
        return f"{label}: {w['missing']} {', '.join(item.get('missing') or [name])}"
    unit = item.get("unit", "")
    if unit == "enum":
        return f"{label} = {item['value']} ({item['op']} {', '.join(item['threshold'])})"
    value, threshold = format_amount(item["value"], unit, lang), format_amount(item["threshold"], unit, lang)
    text = f"{label} {value} {item['op']} {threshold}"
    if item.get("distance"):
        if unit == "ratio":
            dist = f"{item['distance'] * 100:.2f}" + (" 个百分点" if lang == "zh" else " percentage points")
        else:
            dist = format_amount(item["distance"], unit, lang)
        text += f" ({w['need']} {dist}"
        lever = item.get("lever")
        if lever:
            text += f"; {fields.label(lever['field'], lang)} +{format_amount(lever['amount'], lever['unit'], lang)}"
        text += ")"
    return text


def render_text(result: dict, *, lang: str = "zh") -> str:
    """Render the assessment contract (a dict) as readable text."""
    w = _WORDS[lang]
    lines = []
    if result.get("firm_name"):
        lines.append(f"{w['firm']}: {result['firm_name']}")
    rules = ", ".join(f"{k}={v}" for k, v in result["rules"].items())
    lines.append(f"{w['rules']}: {rules}    {w['as_of']}: {result['as_of']}")
    tier = result["tier"]
    tname = lambda t: result["tiers"][t]["name_zh" if lang == "zh" else "name_en"]  # noqa: E731
    lines.append(f"{w['tier']}: {w['none'] if tier == 'none' else tname(tier)}")
    if result.get("next_tier"):
        lines.append(f"{w['next']}: {tname(result['next_tier'])}")
    for tid, t in result["tiers"].items():
        head = f"\n[{_MARK[t['status']]}] {tname(tid)} ({t['rules']}): {w[t['status']]}"
        if t.get("score_min") is not None:
            score = t["score_min"] if t["score_min"] == t["score_max"] else f"{t['score_min']}–{t['score_max']}"
            head += f", {w['score']} {score}"
        lines.append(head)
        for c in t["criteria"]:
            lines.append("  " + _criterion_line(c, lang))
    return "\n".join(lines)


def _criterion_line(c: dict, lang: str) -> str:
    w = _WORDS[lang]
    name = c["name_zh" if lang == "zh" else "name_en"]
    line = f"{_MARK[c['status']]} {c['id']:<8} {name}"
    if c.get("points_min") is not None:
        pts = c["points_min"] if c["points_min"] == c["points_max"] else f"{c['points_min']}–{c['points_max']}"
        line += f"  [{pts}/{c['max_points']} {w['points']}]"
    tags = []
    if c.get("route"):
        tags.append(f"{w['route']}: {c['route']}")
    if c.get("via"):
        tags.append(w[c["via"]])
    if c.get("self_declared"):
        tags.append(w["self"])
    if c.get("verification") == "unverified":
        tags.append(w["unverified"])
    if c.get("manual_review"):
        tags.append(w["manual"])
    if tags:
        line += "  (" + "; ".join(tags) + ")"
    gap = c.get("gap") or {}
    if c["status"] != "met" or c.get("points_min") is not None:
        details = [describe_item(i, lang) for i in gap.get("items", [])]
        if not details and gap.get("missing"):
            details = [f"{w['missing']}: " + ", ".join(fields.label(m, lang) for m in gap["missing"])]
        if details:
            line += "\n" + "\n".join(f"             → {d}" for d in details)
    return line
