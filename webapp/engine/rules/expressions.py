"""Rule expressions: a small, safe subset of Python evaluated over value intervals.

Every input of a rule is an interval ``[lo, hi]`` per firm: a known value is ``[v, v]``, an unknown
one spans what the field could take on its own (its bounds, e.g. ``[0, 1e8]`` for an amount, ``[0, 1]``
for a yes/no). A condition is then *met* when it holds at every point of the intervals (``lo == 1``),
*not met* when it holds at none (``hi == 0``) and unknown otherwise, which is the three-valued reading
of spec/assessment.md. Arithmetic follows interval arithmetic; enum fields are evaluated once per
possible class, so an unknown class passes when every class passes.

Comparisons tolerate floating-point rounding and nothing more: ``x >= t`` holds when
``x >= t - 1e-9 * max(1, |t|)``. Doubles carry about 1e-16 relative error, so a ratio of two decimals that
is 5% on paper (R&D 100.07 over revenue 2001.4 computes to 0.049999999999999996) and 0.049999999999 both
reach 5%; but the tolerance stays below one yuan (1e-4 万元) for every amount threshold up to 10亿 (100000
万元; the tables' largest is 80000), so total assets of 20000.0001 万元 fail ``total_assets <= 20000``.
"""

from __future__ import annotations

import ast
import functools
import itertools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

REL_TOL = 1e-9  # see the module docstring: rounding noise, not one yuan

FUNCTIONS = ("min", "max", "floor", "mean", "span")


class ExpressionError(ValueError):
    """A rule expression uses syntax or names outside the allowed subset."""


@dataclass(frozen=True)
class Interval:
    """Per-firm value intervals; ``lo`` and ``hi`` are float64 arrays of equal length."""

    lo: np.ndarray
    hi: np.ndarray
    scalar: float | None = None   # set for a constant, so comparisons with it stay scalar

    @classmethod
    def const(cls, value: float, n: int) -> Interval:
        """A known constant for ``n`` firms."""
        arr = np.full(n, float(value))
        return cls(arr, arr, float(value))

    @property
    def known(self) -> np.ndarray:
        """True where the interval is a single point."""
        return self.lo == self.hi

    def point(self) -> np.ndarray:
        """The value where known, NaN where not."""
        return np.where(self.known, self.lo, np.nan)


@dataclass(frozen=True)
class EnumValue:
    """An enum field held at one class during enumeration."""

    value: str


@dataclass
class Expression:
    """A compiled rule expression."""

    text: str
    tree: ast.expr
    names: frozenset[str] = field(default_factory=frozenset)

    def atoms(self) -> list[ast.Compare]:
        """The comparisons inside the expression, in reading order (used for gaps)."""
        return [n for n in ast.walk(self.tree) if isinstance(n, ast.Compare)]


def _tol(x: np.ndarray | float) -> np.ndarray | float:
    if isinstance(x, float | int):
        return REL_TOL * max(1.0, abs(x)) if math.isfinite(x) else 0.0
    x = np.asarray(x, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(x), REL_TOL * np.maximum(1.0, np.abs(x)), 0.0)


def compile_expression(text: str, *, allowed_names: Callable[[str], bool] | None = None) -> Expression:
    """Parse ``text`` and check it uses only the allowed syntax and names.

    Parameters
    ----------
    text : str
        A Python expression: numbers, strings, names, ``+ - * / **``, comparisons (also chained
        and ``in`` a tuple of strings), ``and``/``or``/``not``, ``a if c else b`` and the
        functions min, max, floor, mean and span (any value between its two arguments).
    allowed_names : callable, optional
        Predicate telling whether a name is a known field, metric or flag.
    """
    try:
        tree = ast.parse("(" + text.strip() + "\n)", mode="eval").body
    except SyntaxError as exc:
        raise ExpressionError(f"cannot parse {text!r}: {exc.msg}") from None
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            if node.id in FUNCTIONS:
                continue
            if allowed_names is not None and not allowed_names(node.id):
                raise ExpressionError(f"unknown name {node.id!r} in {text!r}")
            names.add(node.id)
        elif isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS or node.keywords:
                raise ExpressionError(f"only {', '.join(FUNCTIONS)} may be called in {text!r}")
        elif not isinstance(node, _ALLOWED_NODES):
            raise ExpressionError(f"{type(node).__name__} is not allowed in {text!r}")
    return Expression(text=text, tree=tree, names=frozenset(names))


