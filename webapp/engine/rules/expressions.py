"""Rule expressions: a small, safe subset of Python evaluated over value intervals.

Every input of a rule is an interval ``[lo, hi]`` per firm: a known value is ``[v, v]``, an unknown
one spans what the field could take on its own (its bounds, e.g. ``[0, 1e8]`` for an amount, ``[0, 1]``
for a yes/no). A condition is then *met* when it holds at every point of the intervals (``lo == 1``),
*not met* when it holds at none (``hi == 0``) and unknown otherwise, which is the three-valued reading
of spec/assessment.md. Arithmetic follows interval arithmetic; enum fields are evaluated once per
possible class, so an unknown class passes when every class passes.

Comparisons tolerate floating-point rounding and nothing more (:mod:`webapp.engine.rules.intervals`, where
the arithmetic lives).
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from webapp.engine.rules.intervals import (
    REL_TOL,
    ExpressionError,
    Interval,
    _and,
    _binop,
    _compare,
    _not,
    _or,
    _tol,
    if_else,
    status_codes,
)
from webapp.engine.rules.scalar import EnumValue, compiled, enum_deps, enum_hit, monotone_parts

__all__ = ["FUNCTIONS", "REL_TOL", "EnumValue", "Evaluator", "Expression", "ExpressionError", "Interval",
           "compile_expression", "if_else", "status_codes"]

FUNCTIONS = ("min", "max", "floor", "mean", "span")


@dataclass
class Expression:
    """A compiled rule expression."""

    text: str
    tree: ast.expr
    names: frozenset[str] = field(default_factory=frozenset)
    _deps: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def enum_names(self, enums: Mapping) -> tuple[str, ...]:
        """The names of the expression that are enum fields of ``enums``, sorted."""
        return tuple(sorted(name for name in self.names if name in enums))

    def enum_deps(self, enum_names: tuple[str, ...]) -> dict[int, tuple[str, ...]]:
        """For every node of the tree (by id), the names among ``enum_names`` it depends on (worked out once)."""
        deps = self._deps.get(enum_names)
        if deps is None:
            deps = self._deps[enum_names] = enum_deps(self.tree, frozenset(enum_names))
        return deps

    def atoms(self) -> list[ast.Compare]:
        """The comparisons inside the expression, in reading order (used for gaps)."""
        return [n for n in ast.walk(self.tree) if isinstance(n, ast.Compare)]


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


# ---------------------------------------------------------------------------- evaluation


class Evaluator:
    """Evaluate expressions for ``n`` firms given a resolver from names to intervals.

    ``resolve(name)`` returns an :class:`Interval` for numeric, boolean and derived names; enum
    names are looked up in ``enums`` (name -> (codes array with -1 for unknown, choices)). For one firm,
    ``scalar(name)`` (optional) returns the same interval as a ``(lo, hi)`` pair of floats, and expressions
    are evaluated in Python floats (:mod:`webapp.engine.rules.scalar`), with the same results.
    """

    def __init__(self, n: int, resolve: Callable[[str], Interval],
                 enums: Mapping[str, tuple[np.ndarray, tuple[str, ...]]],
                 scalar: Callable[[str], tuple[float, float]] | None = None):
        self.n = n
        self._resolve = resolve
        self.enums = enums
        self._consts: dict[float, Interval] = {}
        self._combos: dict[tuple[str, ...], list] = {}
        self._scalar = scalar if n == 1 else None
        self._enum_set = frozenset(enums)
        self._classes = {name: tuple(EnumValue(c) for c in (choices if codes[0] < 0 else (choices[codes[0]],)))
                         for name, (codes, choices) in enums.items()} if self._scalar else {}

    def const(self, value: float) -> Interval:
        """A known constant for every firm; one read-only interval per value, shared by every use."""
        value = float(value)
        out = self._consts.get(value)
        if out is None:
            arr = np.full(self.n, value)
            arr.flags.writeable = False
            out = self._consts[value] = Interval(arr, arr, value)
        return out

    def evaluate(self, expr: Expression) -> Interval:
        """Evaluate ``expr`` exactly over every class of the unknown enum fields it names."""
        if self._scalar is not None:
            pair = self.evaluate_scalar(expr.tree)
            if pair is not None:
                return Interval(np.array([pair[0]]), np.array([pair[1]]))
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return self._evaluate(expr)

    def evaluate_scalar(self, tree: ast.expr) -> tuple[float, float] | None:
        """For one firm (with a scalar resolver), the ``(lo, hi)`` of an expression tree; None when the tree is
        left to the array evaluator (:func:`webapp.engine.rules.scalar.compiled`) or is not a number."""
        fn = compiled(tree, self._enum_set)
        if fn is None:
            return None
        pair = fn(self._scalar, self._classes)
        return pair if type(pair) is tuple else None

    def _evaluate(self, expr: Expression) -> Interval:
        enum_names = expr.enum_names(self.enums)
        if not enum_names:
            return self._eval(expr.tree, {})
        res = self._hull(expr.tree, (expr.enum_deps(enum_names), {}))
        return Interval(res.lo, res.hi)

    def _hull(self, node: ast.expr, memo: tuple[dict, dict]) -> Interval:
        """Per firm, the hull of ``node`` over the classes it may hold of the enum fields the node reads.

        A sum, difference, min, max, span, and, or or not of parts that read disjoint enum fields is that
        operation of the parts' hulls: each is monotone in every end point and a firm's possible classes form
        a product (one class where known, every class where not), so the extreme combination is the parts'
        extremes, also in rounded arithmetic. The IP score of HNTE-2016 (two declared grades of five classes)
        costs 5 + 5 walks, not 5 x 5. Any other node is evaluated once per combination of its classes.
        """
        deps = memo[0]
        names = deps[id(node)]
        if not names:
            return self._eval(node, {}, memo)
        parts = monotone_parts(node)
        if parts is not None:
            seen: set[str] = set()
            for part in parts:
                if seen.intersection(deps[id(part)]):
                    break
                seen.update(deps[id(part)])
            else:
                return _combine(node, [self._hull(part, memo) for part in parts], self)
        combos = self._combinations(names)
        if len(combos) == 1 and combos[0][1] is None:  # every firm holds the one class: no hull to take
            return self._eval(node, combos[0][0], memo)
        lo = np.full(self.n, np.inf)
        hi = np.full(self.n, -np.inf)
        for fixed, consistent in combos:
            res = self._eval(node, fixed, memo)
            if consistent is None:  # a combination every firm may hold
                lo, hi = np.minimum(lo, res.lo), np.maximum(hi, res.hi)
            else:
                lo = np.where(consistent, np.minimum(lo, res.lo), lo)
                hi = np.where(consistent, np.maximum(hi, res.hi), hi)
        return Interval(lo, hi)

    def _combinations(self, enum_names: tuple[str, ...]) -> list[tuple[dict, np.ndarray | None]]:
        """Each combination of classes some firm may hold of ``enum_names``, with the firms it is consistent
        with (None when that is every firm), worked out once per evaluator and set of names."""
        found = self._combos.get(enum_names)
        if found is not None:
            return found
        choices = [self.enums[name][1] for name in enum_names]
        codes = [self.enums[name][0] for name in enum_names]
        # Only the classes some firm may hold: every class where one is unknown, else the classes present
        # (a single firm with known classes is evaluated once, not once per combination).
        present = [range(len(c)) if (code < 0).any() else np.unique(code).tolist()
                   for c, code in zip(choices, codes)]
        found = []
        for combo in itertools.product(*present):
            fixed = {name: EnumValue(choices[i][k]) for i, (name, k) in enumerate(zip(enum_names, combo))}
            consistent = np.ones(self.n, dtype=bool)
            for code, k in zip(codes, combo):
                consistent &= (code == k) | (code < 0)
            found.append((fixed, None if consistent.all() else consistent))
        self._combos[enum_names] = found
        return found

    def _eval(self, node: ast.expr, fixed: dict[str, EnumValue], memo: tuple[dict, dict] | None = None):
        if memo is None:
            return _NODES[type(node)](self, node, fixed, None)
        deps, done = memo
        key = (id(node), *[fixed[name].value for name in deps[id(node)]])
        if key not in done:
            done[key] = _NODES[type(node)](self, node, fixed, memo)
        return done[key]

    def _eval_constant(self, node: ast.Constant, fixed, memo):
        if isinstance(node.value, str):
            return EnumValue(node.value)
        if isinstance(node.value, bool | int | float):
            return self.const(node.value)
        raise ExpressionError(f"constant {node.value!r} not supported")

    def _eval_name(self, node: ast.Name, fixed, memo):
        if node.id in fixed:
            return fixed[node.id]
        return self._resolve(node.id)

    def _eval_sequence(self, node: ast.Tuple | ast.List, fixed, memo):
        return tuple(self._eval(e, fixed, memo) for e in node.elts)

    def _eval_binop(self, node: ast.BinOp, fixed, memo):
        return _binop(node.op, self._eval(node.left, fixed, memo), self._eval(node.right, fixed, memo))

    def _eval_unary(self, node: ast.UnaryOp, fixed, memo):
        a = self._eval(node.operand, fixed, memo)
        if isinstance(node.op, ast.Not):
            return _not(a)
        if isinstance(node.op, ast.USub):
            return Interval(-a.hi, -a.lo)
        return a

    def _eval_boolop(self, node: ast.BoolOp, fixed, memo):
        parts = [self._eval(v, fixed, memo) for v in node.values]
        return _and(parts) if isinstance(node.op, ast.And) else _or(parts)

    def _eval_ifexp(self, node: ast.IfExp, fixed, memo):
        # Only the branch taken when the condition is settled alike for every firm (always, for one firm with
        # the condition's inputs known): :func:`if_else` would return that branch's interval as it is.
        test = self._eval(node.test, fixed, memo)
        if (test.lo >= 1).all():
            body = self._eval(node.body, fixed, memo)
            return Interval(body.lo, body.hi)
        if (test.hi <= 0).all():
            orelse = self._eval(node.orelse, fixed, memo)
            return Interval(orelse.lo, orelse.hi)
        return if_else(test, self._eval(node.body, fixed, memo), self._eval(node.orelse, fixed, memo))

    def _eval_compare(self, node: ast.Compare, fixed, memo) -> Interval:
        parts = []
        left = self._eval(node.left, fixed, memo)
        for op, comp in zip(node.ops, node.comparators):
            right = self._eval(comp, fixed, memo)
            if isinstance(left, EnumValue) or isinstance(right, tuple | EnumValue):
                parts.append(self.const(1.0 if enum_hit(op, left, right) else 0.0))
            else:
                parts.append(_compare(op, left, right))
            left = right
        return parts[0] if len(parts) == 1 else _and(parts)

    def _eval_call(self, node: ast.Call, fixed, memo) -> Interval:
        return self._call(node.func.id, [self._eval(a, fixed, memo) for a in node.args])

    def _call(self, name: str, args: list[Interval]) -> Interval:
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
        return _binop(ast.Div(), total, self.const(len(args)))

    def _eval_other(self, node, fixed, memo):
        raise ExpressionError(f"{type(node).__name__} not supported")


class _NodeTable(dict):
    """Evaluator method by node type; a type it does not know gets the method that refuses it."""

    def __missing__(self, kind):
        return Evaluator._eval_other


_NODES = _NodeTable({
    ast.Constant: Evaluator._eval_constant, ast.Name: Evaluator._eval_name, ast.Tuple: Evaluator._eval_sequence,
    ast.List: Evaluator._eval_sequence, ast.BinOp: Evaluator._eval_binop, ast.UnaryOp: Evaluator._eval_unary,
    ast.BoolOp: Evaluator._eval_boolop, ast.Compare: Evaluator._eval_compare, ast.IfExp: Evaluator._eval_ifexp,
    ast.Call: Evaluator._eval_call,
})


def _combine(node: ast.expr, parts: list[Interval], evaluator: Evaluator) -> Interval:
    """The operation of ``node`` (see :func:`~webapp.engine.rules.scalar.monotone_parts`) on its operands'
    intervals."""
    if isinstance(node, ast.BinOp):
        return _binop(node.op, *parts)
    if isinstance(node, ast.BoolOp):
        return _and(parts) if isinstance(node.op, ast.And) else _or(parts)
    if isinstance(node, ast.UnaryOp):
        (a,) = parts
        if isinstance(node.op, ast.Not):
            return _not(a)
        return Interval(-a.hi, -a.lo) if isinstance(node.op, ast.USub) else a
    return evaluator._call(node.func.id, parts)
