"""Lever amounts in closed form agree with a search on the metric itself, firm by firm, edge cases included."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from tests.factories import make_profiles
from webapp import fields, paths
from webapp.engine.assess import assess
from webapp.engine.rules.expressions import Evaluator, Interval, compile_expression
from webapp.engine.rules.gaps import GapFinder
from webapp.engine.rules.levers import SEARCH_LIMIT, LeverError, check_invertible, search_limit
from webapp.engine.rules.rulebook import Metric, RuleTableError, load_rule_book


def _bisect(finder: GapFinder, metric: str, threshold: float, i: int) -> dict | None:
    """The earlier method, kept as the reference: bisection over the metric evaluated at one point."""
    m = finder.metrics[metric]
    values = {}
    for f in finder.inputs_of(m.expr.names):
        v = float(finder.env.clean[f].iloc[i])
        if math.isnan(v):
            return None
        values[f] = v
    current = values[m.lever]

    def at(x: float) -> float:
        env = dict(values, **{m.lever: x})

        def resolve(name: str) -> Interval:
            return Interval.const(env[name], 1) if name in env else ev.evaluate(finder.metrics[name].expr)

        ev = Evaluator(1, resolve, {})
        return float(ev.evaluate(m.expr).lo[0])

    if at(current) >= threshold or not math.isfinite(at(current)):
        return None
    hi = max(1.0, abs(current))
    while at(current + hi) < threshold and hi < 1e12:
        hi *= 2
    if at(current + hi) < threshold:
        return None
    lo = 0.0
    for _ in range(80):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if at(current + mid) < threshold else (lo, mid)
    amount = float(math.ceil(hi - 1e-9)) if fields.FIELDS[m.lever].integer else hi
    return {"field": m.lever, "amount": round(amount, 4), "unit": finder.unit(m.lever)}


def _frame(n: int = 24):
    frame = make_profiles(n, seed=21)
    # edge cases: zero bases, zero previous years, losses, a firm at a threshold
    frame.loc[0, ["revenue", "main_revenue", "rd_expense"]] = [0.0, 0.0, 0.0]
    frame.loc[1, ["main_revenue_prev", "main_revenue"]] = [0.0, 0.0]
    frame.loc[2, "main_revenue_prev2"] = 0.0
    frame.loc[3, "net_profit"] = -500.0
    frame.loc[4, ["revenue", "main_revenue", "rd_expense"]] = [10000.0, 9000.0, 300.0]
    frame.loc[5, ["employees", "rd_staff", "sci_staff"]] = [7, 0, 1]
    frame.loc[6, ["revenue_prev2", "main_revenue_prev2"]] = [0.0, 0.0]
    frame.loc[7, "rd_expense"] = None
    return frame


@pytest.mark.parametrize("rules", ["SME-2022", "SME-2026"])
def test_closed_form_matches_the_search(rules):
    """Every lever metric, at thresholds below, near and far above each firm's value, agrees with the search
    on which firms get an amount and on the amount (to its 4-decimal rounding)."""
    result = assess(_frame(), rules=rules, as_of=dt.date(2026, 5, 1), cohorts=False, model=False)
    assert result.errors.empty, result.errors["message_en"].tolist()
    finder = GapFinder(result.judge)
    levered = [name for name, m in finder.metrics.items() if m.lever]
    assert len(levered) >= 10
    compared = with_amount = 0
    for name in levered:
        for threshold in (-0.5, 0.0, 0.03, 0.25, 1.5, 900.0, 5e7):
            for i in range(result.judge.n):
                got, want = finder.lever(name, threshold, i), _bisect(finder, name, threshold, i)
                compared += 1
                if want is None:
                    assert got is None, (name, threshold, i, got)
                    continue
                with_amount += 1
                assert got is not None and got["field"] == want["field"], (name, threshold, i, want)
                assert got["amount"] == pytest.approx(want["amount"], abs=1.01e-4, rel=1e-12), (name, threshold, i)
    assert with_amount > compared // 4


def test_amount_reaches_the_threshold():
    """R&D ratio: the amount is exactly threshold x revenue - R&D; the ratio at current + amount is met."""
    result = assess(_frame(), rules="SME-2026", as_of=dt.date(2026, 5, 1), cohorts=False, model=False)
    finder = GapFinder(result.judge)
    lever = finder.lever("rd_ratio", 0.05, 4)      # revenue 10000, R&D 300: 200 more reaches 5%
    assert lever == {"field": "rd_expense", "amount": 200.0, "unit": "wan"}
    assert finder.lever("rd_staff_share", 0.1, 5)["amount"] == 1.0   # 7 staff, none in R&D: one person
    assert finder.lever("rd_ratio", 0.05, 7) is None                 # R&D unknown


def test_a_lever_that_cannot_be_solved_is_refused_when_loaded(tmp_path):
    """A metric whose lever is on both sides of an operation is a rule-table error naming the metric."""
    metrics = {"odd": Metric(name="odd", expr=compile_expression("rd_expense / (rd_expense + revenue)"),
                             unit="ratio", name_zh="", name_en="", lever="rd_expense")}
    with pytest.raises(LeverError, match="rd_expense"):
        check_invertible("odd", metrics)
    for table in paths.resolve().rules.glob("*.toml"):
        (tmp_path / table.name).write_text(table.read_text("utf-8"), "utf-8")
    with open(tmp_path / "metrics.toml", "a", encoding="utf-8") as fh:
        fh.write('\n[metrics.odd]\nexpr = "rd_expense / (rd_expense + revenue)"\nunit = "ratio"\n'
                 'lever = "rd_expense"\n')
    with pytest.raises(RuleTableError, match="metrics.odd"):
        load_rule_book(tmp_path)


def test_solver_is_vectorised():
    """One solve per metric and threshold serves every firm."""
    result = assess(_frame(), rules="SME-2026", as_of=dt.date(2026, 5, 1), cohorts=False, model=False)
    finder = GapFinder(result.judge)
    amounts = finder.lever_amounts("rd_ratio", 0.05)
    assert amounts.shape == (result.judge.n,)
    revenue, rd = finder.env.point("revenue"), finder.env.point("rd_expense")
    expect = np.where(rd / np.where(revenue > 0, revenue, np.nan) < 0.05, 0.05 * revenue - rd, np.nan)
    np.testing.assert_allclose(amounts[1:], expect[1:], rtol=1e-12)


def test_search_limit_in_closed_form_is_the_doubling_loop():
    """The closed form gives, bit for bit, what doubling max(1, |current|) until 1e12 gives, rounding edges
    of log2 included (just below and above every power-of-two fraction of the limit)."""
    def doubling(current):
        hi = np.maximum(1.0, np.abs(np.nan_to_num(current)))
        while (hi < SEARCH_LIMIT).any():
            hi = np.where(hi < SEARCH_LIMIT, hi * 2, hi)
        return hi

    rng = np.random.default_rng(8)
    steps = SEARCH_LIMIT / 2.0 ** np.arange(0, 45)
    current = np.concatenate([rng.standard_normal(20_000) * 10 ** rng.uniform(-6, 14, 20_000), steps,
                              np.nextafter(steps, 0), np.nextafter(steps, np.inf), -steps,
                              [0.0, -0.0, np.nan, 1e300, -1e300, 1e-300]])
    np.testing.assert_array_equal(search_limit(current), doubling(current))