_ALLOWED_NODES = (
    ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub, ast.UAdd,
    ast.BinOp, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.Compare, ast.GtE, ast.Gt,
    ast.LtE, ast.Lt, ast.Eq, ast.NotEq, ast.In, ast.NotIn, ast.IfExp, ast.Constant, ast.Name,
    ast.Load, ast.Tuple, ast.List, ast.Call,
)


# ---------------------------------------------------------------------------- interval arithmetic


def _clean(lo: np.ndarray, hi: np.ndarray) -> Interval:
    lo = np.where(np.isnan(lo), -np.inf, lo)
    hi = np.where(np.isnan(hi), np.inf, hi)
    return Interval(lo, hi)


def _div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Endpoint quotient with x/0 = sign(x)*inf and 0/0 = 0; inf/inf stays NaN (ignored later); a quotient beyond
    the float range (a tiny denominator such as 1e-301) is +-inf."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        q = a / b
    zero_b = b == 0
    with np.errstate(invalid="ignore"):
        q = np.where(zero_b, np.sign(a) * np.inf, q)
    q = np.where(zero_b & (a == 0), 0.0, q)
    return q


def _hull(cands: list[np.ndarray]) -> Interval:
    stack = np.vstack(cands)
    with np.errstate(invalid="ignore"):
        lo = np.fmin.reduce(stack, axis=0)
        hi = np.fmax.reduce(stack, axis=0)
    return _clean(lo, hi)


def _binop(op: ast.operator, a: Interval, b: Interval) -> Interval:
    if isinstance(op, ast.Add):
        with np.errstate(invalid="ignore"):
            return _clean(a.lo + b.lo, a.hi + b.hi)
    if isinstance(op, ast.Sub):
        with np.errstate(invalid="ignore"):
            return _clean(a.lo - b.hi, a.hi - b.lo)
    if isinstance(op, ast.Mult):
        with np.errstate(invalid="ignore"):
            c = [a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi]
        c = [np.where(np.isnan(x), 0.0, x) for x in c]  # 0 * inf counts as 0
        return _hull(c)
    if isinstance(op, ast.Div):
        out = _hull([_div(a.lo, b.lo), _div(a.lo, b.hi), _div(a.hi, b.lo), _div(a.hi, b.hi)])
        # A denominator that may be negative and reach 0 (an unknown net asset figure, min(d, 0)) can make the
        # quotient any number: the endpoints' quotients alone would understate it.
        straddles = (b.lo < 0) & (b.hi >= 0) & ~((a.lo == 0) & (a.hi == 0))
        if np.any(straddles):
            out = Interval(np.where(straddles, -np.inf, out.lo), np.where(straddles, np.inf, out.hi))
        return out
    if isinstance(op, ast.Pow):
        # Only a known, positive exponent on a non-negative base occurs (growth rates).
        p = b.lo
        with np.errstate(invalid="ignore"):
            return _clean(np.maximum(a.lo, 0.0) ** p, np.maximum(a.hi, 0.0) ** p)
    raise ExpressionError(f"operator {type(op).__name__} not supported")


def _compare(op: ast.cmpop, a: Interval, b: Interval) -> Interval:
    if b.scalar is not None and not isinstance(op, ast.Eq | ast.NotEq):
        t = b.scalar
        b = Interval(t, t)  # numpy broadcasts the scalar; its tolerance is computed once
    if isinstance(op, ast.GtE):
        lo, hi = a.lo >= b.hi - _tol(b.hi), a.hi >= b.lo - _tol(b.lo)
    elif isinstance(op, ast.Gt):
        lo, hi = a.lo > b.hi + _tol(b.hi), a.hi > b.lo + _tol(b.lo)
    elif isinstance(op, ast.LtE):
        lo, hi = a.hi <= b.lo + _tol(b.lo), a.lo <= b.hi + _tol(b.hi)
    elif isinstance(op, ast.Lt):
        lo, hi = a.hi < b.lo - _tol(b.lo), a.lo < b.hi - _tol(b.hi)
    elif isinstance(op, ast.Eq | ast.NotEq):
        with np.errstate(invalid="ignore"):  # inf - inf: equal infinities are caught by the == test
            point = a.known & b.known & ((a.lo == b.lo) | (np.abs(a.lo - b.lo) <= _tol(b.lo)))
        overlap = (a.lo <= b.hi + _tol(b.hi)) & (b.lo <= a.hi + _tol(a.hi))
        lo, hi = point, overlap
        if isinstance(op, ast.NotEq):
            lo, hi = ~overlap, ~point
    else:
        raise ExpressionError(f"comparison {type(op).__name__} not supported on numbers")
    return Interval(lo.astype(float), hi.astype(float))


