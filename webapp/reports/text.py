"""Plain-text rendering of an assessment result for people at a terminal, in Chinese or English."""

from __future__ import annotations

from webapp import fields
from webapp.engine import defaults
from webapp.engine.advice.format import format_choice, format_value
from webapp.engine.advice.hnte import hnte_brief, score_text
from webapp.engine.rules.citations import documents_of
from webapp.engine.rules.rulebook import RuleBook
from webapp.reports.gapwords import describe

_MARK = {"met": "✓", "not_met": "✗", "unknown": "?"}
_WORDS = {
    "zh": {"met": "符合", "not_met": "不符合", "unknown": "未知", "tier": "当前层级", "next": "下一层级",
           "none": "尚未达到任何层级", "score": "得分", "rules": "规则", "as_of": "评估日期", "missing": "缺少",
           "route": "路径", "self": "自我声明", "need": "还需", "points": "分", "manual": "需人工审核",
           "firm": "企业", "unverified": "规则未核实", "held": "已持有", "eligible": "本次评估符合",
           "beside": "与梯度培育阶梯并行的资质（不是阶梯的一级）",
           "pass_mark": "合格线：{above}分以上（不含{above}分）", "validity": "有效期{n}年", "message": "意见",
           "basis": "依据"},
    "en": {"met": "met", "not_met": "not met", "unknown": "unknown", "tier": "Tier", "next": "Next tier",
           "none": "no tier reached yet", "score": "score", "rules": "Rules", "as_of": "Assessed on",
           "missing": "missing", "route": "route", "self": "self-declared", "need": "needs", "points": "pts",
           "manual": "manual review", "firm": "Firm", "unverified": "rule unverified", "held": "title held",
           "eligible": "eligible here", "beside": "Qualification beside the ladder (not one of its rungs)",
           "pass_mark": "pass mark: above {above}", "validity": "valid {n} years", "message": "Our reading",
           "basis": "Basis"},
}


def describe_item(item: dict, lang: str) -> str:
    """One gap item as a sentence fragment: the figure, the requirement, which way and how far, the lever."""
    return describe(item, lang)


def render_text(result: dict, *, lang: str = "zh", rule_book: RuleBook | None = None) -> str:
    """Render the assessment contract (a dict) as readable text: the ladder's tiers, then HNTE beside it.

    ``rule_book`` is the rule tables the result was judged by (default: the engine's).
    """
    book = rule_book or defaults.load(defaults.rule_book)
    beside = book.beside_ladder(result["tiers"])
    w = _WORDS[lang]
    lines = []
    if result.get("firm_name"):
        lines.append(f"{w['firm']}: {result['firm_name']}")
    rules = ", ".join(f"{k}={v}" for k, v in result["rules"].items())
    lines.append(f"{w['rules']}: {rules}    {w['as_of']}: {result['as_of']}")
    tier = result["tier"]
    tname = lambda t: result["tiers"][t]["name_zh" if lang == "zh" else "name_en"]  # noqa: E731
    lines.append(f"{w['tier']}: {w['none'] if tier == 'none' else tname(tier)}")
    if "likely_tier" in result:
        lines.append(_likely_line(result, tname, lang))
    if result.get("next_tier"):
        lines.append(f"{w['next']}: {tname(result['next_tier'])}")
    lines += _confirm_lines(result, tname, lang)
    lines += _readiness_lines(result, tname, lang)
    lines += _action_lines(result, lang)
    for tid, t in result["tiers"].items():
        if tid not in beside:
            lines += _tier_lines(tid, t, tname(tid), lang, book)
    brief = _brief(result, book)
    for tid in beside:
        head, *rows = _tier_lines(tid, result["tiers"][tid], tname(tid), lang, book)
        lines += ["", f"== {w['beside']} ==", head.lstrip("\n"), *rows]
        if brief and brief["tier"] == tid:
            lines.insert(-len(result["tiers"][tid]["criteria"]), _pass_line(brief, lang))
            lines.append(f"  {w['message']}: {brief[f'message_{lang}']}")
    return "\n".join(lines)


