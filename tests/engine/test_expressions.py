"""Interval evaluation of rule expressions: three-valued logic, arithmetic, enums and rounding."""

from __future__ import annotations

import ast

import numpy as np
import pytest

from webapp.engine.rules.expressions import (
    Evaluator,
    ExpressionError,
    Interval,
    compile_expression,
    status_codes,
)

INF = np.inf


def _eval(text, env, enums=None, n=1):
    def resolve(name):
        lo, hi = env[name]
        return Interval(np.full(n, float(lo)), np.full(n, float(hi)))

    expr = compile_expression(text)
    return Evaluator(n, resolve, enums or {}).evaluate(expr)


@pytest.mark.parametrize(("text", "env", "expected"), [
    ("x >= 3", {"x": (3, 3)}, 1),
    ("x >= 3", {"x": (2.999, 2.999)}, 0),
    ("x >= 0.05", {"x": (0.049999999999, 0.049999999999)}, 1),   # rounding tolerated
    ("x >= 0.05", {"x": (0.0499999, 0.0499999)}, 0),   # but not a real shortfall
    ("x / y >= 0.05", {"x": (100.07, 100.07), "y": (2001.4, 2001.4)}, 1),   # 0.049999999999999996
    ("x / y >= 0.05", {"x": (300, 300), "y": (6000, 6000)}, 1),
    ("x <= 20000", {"x": (20000, 20000)}, 1),
    ("x <= 20000", {"x": (20000.0001, 20000.0001)}, 0),   # one yuan over 2亿 (万元)
    ("x <= 80000", {"x": (80000.0001, 80000.0001)}, 0),   # the tables' largest amount threshold
    ("x >= 3", {"x": (0, INF)}, -1),
    ("x >= 3 or y", {"x": (0, INF), "y": (1, 1)}, 1),        # Kleene OR: one true operand decides
    ("x >= 3 and y", {"x": (0, INF), "y": (0, 0)}, 0),       # Kleene AND: one false operand decides
    ("not y", {"y": (0, 1)}, -1),
    ("x / y >= 0.03", {"x": (30, 30), "y": (1000, 1000)}, 1),
    ("x / y >= 0.03", {"x": (0, INF), "y": (1000, 1000)}, -1),
    ("x / y >= 0.03", {"x": (0, 0), "y": (0, INF)}, 0),       # 0 / anything is 0
    ("x < 1000", {"x": (999, 999)}, 1),
    ("x < 1000", {"x": (1000, 1000)}, 0),
    ("x <= 70", {"x": (70, 70)}, 1),
    ("(x / y) ** 0.5 - 1 >= 0.05", {"x": (11025, 11025), "y": (10000, 10000)}, 1),
])
def test_three_valued_conditions(text, env, expected):
    """Conditions are met, not met or unknown over the inputs' intervals."""
    assert status_codes(_eval(text, env))[0] == expected


def test_points_range_of_if_else_with_unknown_condition():
    """An unknown condition yields the hull of both branches."""
    res = _eval("10 if y else 5", {"y": (0, 1)})
    assert (res.lo[0], res.hi[0]) == (5, 10)


def test_floor_and_min():
    """floor and min are monotone interval functions."""
    res = _eval("min(floor(x / 2), 5)", {"x": (7, 13)})
    assert (res.lo[0], res.hi[0]) == (3, 5)


def test_unknown_enum_passes_only_when_every_class_passes():
    """An enum is evaluated once per class; unknown is met only if all classes are."""
    enums = {"k": (np.array([-1, -1, 0]), ("a", "b"))}
    env = {"x": (100, 100)}
    all_pass = _eval('(k == "a" and x < 1000) or (k == "b" and x < 300)', env, enums, n=3)
    assert status_codes(all_pass).tolist() == [1, 1, 1]
    some_fail = _eval('(k == "a" and x < 1000) or (k == "b" and x < 50)', env, enums, n=3)
    assert status_codes(some_fail).tolist() == [-1, -1, 1]


@pytest.mark.parametrize("text", ["__import__('os')", "x.y", "x[0]", "lambda: 1", "open('f')", "x if"])
def test_rejects_anything_outside_the_subset(text):
    """Only the documented subset of Python compiles."""
    with pytest.raises(ExpressionError):
        compile_expression(text)


def test_unknown_name_is_rejected():
    """Names are checked against the allowed set."""
    with pytest.raises(ExpressionError, match="unknown name"):
        compile_expression("revenu >= 1", allowed_names={"revenue"}.__contains__)


@pytest.mark.parametrize("text", [
    "min(30, (span(7, 8) if a == 'x' else (span(5, 6) if a == 'y' else 0)) + (span(1, 2) if b == 'p' else 3) + v)",
    "(4 if a == 'x' else v) - (span(1, 3) if b in ('p', 'q') else 2) + (1 if a == 'z' else 0)",
    "max(v if b == 'q' else 2, 5 if a != 'y' else 1) >= 3 and not (b == 'p') or (a == 'x' and v >= 1)",
    "(10 if v >= 2 else 3) + (2 if a == 'y' else 1) if b == 'r' else span(v, 4)",
    "(4 if a == 'x' else v) - (span(1, 3) if b in ('p', 'q') else 2)",
    "-(2 if a == 'y' else v) + min(1 if b == 'q' else 0, v)",
])
def test_enum_classes_hull_as_every_combination_does(text):
    """Sums and other monotone operations of parts over different enum fields take the hull of each part; the
    result is, bit for bit, the hull over every combination of classes a firm may hold, firm by firm."""
    rng = np.random.default_rng(5)
    n = 60
    codes_a = rng.integers(-1, 3, n).astype(np.int16)
    codes_b = rng.integers(-1, 3, n).astype(np.int16)
    v_lo = rng.choice([0.0, 1.0, 2.5], n)
    v_hi = np.where(rng.random(n) < 0.5, v_lo, v_lo + rng.choice([0.5, np.inf], n))
    v_lo[:5], v_hi[:5] = -np.inf, np.inf  # unbounded both ways
    enums = {"a": (codes_a, ("x", "y", "z")), "b": (codes_b, ("p", "q", "r"))}
    expr = compile_expression(text)
    got = Evaluator(n, lambda name: Interval(v_lo, v_hi), enums).evaluate(expr)
    for i in range(n):
        lo, hi = np.inf, -np.inf
        for ka in ([codes_a[i]] if codes_a[i] >= 0 else range(3)):
            for kb in ([codes_b[i]] if codes_b[i] >= 0 else range(3)):
                # the classes written into the expression: no enum field left to enumerate
                fixed = {"a": "xyz"[ka], "b": "pqr"[kb]}
                tree = ast.parse(text, mode="eval")
                for node in ast.walk(tree):
                    for name, child in ast.iter_fields(node):
                        if isinstance(child, ast.Name) and child.id in fixed:
                            setattr(node, name, ast.Constant(fixed[child.id]))
                one = compile_expression(ast.unparse(tree))
                assert not one.names & {"a", "b"}
                res = Evaluator(1, lambda name, i=i: Interval(v_lo[i:i + 1], v_hi[i:i + 1]), {}).evaluate(one)
                lo, hi = min(lo, res.lo[0]), max(hi, res.hi[0])
        assert (got.lo[i], got.hi[i]) == (lo, hi), (i, codes_a[i], codes_b[i], v_lo[i], v_hi[i])
