"""Per-tier criteria tables: status, the firm's value, the requirement, points and the marks that qualify them."""

from __future__ import annotations

from reportlab.platypus import CondPageBreak

from webapp import fields
from webapp.reports.gapwords import describe
from webapp.reports.sections.common import Ctx, gap, table
from webapp.reports.styles import INK, STATUS_COLOURS

_UNITS = {"money": "wan", "pct": "pct", "count": "count", "bool": "bool"}
OPS = {">=": "≥", "<=": "≤", "==": "=", "!=": "≠", ">": ">", "<": "<", "in": "∈"}


def value_unit(name: str | None, metrics) -> str:
    """The unit code of a criterion's value: a derived metric's unit (from ``metrics``) or the field's kind."""
    if not name:
        return ""
    if name in metrics:
        return metrics[name].unit
    spec = fields.FIELDS.get(name)
    if spec is None:
        return ""
    if spec.unit_en == "years":
        return "years"
    return _UNITS.get(spec.kind, "number")


def _rule(ctx: Ctx, tier: dict, cid: str):
    table_ = ctx.rule_book.tables.get(tier.get("rules", ""))
    return table_.criteria.get(cid) if table_ else None


def _value(ctx: Ctx, c: dict, rule) -> str:
    value = c.get("value")
    if value is None:
        return "—"
    if isinstance(value, str) and rule is not None and rule.value in fields.FIELDS:
        spec = fields.FIELDS[rule.value]
        if value in spec.choices:
            labels = spec.choice_labels_zh if ctx.lang == "zh" else spec.choice_labels_en
            return labels[spec.choices.index(value)]
    return ctx.value(value, value_unit(rule.value if rule else None, ctx.rule_book.metrics))


def _notes(ctx: Ctx, c: dict) -> list[str]:
    """The qualifying marks of a criterion result, as plain text fragments."""
    w = ctx.w
    notes = []
    if c.get("self_declared"):
        notes.append(w["self"])
    if c.get("verification") in ("unverified", "secondary"):
        notes.append(w[c["verification"]])
    if c.get("manual_review"):
        notes.append(w["manual"])
    if c.get("route"):
        notes.append(f"{w['route']}: {c['route']}")
    if c.get("via"):
        notes.append(w[c["via"]])
    return notes


def gap_lines(ctx: Ctx, c: dict) -> list[str]:
    """What is short, item by item, and what is missing, as plain text."""
    gap_ = c.get("gap") or {}
    w, out = ctx.w, []
    if c.get("status") == "met" and c.get("kind") != "scored":
        return out
    for item in gap_.get("items", []):
        if item.get("value") is None:
            continue
        line = describe(item, ctx.lang)
        if item.get("points") is not None:
            line += f" → {item['points']:g} {w['points']}"
        out.append(line)
    missing = [fields.label(m, ctx.lang) for m in gap_.get("missing", []) if m in fields.FIELDS]
    if missing and c.get("status") != "met":
        out.append(f"{w['missing']}: " + ("、" if ctx.lang == "zh" else ", ").join(missing))
    return out


def _points(c: dict) -> str:
    if c.get("kind") != "scored":
        return ""
    lo, hi, top = c.get("points_min"), c.get("points_max"), c.get("max_points")
    got = f"{lo:g}" if lo == hi else f"{lo:g}–{hi:g}"
    return f"{got} / {top:g}" if top is not None else got


def _criterion_cell(ctx: Ctx, c: dict):
    """Name, then marks and gap lines in small type, as one trusted-markup paragraph."""
    parts = [f"<b>{ctx.esc(ctx.t(c))}</b>" if ctx.lang == "en" else ctx.esc(ctx.t(c))]
    notes = _notes(ctx, c)
    if notes:
        parts.append(f'<font size="7" color="#61707d">[{ctx.esc("; ".join(notes))}]</font>')
    for line in gap_lines(ctx, c):
        parts.append(f'<font size="7" color="#8a4b00">→ {ctx.esc(line)}</font>')
    return ctx.raw("<br/>".join(parts), "cell")


