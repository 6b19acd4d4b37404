"""Lever amounts in closed form: how much more of a metric's lever field brings it to a threshold.

A metric names its ``lever`` (``rd_ratio = rd_expense / revenue`` is moved by R&D expense). The amount is
the smallest rise ``a >= 0`` of the lever with ``metric(lever + a) >= threshold`` at the firm's other
inputs, found by inverting the formula: each operation on the path from the metric down to the lever is
undone in turn (``t * revenue`` for a ratio, ``a * (1 + t) ** 2`` for a two-year CAGR, the nearer root of
either branch of a ``max``). Everything is vectorised over firms, so one call serves a firm or a million.

Arithmetic follows the point semantics of :mod:`webapp.engine.rules.expressions` (``x / 0`` is
``sign(x) * inf``, ``0 / 0`` is 0), so a lever that has no effect, or moves the metric the wrong way (a
negative base), gives no amount, as does a rise beyond the search range of earlier versions (doubling
from ``max(1, |current|)`` up to 1e12).

A metric whose lever cannot be solved this way (the lever on both sides of an operation, inside a
condition, a ``min`` or a ``mean``) is refused when the rule tables load (:func:`check_invertible`).
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping

import numpy as np

from webapp.engine.rules.floats import fmin, maximum

SEARCH_LIMIT = 1e12   # the largest rise looked for (doubling from max(1, |current|) until past it)
_NOISE = 1e-9         # a root this close below the current value (relative) is the current value
_FLOAT_MAX = float(np.finfo(np.float64).max)   # numpy.nan_to_num's stand-in for an infinity


class LeverError(ValueError):
    """A metric's lever cannot be solved in closed form."""


def check_invertible(name: str, metrics: Mapping) -> None:
    """Raise :class:`LeverError` naming the metric when its lever cannot be solved in closed form."""
    metric = metrics[name]
    if metric.lever and not _has(metric.expr.tree, metric.lever, metrics):
        raise LeverError(f"lever {metric.lever!r} does not appear in the formula")
    _check(metric.expr.tree, metric.lever, metrics)


def _check(node: ast.expr, lever: str, metrics: Mapping) -> None:
    if not lever or not _has(node, lever, metrics):
        return
    if isinstance(node, ast.Name):
        if node.id != lever:
            _check(metrics[node.id].expr.tree, lever, metrics)
        return
    if isinstance(node, ast.BinOp):
        sides = [s for s in (node.left, node.right) if _has(s, lever, metrics)]
        if len(sides) > 1 or (isinstance(node.op, ast.Pow) and sides[0] is node.right) or \
                not isinstance(node.op, ast.Add | ast.Sub | ast.Mult | ast.Div | ast.Pow):
            raise LeverError(f"cannot solve {ast.unparse(node)!r} for {lever}")
        _check(sides[0], lever, metrics)
        return
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        _check(node.operand, lever, metrics)
        return
    if isinstance(node, ast.Call) and node.func.id == "max":
        for arg in node.args:
            _check(arg, lever, metrics)
        return
    raise LeverError(f"cannot solve {ast.unparse(node)!r} for {lever}")


def _has(node: ast.expr, lever: str, metrics: Mapping) -> bool:
    for n in ast.walk(node):
        if isinstance(n, ast.Name) and (n.id == lever or (n.id in metrics and n.id != lever
                                                          and _has(metrics[n.id].expr.tree, lever, metrics))):
            return True
    return False