def _likely_line(result: dict, tname, lang: str) -> str:
    """"Likely tier: … (to confirm: id, id)" / "可能层级：…（待确认：…）"."""
    likely = result["likely_tier"]
    name = _WORDS[lang]["none"] if likely == "none" else tname(likely)
    ids = ", ".join(dict.fromkeys(c["id"] for c in _open_items(result) if c.get("tier") == likely))
    if lang == "zh":
        return f"可能层级：{name}" + (f"（待确认：{ids}）" if ids else "")
    return f"Likely tier: {name}" + (f" (to confirm: {ids})" if ids else "")


_SECTIONS = {
    "zh": {"confirm": "待确认事项", "readiness": "认定准备度（模型估计）", "actions": "优先行动",
           "suggests": "模型提示", "manual": "需人工审核", "self": "自我声明", "months": "约需{n}个月",
           "eta": "预计{d}"},
    "en": {"confirm": "What is left to confirm", "readiness": "Readiness (model estimate)", "actions": "Top actions",
           "suggests": "Model suggests", "manual": "manual review", "self": "self-declared",
           "months": "about {n} months", "eta": "ready by {d}"},
}


def _field_label(name: str, lang: str) -> str:
    """A field's label in ``lang``, or its name when it is not a registry field."""
    try:
        return fields.label(name, lang)
    except KeyError:
        return name


def _is_choice(value, name: str) -> bool:
    """True for a yes/no or enum driver value (a bool, a choice code, or a yes/no field's 0/1)."""
    spec = fields.FIELDS.get(name)
    return isinstance(value, bool | str) or (spec is not None and spec.kind in ("bool", "enum"))


def _number(value, name: str, lang: str) -> str:
    """A driver value with the field's unit: thousands separators, at most one decimal; yes/no and choices as
    words."""
    spec = fields.FIELDS.get(name)
    if value is None:
        return "—"
    if isinstance(value, bool) or (spec is not None and spec.kind == "bool"):
        return format_value(bool(value), "bool", lang)
    if isinstance(value, str) or (spec is not None and spec.kind == "enum"):
        return format_choice(name, value, lang)
    if not isinstance(value, (int, float)):
        return str(value)
    text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    spec = fields.FIELDS.get(name)
    unit = getattr(spec, f"unit_{lang}", "") if spec else ""
    if not unit:
        return text
    return f"{text} {unit}" if lang == "zh" else f"{text} ({unit})"


def _percent(prob: float | None) -> str:
    """A probability as a whole percentage; "<1%" rather than "0%" for a small but non-zero one."""
    if prob is None:
        return "—"
    return "<1%" if 0 < prob < 0.005 else f"{round(100 * prob)}%"


def _open_items(result: dict) -> list[dict]:
    """The ``to_confirm`` entries of tiers not met yet: an unknown alternative of a tier already met (a direct
    route, a bonus input) confirms nothing."""
    tiers = result.get("tiers") or {}
    return [c for c in result.get("to_confirm") or [] if (tiers.get(c.get("tier")) or {}).get("status") != "met"]


def _confirm_lines(result: dict, tname, lang: str) -> list[str]:
    """"What is left to confirm": one line per open criterion of a tier not met yet, with the inputs it needs."""
    items = _open_items(result)
    if not items:
        return []
    s, sep = _SECTIONS[lang], "、" if lang == "zh" else ", "
    lines = ["", f"== {s['confirm']} =="]
    for c in items:
        tier = tname(c["tier"]) if c.get("tier") in result["tiers"] else c.get("tier", "")
        line = f"  {tier} · {c['id']} {c['name_zh' if lang == 'zh' else 'name_en']}"
        notes = []
        if c.get("missing"):
            notes.append(f"{_WORDS[lang]['missing']}: " + sep.join(_field_label(m, lang) for m in c["missing"]))
        if c.get("manual_review"):
            notes.append(s["manual"])
        if c.get("self_declared"):
            notes.append(s["self"])
        if notes:
            line += ("（" + "；".join(notes) + "）") if lang == "zh" else (" (" + "; ".join(notes) + ")")
        lines.append(line)
    return lines


