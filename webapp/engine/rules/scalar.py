"""One firm's rule expressions in Python floats: the same interval semantics as the vectorised evaluator, without
an array per value.

Judging one firm over numpy arrays of length one costs about a microsecond per operation, most of it numpy's call
overhead; a rule set has some 700 expression nodes. Here each expression tree is compiled once (the closure is
kept on the tree's node) into nested closures over ``(lo, hi)`` pairs of floats, which do op for op what
:mod:`webapp.engine.rules.intervals` and :class:`webapp.engine.rules.expressions.Evaluator` do, rounding
included: ``+ - * /`` and comparisons are exactly rounded in both; ``min``/``max`` pick the same operand as
numpy's ``minimum``/``maximum`` (``fmin``/``fmax``) on ties and NaN; a power goes through numpy itself, whose
``**`` may differ from C's ``pow`` in the last bit. Enum fields are taken over the classes the firm may hold,
with the same decomposition of monotone nodes as :meth:`Evaluator._hull`.

A tree the compiler does not know (a node type or an operand it has no rule for) gets no closure, and the caller
evaluates it over arrays as before, where any error is raised as it always was.
"""

from __future__ import annotations

import ast
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from webapp.engine.rules.intervals import REL_TOL, ExpressionError

_INF = math.inf


class _Unsupported(Exception):
    """A node the scalar compiler leaves to the array evaluator."""


@dataclass(frozen=True)
class EnumValue:
    """An enum field held at one class during enumeration."""

    value: str


class Sequence(tuple):
    """A tuple of enum classes (the right side of ``in``), told apart from a ``(lo, hi)`` pair."""


def _tol(x: float) -> float:
    return REL_TOL * max(1.0, abs(x)) if math.isfinite(x) else 0.0


def _minimum(a: float, b: float) -> float:
    """numpy.minimum: NaN wins, the second operand on a tie."""
    if a != a:
        return a
    return a if a < b else b


def _maximum(a: float, b: float) -> float:
    """numpy.maximum: NaN wins, the second operand on a tie."""
    if a != a:
        return a
    return a if a > b else b


def _fmin(a: float, b: float) -> float:
    """numpy.fmin: NaN loses, the first operand on a tie."""
    if b != b:
        return a
    if a != a:
        return b
    return b if b < a else a


def _fmax(a: float, b: float) -> float:
    """numpy.fmax: NaN loses, the first operand on a tie."""
    if b != b:
        return a
    if a != a:
        return b
    return b if b > a else a


def _clean(lo: float, hi: float) -> tuple[float, float]:
    return (-_INF if lo != lo else lo), (_INF if hi != hi else hi)


def _div(a: float, b: float) -> float:
    if b == 0:
        if a == 0:
            return 0.0
        return _INF if a > 0 else -_INF if a < 0 else a
    return a / b


def _hull(cands: list[float]) -> tuple[float, float]:
    lo = hi = cands[0]
    for c in cands[1:]:
        lo, hi = _fmin(lo, c), _fmax(hi, c)
    return _clean(lo, hi)


def _nan0(x: float) -> float:
    return 0.0 if x != x else x


def _add(a, b):
    return _clean(a[0] + b[0], a[1] + b[1])


def _sub(a, b):
    return _clean(a[0] - b[1], a[1] - b[0])


def _mul(a, b):
    (al, ah), (bl, bh) = a, b
    return _hull([_nan0(al * bl), _nan0(al * bh), _nan0(ah * bl), _nan0(ah * bh)])


def _truediv(a, b):
    (al, ah), (bl, bh) = a, b
    lo, hi = _hull([_div(al, bl), _div(al, bh), _div(ah, bl), _div(ah, bh)])
    if bl < 0 and bh >= 0 and not (al == 0 and ah == 0):
        return -_INF, _INF
    return lo, hi


def _pow(a, b):
    # numpy's power, as the array evaluator computes it (its last bit may differ from C's pow)
    p = np.array([b[0]])
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        lo = np.maximum(np.array([a[0]]), 0.0) ** p
        hi = np.maximum(np.array([a[1]]), 0.0) ** p
    return _clean(float(lo[0]), float(hi[0]))


_BINOPS = {ast.Add: _add, ast.Sub: _sub, ast.Mult: _mul, ast.Div: _truediv, ast.Pow: _pow}