def _and(parts: list[Interval]) -> Interval:
    return Interval(functools.reduce(np.minimum, [p.lo for p in parts]),
                    functools.reduce(np.minimum, [p.hi for p in parts]))


def _or(parts: list[Interval]) -> Interval:
    return Interval(functools.reduce(np.maximum, [p.lo for p in parts]),
                    functools.reduce(np.maximum, [p.hi for p in parts]))


def _not(a: Interval) -> Interval:
    return Interval(1.0 - a.hi, 1.0 - a.lo)


def if_else(cond: Interval, yes: Interval, no: Interval) -> Interval:
    """``yes`` where the condition surely holds, ``no`` where it surely fails, their hull otherwise."""
    sure, never = cond.lo >= 1, cond.hi <= 0
    lo = np.where(sure, yes.lo, np.where(never, no.lo, np.minimum(yes.lo, no.lo)))
    hi = np.where(sure, yes.hi, np.where(never, no.hi, np.maximum(yes.hi, no.hi)))
    return Interval(lo, hi)


# ---------------------------------------------------------------------------- evaluation


class Evaluator:
    """Evaluate expressions for ``n`` firms given a resolver from names to intervals.

    ``resolve(name)`` returns an :class:`Interval` for numeric, boolean and derived names; enum
    names are looked up in ``enums`` (name -> (codes array with -1 for unknown, choices)).
    """

    def __init__(self, n: int, resolve: Callable[[str], Interval],
                 enums: Mapping[str, tuple[np.ndarray, tuple[str, ...]]]):
        self.n = n
        self._resolve = resolve
        self.enums = enums

    def evaluate(self, expr: Expression) -> Interval:
        """Evaluate ``expr`` exactly over every class of the unknown enum fields it names."""
        enum_names = sorted(name for name in expr.names if name in self.enums)
        if not enum_names:
            return self._eval(expr.tree, {})
        choices = [self.enums[name][1] for name in enum_names]
        codes = [self.enums[name][0] for name in enum_names]
        lo = np.full(self.n, np.inf)
        hi = np.full(self.n, -np.inf)
        # Only the classes some firm may hold: every class where one is unknown, else the classes present
        # (a single firm with known classes is evaluated once, not once per combination).
        present = [range(len(c)) if (code < 0).any() else np.unique(code).tolist()
                   for c, code in zip(choices, codes)]
        # A sub-expression is evaluated once per combination of the enum fields it names, not per combination
        # of all of them: the grades of two independent declared fields cost 5 + 5 walks, not 5 x 5.
        memo = (_enum_deps(expr.tree, frozenset(enum_names)), {})
        for combo in itertools.product(*present):
            fixed = {name: EnumValue(choices[i][k]) for i, (name, k) in enumerate(zip(enum_names, combo))}
            res = self._eval(expr.tree, fixed, memo)
            consistent = np.ones(self.n, dtype=bool)
            for code, k in zip(codes, combo):
                consistent &= (code == k) | (code < 0)
            lo = np.where(consistent, np.minimum(lo, res.lo), lo)
            hi = np.where(consistent, np.maximum(hi, res.hi), hi)
        return Interval(lo, hi)

    def _eval(self, node: ast.expr, fixed: dict[str, EnumValue], memo: tuple[dict, dict] | None = None):
        if memo is None:
            return self._eval_node(node, fixed, None)
        deps, done = memo
        key = (id(node), *[fixed[name].value for name in deps[id(node)]])
        if key not in done:
            done[key] = self._eval_node(node, fixed, memo)
        return done[key]

    def _eval_node(self, node: ast.expr, fixed: dict[str, EnumValue], memo):  # noqa: C901 - a dispatch table
        n = self.n
        if isinstance(node, ast.Constant):
            if isinstance(node.value, str):
                return EnumValue(node.value)
            if isinstance(node.value, bool | int | float):
                return Interval.const(float(node.value), n)
            raise ExpressionError(f"constant {node.value!r} not supported")
        if isinstance(node, ast.Name):
            if node.id in fixed:
                return fixed[node.id]
            return self._resolve(node.id)
        if isinstance(node, ast.Tuple | ast.List):
            return tuple(self._eval(e, fixed, memo) for e in node.elts)
        if isinstance(node, ast.BinOp):
            return _binop(node.op, self._eval(node.left, fixed, memo), self._eval(node.right, fixed, memo))
        if isinstance(node, ast.UnaryOp):
            a = self._eval(node.operand, fixed, memo)
            if isinstance(node.op, ast.Not):
                return _not(a)
            if isinstance(node.op, ast.USub):
                return Interval(-a.hi, -a.lo)
            return a
        if isinstance(node, ast.BoolOp):
            parts = [self._eval(v, fixed, memo) for v in node.values]
            return _and(parts) if isinstance(node.op, ast.And) else _or(parts)
        if isinstance(node, ast.Compare):
            return self._eval_compare(node, fixed, memo)
        if isinstance(node, ast.IfExp):
            return if_else(self._eval(node.test, fixed, memo), self._eval(node.body, fixed, memo),
                           self._eval(node.orelse, fixed, memo))
        if isinstance(node, ast.Call):
            return self._eval_call(node, fixed, memo)
        raise ExpressionError(f"{type(node).__name__} not supported")

    def _eval_compare(self, node: ast.Compare, fixed, memo) -> Interval:
        parts = []
        left = self._eval(node.left, fixed, memo)
        for op, comp in zip(node.ops, node.comparators):
            right = self._eval(comp, fixed, memo)
            if isinstance(left, EnumValue) or isinstance(right, tuple | EnumValue):
                parts.append(_compare_enum(op, left, right, self.n))
            else:
                parts.append(_compare(op, left, right))
            left = right
        return parts[0] if len(parts) == 1 else _and(parts)

    def _eval_call(self, node: ast.Call, fixed, memo) -> Interval:
        args = [self._eval(a, fixed, memo) for a in node.args]
        name = node.func.id
        if name == "min":
            return Interval(np.minimum.reduce([a.lo for a in args]), np.minimum.reduce([a.hi for a in args]))
        if name == "max":
            return Interval(np.maximum.reduce([a.lo for a in args]), np.maximum.reduce([a.hi for a in args]))
        if name == "span":  # span(a, b): any value from a to b, e.g. points an expert awards within a grade
            a, b = args
            return Interval(np.minimum(a.lo, b.lo), np.maximum(a.hi, b.hi))
        if name == "floor":
            (a,) = args
            return Interval(np.floor(a.lo + _tol(a.lo)), np.floor(a.hi + _tol(a.hi)))
        total = args[0]
        for a in args[1:]:
            total = _binop(ast.Add(), total, a)
        return _binop(ast.Div(), total, Interval.const(len(args), self.n))


