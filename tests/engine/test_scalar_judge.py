"""One firm's expressions are evaluated in Python floats (webapp.engine.rules.scalar): every expression of the
rule tables gives, bit for bit, the interval the array evaluator gives, and a firm judged alone gets what it gets
in a batch, on many firms with unknown cells (enum hulls included)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from tests.engine.test_judge_columns import _arrays, _assert_same
from tests.factories import make_profiles
from webapp.engine import defaults
from webapp.engine.io.inputs import validate_columns
from webapp.engine.rules.criteria import FieldIntervals, Judge
from webapp.engine.rules.expressions import ExpressionError, compile_expression
from webapp.engine.rules.gaps import GapFinder
from webapp.engine.rules.scalar import compiled

AS_OF = dt.date(2026, 5, 20)
N = 60


def _profiles(n: int, seed: int, blank: float):
    frame = make_profiles(n, seed=seed).astype(object)
    rng = np.random.default_rng(seed)
    return frame.mask(rng.random(frame.shape) < blank)


def _expressions(ruleset):
    out = [m.expr for m in ruleset.metrics.values()]
    for crit in ruleset.criteria.values():
        out += crit.expressions()
    return out


def _bits(interval) -> tuple[bytes, bytes]:
    return np.asarray(interval.lo, dtype=float).tobytes(), np.asarray(interval.hi, dtype=float).tobytes()


@pytest.mark.parametrize("rules", ["SME-2022", "SME-2026"])
def test_every_expression_alike_in_floats_and_arrays(rules):
    ruleset = defaults.load(defaults.rule_book).select(rules, AS_OF)
    exprs = _expressions(ruleset)
    assert all(compiled(e.tree, frozenset(_enums())) is not None for e in exprs)  # none left to the arrays
    hulls = 0
    for blank in (0.1, 0.6):
        clean, errors, columns = validate_columns(_profiles(N, seed=int(blank * 10), blank=blank))
        assert len(errors) == 0
        for i in range(N):
            row = {k: np.asarray(v)[i:i + 1] for k, v in columns.items()}
            env = FieldIntervals(clean.iloc[[i]], ruleset.metrics, columns=row)
            assert env.evaluator._scalar is not None
            for expr in exprs:
                fast = env.evaluator.evaluate(expr)
                with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                    slow = env.evaluator._evaluate(expr)  # the array evaluator, as for many firms
                assert _bits(fast) == _bits(slow), (expr.text, i)
                hulls += bool(expr.enum_names(env.evaluator.enums)) and fast.lo[0] != fast.hi[0]
    assert hulls > 0  # some firms leave an enum unknown that an expression reads


@pytest.mark.parametrize("rules", ["SME-2022", "SME-2026"])
@pytest.mark.parametrize("review", [False, True])
def test_one_firm_judged_as_in_a_batch(rules, review):
    ruleset = defaults.load(defaults.rule_book).select(rules, AS_OF)
    profiles = _profiles(N, seed=23, blank=0.3)
    clean, _, columns = validate_columns(profiles)
    batch = Judge(clean, ruleset, review=review, columns=columns).run()
    many, one_finder = GapFinder(batch), None
    for i in range(N):
        one_clean, _, one_columns = validate_columns(profiles.iloc[[i]])
        one = Judge(one_clean, ruleset, review=review, columns=one_columns).run()
        _assert_same(_arrays(one), _arrays(batch, slice(i, i + 1)))
        one_finder = GapFinder(one)
        for crit in ruleset.criteria.values():
            assert one_finder.gap(crit, 0) == many.gap(crit, i), (crit.id, i)


def test_what_the_compiler_does_not_know_is_left_to_the_arrays():
    ruleset = defaults.load(defaults.rule_book).select("SME-2026", AS_OF)
    clean, _, columns = validate_columns(_profiles(2, seed=5, blank=0.0))
    expr = compile_expression("revenue >= None")
    assert compiled(expr.tree, frozenset(_enums())) is None
    for n in (1, 2):  # one firm or two: the same error
        rows = {k: np.asarray(v)[:n] for k, v in columns.items()}
        env = FieldIntervals(clean.iloc[:n], ruleset.metrics, columns=rows)
        with pytest.raises(ExpressionError, match="constant None not supported"):
            env.evaluator.evaluate(expr)


def _enums():
    from webapp import fields

    return [spec.name for spec in fields.REGISTRY if spec.kind == "enum"]


_EDGES = (-np.inf, -1e300, -2.0, -1.0, -0.0, 0.0, 1e-12, 0.5, 1.0 - 1e-10, 1.0, 1.0 + 1e-10, 3.0, 1e300, np.inf)
_INTERVALS = [(lo, hi) for j, lo in enumerate(_EDGES) for hi in _EDGES[j:]]


@pytest.mark.parametrize("text", [
    "a + b", "a - b", "a * b", "a / b", "a ** 2", "a ** 0.5", "a >= b", "a > b", "a <= b", "a < b", "a == b",
    "a != b", "a >= 1", "a > 0.5", "a <= 1", "a < 3", "a == 1", "0 <= a < b", "floor(a)", "floor(a / 3)",
    "min(a, b)", "max(a, b, 1)", "span(a, b)", "mean(a, b)", "(a >= 1) and (b >= 1)", "(a >= 1) or (b < 1)",
    "not (a >= 1)", "-a", "+a", "a if b >= 1 else 2",
])
def test_each_operation_alike_on_edge_values(text):
    """Every operation on intervals with ends at ties, signed zeros, tolerances and infinities: the same bits."""
    from webapp.engine.rules.expressions import Evaluator, Interval

    expr = compile_expression(text)
    for a in _INTERVALS:
        for b in _INTERVALS[::3] if "b" in expr.names else [(0.0, 0.0)]:
            ends = {"a": a, "b": b}
            given = {name: Interval(np.array([lo]), np.array([hi])) for name, (lo, hi) in ends.items()}
            arrays = Evaluator(1, given.__getitem__, {})
            floats = Evaluator(1, given.__getitem__, {}, scalar=ends.__getitem__)
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                slow = arrays.evaluate(expr)
            assert _bits(floats.evaluate(expr)) == _bits(slow), (text, a, b)


def test_lever_amounts_of_one_firm_alike():
    """The closed-form lever amounts of one firm, in floats, are the batch's bit for bit: zero and negative
    bases, a lever already past the threshold, thresholds out of reach."""
    ruleset = defaults.load(defaults.rule_book).select("SME-2026", AS_OF)
    n = 48
    rng = np.random.default_rng(29)
    edge = np.array([0.0, 0.1, 1.0, 5.0, 1e6])
    overrides = {name: np.where(rng.random(n) < 0.3, edge[rng.integers(0, len(edge), n)], np.nan)
                 for name in ("rd_expense", "rd_expense_prev", "main_revenue_prev", "main_revenue_prev2",
                              "revenue_prev2", "net_profit")}
    profiles = make_profiles(n, seed=29).astype(object)
    for name, values in overrides.items():
        profiles[name] = np.where(np.isnan(values), profiles[name].to_numpy(dtype=float), values)
    _, errors, _ = validate_columns(profiles)
    profiles = profiles.drop(index=profiles.index[sorted(set(errors["index"]))]).reset_index(drop=True)
    n = len(profiles)
    clean, errors, columns = validate_columns(profiles)
    assert len(errors) == 0 and n > 30  # some edges break a cross-field rule (main revenue above revenue)
    many = GapFinder(Judge(clean, ruleset, columns=columns).run())
    levers = [m for m in ruleset.metrics.values() if m.lever]
    found = 0
    for i in range(n):
        one_clean, _, one_columns = validate_columns(profiles.iloc[[i]])
        one = GapFinder(Judge(one_clean, ruleset, columns=one_columns).run())
        for metric in levers:
            for threshold in (-1.0, 0.0, 0.03, 0.5, 1.0, 3.0, 5000.0, 1e13):
                a = one.lever_amounts(metric.name, threshold)
                b = many.lever_amounts(metric.name, threshold)[i:i + 1]
                assert a.tobytes() == b.tobytes(), (metric.name, threshold, i)
                found += not np.isnan(a[0])
    assert found > 100
