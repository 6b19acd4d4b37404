"""Interval arithmetic on one firm's ``(lo, hi)`` pairs of floats: op for op what
:mod:`webapp.engine.rules.intervals` does over arrays, with the same results (see
:mod:`webapp.engine.rules.scalar`, which compiles expressions to these).

``minimum``/``maximum`` and ``fmin``/``fmax`` pick the operand numpy's ufuncs of those names pick, on ties (signed
zeros) and NaN alike; ``+ - * /`` and comparisons are exactly rounded in Python as in numpy; a power goes through
numpy itself, whose ``**`` may differ from C's ``pow`` in the last bit.
"""

from __future__ import annotations

import ast
import math

import numpy as np

from webapp.engine.rules.intervals import REL_TOL, ExpressionError

_INF = math.inf


def tol(x: float) -> float:
    return REL_TOL * max(1.0, abs(x)) if math.isfinite(x) else 0.0


def minimum(a: float, b: float) -> float:
    """numpy.minimum: NaN wins, the second operand on a tie."""
    if a != a:
        return a
    return a if a < b else b


def maximum(a: float, b: float) -> float:
    """numpy.maximum: NaN wins, the second operand on a tie."""
    if a != a:
        return a
    return a if a > b else b


def fmin(a: float, b: float) -> float:
    """numpy.fmin: NaN loses, the first operand on a tie."""
    if b != b:
        return a
    if a != a:
        return b
    return b if b < a else a


def fmax(a: float, b: float) -> float:
    """numpy.fmax: NaN loses, the first operand on a tie."""
    if b != b:
        return a
    if a != a:
        return b
    return b if b > a else a


def clean(lo: float, hi: float) -> tuple[float, float]:
    return (-_INF if lo != lo else lo), (_INF if hi != hi else hi)


def div_end(a: float, b: float) -> float:
    if b == 0:
        if a == 0:
            return 0.0
        return _INF if a > 0 else -_INF if a < 0 else a
    return a / b


def hull(cands: list[float]) -> tuple[float, float]:
    lo = hi = cands[0]
    for c in cands[1:]:
        lo, hi = fmin(lo, c), fmax(hi, c)
    return clean(lo, hi)


def nan0(x: float) -> float:
    return 0.0 if x != x else x


def add(a, b):
    return clean(a[0] + b[0], a[1] + b[1])


def sub(a, b):
    return clean(a[0] - b[1], a[1] - b[0])


def mul(a, b):
    (al, ah), (bl, bh) = a, b
    return hull([nan0(al * bl), nan0(al * bh), nan0(ah * bl), nan0(ah * bh)])


def truediv(a, b):
    (al, ah), (bl, bh) = a, b
    lo, hi = hull([div_end(al, bl), div_end(al, bh), div_end(ah, bl), div_end(ah, bh)])
    if bl < 0 and bh >= 0 and not (al == 0 and ah == 0):
        return -_INF, _INF
    return lo, hi


def power(a, b):
    # numpy's power, as the array evaluator computes it (its last bit may differ from C's pow)
    p = np.array([b[0]])
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        lo = np.maximum(np.array([a[0]]), 0.0) ** p
        hi = np.maximum(np.array([a[1]]), 0.0) ** p
    return clean(float(lo[0]), float(hi[0]))


BINOPS = {ast.Add: add, ast.Sub: sub, ast.Mult: mul, ast.Div: truediv, ast.Pow: power}


def compare(kind, a, b) -> tuple[float, float]:
    (al, ah), (bl, bh) = a, b
    tol_lo = tol(bl)
    tol_hi = tol(bh)
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
        overlap = al <= bh + tol_hi and bl <= ah + tol(ah)
        lo, hi = (point, overlap) if kind is ast.Eq else (not overlap, not point)
    else:
        raise ExpressionError(f"comparison {kind.__name__} not supported on numbers")
    return (1.0 if lo else 0.0), (1.0 if hi else 0.0)


def both(parts):
    lo, hi = parts[0]
    for p in parts[1:]:
        lo, hi = minimum(lo, p[0]), minimum(hi, p[1])
    return lo, hi


def either(parts):
    lo, hi = parts[0]
    for p in parts[1:]:
        lo, hi = maximum(lo, p[0]), maximum(hi, p[1])
    return lo, hi


def floor(x: float) -> float:
    return x if not math.isfinite(x) or x == 0 else float(math.floor(x))


def call(name: str, args: list) -> tuple[float, float]:
    if name == "min" or name == "max":
        pick = minimum if name == "min" else maximum
        lo, hi = args[0]
        for a in args[1:]:
            lo, hi = pick(lo, a[0]), pick(hi, a[1])
        return lo, hi
    if name == "span":
        a, b = args
        return minimum(a[0], b[0]), maximum(a[1], b[1])
    if name == "floor":
        ((lo, hi),) = args
        return floor(lo + tol(lo)), floor(hi + tol(hi))
    total = args[0]
    for a in args[1:]:
        total = add(total, a)
    n = float(len(args))
    return truediv(total, (n, n))
