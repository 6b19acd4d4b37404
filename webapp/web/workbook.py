"""The XLSX export of a saved assessment, for the client to open: one sheet per part of the report.

Every label is in the reader's language (field labels and choice labels from ``webapp.fields``, tier,
criterion and metric names from the rule tables and advice data); numbers are numeric cells with a number
format (money in 万元, shares and probabilities as percent, dates as dates), never text.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping

from openpyxl import Workbook
from openpyxl.drawing.image import Image
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from webapp import fields
from webapp.web import present, services
from webapp.web.i18n import choice_label, fmt_value, localized

_FILL = PatternFill("solid", fgColor="E8EEF4")
_SHEETS = {
    "zh": {"summary": "概要", "inputs": "输入", "criteria": "评估结果", "benchmarks": "对标", "readiness": "就绪度",
           "actions": "行动建议", "roadmap": "路线图", "milestones": "里程碑"},
    "en": {"summary": "Summary", "inputs": "Inputs", "criteria": "Criteria", "benchmarks": "Benchmarks",
           "readiness": "Readiness", "actions": "Actions", "roadmap": "Roadmap", "milestones": "Milestones"},
}
_HEAD = {
    "zh": {"inputs": ("分组", "项目", "取值"),
           "criteria": ("层级", "条款", "条件", "结果", "取值", "得分下限", "得分上限", "满分", "差距", "缺少的数据",
                        "说明"),
           "benchmarks": ("对标群体", "指标", "企业数值", "群体均值", "百分位（0-100）", "数据依据"),
           "readiness": ("层级", "认定概率", "主要驱动因素"),
           "actions": ("序号", "层级", "条款", "行动", "说明", "提前期（月）", "预计完成", "必需"),
           "roadmap": ("层级", "条款", "指标", "当前", "要求", "按自身增长达到的财年", "按自身增长达到",
                       "采取行动后达到"),
           "milestones": ("层级", "最早满足全部条件", "预计获得称号", "未满足或待定的条款"),
           "summary": ("项目", "内容")},
    "en": {"inputs": ("group", "item", "value"),
           "criteria": ("tier", "criterion", "condition", "status", "value", "points (low)", "points (high)",
                        "max points", "gap", "missing inputs", "note"),
           "benchmarks": ("cohort", "metric", "firm", "cohort mean", "percentile (0-100)", "basis"),
           "readiness": ("tier", "probability", "main drivers"),
           "actions": ("#", "tier", "criterion", "action", "detail", "lead time (months)", "expected by", "required"),
           "roadmap": ("tier", "criterion", "metric", "now", "required", "fiscal year at own growth",
                       "reached at own growth", "reached with action"),
           "milestones": ("tier", "every criterion met by", "title expected", "criteria not met or unknown"),
           "summary": ("item", "value")},
}
_WORDS = {
    "zh": {"met": "符合", "not_met": "不符合", "unknown": "待定", True: "是", False: "否", "report": "评估报告",
           "client": "委托方", "firm": "企业名称", "as_of": "评估日期", "rules": "规则", "mode": "目的",
           "tier": "当前层级", "next": "下一层级", "none": "尚未达到任何层级",
           "consultant": "编制", "practice": "咨询机构",
           "new": "新申报", "review": "复核", "probability": "下一层级认定概率", "wan": '"万元"',
           "disclaimer": "本表由 GiantStep 根据企业自行填报的数据和公开的认定标准生成，仅供自我评估参考；"
                         "是否认定以主管部门审核为准。"},
    "en": {"met": "met", "not_met": "not met", "unknown": "unknown", True: "yes", False: "no",
           "report": "Assessment report", "client": "Prepared for", "firm": "Company", "as_of": "Assessment date",
           "rules": "Rules", "mode": "Purpose", "tier": "Tier", "next": "Next tier", "none": "No tier reached yet",
           "consultant": "Prepared by", "practice": "Practice", "new": "new application", "review": "re-review",
           "probability": "Readiness for the next tier", "wan": '"(10k CNY)"',
           "disclaimer": "GiantStep generated this workbook from the firm's own figures and the published "
                         "standards. It is a self-assessment: the authorities decide every recognition."},
}


def workbook(record, lang: str, *, consultant: str | None = None, practice: str | None = None,
             logo: bytes | None = None) -> bytes:
    """The XLSX bytes of a saved assessment ``record`` in ``lang``, with the consultant's branding."""
    result, profile = record.result, record.profile
    book = Workbook()
    sheets = _SHEETS[lang]
    _summary(book.active, record, lang, consultant=consultant, practice=practice, logo=logo)
    book.active.title = sheets["summary"]
    for key, rows in (("inputs", _inputs(profile, lang) + _derived(result, lang)),
                      ("criteria", _criteria(result, lang)),
                      ("benchmarks", _benchmarks(result, lang)), ("readiness", _readiness(result, lang)),
                      ("actions", _actions(result, lang)), ("roadmap", _roadmap(result, lang)),
                      ("milestones", _milestones(result, lang))):
        _table(book.create_sheet(sheets[key]), _HEAD[lang][key], rows)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# ------------------------------------------------------------------------------------------ cells


