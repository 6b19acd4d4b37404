"""Numbers as a reader wants them, in Chinese or English: money in 万元, ratios as percent, counts, years."""

from __future__ import annotations

import functools
import math
import re
import string
from collections.abc import Mapping

from webapp import fields
from webapp.engine.advice.data import AdviceData

LANGS = ("zh", "en")

_WORDS = {
    "zh": {"unknown": "未知", "yes": "是", "no": "否", "pp": " 个百分点", "years": " 年", "wan": " 万元"},
    "en": {"unknown": "unknown", "yes": "yes", "no": "no", "pp": " percentage points", "years": " years",
           "wan": ""},
}


_DIRECTION_WORDS = {
    "below_min": {"zh": "还差", "en": "short by"},
    "above_max": {"zh": "超出", "en": "exceeds by"},
    "not_equal": {"zh": "要求", "en": "required"},
}


def direction_of(item: Mapping) -> str:
    """The direction of a gap item (``below_min``, ``above_max``, ``not_equal``); read from ``op`` if absent."""
    if item.get("direction") in _DIRECTION_WORDS:
        return item["direction"]
    op = item.get("op")
    if op in (">=", ">"):
        return "below_min"
    if op in ("<=", "<"):
        return "above_max"
    return "not_equal"


def direction_word(item: Mapping, lang: str) -> str:
    """How a gap's distance reads: 还差 / short by, 超出 / exceeds by, or 要求 / required."""
    return _DIRECTION_WORDS[direction_of(item)][lang]


def _trim(x: float, digits: int) -> str:
    """Fixed decimals without trailing zeros: 3.0 -> "3", 12.50 -> "12.5"."""
    text = f"{x:,.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_money(value: float, lang: str) -> str:
    """An amount in 万元: "1,200 万元" in Chinese, "CNY 12 million" in English."""
    if lang == "zh":
        if 0 < abs(value) < 0.01:  # under 100 yuan: in yuan, so one yuan over a ceiling never reads "0 万元"
            return f"{value * 10000:,.0f} 元"
        return _trim(value, 0 if abs(value) >= 100 else 2) + " 万元"
    million = value / 100
    if abs(million) < 1:
        return f"CNY {value * 10000:,.0f}"
    if abs(million) >= 1000:
        return f"CNY {_trim(million / 1000, 2)} billion"
    return f"CNY {_trim(million, 2)} million"


def format_value(value, unit: str, lang: str) -> str:
    """One value with its unit.

    Parameters
    ----------
    value : float, bool or None
        None is shown as unknown.
    unit : str
        ``wan`` (money, 万元), ``ratio`` (0.03 = 3%), ``pct`` (3 = 3%), ``count``, ``years``, ``bool``,
        ``number`` or ``""``.
    lang : {"zh", "en"}

    Returns
    -------
    str
    """
    w = _WORDS[lang]
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return w["unknown"]
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple):
        return " / ".join(str(v) for v in value)
    if unit == "bool" or isinstance(value, bool):
        return w["yes"] if value else w["no"]
    value = float(value)
    if unit == "ratio":
        return _trim(value * 100, 2) + "%"
    if unit == "pct":
        return _trim(value, 2) + "%"
    if unit == "wan":
        return format_money(value, lang)
    if unit == "count":
        return _trim(value, 0 if value.is_integer() or abs(value) >= 10 else 1)
    if unit == "years":
        return _trim(value, 1) + w["years"]
    return _trim(value, 2 if abs(value) < 100 else 0)


def format_choice(name: str, value, lang: str) -> str:
    """Enum code(s) of field ``name`` as their labels in ``lang`` ("provincial" -> "省级（省部级）")."""
    spec = fields.FIELDS.get(name)
    codes = value if isinstance(value, list | tuple) else [value]
    out = []
    for code in codes:
        if code is None:
            out.append(_WORDS[lang]["unknown"])
        elif spec is not None and code in spec.choices:
            out.append((spec.choice_labels_zh if lang == "zh" else spec.choice_labels_en)[spec.choices.index(code)])
        else:
            out.append(str(code))
    return " / ".join(out)


def format_distance(value, unit: str, lang: str) -> str:
    """A gap: ratio and percent gaps in percentage points, others as :func:`format_value`."""
    if value is None:
        return _WORDS[lang]["unknown"]
    if unit in ("ratio", "pct"):
        points = _trim(float(value) * (100 if unit == "ratio" else 1), 2)
        return points + (" percentage point" if points == "1" and lang == "en" else _WORDS[lang]["pp"])
    return format_value(value, unit, lang)