def _compare(kind, a, b) -> tuple[float, float]:
    (al, ah), (bl, bh) = a, b
    tol_lo = _tol(bl)
    tol_hi = _tol(bh)
    if kind is ast.GtE:
        lo, hi = al >= bh - tol_hi, ah >= bl - tol_lo
    elif kind is ast.Gt:
        lo, hi = al > bh + tol_hi, ah > bl + tol_lo
    elif kind is ast.LtE:
        lo, hi = ah <= bl + tol_lo, al <= bh + tol_hi
    elif kind is ast.Lt:
        lo, hi = ah < bl - tol_lo, al < bh - tol_hi
    elif kind is ast.Eq or kind is ast.NotEq:
        point = al == ah and bl == bh and (al == bl or abs(al - bl) <= tol_lo)
        overlap = al <= bh + tol_hi and bl <= ah + _tol(ah)
        lo, hi = (point, overlap) if kind is ast.Eq else (not overlap, not point)
    else:
        raise ExpressionError(f"comparison {kind.__name__} not supported on numbers")
    return (1.0 if lo else 0.0), (1.0 if hi else 0.0)


def _and(parts):
    lo, hi = parts[0]
    for p in parts[1:]:
        lo, hi = _minimum(lo, p[0]), _minimum(hi, p[1])
    return lo, hi


def _or(parts):
    lo, hi = parts[0]
    for p in parts[1:]:
        lo, hi = _maximum(lo, p[0]), _maximum(hi, p[1])
    return lo, hi


def _floor(x: float) -> float:
    return x if not math.isfinite(x) or x == 0 else float(math.floor(x))


def _call(name: str, args: list) -> tuple[float, float]:
    if name == "min" or name == "max":
        pick = _minimum if name == "min" else _maximum
        lo, hi = args[0]
        for a in args[1:]:
            lo, hi = pick(lo, a[0]), pick(hi, a[1])
        return lo, hi
    if name == "span":
        a, b = args
        return _minimum(a[0], b[0]), _maximum(a[1], b[1])
    if name == "floor":
        ((lo, hi),) = args
        return _floor(lo + _tol(lo)), _floor(hi + _tol(hi))
    total = args[0]
    for a in args[1:]:
        total = _add(total, a)
    n = float(len(args))
    return _truediv(total, (n, n))


# ---------------------------------------------------------------------------- compiling

Scalar = Callable[[Callable, dict], object]   # (resolve, fixed classes) -> (lo, hi), an enum class or a Sequence


def compiled(tree: ast.expr, enum_names: frozenset[str]) -> Scalar | None:
    """The closure of ``tree`` for one firm (compiled once, kept on the node), or None when the compiler
    leaves it to the array evaluator.

    The closure takes the resolver of the names that are not enum fields (name -> ``(lo, hi)``) and the
    classes the firm may hold of each enum field (``{name: (EnumValue, ...)}``: its class where known, every
    class where not).
    """
    cache = tree.__dict__.setdefault("_scalar", {})
    if enum_names not in cache:
        try:
            cache[enum_names] = _Compiler(enum_deps(tree, enum_names)).hull(tree)
        except _Unsupported:
            cache[enum_names] = None
    return cache[enum_names]


def enum_deps(tree: ast.expr, enum_names: frozenset[str]) -> dict[int, tuple[str, ...]]:
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


_MONOTONE_CALLS = frozenset({"min", "max", "span"})


