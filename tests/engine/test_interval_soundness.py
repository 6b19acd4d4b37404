"""Soundness of the interval evaluation of rule expressions (webapp.engine.rules.expressions).

Random expressions of the rule language (+ - * / **, unary minus, comparisons also chained, and/or/not,
``a if c else b``, min/max/mean/floor/span, an enum compared with == != in / not in) are evaluated over random
intervals of their inputs, and at random points inside those intervals (point intervals, lo == hi):

* soundness: the value at a point lies inside the interval result. For a condition, [lo, hi] within {0, 1}:
  a point's truth value lies in it, so "surely met" over the intervals is never "not met" at a point;
* the value at a point is a single number, the expression read with plain Python floats under the engine's
  documented conventions (x / 0 = sign(x) inf, 0 / 0 = 0, 0 * inf = 0, comparisons and floor with a relative
  tolerance of 1e-9, ``**`` with a known exponent on a base clipped at 0). Without this second check a
  mistake made alike at points and over intervals (``or`` computed as ``and``) would go unseen.

Denominators are non-negative expressions (which may be, or contain, 0), as most ratios of the rule tables are
(revenue, employees, total costs), or any number, as net assets may be negative: a denominator that may be 0
from either side makes the quotient unbounded (see also the tests at the end).

Each example checks DRAWN + SEEDED expressions at ROWS points each. At EXAMPLES examples (about two seconds a
test) the two checks together caught each of twenty faults planted in the engine by hand while this file was
written (a missing product or quotient candidate, a swapped ``not``, a one-sided ``if``, a comparison bound
from the wrong end, ``or`` computed as ``and``, an unknown enum class left out, a wrong floor, min, mean or
unary minus, x / 0 = 0, the endpoint hull for a denominator either side of 0); one more, ``**`` without
clipping its base at 0, changes nothing on the non-negative bases the language allows.
"""

from __future__ import annotations

import ast
import itertools
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webapp.engine.rules.expressions import Evaluator, Interval, compile_expression

ROWS = 32                     # points drawn per example, evaluated together as ROWS firms
NUM_VARS = ("x", "y", "z")    # any sign, possibly unbounded
NONNEG_VARS = ("u", "v")      # within [0, inf], like amounts and counts
BOOL_VARS = ("p", "q")        # yes/no fields: [0, 0], [1, 1] or unknown [0, 1]
ENUM = ("k", ("a", "b", "c"))
CMP_OPS = (">=", ">", "<=", "<", "==", "!=")

# ------------------------------------------------------------------------- the grammar, as text


NUM_CONSTS = ("0", "1", "2", "0.5", "3", "10", "1000", "-1", "-2.5")
NONNEG_CONSTS = ("0", "0.5", "1", "2", "3", "10", "1000", "0.03")
PRODUCTIONS = {   # per kind of expression, what it can be; each is drawn with equal chance
    "nonneg": ("const", "var", "+", "*", "/", "**", "min", "max", "mean", "floor", "span", "if"),
    "number": ("const", "var", "nonneg", "+", "-", "*", "/", "**", "neg", "min", "max", "mean", "floor", "span",
               "if", "bool"),
    "boolean": ("var", "enum", "compare", "threshold", "chain", "and", "or", "not"),
}
MAX_DEPTH = 3
EXAMPLES = 100
DRAWN, SEEDED = 2, 10   # expressions checked against each drawn environment (see expression_lists)


