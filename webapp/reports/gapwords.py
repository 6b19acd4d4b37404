"""A gap item as a reader reads it, in Chinese or English, for the text output and the PDF.

"上年度营业收入 26,000 万元，要求 ≤ 20,000 万元（超出 6,000 万元）" / "Operating revenue, year t CNY 260 million,
required ≤ CNY 200 million (exceeds by CNY 60 million)": the firm's figure, the rule's bound, then which way and
how far (spec/assessment.md, "Gaps say which way"). Choices read as their labels, yes/no as words, and an amount
that differs from its bound by less than the shown precision is shown to the yuan, so one yuan over a ceiling
never reads "exceeds by 0".
"""

from __future__ import annotations

from webapp import fields
from webapp.engine.advice.format import direction_word, format_choice, format_distance, format_value, readable_pair

OPS = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "==": "=", "!=": "≠"}
_WORDS = {
    "zh": {"required": "要求", "one_of": "为", "none_of": "不为", "missing": "缺少", "sep": "、", "comma": "，",
           "open": "（", "close": "）", "semi": "；"},
    "en": {"required": "required", "one_of": "one of", "none_of": "none of", "missing": "missing", "sep": ", ",
           "comma": ", ", "open": " (", "close": ")", "semi": "; "},
}


def money_exact(value: float, lang: str) -> str:
    """An amount in 万元 to the yuan: "20,000.0001 万元" / "CNY 200,000,001"."""
    if lang == "zh":
        text = f"{value:,.4f}".rstrip("0").rstrip(".")
        return f"{text} 万元"
    return f"CNY {value * 10000:,.0f}"


def value_pair(value, threshold, unit: str, lang: str) -> tuple[str, str]:
    """The firm's value and the rule's bound as :func:`format_value` shows them, both to the yuan when two
    different amounts would read the same (:func:`readable_pair`)."""
    return readable_pair(value, threshold, unit, lambda x: format_value(x, unit, lang),
                         lambda x: money_exact(x, lang))


def _unit(item: dict) -> str:
    unit = item.get("unit", "")
    spec = fields.FIELDS.get(item.get("metric") or "")
    if unit == "number" and spec is not None and spec.unit_en == "years":
        return "years"
    return unit


def _field_unit(metric: str, unit: str, lang: str) -> str:
    """" 人" / " persons" after a count or plain number of a registry field that has a unit, else ""."""
    spec = fields.FIELDS.get(metric)
    if unit not in ("count", "number") or spec is None:
        return ""
    word = spec.unit_zh if lang == "zh" else spec.unit_en
    return f" {word}" if word else ""


def _labels(metric: str, value, lang: str) -> str:
    values = value if isinstance(value, list | tuple) else [value]
    return _WORDS[lang]["sep"].join(format_choice(metric, v, lang) for v in values)


def describe(item: dict, lang: str) -> str:
    """One gap item: the figure, the requirement, and (for amounts) which way and how far, with the cheapest
    lever when there is one. An item whose value is unknown names the inputs it is missing."""
    w = _WORDS[lang]
    metric = item.get("metric") or ""
    label = item.get(f"label_{lang}") or (fields.label(metric, lang) if metric in fields.FIELDS else
                                          metric or item.get("condition", ""))
    if item.get("value") is None:
        missing = [fields.label(m, lang) if m in fields.FIELDS else m for m in item.get("missing") or [metric]]
        return f"{label}{'：' if lang == 'zh' else ': '}{w['missing']} {w['sep'].join(missing)}"
    unit, op = _unit(item), item.get("op", "")
    if unit == "enum" or op in ("in", "not in"):
        value, required = _labels(metric, item["value"], lang), _labels(metric, item.get("threshold"), lang)
        word = w["none_of"] if op == "not in" else w["one_of"]
        if lang == "zh":
            return f"{label}为{value}{w['comma']}{w['required']}{word}{required}"
        return f"{label}: {value}{w['comma']}{w['required']}: {word} {required}"
    value, threshold = value_pair(item["value"], item.get("threshold"), unit, lang)
    is_ = " " if lang == "zh" else ": "
    if unit == "bool":
        return f"{label}{is_}{value}{w['comma']}{w['required']}{is_}{threshold}"
    suffix = _field_unit(metric, unit, lang)
    text = f"{label}{is_}{value}{suffix}{w['comma']}{w['required']} {OPS.get(op, op)} {threshold}{suffix}"
    notes = []
    if item.get("distance"):
        notes.append(f"{direction_word(item, lang)} {format_distance(item['distance'], unit, lang)}{suffix}")
    lever = item.get("lever")
    if lever and lever.get("field") in fields.FIELDS:
        notes.append(f"{fields.label(lever['field'], lang)} "
                     f"+{format_value(lever['amount'], lever.get('unit', unit), lang)}")
    if notes:
        text += w["open"] + w["semi"].join(notes) + w["close"]
    return text