def _requirement(ctx: Ctx, rule, sources: bool):
    """The official wording of a criterion, with its official citation below it when ``sources``."""
    if rule is None:
        return ""
    text = ctx.esc(rule.text_zh if ctx.lang == "zh" else rule.text_en)
    if sources and rule.cite:
        text += f'<br/><font size="6.5" color="#61707d">{ctx.esc(rule.citation(ctx.lang))}</font>'
    return ctx.raw(text, "cell_small")


def _labelled_value(ctx: Ctx, c: dict, rule):
    """The firm's value under the name of what it measures ("Ⅰ类知识产权 / 5")."""
    text = _value(ctx, c, rule)
    name = rule.value if rule is not None else None
    if text == "—" or not name:
        return text
    metric = ctx.rule_book.metrics.get(name)
    label = (metric.name_zh if ctx.lang == "zh" else metric.name_en) if metric else \
        fields.label(name, ctx.lang) if name in fields.FIELDS else ""
    if not label:
        return text
    return ctx.raw(f'<font size="6.5" color="#61707d">{ctx.esc(label)}</font><br/>{ctx.esc(text)}', "cell")


def criteria_table(ctx: Ctx, tid: str, *, sources: bool = False, labelled: bool = False,
                   widths: tuple[float, ...] = (8, 34, 10, 11, 29, 8)):
    """A row per criterion of tier ``tid``: id, name with marks and gaps, status, value, requirement, points.

    ``sources`` adds each criterion's official citation (document number, annex, item) under its wording;
    ``labelled`` names what each value measures; ``widths`` are the relative column widths.
    """
    tier = ctx.assessment["tiers"][tid]
    w = ctx.w
    rows, colours = [], []
    for r, c in enumerate(tier.get("criteria", []), 1):
        rule = _rule(ctx, tier, c["id"])
        rows.append([c["id"], _criterion_cell(ctx, c), ctx.status_plain(c["status"]),
                     _labelled_value(ctx, c, rule) if labelled else _value(ctx, c, rule),
                     _requirement(ctx, rule, sources), _points(c)])
        colours.append(("TEXTCOLOR", (2, r), (2, r), STATUS_COLOURS.get(c["status"], INK)))
    # the status column is plain text in the CJK font (it has √ and ×), coloured per row
    style = [("FONT", (2, 1), (2, -1), ctx.fonts.cjk, 8, 10.5), *colours]
    return table(ctx, ["ID", w["criterion"], w["status"], w["value"], w["threshold"], w["points"]], rows,
                 list(widths), style=style)


def tier_table(ctx: Ctx, tid: str) -> list:
    """One tier: heading with status and score, then a row per criterion (the table splits across pages)."""
    tier = ctx.assessment["tiers"][tid]
    head = f"{ctx.esc(ctx.tier_name(tid))}　{ctx.status(tier['status'])}"
    if tier.get("score_min") is not None:
        lo, hi = tier["score_min"], tier["score_max"]
        head += f"　{ctx.esc(ctx.w['score'])} {lo:g}" + (f"–{hi:g}" if hi != lo else "")
    head += f'　<font size="8" color="#61707d">{ctx.esc(tier.get("rules", ""))}</font>'
    return [CondPageBreak(120), ctx.raw(head, "h2"), criteria_table(ctx, tid), gap(4)]


def criteria_section(ctx: Ctx) -> list:
    """Every rung's criteria, ladder order; qualifications beside the ladder (HNTE) have their own page."""
    tiers = ctx.assessment.get("tiers", {})
    beside = set(ctx.rule_book.beside_ladder(tiers))
    story = [ctx.p(ctx.w["criteria"], "h1"), ctx.raw(ctx.legend(), "small"), gap(2)]
    for tid in tiers:
        if tid not in beside:
            story += tier_table(ctx, tid)
    return story