def build(pick, kind: str = "number", depth: int = MAX_DEPTH) -> str:
    """The text of a random ``kind`` expression ("number", "nonneg" or "boolean") nested ``depth`` deep at most.

    ``pick(options)`` chooses one of a tuple of options. A "nonneg" expression cannot be negative at any point
    of its inputs; denominators are built from these.
    """
    rule = pick(PRODUCTIONS[kind] if depth > 0 else PRODUCTIONS[kind][:2])

    def sub(sub_kind=kind):
        return build(pick, sub_kind, depth - 1)

    if rule == "const":
        return pick(NONNEG_CONSTS if kind == "nonneg" else NUM_CONSTS)
    if rule == "var":
        return pick({"nonneg": NONNEG_VARS, "number": NUM_VARS + NONNEG_VARS, "boolean": BOOL_VARS}[kind])
    if rule in ("nonneg", "bool"):
        return sub("nonneg" if rule == "nonneg" else "boolean")
    if rule in ("+", "-", "*"):
        return f"({sub()} {rule} {sub()})"
    if rule == "/":   # in a "number", the denominator may also be negative, or either side of 0
        return f"({sub()} / {sub('nonneg' if kind == 'nonneg' else pick(('nonneg', 'number')))})"
    if rule == "**":
        return f"({sub('nonneg')} ** {pick(('0.5', '2'))})"   # a known exponent on a base >= 0
    if rule == "neg":
        return f"(-{sub()})"
    if rule in ("min", "max", "mean"):
        return f"{rule}({', '.join(sub() for _ in range(pick((2, 3))))})"
    if rule == "floor":
        return f"floor({sub()})"
    if rule == "span":
        return f"span({sub()}, {sub()})"
    if rule == "if":
        return f"({sub()} if {sub('boolean')} else {sub()})"
    if rule == "enum":
        name, classes = ENUM
        op = pick(("==", "!=", "in", "not in"))
        if op in ("==", "!="):
            return f'({name} {op} "{pick(classes)}")'
        chosen = pick(tuple(c for n in (1, 2) for c in itertools.combinations(classes, n)))
        return f"({name} {op} ({', '.join(repr(c) for c in chosen)},))"
    if rule == "compare":
        return f"({sub('number')} {pick(CMP_OPS)} {sub('number')})"
    if rule == "threshold":   # a constant on the right takes the engine's scalar path
        return f"({sub('number')} {pick(CMP_OPS)} {pick(NUM_CONSTS)})"
    if rule == "chain":
        return f"({sub('number')} {pick(('<', '<='))} {sub('number')} {pick(('<', '<='))} {sub('number')})"
    if rule in ("and", "or"):
        return f"({sub()} {rule} {sub()})"
    assert rule == "not"
    return f"(not {sub()})"


@st.composite
def expression_lists(draw) -> list[str]:
    """DRAWN expressions built by Hypothesis (so a failure shrinks to a small one), then SEEDED ones built from
    a drawn seed (Hypothesis repeats itself a lot; these make every example see new expressions)."""
    drawn = [build(lambda options: draw(st.sampled_from(options)), kind)
             for kind in draw(st.lists(st.sampled_from(["number", "boolean"]), min_size=DRAWN, max_size=DRAWN))]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    seeded = [build(lambda options: options[rng.integers(len(options))], kind)
              for kind in rng.choice(["number", "boolean"], SEEDED)]
    return drawn + seeded


# ------------------------------------------------------------------------- intervals and points

_EDGES = [-np.inf, -1000.0, -3.0, -1.0, -0.5, 0.0, 0.25, 1.0, 2.0, 3.5, 10.0, 1000.0, np.inf]
_NONNEG_EDGES = [0.0, 0.03, 0.5, 1.0, 2.0, 10.0, 1000.0, np.inf]
_BIG = 1e6   # points stay finite: an unbounded side is sampled up to this size


def _grid(value: float) -> float:
    """Inputs on a 1e-4 grid (as entered figures are): no subnormal denominator overflows a quotient."""
    return round(value, 4) + 0.0 if np.isfinite(value) else value   # + 0.0 turns -0.0 into 0.0


def _interval(edges, lo_min):
    finite = st.floats(lo_min, 1e4, allow_nan=False).map(_grid)
    return st.tuples(st.sampled_from(edges) | finite, st.sampled_from(edges) | finite).map(sorted).filter(
        lambda iv: np.isfinite(iv[0]) or np.isfinite(iv[1]) or iv[0] < iv[1])


_ACROSS = np.array([0.0, 0.0, 1.0, 1.0, 0.1, 0.25, 0.5, 0.75, 0.9])   # both ends (twice) and fixed fractions


