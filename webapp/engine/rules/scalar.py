"""One firm's rule expressions in Python floats: the same interval semantics as the vectorised evaluator, without
an array per value.

Judging one firm over numpy arrays of length one costs about a microsecond per operation, most of it numpy's call
overhead; a rule set has some 700 expression nodes. Here each expression tree is compiled once (the closure is
kept on the tree's node) into nested closures over ``(lo, hi)`` pairs of floats, which do op for op what
:class:`webapp.engine.rules.expressions.Evaluator` does, with the arithmetic of
:mod:`webapp.engine.rules.floats` (the same results as :mod:`webapp.engine.rules.intervals`, bit for bit).
Enum fields are taken over the classes the firm may hold, with the same decomposition of monotone nodes as
:meth:`Evaluator._hull`; comparisons with a constant have their tolerance worked out once.

A tree the compiler does not know (a node type or an operand it has no rule for) gets no closure, and the caller
evaluates it over arrays as before, where any error is raised as it always was.
"""

from __future__ import annotations

import ast
import itertools
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass

from webapp.engine.rules.floats import BINOPS, both, call, either, maximum, minimum, tol
from webapp.engine.rules.floats import compare as compare_pairs
from webapp.engine.rules.intervals import ExpressionError

_INF = math.inf


class _Unsupported(Exception):
    """A node the scalar compiler leaves to the array evaluator."""


@dataclass(frozen=True)
class EnumValue:
    """An enum field held at one class during enumeration."""

    value: str


class Sequence(tuple):
    """A tuple of enum classes (the right side of ``in``), told apart from a ``(lo, hi)`` pair."""


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
                lo, hi = minimum(lo, res[0]), maximum(hi, res[1])
            return lo, hi
        return enumerate_classes

    def combine(self, node: ast.expr, parts: list[Scalar]) -> Scalar:
        if isinstance(node, ast.BinOp):
            op = BINOPS[type(node.op)]
            left, right = parts
            return lambda env, classes: op(left(env, classes), right(env, classes))
        if isinstance(node, ast.BoolOp):
            join = both if isinstance(node.op, ast.And) else either
            return lambda env, classes: join([p(env, classes) for p in parts])
        if isinstance(node, ast.UnaryOp):
            (a,) = parts
            return self._unary(node.op, a)
        name = node.func.id
        return lambda env, classes: call(name, [p(env, classes) for p in parts])

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
            if type(node.op) not in BINOPS:
                raise _Unsupported
            op = BINOPS[type(node.op)]
            left, right = self.plain(node.left), self.plain(node.right)
            return lambda env, fixed: op(left(env, fixed), right(env, fixed))
        if kind is ast.UnaryOp:
            return self._unary(node.op, self.plain(node.operand))
        if kind is ast.BoolOp:
            join = both if isinstance(node.op, ast.And) else either
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
                return minimum(yes[0], no[0]), maximum(yes[1], no[1])
            return if_else
        if kind is ast.Call and isinstance(node.func, ast.Name) and not node.keywords:
            name = node.func.id
            args = [self.plain(a) for a in node.args]
            if name in ("min", "max", "span", "floor", "mean"):
                return lambda env, fixed: call(name, [a(env, fixed) for a in args])
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
                    parts.append(compare_pairs(kind, a, b))
                a = b
            return parts[0] if len(parts) == 1 else both(parts)
        return self._compare_constant(node, left, compare) or compare

    def _compare_constant(self, node: ast.Compare, left: Scalar, general: Scalar) -> Scalar | None:
        """The common comparisons made cheaper, with the same results: a number with a number (its tolerance
        worked out once), an enum field with class names. None for any other."""
        if len(node.ops) != 1:
            return None
        kind, right = type(node.ops[0]), node.comparators[0]
        if isinstance(right, ast.Constant) and isinstance(right.value, bool | int | float) and kind in _TO_CONSTANT:
            lo_end, hi_end, test = _TO_CONSTANT[kind]
            t = float(right.value)
            c = t - tol(t) if kind is ast.GtE or kind is ast.Lt else t + tol(t)

            def to_constant(env, fixed):
                a = left(env, fixed)
                if type(a) is not tuple:
                    return general(env, fixed)
                return (1.0 if test(a[lo_end], c) else 0.0), (1.0 if test(a[hi_end], c) else 0.0)
            return to_constant
        if not (isinstance(node.left, ast.Name) and self.deps[id(node.left)]):
            return None
        name = node.left.id
        if kind in (ast.Eq, ast.NotEq) and isinstance(right, ast.Constant) and isinstance(right.value, str):
            values = frozenset([right.value])
        elif kind in (ast.In, ast.NotIn) and isinstance(right, ast.Tuple | ast.List) and all(
                isinstance(e, ast.Constant) and isinstance(e.value, str) for e in right.elts):
            values = frozenset(e.value for e in right.elts)
        else:
            return None
        met = (1.0, 1.0) if kind in (ast.Eq, ast.In) else (0.0, 0.0)
        unmet = (0.0, 0.0) if kind in (ast.Eq, ast.In) else (1.0, 1.0)
        return lambda env, fixed: met if fixed[name].value in values else unmet


# Against a constant t (its tolerance worked into c): which end gives the low end of the result, which the high
# end, and the test of an end against c; as the comparison with the point interval [t, t] in compare.
_TO_CONSTANT = {ast.GtE: (0, 1, operator.ge), ast.Gt: (0, 1, operator.gt), ast.LtE: (1, 0, operator.le),
                ast.Lt: (1, 0, operator.lt)}


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