def _num(value, fmt: str) -> tuple:
    """A numeric cell with its number format (None stays an empty cell)."""
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return (None, None)
    return (value, fmt)


def _amount_fmt(value, lang: str, unit: str | None) -> str:
    """Number format for ``value`` in ``unit``: whole numbers without decimals, money with its unit."""
    whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    base = "#,##0" if whole else "#,##0.00"
    return f"{base} {_WORDS[lang]['wan']}" if unit == "wan" else base


def _value(value, unit: str | None, lang: str, name: str | None = None):
    """A value as a (cell value, number format) pair: numbers stay numeric, codes become labels."""
    if value is None:
        return (None, None)
    if isinstance(value, bool) or unit == "bool":
        return (_WORDS[lang][bool(value)], None)
    if isinstance(value, str):
        return (choice_label(name, value, lang) if name in fields.FIELDS else value, None)
    if isinstance(value, list | tuple):
        return (("、" if lang == "zh" else ", ").join(str(_value(v, unit, lang, name)[0]) for v in value), None)
    if unit == "ratio":
        return _num(value, "0.00%")
    if unit == "pct":
        return _num(value / 100, "0.00%")
    return _num(value, _amount_fmt(value, lang, unit))


def _date(text: str | None):
    """An ISO date string as a date cell."""
    if not text:
        return (None, None)
    return (dt.date.fromisoformat(str(text)[:10]), "yyyy-mm-dd")