def _points(lo: float, hi: float, rng: np.random.Generator) -> list[float]:
    """ROWS points of [lo, hi] on the input grid: its ends, fixed fractions of the way across, uniform draws,
    in random order (so one variable's end meets another's either end)."""
    a, b = max(lo, -_BIG), min(hi, _BIG)   # finite ends never pass +-1e4, so a <= b
    share = rng.permutation(np.concatenate([_ACROSS, rng.random(ROWS - len(_ACROSS))]))
    return [min(max(_grid(a + f * (b - a)), a), b) for f in share]


@st.composite
def environments(draw):
    """Per variable its interval (drawn, so it shrinks) and ROWS points inside it (from a drawn seed).

    Returns (env, classes, codes): env maps a name to (lo, hi, points); the enum has a class per row (the point)
    and, for the interval evaluation, that class or -1 (unknown) per row.
    """
    intervals = {name: draw(_interval(_EDGES, -1e4)) for name in NUM_VARS}
    intervals |= {name: draw(_interval(_NONNEG_EDGES, 0.0)) for name in NONNEG_VARS}
    intervals |= {name: draw(st.sampled_from([(0.0, 0.0), (1.0, 1.0), (0.0, 1.0)])) for name in BOOL_VARS}
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    env = {}
    for name, (lo, hi) in intervals.items():
        if name in BOOL_VARS:
            points = [lo] * ROWS if lo == hi else rng.integers(0, 2, ROWS).astype(float).tolist()
        else:
            points = _points(lo, hi, rng)
        env[name] = (lo, hi, points)
    classes = rng.integers(0, len(ENUM[1]), ROWS)
    return env, classes, np.where(rng.random(ROWS) < 0.5, -1, classes)


def _evaluate(text, env, codes, *, at_points):
    def resolve(name):
        lo, hi, points = env[name]
        if at_points:
            pts = np.asarray(points, dtype=float)
            return Interval(pts, pts)
        return Interval(np.full(ROWS, lo), np.full(ROWS, hi))

    return Evaluator(ROWS, resolve, {ENUM[0]: (codes, ENUM[1])}).evaluate(compile_expression(text))


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True)
@given(texts=expression_lists(), drawn=environments())
def test_value_at_a_point_lies_in_the_interval_result(texts, drawn):
    """Evaluated at points of the inputs' intervals, an expression stays inside its interval result."""
    env, classes, codes = drawn
    for text in texts:
        wide = _evaluate(text, env, codes, at_points=False)
        at = _evaluate(text, env, classes, at_points=True)
        assert not (np.isnan(wide.lo).any() or np.isnan(wide.hi).any()), (text, wide)
        assert (wide.lo <= wide.hi).all(), (text, wide)
        assert (at.lo <= at.hi).all(), (text, at)
        outside = np.flatnonzero((at.lo < wide.lo) | (at.hi > wide.hi))
        if outside.size:
            row = outside[0]
            point = {name: points[row] for name, (_, _, points) in env.items()}
            pytest.fail(f"{text}: at {point}, {ENUM[0]}={ENUM[1][classes[row]]} the value is "
                        f"[{at.lo[row]}, {at.hi[row]}], outside [{wide.lo[row]}, {wide.hi[row]}] over "
                        f"{ {name: (lo, hi) for name, (lo, hi, _) in env.items()} }, {ENUM[0]} code {codes[row]}")


# ------------------------------------------------------------------------- a plain-float reading at a point


def _tol(t: float) -> float:
    """The documented rounding tolerance of a comparison with ``t``: 1e-9 * max(1, |t|), none at infinity."""
    return 1e-9 * max(1.0, abs(t)) if math.isfinite(t) else 0.0