def readable_pair(value, threshold, unit: str, show, exact) -> tuple[str, str]:
    """A gap's figure and bound as ``show`` writes them, unless two different amounts would read the same
    ("20,000 万元" against "20,000 万元"): then both as ``exact`` writes them (to the yuan), so one yuan over a
    ceiling never reads as meeting it. The text, the PDF and the page each pass their own formatters."""
    shown = show(value), show(threshold)
    if unit == "wan" and shown[0] == shown[1] and isinstance(value, int | float) and \
            isinstance(threshold, int | float) and value != threshold:
        return exact(value), exact(threshold)
    return shown


def text_values(action: dict, result: Mapping, data: AdviceData, lang: str, keys=None, *,
                documents: list[str] | None = None) -> dict:
    """The placeholders of an action's texts in ``lang``: all of them, or only those named in ``keys`` (what
    the texts to fill use, :func:`placeholders`); ``documents``: ``data.documents_for`` of the action's missing
    inputs in ``lang``, when already worked out."""
    c, tier = action.get("crit") or {}, result["tiers"].get(action["tier"], {})
    item, unit = action.get("item") or {}, action.get("unit", "")
    i = LANGS.index(lang)
    missing = action.get("missing") or []
    elig = action.get("eligible") or {}
    keys = _ALL_KEYS if keys is None else keys

    def fmt(value):
        if unit == "enum" or isinstance(value, str):  # a choice by its label, never its code
            return format_choice(item.get("metric", ""), value, lang)
        return format_value(value, unit, lang)

    out = {}
    if "criterion" in keys:
        out["criterion"] = ", ".join(action.get("criteria") or [action.get("criterion") or ""])
    if "criterion_name" in keys:
        out["criterion_name"] = c.get(f"name_{lang}", "")
    if "tier_name" in keys:
        out["tier_name"] = tier.get(f"name_{lang}", action["tier"])
    if "label" in keys:
        out["label"] = item.get(f"label_{lang}") or data.metric_label(item.get("metric") or "", lang)
    if "value" in keys:
        out["value"] = fmt(item.get("value"))
    if "threshold" in keys:
        out["threshold"] = fmt(item.get("threshold"))
    if "distance" in keys:
        out["distance"] = format_distance(item.get("distance"), unit, lang)
    if "amount" in keys:
        out["amount"] = format_value(action.get("amount"), action.get("amount_unit", unit), lang)
    if "target" in keys:
        out["target"] = format_value(action.get("target"), action.get("amount_unit", unit), lang)
    if "op" in keys:
        out["op"] = data.ops.get(item.get("op") or ">=", ("", ""))[i]
    if "fields" in keys:
        out["fields"] = ("、" if lang == "zh" else ", ").join(fields.label(m, lang) for m in missing
                                                            if m in fields.FIELDS)
    if "documents" in keys:
        out["documents"] = ("；" if lang == "zh" else "; ").join(
            data.documents_for(missing, lang) if documents is None else documents)
    if "months" in keys:
        out["months"] = "—" if action["lead_time_months"] is None else str(action["lead_time_months"])
    if "title_name" in keys:
        title_tier = result["tiers"].get(action.get("title_tier") or "", {})
        out["title_name"] = title_tier.get(f"name_{lang}", action.get("title_tier") or "")
    if "eligible" in keys:
        state = elig.get(action.get("title_tier"), "unknown")
        out["eligible"] = _STATUS_WORDS.get(state, _STATUS_WORDS["unknown"])[i]
    return out


_STATUS_WORDS = {"met": ("符合条件", "finds it eligible"), "not_met": ("不符合条件", "finds it not eligible"),
                 "unknown": ("无法判断", "cannot tell")}
_ALL_KEYS = frozenset({"criterion", "criterion_name", "tier_name", "label", "value", "threshold", "distance",
                       "amount", "target", "op", "fields", "documents", "months", "title_name", "eligible"})


@functools.lru_cache(maxsize=4096)
def placeholders(*texts: str) -> frozenset[str]:
    """The names of the fields that the ``str.format`` templates ``texts`` fill (``{value}``, ``{x[0]}``: x)."""
    names = set()
    for text in texts:
        for _, name, _, _ in string.Formatter().parse(text):
            if name:
                names.add(re.split(r"[.\[]", name, maxsplit=1)[0])
    return frozenset(names)
