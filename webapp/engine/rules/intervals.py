"""Interval arithmetic behind rule expressions (:mod:`webapp.engine.rules.expressions`): per-firm ``[lo, hi]``
value ranges, the operations on them and the three-valued reading of a condition.

Comparisons tolerate floating-point rounding and nothing more: ``x >= t`` holds when
``x >= t - 1e-9 * max(1, |t|)``. Doubles carry about 1e-16 relative error, so a ratio of two decimals that
is 5% on paper (R&D 100.07 over revenue 2001.4 computes to 0.049999999999999996) and 0.049999999999 both
reach 5%; but the tolerance stays below one yuan (1e-4 万元) for every amount threshold up to 10亿 (100000
万元; the tables' largest is 80000), so total assets of 20000.0001 万元 fail ``total_assets <= 20000``.
"""

from __future__ import annotations

import ast
import functools
import math

import numpy as np

REL_TOL = 1e-9  # see the module docstring: rounding noise, not one yuan


class ExpressionError(ValueError):
    """A rule expression uses syntax or names outside the allowed subset."""


class Interval:
    """Per-firm value intervals; ``lo`` and ``hi`` are float64 arrays of equal length, never changed in place
    (the evaluator shares them between expressions)."""

    __slots__ = ("lo", "hi", "scalar")

    def __init__(self, lo: np.ndarray, hi: np.ndarray, scalar: float | None = None):
        self.lo = lo
        self.hi = hi
        self.scalar = scalar   # set for a constant, so comparisons with it stay scalar

    def __repr__(self) -> str:
        return f"Interval(lo={self.lo!r}, hi={self.hi!r})"

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


def _tol(x: np.ndarray | float) -> np.ndarray | float:
    if isinstance(x, float | int):
        return REL_TOL * max(1.0, abs(x)) if math.isfinite(x) else 0.0
    x = np.asarray(x, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(x), REL_TOL * np.maximum(1.0, np.abs(x)), 0.0)


# The evaluator runs these under one ``np.errstate`` (see :meth:`Evaluator.evaluate`), so they set none of
# their own: inf - inf, 0 * inf and x / 0 are dealt with explicitly below.

_NEG_INF, _POS_INF = -np.inf, np.inf


def _clean(lo: np.ndarray, hi: np.ndarray) -> Interval:
    # fmax/fmin ignore NaN: a NaN low end becomes -inf, a NaN high end +inf, anything else stays as it is
    return Interval(np.fmax(lo, _NEG_INF), np.fmin(hi, _POS_INF))


def _div(a: np.ndarray, b: np.ndarray, zero_b: np.ndarray | None = None) -> np.ndarray:
    """Endpoint quotient with x/0 = sign(x)*inf and 0/0 = 0; inf/inf stays NaN (ignored later); a quotient beyond
    the float range (a tiny denominator such as 1e-301) is +-inf."""
    q = a / b
    if zero_b is None:
        zero_b = b == 0
    if zero_b.any():
        q = np.where(zero_b, np.sign(a) * np.inf, q)
        q = np.where(zero_b & (a == 0), 0.0, q)
    return q


def _hull(cands: list[np.ndarray]) -> Interval:
    lo, hi = cands[0], cands[0]
    for c in cands[1:]:  # pairwise in order, as fmin.reduce over the stacked candidates
        lo, hi = np.fmin(lo, c), np.fmax(hi, c)
    return _clean(lo, hi)