def _reference(node: ast.expr, values: dict, share: float = 0.5):  # noqa: C901 - one branch per construct
    """The value of an expression at one point, with plain Python floats and the engine's documented conventions
    (x / 0 = sign(x) inf, 0 / 0 = 0, 0 * inf = 0, tolerant comparisons, floor with the same tolerance,
    ``**`` on a base clipped at 0). ``span(a, b)``, any value from a to b, takes the one ``share`` of the way
    from a to b. NaN where the value is undefined (inf - inf, inf / inf)."""
    def ev(n):
        return _reference(n, values, share)

    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else float(node.value)
    if isinstance(node, ast.Name):
        return values[node.id]
    if isinstance(node, ast.Tuple):
        return tuple(ev(e) for e in node.elts)
    if isinstance(node, ast.UnaryOp):
        a = ev(node.operand)
        return -a if isinstance(node.op, ast.USub) else 1.0 - a
    if isinstance(node, ast.BoolOp):
        parts = [ev(v) for v in node.values]
        if any(math.isnan(v) for v in parts):
            return math.nan
        return min(parts) if isinstance(node.op, ast.And) else max(parts)
    if isinstance(node, ast.IfExp):
        test = ev(node.test)
        return math.nan if math.isnan(test) else ev(node.body) if test >= 1 else ev(node.orelse)
    if isinstance(node, ast.Call):
        args = [ev(a) for a in node.args]
        if any(math.isnan(v) for v in args):
            return math.nan
        if node.func.id == "floor":
            return float(math.floor(args[0] + _tol(args[0]))) if math.isfinite(args[0]) else args[0]
        if node.func.id == "span":
            a, b = args
            return a if share == 0 else b if share == 1 else a + share * (b - a)
        if node.func.id == "mean":
            total = args[0]
            for a in args[1:]:
                total += a
            return total / len(args)
        return (min if node.func.id == "min" else max)(args)
    if isinstance(node, ast.BinOp):
        a, b = ev(node.left), ev(node.right)
        if math.isnan(a) or math.isnan(b):
            return math.nan
        if isinstance(node.op, ast.Add):
            return a + b
        if isinstance(node.op, ast.Sub):
            return a - b
        if isinstance(node.op, ast.Mult):
            return 0.0 if a == 0 or b == 0 else a * b
        if isinstance(node.op, ast.Div):
            if b == 0:
                return 0.0 if a == 0 else math.copysign(math.inf, a)
            return a / b
        return max(a, 0.0) ** b
    assert isinstance(node, ast.Compare)
    left, truths = ev(node.left), []
    for op, comp in zip(node.ops, node.comparators):
        right = ev(comp)
        if isinstance(left, str):
            hit = left in right if isinstance(op, ast.In | ast.NotIn) else left == right
            truths.append(hit != isinstance(op, ast.NotIn | ast.NotEq))
        elif math.isnan(left) or math.isnan(right):
            return math.nan
        else:
            truths.append(_holds(op, left, right))
        left = right
    return float(all(truths))


def _holds(op: ast.cmpop, left: float, right: float) -> bool:
    if isinstance(op, ast.GtE):
        return left >= right - _tol(right)
    if isinstance(op, ast.Gt):
        return left > right + _tol(right)
    if isinstance(op, ast.LtE):
        return left <= right + _tol(right)
    if isinstance(op, ast.Lt):
        return left < right - _tol(right)
    return (abs(left - right) <= _tol(right)) == isinstance(op, ast.Eq)


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True)
@given(texts=expression_lists(), drawn=environments())
def test_value_at_a_point_is_the_plain_reading(texts, drawn):
    """At known inputs the engine returns a single value: the expression read with plain floats (where defined).
    With ``span`` it returns a range, which holds the readings with every span at its start, middle or end."""
    env, classes, _ = drawn
    for text in texts:
        at = _evaluate(text, env, classes, at_points=True)
        tree = ast.parse(text, mode="eval").body
        spans = "span(" in text
        for row in range(ROWS):
            point = {name: float(points[row]) for name, (_, _, points) in env.items()}   # plain Python floats
            for share in (0.0, 0.5, 1.0) if spans else (0.5,):
                want = _reference(tree, {**point, ENUM[0]: ENUM[1][classes[row]]}, share)
                if math.isnan(want):
                    continue
                if spans:   # within the range, up to the last-bit differences of numpy's and Python's powers
                    lo, hi = float(at.lo[row]), float(at.hi[row])
                    assert lo - _tol(lo) <= want <= hi + _tol(hi), (text, point, share, lo, hi, want)
                else:
                    assert at.lo[row] == at.hi[row], (text, point, at.lo[row], at.hi[row], want)
                    assert at.lo[row] == pytest.approx(want, rel=1e-9, abs=0), (text, point, want)