class LeverSolver:
    """Solve lever amounts for every firm of a judged frame.

    Parameters
    ----------
    metrics : mapping of str to Metric
        The rule set's derived metrics.
    value : callable
        ``value(node)`` -> float64 array: the point value per firm of a sub-expression that does not
        contain the lever (NaN where unknown), evaluated as the judge evaluates it.
    """

    def __init__(self, metrics: Mapping, value: Callable[[ast.expr], np.ndarray]):
        self.metrics = metrics
        self.value = value

    def amounts(self, name: str, threshold: float, current: np.ndarray, now: np.ndarray) -> np.ndarray:
        """Per firm, the rise of the lever of metric ``name`` that brings it to ``threshold``; NaN for none.

        Parameters
        ----------
        name : str
            A metric with a lever.
        threshold : float
            The value the metric must reach (``>=``).
        current : numpy.ndarray
            The lever field's value per firm.
        now : numpy.ndarray
            The metric's value per firm (NaN where unknown).
        """
        metric = self.metrics[name]
        target = np.full(len(current), float(threshold))
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            root = self._invert(metric.expr.tree, metric.lever, target, current)
            amount = root - current
            amount = np.where((amount < 0) & (amount >= -_NOISE * np.maximum(1.0, np.abs(current))), 0.0, amount)
        ok = np.isfinite(now) & (now < threshold) & np.isfinite(amount) & (amount >= 0) & \
            (amount <= search_limit(current))
        return np.where(ok, amount, np.nan)

    def _invert(self, node: ast.expr, lever: str, t: np.ndarray, current: np.ndarray) -> np.ndarray:
        """The lever value at which ``node`` equals ``t`` (per firm)."""
        if isinstance(node, ast.Name):
            return t if node.id == lever else self._invert(self.metrics[node.id].expr.tree, lever, t, current)
        if isinstance(node, ast.UnaryOp):
            return self._invert(node.operand, lever, -t if isinstance(node.op, ast.USub) else t, current)
        if isinstance(node, ast.Call):  # max: the nearest root above the current value of any branch
            best = np.full(len(t), np.inf)
            for arg in node.args:
                if _has(arg, lever, self.metrics):
                    root = self._invert(arg, lever, t, current)
                    root = np.where(root >= current - _NOISE * np.maximum(1.0, np.abs(current)), root, np.inf)
                else:  # a branch without the lever: already there, or never
                    root = np.where(self.value(arg) >= t, -np.inf, np.inf)
                best = np.fmin(best, root)
            return best
        left = _has(node.left, lever, self.metrics)
        side, other = (node.left, node.right) if left else (node.right, node.left)
        v = self.value(other)
        op = node.op
        if isinstance(op, ast.Add):
            inner = t - v
        elif isinstance(op, ast.Sub):
            inner = t + v if left else v - t
        elif isinstance(op, ast.Mult):
            inner = t / v
        elif isinstance(op, ast.Div):
            inner = t * v if left else v / t
        else:  # Pow with a lever-free exponent, over a non-negative base
            inner = np.where(t >= 0, np.maximum(t, 0.0) ** (1.0 / v), -np.inf)
        return self._invert(side, lever, inner, current)


    def amount_one(self, name: str, threshold: float, current: float, now: float) -> float:
        """:meth:`amounts` for one firm, in Python floats with numpy's results (NaN for none)."""
        metric = self.metrics[name]
        threshold = float(threshold)
        root = self._invert_one(metric.expr.tree, metric.lever, threshold, current)
        amount = root - current
        if amount < 0 and amount >= -_NOISE * maximum(1.0, abs(current)):
            amount = 0.0
        ok = math.isfinite(now) and now < threshold and math.isfinite(amount) and amount >= 0 and \
            amount <= search_limit_one(current)
        return amount if ok else math.nan

    def _invert_one(self, node: ast.expr, lever: str, t: float, current: float) -> float:
        """:meth:`_invert` for one firm."""
        if isinstance(node, ast.Name):
            return t if node.id == lever else self._invert_one(self.metrics[node.id].expr.tree, lever, t, current)
        if isinstance(node, ast.UnaryOp):
            return self._invert_one(node.operand, lever, -t if isinstance(node.op, ast.USub) else t, current)
        if isinstance(node, ast.Call):
            best = math.inf
            for arg in node.args:
                if _has(arg, lever, self.metrics):
                    root = self._invert_one(arg, lever, t, current)
                    if not root >= current - _NOISE * maximum(1.0, abs(current)):
                        root = math.inf
                else:
                    root = -math.inf if float(self.value(arg)[0]) >= t else math.inf
                best = fmin(best, root)
            return best
        left = _has(node.left, lever, self.metrics)
        side, other = (node.left, node.right) if left else (node.right, node.left)
        v = float(self.value(other)[0])
        op = node.op
        if isinstance(op, ast.Add):
            inner = t - v
        elif isinstance(op, ast.Sub):
            inner = t + v if left else v - t
        elif isinstance(op, ast.Mult):
            inner = _divide(t, v)
        elif isinstance(op, ast.Div):
            inner = t * v if left else _divide(v, t)
        elif t >= 0:  # Pow, through numpy as above (its last bit may differ from C's pow)
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                inner = float((np.maximum(np.array([t]), 0.0) ** np.array([_divide(1.0, v)]))[0])
        else:
            inner = -math.inf
        return self._invert_one(side, lever, inner, current)


def _divide(a: float, b: float) -> float:
    """``a / b`` as numpy divides: x / 0 is an infinity signed by both signs, 0 / 0 and NaN / 0 are NaN."""
    if b == 0:
        if a == 0 or a != a:
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


def search_limit_one(current: float) -> float:
    """:func:`search_limit` for one firm (the same doubling, in floats)."""
    hi = maximum(1.0, abs(0.0 if current != current else max(-_FLOAT_MAX, min(current, _FLOAT_MAX))))
    if not hi < SEARCH_LIMIT:
        return hi
    k = math.ceil(math.log2(SEARCH_LIMIT / hi))
    if k > 0 and math.ldexp(hi, k - 1) >= SEARCH_LIMIT:
        k -= 1
    if math.ldexp(hi, k) < SEARCH_LIMIT:
        k += 1
    return math.ldexp(hi, k)


def search_limit(current: np.ndarray) -> np.ndarray:
    """The largest rise looked for: ``max(1, |current|)`` doubled until it reaches 1e12.

    In closed form: ``m * 2**k`` for the smallest ``k >= 0`` that reaches the limit (doubling is exact, so
    this is the loop's value), ``k`` from ``log2`` and corrected by one step where its rounding missed.
    """
    hi = np.maximum(1.0, np.abs(np.nan_to_num(current)))
    below = hi < SEARCH_LIMIT
    if not below.any():
        return hi
    k = np.where(below, np.ceil(np.log2(SEARCH_LIMIT / hi)), 0.0).astype(np.int64)
    k = np.where((k > 0) & (np.ldexp(hi, k - 1) >= SEARCH_LIMIT), k - 1, k)
    k = np.where(np.ldexp(hi, k) < SEARCH_LIMIT, k + 1, k)
    return np.ldexp(hi, k)