def _binop(op: ast.operator, a: Interval, b: Interval) -> Interval:
    if isinstance(op, ast.Add):
        return _clean(a.lo + b.lo, a.hi + b.hi)
    if isinstance(op, ast.Sub):
        return _clean(a.lo - b.hi, a.hi - b.lo)
    if isinstance(op, ast.Mult):
        c = [a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi]
        c = [np.where(np.isnan(x), 0.0, x) for x in c]  # 0 * inf counts as 0
        return _hull(c)
    if isinstance(op, ast.Div):
        zero_lo = b.lo == 0
        zero_hi = zero_lo if b.hi is b.lo else b.hi == 0
        out = _hull([_div(a.lo, b.lo, zero_lo), _div(a.lo, b.hi, zero_hi), _div(a.hi, b.lo, zero_lo),
                     _div(a.hi, b.hi, zero_hi)])
        # A denominator that may be negative and reach 0 (an unknown net asset figure, min(d, 0)) can make the
        # quotient any number: the endpoints' quotients alone would understate it.
        straddles = (b.lo < 0) & (b.hi >= 0)
        if straddles.any():
            straddles &= ~((a.lo == 0) & (a.hi == 0))
            out = Interval(np.where(straddles, -np.inf, out.lo), np.where(straddles, np.inf, out.hi))
        return out
    if isinstance(op, ast.Pow):
        # Only a known, positive exponent on a non-negative base occurs (growth rates).
        p = b.lo
        return _clean(np.maximum(a.lo, 0.0) ** p, np.maximum(a.hi, 0.0) ** p)
    raise ExpressionError(f"operator {type(op).__name__} not supported")


def _compare(op: ast.cmpop, a: Interval, b: Interval) -> Interval:
    kind = type(op)
    t = b.scalar
    if t is not None and kind is not ast.Eq and kind is not ast.NotEq:
        # a constant on the right: numpy broadcasts it, and its tolerance is worked out once
        tol = _tol(t)
        if kind is ast.GtE:
            lo, hi = a.lo >= t - tol, a.hi >= t - tol
        elif kind is ast.Gt:
            lo, hi = a.lo > t + tol, a.hi > t + tol
        elif kind is ast.LtE:
            lo, hi = a.hi <= t + tol, a.lo <= t + tol
        elif kind is ast.Lt:
            lo, hi = a.hi < t - tol, a.lo < t - tol
        else:
            raise ExpressionError(f"comparison {kind.__name__} not supported on numbers")
        return Interval(lo.astype(float), hi.astype(float))
    tol_lo = _tol(b.lo)
    tol_hi = tol_lo if b.hi is b.lo else _tol(b.hi)
    if kind is ast.GtE:
        lo, hi = a.lo >= b.hi - tol_hi, a.hi >= b.lo - tol_lo
    elif kind is ast.Gt:
        lo, hi = a.lo > b.hi + tol_hi, a.hi > b.lo + tol_lo
    elif kind is ast.LtE:
        lo, hi = a.hi <= b.lo + tol_lo, a.lo <= b.hi + tol_hi
    elif kind is ast.Lt:
        lo, hi = a.hi < b.lo - tol_lo, a.lo < b.hi - tol_hi
    elif kind is ast.Eq or kind is ast.NotEq:
        # inf - inf: equal infinities are caught by the == test
        point = a.known & b.known & ((a.lo == b.lo) | (np.abs(a.lo - b.lo) <= tol_lo))
        overlap = (a.lo <= b.hi + tol_hi) & (b.lo <= a.hi + _tol(a.hi))
        lo, hi = point, overlap
        if kind is ast.NotEq:
            lo, hi = ~overlap, ~point
    else:
        raise ExpressionError(f"comparison {kind.__name__} not supported on numbers")
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
    sure = cond.lo >= 1
    if sure.all():
        return Interval(yes.lo, yes.hi)
    never = cond.hi <= 0
    if never.all():
        return Interval(no.lo, no.hi)
    lo = np.where(sure, yes.lo, np.where(never, no.lo, np.minimum(yes.lo, no.lo)))
    hi = np.where(sure, yes.hi, np.where(never, no.hi, np.maximum(yes.hi, no.hi)))
    return Interval(lo, hi)


def status_codes(result: Interval) -> np.ndarray:
    """Map a boolean interval to status codes: 1 met, 0 not met, -1 unknown."""
    if len(result.lo) == 1:  # one firm
        lo, hi = result.lo[0], result.hi[0]
        return np.array([1 if lo >= 1 else 0 if hi <= 0 else -1], dtype=np.int8)
    return np.where(result.lo >= 1, 1, np.where(result.hi <= 0, 0, -1)).astype(np.int8)