def _text(value):
    """User or data text; text that a spreadsheet would read as a formula is defused."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def _table(ws, head: tuple, rows: list[list]) -> None:
    """A header row, then ``rows`` of plain values or (value, number format) pairs; frozen, filtered."""
    ws.append(list(head))
    for cell in ws[1]:
        cell.font, cell.fill = Font(bold=True), _FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    widths = [len(str(h)) * (2 if any(ord(ch) > 127 for ch in str(h)) else 1) + 2 for h in head]
    for r, row in enumerate(rows, start=2):
        for c, item in enumerate(row, start=1):
            value, fmt = item if isinstance(item, tuple) else (_text(item), None)
            cell = ws.cell(row=r, column=c, value=value)
            if fmt:
                cell.number_format = fmt
            text = str(value) if value is not None else ""
            size = sum(2 if ord(ch) > 127 else 1 for ch in text) + 2
            widths[c - 1] = max(widths[c - 1], min(size, 60))
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A2"
    if rows:
        ws.auto_filter.ref = ws.dimensions


# ----------------------------------------------------------------------------------------- sheets


def _summary(ws, record, lang: str, *, consultant, practice, logo) -> None:
    """Who prepared it for whom, when, under which rules, and the verdict; the logo above."""
    w, result = _WORDS[lang], record.result
    start = 1
    if logo:
        image = Image(io.BytesIO(logo))
        scale = min(1.0, 60 / image.height, 240 / image.width)
        image.width, image.height = image.width * scale, image.height * scale
        ws.add_image(image, "A1")
        start = 5
    tiers = result.get("tiers", {})
    readiness = result.get("readiness") if isinstance(result.get("readiness"), Mapping) else {}
    nxt = result.get("next_tier")
    prob = (readiness.get(nxt) or {}).get("probability") if isinstance(readiness.get(nxt), Mapping) else None
    rows = [(w["report"], ""), (w["client"], record.client.name), (w["firm"], result.get("firm_name") or ""),
            (w["as_of"], _date(result.get("as_of"))),
            (w["rules"], " · ".join(f"{k} {v}" for k, v in (result.get("rule_versions") or {}).items())),
            (w["mode"], w.get(result.get("mode") or "new", result.get("mode") or "")),
            (w["tier"], _tier(tiers, result.get("tier"), lang)), (w["next"], _tier(tiers, nxt, lang) if nxt else "—"),
            (w["probability"], _num(prob, "0%"))]
    if practice:
        rows.append((w["practice"], practice))
    if consultant:
        rows.append((w["consultant"], consultant))
    for offset, (label, item) in enumerate(rows):
        value, fmt = item if isinstance(item, tuple) else (_text(item), None)
        ws.cell(row=start + offset, column=1, value=label).font = Font(bold=True)
        cell = ws.cell(row=start + offset, column=2, value=value)
        cell.alignment = Alignment(horizontal="left")
        if fmt:
            cell.number_format = fmt
    ws.cell(row=start, column=1).font = Font(bold=True, size=14)
    ws.cell(row=start + len(rows) + 1, column=1, value=w["disclaimer"]).font = Font(italic=True, size=9)
    ws.column_dimensions["A"].width, ws.column_dimensions["B"].width = 22, 60


def _tier(tiers: Mapping, tid: str | None, lang: str) -> str:
    if tid in tiers:
        return localized(tiers[tid], "name", lang) or tid
    from webapp.web.templating import tier_name

    return _WORDS[lang]["none"] if tid in (None, "none") else tier_name(tid, lang)


def _inputs(profile: dict, lang: str) -> list[list]:
    rows = []
    for gid, zh, en in fields.GROUPS:
        for spec in fields.REGISTRY:
            if spec.group == gid and spec.name in profile:
                unit = {"money": "wan", "pct": "pct", "bool": "bool"}.get(spec.kind)
                rows.append([zh if lang == "zh" else en, spec.label_zh if lang == "zh" else spec.label_en,
                             _value(profile[spec.name], unit, lang, spec.name)])
    return rows


def _derived(result: dict, lang: str) -> list[list]:
    """The ratios the rules compute from the inputs (R&D intensity, growth ...), by the rule tables' names."""
    metrics, rows = services.get_services().rule_book.metrics, []
    group = "计算指标" if lang == "zh" else "Computed"
    for name, value in (result.get("derived") or {}).items():
        if name in metrics:
            metric = metrics[name]
            rows.append([group, metric.name_zh if lang == "zh" else metric.name_en, _value(value, metric.unit, lang)])
    return rows


def _criteria(result: dict, lang: str) -> list[list]:
    rows = []
    view = present.result_view(result, lang)
    for tier in view["tiers"]:
        raw = {c["id"]: c for c in result["tiers"][tier["id"]]["criteria"]}
        for c in tier["criteria"]:
            r = raw[c["id"]]
            rule = services.criterion_source(tier["table"] or "", c["id"])
            name = rule.value if rule else None
            gap = "; ".join(_gap_text(g, lang) for g in c["gap"])
            scored = r.get("kind") == "scored"
            rows.append([tier["name"], c["id"], c["name"], _WORDS[lang][c["status"]],
                         _value(r.get("value"), present.unit_of(name), lang, name),
                         _num(r.get("points_min") if scored else None, "0.##"),
                         _num(r.get("points_max") if scored else None, "0.##"),
                         _num(r.get("max_points"), "0.##"), gap, _join(c["missing"], lang), c["verification"]])
    return rows


_DIRECTION = {"zh": {"below_min": "还差", "above_max": "超出", "not_equal": "应为"},
              "en": {"below_min": "short by", "above_max": "exceeds by", "not_equal": "must be"}}


def _gap_text(g: dict, lang: str) -> str:
    parts = [g["label"]]
    if g["value"] or g["target"]:
        parts.append(f"{g['value'] or '?'} {g['target'] or ''}".strip())
    if g["distance"]:
        word = _DIRECTION[lang].get(g.get("direction") or "below_min", _DIRECTION[lang]["below_min"])
        parts.append(f"({word} {g['distance']})")
    return " ".join(parts)