def _compare_enum(op, left, right, n: int) -> Interval:
    if not isinstance(left, EnumValue):
        raise ExpressionError("an enum must stand on the left of a comparison with a class name")
    if isinstance(op, ast.In | ast.NotIn):
        values = {v.value for v in right}
        hit = left.value in values
        hit = hit if isinstance(op, ast.In) else not hit
    elif isinstance(op, ast.Eq | ast.NotEq):
        hit = left.value == right.value
        hit = hit if isinstance(op, ast.Eq) else not hit
    else:
        raise ExpressionError("enums compare only with ==, != and in")
    return Interval.const(1.0 if hit else 0.0, n)


def _enum_deps(tree: ast.expr, enum_names: frozenset[str]) -> dict[int, tuple[str, ...]]:
    """For every node of ``tree`` (by id), the enum names among ``enum_names`` it depends on, sorted."""
    out: dict[int, tuple[str, ...]] = {}

    def walk(node: ast.AST) -> frozenset[str]:
        found = frozenset([node.id]) & enum_names if isinstance(node, ast.Name) else frozenset()
        for child in ast.iter_child_nodes(node):
            found |= walk(child)
        out[id(node)] = tuple(sorted(found))
        return found

    walk(tree)
    return out


def status_codes(result: Interval) -> np.ndarray:
    """Map a boolean interval to status codes: 1 met, 0 not met, -1 unknown."""
    return np.where(result.lo >= 1, 1, np.where(result.hi <= 0, 0, -1)).astype(np.int8)

