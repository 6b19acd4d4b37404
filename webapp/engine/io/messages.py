"""The wording of input errors: what a cell should have been, in Chinese and English, and the error rows
:func:`webapp.engine.io.inputs.validate_profiles` assembles."""

from __future__ import annotations

import pandas as pd

from webapp.fields import FieldSpec

MAX_VALUE_CHARS = 100  # an offending value is quoted up to this many characters


def bound_text(value: float, unit: str, lang: str) -> str:
    """A bound with its unit: '0 万元', '0 (10k CNY)', '100%'."""
    number = f"{value:,.0f}" if float(value).is_integer() else f"{value:g}"  # 100,000,000, not 1e+08
    if not unit or unit == "%":
        return number + unit
    return f"{number} {unit}" if lang == "zh" else f"{number} ({unit})"


def rule_text(spec: FieldSpec, rule: str) -> tuple[str, str]:
    """What the cell should have been, in zh and en."""
    if rule == "number":
        return "应为数字", "expected a number"
    if rule == "integer":
        return "应为整数", "expected a whole number"
    if rule == "min":
        return (f"不能小于 {bound_text(spec.lo, spec.unit_zh, 'zh')}",
                f"must be at least {bound_text(spec.lo, spec.unit_en, 'en')}")
    if rule == "max":
        return (f"不能大于 {bound_text(spec.hi, spec.unit_zh, 'zh')}",
                f"must be at most {bound_text(spec.hi, spec.unit_en, 'en')}")
    if rule == "text":
        return "应为文字，不能是列表或对象", "expected text, not a list or an object"
    if rule == "enum":
        codes = ", ".join(spec.choices)
        return f"取值无效，可选：{codes}（或对应的中文/英文名称）", f"expected one of {codes} (or their labels)"
    return ("应为是/否（可填 true/false、是/否、yes/no、y/n、1/0、有/无）",
            "expected yes/no (true/false, 是/否, yes/no, y/n, 1/0, 有/无)")


def head(spec: FieldSpec, rule: str) -> tuple[str, str]:
    """Message start naming the field by label and canonical name, the rule, and "got '"."""
    zh, en = rule_text(spec, rule)
    return f"{spec.label_zh}（{spec.name}）{zh}，收到 '", f"{spec.label_en} ({spec.name}): {en}, got '"


def error_frame(positions, fields, rules, raw, head_zh, head_en) -> pd.DataFrame:
    """Error rows: message = head + quoted raw value (cut to a readable length)."""
    value = pd.Series(raw, dtype=object).str.slice(0, MAX_VALUE_CHARS).to_numpy(dtype=object)
    return pd.DataFrame({
        "pos": positions, "field": fields, "rule": rules, "value": value,
        "message_zh": head_zh + value + "'", "message_en": head_en + value + "'",
    })
