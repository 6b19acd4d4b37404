"""Every bracket of every scored criterion, both sides of each edge, read from the rule tables."""

from __future__ import annotations

import ast

import pandas as pd
import pytest

from tests.factories import make_profile
from webapp import fields
from webapp.engine import defaults
from webapp.engine.assess import assess
from webapp.engine.io.inputs import validate_profiles
from webapp.engine.rules.criteria import Judge, bracket_points

# How to put a metric at a value through the input fields (test machinery, not rules).
SETTERS = {
    "rd_ratio": lambda v: {"revenue": 10000.0, "rd_expense": v * 10000},
    "rd_ratio_prev": lambda v: {"revenue_prev": 10000.0, "rd_expense_prev": v * 10000},
    "rd_cost_ratio": lambda v: {"total_costs": 10000.0, "rd_expense": v * 10000, "revenue": 1e9},
    "main_share": lambda v: {"revenue": 10000.0, "main_revenue": v * 10000},
    "main_growth": lambda v: {"main_revenue_prev": 1000.0, "main_revenue": (1 + v) * 1000, "revenue": 1e6},
    "main_growth_avg2": lambda v: {"main_revenue_prev2": 1000.0, "main_revenue_prev": (1 + v) * 1000,
                                   "main_revenue": (1 + v) ** 2 * 1000, "revenue": 1e6, "revenue_prev": 1e6},
    "net_margin": lambda v: {"revenue": 10000.0, "net_profit": v * 10000},
    "rd_staff_share": lambda v: {"employees": 1000, "rd_staff": round(v * 1000)},
}
# Just below an edge: the smallest step the inputs can express.
STEP = {"rd_staff_share": 0.001, "digital_level": 1, "rd_expense": 0.01, "debt_ratio_pct": 0.01}


def _set(metric: str, value: float) -> dict:
    if metric in SETTERS:
        return SETTERS[metric](value)
    return {metric: value}


def _bracket_cases():
    seen = set()
    for table_id in ("SME-2022", "SME-2026"):
        rs = defaults.rule_book().select(table_id)
        for crit in rs.criteria.values():
            if crit.form not in ("brackets", "best_of") or crit.id in seen:
                continue
            seen.add(crit.id)
            for k, b in enumerate(crit.options):
                metric = b.metric.tree.id
                for j, (edge, points) in enumerate(zip(b.edges, b.points)):
                    lower = b.points[j + 1] if j + 1 < len(b.points) else b.otherwise
                    step = STEP.get(metric, 1e-4)
                    outside = edge + step if b.at_most else edge - step
                    yield pytest.param(table_id, crit.id, k, metric, edge, points, outside, lower,
                                       id=f"{crit.id}-{metric}-{edge:g}")


def _points(table_id: str, cid: str, option: int, overrides: dict, crit) -> tuple[float, float]:
    """Points of one option of a criterion for the factory profile with ``overrides``."""
    clean, errors = validate_profiles(pd.DataFrame([make_profile(**overrides)], dtype=object))
    assert errors.empty, errors.to_dict("records")
    judge = Judge(clean, defaults.rule_book().select(table_id)).run()
    b = crit.options[option]
    lo, hi = bracket_points(b, judge.env.evaluator.evaluate(b.metric))
    if len(crit.options) == 1:   # a single option is the criterion's own result
        res = judge.criteria[cid]
        assert (res.points_lo[0], res.points_hi[0]) == (lo[0], hi[0])
    return float(lo[0]), float(hi[0])


@pytest.mark.parametrize(("table_id", "cid", "option", "metric", "edge", "points", "outside", "lower"),
                         list(_bracket_cases()))
def test_bracket_edges_both_sides(table_id, cid, option, metric, edge, points, outside, lower):
    """On the edge a firm earns the bracket's points; one step outside it earns the next bracket's."""
    crit = defaults.rule_book().select(table_id).criteria[cid]
    assert _points(table_id, cid, option, _set(metric, edge), crit) == (points, points)
    assert _points(table_id, cid, option, _set(metric, outside), crit) == (lower, lower)


def _atoms(expr):
    for node in ast.walk(expr.tree):
        if isinstance(node, ast.Compare) and isinstance(node.left, ast.Name) and len(node.ops) == 1 \
                and isinstance(node.comparators[0], ast.Constant) and node.left.id in fields.FIELDS \
                and isinstance(node.comparators[0].value, int | float):
            yield node.left.id, type(node.ops[0]).__name__, node.comparators[0].value


HARD_SINGLE_ATOM = [
    (t, c.id, *atom)
    for t in ("SME-2022", "SME-2026")
    for c in defaults.rule_book().select(t).criteria.values()
    if c.form == "test" and c.test is not None and len(list(_atoms(c.test))) == 1
    and len(c.test.names) == 1
    for atom in _atoms(c.test)
]


@pytest.mark.parametrize(("table_id", "cid", "field", "op", "threshold"), HARD_SINGLE_ATOM)
def test_single_threshold_criteria_both_sides(table_id, cid, field, op, threshold):
    """A one-field threshold criterion is met on its (inclusive) edge and not met just past it."""
    spec = fields.FIELDS[field]
    step = 1 if spec.integer else 0.01
    inside, outside = threshold, (threshold - step if op in ("GtE", "Gt") else threshold + step)
    if op == "Gt":
        inside = threshold + step
    if op == "Lt":
        inside = threshold - step
        outside = threshold
    for value, expected in ((inside, "met"), (outside, "not_met")):
        result = assess(pd.DataFrame([make_profile(**{field: value})], dtype=object), rules=table_id,
                        cohorts=False, model=False)
        status = _criterion(result, cid)["status"]
        assert status == expected, (cid, field, value)


def _criterion(result, cid):
    d = result.to_dict(0)
    for tier in d["tiers"].values():
        for c in tier["criteria"]:
            if c["id"] == cid:
                return c
    raise KeyError(cid)


def test_every_listed_criterion_id_is_in_the_tables():
    """Each id that spec/assessment.md lists for a rule set is defined and reported."""
    ids = {
        "SME-2022": ["E2", "E3", "I-PASS", "I-D1", "I-D2", "I-D3", "I-D4", *[f"I{i}" for i in range(1, 7)],
                     *[f"S22-H{i}" for i in range(1, 5)], *[f"S22-D{i}" for i in range(1, 5)],
                     *[f"S22-{i}" for i in range(1, 14)], *[f"G22-{i}" for i in range(1, 7)],
                     "G22-4a", "G22-4b", "G22-4c", "G22-4d"],
        "SME-2026": ["E2", "E3", *[f"S26-{i}" for i in range(1, 9)], *[f"G26-{i}" for i in range(1, 8)]],
    }
    common = ["T1", "T2", "T3", "T4", "T5", "T-S1", "T-S2", "T-S3", "T-D", "C-0", "C-1", "C-2", "C-3", "C-7"]
    for table_id, wanted in ids.items():
        result = assess(pd.DataFrame([make_profile()], dtype=object), rules=table_id, cohorts=False,
                        model=False).to_dict(0)
        reported = {c["id"] for t in result["tiers"].values() for c in t["criteria"]}
        assert set(wanted + common) <= reported