CONSTRUCTS = {"Add", "Sub", "Mult", "Div", "Pow", "USub", "Not", "And", "Or", "GtE", "Gt", "LtE", "Lt", "Eq",
              "NotEq", "In", "NotIn", "IfExp", "min", "max", "mean", "floor", "span", "chained comparison"}


def test_the_generator_reaches_every_construct():
    """Every operator, function and form of the language occurs in the generated expressions, both among those
    Hypothesis builds and among the seeded ones."""
    seen = {"drawn": set(), "seeded": set()}

    @settings(max_examples=EXAMPLES, derandomize=True, database=None)
    @given(texts=expression_lists())
    def collect(texts):
        for i, text in enumerate(texts):
            found = seen["drawn" if i < DRAWN else "seeded"]
            for node in ast.walk(ast.parse(text, mode="eval")):
                found.add(type(node).__name__)
                if isinstance(node, ast.Call):
                    found.add(node.func.id)
                if isinstance(node, ast.Compare) and len(node.ops) > 1:
                    found.add("chained comparison")

    collect()
    assert CONSTRUCTS <= seen["drawn"], CONSTRUCTS - seen["drawn"]
    assert CONSTRUCTS <= seen["seeded"], CONSTRUCTS - seen["seeded"]


def test_division_by_an_interval_straddling_zero():
    """x / d with d in [-1, 1] (an unknown figure that may be negative, such as net assets): at d = 0.5 the
    quotient is 2, at d = -0.5 it is -2; the interval result must hold every such point (it is unbounded)."""
    env = {"x": (1.0, 1.0, [1.0] * ROWS), "d": (-1.0, 1.0, [0.5, -0.5, 1.0, -1.0] * (ROWS // 4))}
    codes = np.full(ROWS, -1)
    wide = _evaluate("x / d", env, codes, at_points=False)
    at = _evaluate("x / d", env, codes, at_points=True)
    assert ((wide.lo <= at.lo) & (at.hi <= wide.hi)).all()


def test_division_by_an_interval_ending_at_zero_from_below():
    """x / d with d in [-1, 0] (as min(d, 0) or -u of a non-negative u can give): at d = -0.5 the quotient is -2,
    which the endpoint hull [-1, inf] would miss; the result must hold it."""
    env = {"x": (1.0, 1.0, [1.0] * ROWS), "d": (-1.0, 0.0, [-0.5, -1.0, -0.25, -0.75] * (ROWS // 4))}
    codes = np.full(ROWS, -1)
    wide = _evaluate("x / d", env, codes, at_points=False)
    at = _evaluate("x / d", env, codes, at_points=True)
    assert ((wide.lo <= at.lo) & (at.hi <= wide.hi)).all()


def test_equality_of_two_intervals_unbounded_below_does_not_warn():
    """Comparing two figures unknown below (net profit, net assets) with == warns "invalid value encountered in
    subtract" unless the engine avoids inf - inf (an error under this project's warning filter)."""
    env = {"y": (-np.inf, -1000.0, [-2000.0] * ROWS), "z": (-np.inf, -1000.0, [-3000.0] * ROWS)}
    resolve = {name: Interval(np.full(ROWS, lo), np.full(ROWS, hi)) for name, (lo, hi, _) in env.items()}.get
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = Evaluator(ROWS, resolve, {}).evaluate(compile_expression("z != y"))
    assert (result.lo == 0).all() and (result.hi == 1).all()