class _Compiler:
    def __init__(self, deps: dict[int, tuple[str, ...]]):
        self.deps = deps

    # -- the hull over the classes a firm may hold (Evaluator._hull, node for node)
    def hull(self, node: ast.expr) -> Scalar:
        names = self.deps[id(node)]
        plain = self.plain(node)
        if not names:
            return lambda env, classes: plain(env, {})
        parts = monotone_parts(node)
        if parts is not None:
            seen: set[str] = set()
            for part in parts:
                if seen.intersection(self.deps[id(part)]):
                    break
                seen.update(self.deps[id(part)])
            else:
                return self.combine(node, [self.hull(p) for p in parts])

        def enumerate_classes(env, classes):
            combos = list(itertools.product(*[classes[n] for n in names]))
            if len(combos) == 1:
                return plain(env, dict(zip(names, combos[0])))
            lo, hi = _INF, -_INF
            for combo in combos:
                res = plain(env, dict(zip(names, combo)))
                if not isinstance(res, tuple) or isinstance(res, Sequence):
                    raise ExpressionError("an enum class cannot be a value")
                lo, hi = _minimum(lo, res[0]), _maximum(hi, res[1])
            return lo, hi
        return enumerate_classes

    def combine(self, node: ast.expr, parts: list[Scalar]) -> Scalar:
        if isinstance(node, ast.BinOp):
            op = _BINOPS[type(node.op)]
            left, right = parts
            return lambda env, classes: op(left(env, classes), right(env, classes))
        if isinstance(node, ast.BoolOp):
            join = _and if isinstance(node.op, ast.And) else _or
            return lambda env, classes: join([p(env, classes) for p in parts])
        if isinstance(node, ast.UnaryOp):
            (a,) = parts
            return self._unary(node.op, a)
        name = node.func.id
        return lambda env, classes: _call(name, [p(env, classes) for p in parts])

    # -- plain evaluation with the enum fields held at one class each (``fixed``)
    def plain(self, node: ast.expr) -> Scalar:
        kind = type(node)
        if kind is ast.Constant:
            value = node.value
            if isinstance(value, str):
                out = EnumValue(value)
            elif isinstance(value, bool | int | float):
                out = (float(value), float(value))
            else:
                raise _Unsupported
            return lambda env, fixed: out
        if kind is ast.Name:
            name = node.id
            if self.deps[id(node)]:
                return lambda env, fixed: fixed[name]
            return lambda env, fixed: env(name)
        if kind is ast.Tuple or kind is ast.List:
            elts = [self.plain(e) for e in node.elts]
            return lambda env, fixed: Sequence(e(env, fixed) for e in elts)
        if kind is ast.BinOp:
            if type(node.op) not in _BINOPS:
                raise _Unsupported
            op = _BINOPS[type(node.op)]
            left, right = self.plain(node.left), self.plain(node.right)
            return lambda env, fixed: op(left(env, fixed), right(env, fixed))
        if kind is ast.UnaryOp:
            return self._unary(node.op, self.plain(node.operand))
        if kind is ast.BoolOp:
            join = _and if isinstance(node.op, ast.And) else _or
            values = [self.plain(v) for v in node.values]
            return lambda env, fixed: join([v(env, fixed) for v in values])
        if kind is ast.Compare:
            return self._compare(node)
        if kind is ast.IfExp:
            test, body, orelse = self.plain(node.test), self.plain(node.body), self.plain(node.orelse)

            def if_else(env, fixed):
                lo, hi = test(env, fixed)
                if lo >= 1:
                    return body(env, fixed)
                if hi <= 0:
                    return orelse(env, fixed)
                yes, no = body(env, fixed), orelse(env, fixed)
                return _minimum(yes[0], no[0]), _maximum(yes[1], no[1])
            return if_else
        if kind is ast.Call and isinstance(node.func, ast.Name) and not node.keywords:
            name = node.func.id
            args = [self.plain(a) for a in node.args]
            if name in ("min", "max", "span", "floor", "mean"):
                return lambda env, fixed: _call(name, [a(env, fixed) for a in args])
        raise _Unsupported

    @staticmethod
    def _unary(op: ast.unaryop, operand: Scalar) -> Scalar:
        if isinstance(op, ast.Not):
            def not_(env, fixed):
                lo, hi = operand(env, fixed)
                return 1.0 - hi, 1.0 - lo
            return not_
        if isinstance(op, ast.USub):
            def neg(env, fixed):
                lo, hi = operand(env, fixed)
                return -hi, -lo
            return neg
        if isinstance(op, ast.UAdd):
            return operand
        raise _Unsupported

    def _compare(self, node: ast.Compare) -> Scalar:
        left = self.plain(node.left)
        steps = [(op, type(op), self.plain(c)) for op, c in zip(node.ops, node.comparators)]
        def compare(env, fixed):
            parts = []
            a = left(env, fixed)
            for op, kind, comp in steps:
                b = comp(env, fixed)
                if isinstance(a, EnumValue) or isinstance(b, Sequence | EnumValue):
                    parts.append((1.0, 1.0) if enum_hit(op, a, b) else (0.0, 0.0))
                else:
                    parts.append(_compare(kind, a, b))
                a = b
            return parts[0] if len(parts) == 1 else _and(parts)
        return compare


def monotone_parts(node: ast.expr) -> list[ast.expr] | None:
    """The operands of a node whose interval is monotone in each operand's end points, else None."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub):
        return [node.left, node.right]
    if isinstance(node, ast.BoolOp):
        return node.values
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not | ast.USub | ast.UAdd):
        return [node.operand]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _MONOTONE_CALLS:
        return node.args
    return None


def enum_hit(op, left, right) -> bool:
    """Whether an enum class compares true with a class name or a tuple of them."""
    if not isinstance(left, EnumValue):
        raise ExpressionError("an enum must stand on the left of a comparison with a class name")
    if isinstance(op, ast.In | ast.NotIn):
        values = {v.value for v in right}
        hit = left.value in values
        return hit if isinstance(op, ast.In) else not hit
    if isinstance(op, ast.Eq | ast.NotEq):
        hit = left.value == right.value
        return hit if isinstance(op, ast.Eq) else not hit
    raise ExpressionError("enums compare only with ==, != and in")
