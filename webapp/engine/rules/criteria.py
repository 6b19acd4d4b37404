"""Judge profiles against rule tables: per-criterion statuses and points, vectorised over firms."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from webapp import fields
from webapp.engine.rules.expressions import Evaluator, Interval
from webapp.engine.rules.rulebook import Criterion, RuleSet, Tier
from webapp.engine.rules.status import (
    MET,
    NOT_MET,
    STATUS_NAMES,
    UNKNOWN,
    VIA_NAMES,
    CriterionResult,
    bracket_points,
    kleene_and,
    kleene_or,
    status_names,
)

__all__ = ["MET", "NOT_MET", "STATUS_NAMES", "UNKNOWN", "VIA_NAMES", "CriterionResult", "FieldIntervals", "Judge",
           "TierResult", "bracket_points", "kleene_and", "kleene_or", "status_names"]


@dataclass
class TierResult:
    """Vectorised result of one tier."""

    status: np.ndarray
    score_lo: np.ndarray | None
    score_hi: np.ndarray | None
    route: dict[int, np.ndarray]            # position of an any-of group in `requires` -> route index


def _bounds(spec) -> tuple[float, float]:
    """What a field can take when unknown: 0-1 for a yes/no, else its bounds (open where it has none)."""
    if spec.kind == "bool":
        return 0.0, 1.0
    return (-np.inf if spec.lo is None else spec.lo), (np.inf if spec.hi is None else spec.hi)


_BOUNDS = {spec.name: _bounds(spec) for spec in fields.REGISTRY if spec.kind != "enum"}


class FieldIntervals:
    """Resolve field, metric and flag names to intervals for a clean profiles frame.

    ``columns`` (optional) holds the frame's values as one array per field, as
    :func:`webapp.engine.io.inputs.validate_columns` gives them; a field it lacks is read from the frame.
    """

    def __init__(self, clean: pd.DataFrame, metrics: dict, *, review: bool = False,
                 columns: Mapping[str, np.ndarray] | None = None):
        self.n = len(clean)
        self.clean = clean
        self.metrics = metrics
        self.columns = columns or {}
        self.flags = {"review": float(bool(review))}
        self._cache: dict[str, Interval] = {}
        self._pairs: dict[str, tuple[float, float]] = {}
        self._points: dict[str, np.ndarray] = {}
        enums = {}
        for spec in fields.REGISTRY:
            if spec.kind == "enum":
                codes = self.columns.get(spec.name)
                if codes is None:
                    col = clean[spec.name]
                    codes = col.cat.codes.to_numpy() if isinstance(col.dtype, pd.CategoricalDtype) else \
                        pd.Categorical(col, categories=spec.choices).codes
                enums[spec.name] = (np.asarray(codes, dtype=np.int16), spec.choices)
        self.evaluator = Evaluator(self.n, self.resolve, enums, scalar=self.scalar)

    def resolve(self, name: str) -> Interval:
        """Interval of a field (bounds where unknown), a derived metric or a flag."""
        res = self._cache.get(name)
        if res is not None:
            return res
        if name in self.flags:
            res = self.evaluator.const(self.flags[name])
        elif name in self.metrics:
            res = self.evaluator.evaluate(self.metrics[name].expr)
        else:
            vals = self.columns.get(name)
            if vals is None:
                vals = self.clean[name].to_numpy(dtype=float, na_value=np.nan)
            unknown = np.isnan(vals)
            if unknown.any():
                lo_b, hi_b = _BOUNDS[name]
                res = Interval(np.where(unknown, lo_b, vals), np.where(unknown, hi_b, vals))
            else:
                res = Interval(vals, vals)
        self._cache[name] = res
        return res

    def scalar(self, name: str) -> tuple[float, float]:
        """For a frame of one firm, :meth:`resolve` as a ``(lo, hi)`` pair of floats."""
        res = self._pairs.get(name)
        if res is None:
            if name in self.flags:
                res = (self.flags[name], self.flags[name])
            elif name in self.metrics:
                res = self.evaluator.evaluate_scalar(self.metrics[name].expr.tree)
            elif name in self.columns and name in _BOUNDS:
                v = float(self.columns[name][0])
                res = (float(_BOUNDS[name][0]), float(_BOUNDS[name][1])) if v != v else (v, v)
            if res is None:
                interval = self.resolve(name)
                res = (float(interval.lo[0]), float(interval.hi[0]))
            self._pairs[name] = res
        return res

    def point(self, name: str) -> np.ndarray:
        """Known value of a numeric name, NaN where unknown (worked out once per name)."""
        if name not in self._points:
            if self.n == 1:  # one firm: from the pair, as Interval.point takes it from the arrays
                lo, hi = self.scalar(name)
                self._points[name] = np.array([lo if lo == hi else np.nan])
            else:
                self._points[name] = self.resolve(name).point()
        return self._points[name]


class Judge:
    """Evaluate every criterion and tier of a rule set over a clean profiles frame (``columns``: see
    :class:`FieldIntervals`)."""

    def __init__(self, clean: pd.DataFrame, ruleset: RuleSet, *, review: bool = False,
                 columns: Mapping[str, np.ndarray] | None = None):
        self.ruleset = ruleset
        self.env = FieldIntervals(clean, ruleset.metrics, review=review, columns=columns)
        self.n = len(clean)
        self.criteria: dict[str, CriterionResult] = {}
        self.tiers: dict[str, TierResult] = {}

    def run(self) -> Judge:
        """Judge all tiers in ladder order (a prerequisite may need a lower tier's status)."""
        for tier in self.ruleset.tiers.values():
            self._judge_tier(tier)
        return self

    # -- tiers
    def _judge_tier(self, tier: Tier) -> None:
        crits = [self.ruleset.criteria[c] for c in tier.criteria]
        # a composite form reads the results of the tier's other criteria: judge it after them
        for crit in [c for c in crits if not c.handler.composite] + [c for c in crits if c.handler.composite]:
            if crit.id not in self.criteria:
                self.criteria[crit.id] = self._judge(crit, tier)
        score_lo = score_hi = None
        if tier.score:
            score_lo = np.sum([self.criteria[c].points_lo for c in tier.score], axis=0)
            score_hi = np.sum([self.criteria[c].points_hi for c in tier.score], axis=0)
        parts, routes = [], {}
        for pos, req in enumerate(tier.requires):
            if isinstance(req, tuple):
                status, route = kleene_or([self.criteria[c].status for c in req])
                routes[pos] = route
                parts.append(status)
            else:
                parts.append(self.criteria[req].status)
        self.tiers[tier.id] = TierResult(kleene_and(parts), score_lo, score_hi, routes)

    # -- criteria
    def _judge(self, crit: Criterion, tier: Tier) -> CriterionResult:
        return crit.handler.evaluate(self, crit, tier)