def _metric(metric: str, lang: str) -> tuple[str, str]:
    """(label, unit) of a benchmark metric or readiness driver, from the advice data or the field registry."""
    data = services.get_services().advice_data
    if metric in data.metric_labels:
        return data.metric_label(metric, lang), data.metric_labels[metric].get("unit", "number")
    if metric in fields.FIELDS:
        spec = fields.FIELDS[metric]
        return fields.label(metric, lang), {"money": "wan", "pct": "pct"}.get(spec.kind, "number")
    return metric, "number"


def _benchmarks(result: dict, lang: str) -> list[list]:
    from webapp.web.insights import cohort_names

    bench = result.get("benchmarks")
    if not isinstance(bench, Mapping):
        return []
    names, rows = cohort_names(result, lang), []
    for cid, metrics in bench.items():
        for metric, entry in (metrics if isinstance(metrics, Mapping) else {}).items():
            if not isinstance(entry, Mapping):
                continue
            label, unit = _metric(metric, lang)
            rows.append([names.get(cid, cid), label, _value(entry.get("value"), unit, lang),
                         _value(entry.get("cohort_mean"), unit, lang), _num(entry.get("percentile"), "0.0"),
                         localized(entry.get("basis") or {}, "source", lang) or ""])
    return rows


def _readiness(result: dict, lang: str) -> list[list]:
    ready, tiers, rows = result.get("readiness"), result.get("tiers", {}), []
    for tid, entry in (ready.items() if isinstance(ready, Mapping) else ()):
        if tid not in tiers or not isinstance(entry, Mapping) or entry.get("probability") is None:
            continue
        drivers = []
        for d in entry.get("drivers") or []:
            if isinstance(d, Mapping) and d.get("field"):
                label, unit = _metric(d["field"], lang)
                now, target = (fmt_value(d.get(k), unit if unit != "number" else None, lang)
                               for k in ("current", "target"))
                drivers.append(f"{label} {now} → {target}")
        rows.append([_tier(tiers, tid, lang), _num(entry["probability"], "0%"),
                     ("；" if lang == "zh" else "; ").join(drivers)])
    return rows


def _join(items, lang: str) -> str:
    return ("、" if lang == "zh" else ", ").join(str(i) for i in items if i)


def _plan(result: dict) -> Mapping:
    plan = result.get("advice")
    return plan if isinstance(plan, Mapping) else {}


def _actions(result: dict, lang: str) -> list[list]:
    tiers = result.get("tiers", {})
    return [[i, _tier(tiers, a.get("tier"), lang), _join(a.get("criteria") or [a.get("criterion")], lang),
             localized(a, "title", lang), localized(a, "detail", lang),
             _num(a.get("lead_time_months"), "0"), _date(a.get("eta")), _WORDS[lang][bool(a.get("required"))]]
            for i, a in enumerate(_plan(result).get("actions", []), 1)]


def _roadmap(result: dict, lang: str) -> list[list]:
    tiers, rows = result.get("tiers", {}), []
    for e in _plan(result).get("roadmap", []):
        if not e.get("metric") or not isinstance(e.get("threshold"), int | float):
            continue
        unit = e.get("unit") if e.get("unit") in ("wan", "ratio", "pct") else None
        rows.append([_tier(tiers, e.get("tier"), lang), _join(e.get("criteria") or [e.get("criterion")], lang),
                     localized(e, "label", lang) or _metric(e["metric"], lang)[0],
                     _value(e.get("value"), unit, lang), _value(e["threshold"], unit, lang),
                     _num(e.get("fiscal_year"), "0"), _date(e.get("eta_growth")), _date(e.get("eta_action"))])
    return rows


def _milestones(result: dict, lang: str) -> list[list]:
    tiers = result.get("tiers", {})
    return [[localized(m, "name", lang) or _tier(tiers, m.get("tier"), lang), _date(m.get("earliest")),
             _date(m.get("title")), _join(m.get("open") or [], lang)]
            for m in _plan(result).get("milestones", [])]