def _readiness_lines(result: dict, tname, lang: str) -> list[str]:
    """"Readiness": each ladder tier's model probability, up to two model suggestions, then the model card."""
    readiness = result.get("readiness")
    if not isinstance(readiness, dict):
        return []
    s = _SECTIONS[lang]
    tiers = [t for t in result["tiers"] if t in readiness] + [
        t for t in readiness if t != "_model" and t not in result["tiers"]]
    if not tiers:
        return []
    lines = ["", f"== {s['readiness']} =="]
    for tid in tiers:
        entry = readiness[tid] or {}
        pct = _percent(entry.get("probability"))
        name = tname(tid) if tid in result["tiers"] else tid
        lines.append(f"  {name}: {pct}")
        for d in (entry.get("drivers") or [])[:2]:
            label = _field_label(d["field"], lang)
            now, target = _number(d.get("current"), d["field"], lang), _number(d.get("target"), d["field"], lang)
            if _is_choice(d.get("target"), d["field"]):  # yes/no or a choice: no "about", no "raise"
                known = d.get("current") is not None
                lines.append(f"      {s['suggests']}：{label}{'由 ' + now + ' ' if known else ''}改为 {target}"
                             if lang == "zh" else
                             f"      {s['suggests']}: {label}{' from ' + now if known else ''} to {target}")
            elif d.get("current") is None:  # unknown today: only the level the model suggests
                lines.append(f"      {s['suggests']}：{label}约 {target}" if lang == "zh" else
                             f"      {s['suggests']}: {label} of about {target}")
            elif lang == "zh":
                lines.append(f"      {s['suggests']}：{label}由 {now} 提高到约 {target}")
            else:
                lines.append(f"      {s['suggests']}: {label} from {now} to about {target}")
    summary = (readiness.get("_model") or {}).get(f"card_summary_{lang}")
    if summary:
        lines.append(f"  {summary}")
    return lines


def _action_lines(result: dict, lang: str) -> list[str]:
    """"Top actions": the advice's first three ranked actions with lead time and expected date."""
    advice = result.get("advice")
    actions = advice.get("actions") if isinstance(advice, dict) else None
    if not actions:
        return []
    s = _SECTIONS[lang]
    lines = ["", f"== {s['actions']} =="]
    for i, a in enumerate(actions[:3], 1):
        line = f"  {i}. {a.get(f'title_{lang}') or a.get('id', '')}"
        notes = []
        if a.get("lead_time_months") is not None:
            notes.append(s["months"].format(n=a["lead_time_months"]))
        if a.get("eta"):
            notes.append(s["eta"].format(d=a["eta"]))
        if notes:
            line += ("（" + "，".join(notes) + "）") if lang == "zh" else (" (" + ", ".join(notes) + ")")
        lines.append(line)
    return lines


def _tier_lines(tid: str, t: dict, name: str, lang: str, book: RuleBook) -> list[str]:
    """A tier's heading (status and score), its official documents, and one entry per criterion with its
    official citation (document number, annex or article, item)."""
    w = _WORDS[lang]
    head = f"\n[{_MARK[t['status']]}] {name} ({t['rules']}): {w[t['status']]}"
    if t.get("score_min") is not None:
        head += f", {w['score']} {score_text(t['score_min'], t['score_max'])}"
    table = book.tables.get(t["rules"])
    rules = [table.criteria[c["id"]] for c in t["criteria"] if table is not None and c["id"] in table.criteria]
    basis = documents_of(rules, lang)
    lines = [head] + ([f"  {w['basis']}: {basis}"] if basis else [])
    for c in t["criteria"]:
        line = "  " + _criterion_line(c, lang)
        rule = table.criteria.get(c["id"]) if table is not None else None
        if rule is not None and rule.cite:
            line += f"\n             {w['basis']}: {rule.citation(lang)}"
        lines.append(line)
    return lines


def _pass_line(brief: dict, lang: str) -> str:
    """"  合格线：70分以上（不含70分）；有效期3年" under the qualification's heading."""
    w = _WORDS[lang]
    above = "—" if brief["above"] is None else f"{brief['above']:g}"
    sep = "；" if lang == "zh" else "; "
    return f"  {w['pass_mark'].format(above=above)}{sep}{w['validity'].format(n=brief['validity_years'])}"


def _brief(result: dict, book: RuleBook) -> dict | None:
    """The HNTE brief of the result's advice, or one made from the result alone."""
    advice = result.get("advice") if isinstance(result.get("advice"), dict) else {}
    if "hnte" in advice:
        return advice["hnte"]
    return hnte_brief(result, None, data=defaults.load(defaults.advice_data), book=book)


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
