"""Judge profiles against rule tables: per-criterion statuses and points, vectorised over firms."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from webapp import fields
from webapp.engine.rules.expressions import Evaluator, Interval, _tol, status_codes
from webapp.engine.rules.rulebook import Brackets, Criterion, RuleSet, Tier

MET, NOT_MET, UNKNOWN = 1, 0, -1
STATUS_NAMES = np.array(["unknown", "not_met", "met"], dtype=object)  # index = code + 1
VIA_NAMES = (None, "held", "eligible")


@dataclass
class CriterionResult:
    """Vectorised result of one criterion: status codes, points range, deciding route."""

    status: np.ndarray                      # int8: 1 met, 0 not met, -1 unknown
    points_lo: np.ndarray | None = None
    points_hi: np.ndarray | None = None
    route: np.ndarray | None = None         # int16 index into the criterion's routes, -1 none
    via: np.ndarray | None = None           # int8 index into VIA_NAMES


@dataclass
class TierResult:
    """Vectorised result of one tier."""

    status: np.ndarray
    score_lo: np.ndarray | None
    score_hi: np.ndarray | None
    route: dict[int, np.ndarray]            # position of an any-of group in `requires` -> route index


def status_names(codes: np.ndarray) -> np.ndarray:
    """Map status codes to 'met' / 'not_met' / 'unknown'."""
    return STATUS_NAMES[np.asarray(codes, dtype=np.int64) + 1]


def _rank(status: np.ndarray) -> np.ndarray:
    """not met < unknown < met, as 0 < 1 < 2, so Kleene AND is min and OR is max."""
    return np.where(status == UNKNOWN, 1, status * 2).astype(np.int8)


def _unrank(rank: np.ndarray) -> np.ndarray:
    return np.where(rank == 1, UNKNOWN, rank // 2).astype(np.int8)


def kleene_and(statuses: list[np.ndarray]) -> np.ndarray:
    """Kleene AND of status-code arrays."""
    if not statuses:
        raise ValueError("kleene_and needs at least one operand")
    return _unrank(functools.reduce(np.minimum, [_rank(s) for s in statuses]))


def kleene_or(statuses: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Kleene OR of status-code arrays, with the index of the first met operand (-1 when none)."""
    status = _unrank(functools.reduce(np.maximum, [_rank(s) for s in statuses]))
    route = np.full(status.shape, -1, dtype=np.int16)
    for j in range(len(statuses) - 1, -1, -1):
        route = np.where(statuses[j] == MET, j, route).astype(np.int16)
    return status, route


class FieldIntervals:
    """Resolve field, metric and flag names to intervals for a clean profiles frame."""

    def __init__(self, clean: pd.DataFrame, metrics: dict, *, review: bool = False):
        self.n = len(clean)
        self.clean = clean
        self.metrics = metrics
        self.flags = {"review": float(bool(review))}
        self._cache: dict[str, Interval] = {}
        enums = {}
        for spec in fields.REGISTRY:
            if spec.kind == "enum":
                col = clean[spec.name]
                codes = col.cat.codes.to_numpy() if isinstance(col.dtype, pd.CategoricalDtype) else \
                    pd.Categorical(col, categories=spec.choices).codes
                enums[spec.name] = (np.asarray(codes, dtype=np.int16), spec.choices)
        self.evaluator = Evaluator(self.n, self.resolve, enums)

    def resolve(self, name: str) -> Interval:
        """Interval of a field (bounds where unknown), a derived metric or a flag."""
        if name in self._cache:
            return self._cache[name]
        if name in self.flags:
            res = Interval.const(self.flags[name], self.n)
        elif name in self.metrics:
            res = self.evaluator.evaluate(self.metrics[name].expr)
        else:
            spec = fields.FIELDS[name]
            vals = self.clean[name].to_numpy(dtype=float, na_value=np.nan)
            lo_b = 0.0 if spec.kind == "bool" else (-np.inf if spec.lo is None else spec.lo)
            hi_b = 1.0 if spec.kind == "bool" else (np.inf if spec.hi is None else spec.hi)
            unknown = np.isnan(vals)
            res = Interval(np.where(unknown, lo_b, vals), np.where(unknown, hi_b, vals))
        self._cache[name] = res
        return res

    def point(self, name: str) -> np.ndarray:
        """Known value of a numeric name, NaN where unknown."""
        return self.resolve(name).point()


def bracket_points(b: Brackets, value: Interval) -> tuple[np.ndarray, np.ndarray]:
    """Points range reachable by ``value`` over brackets ``b`` (edges inclusive)."""
    edges = np.asarray(b.edges)
    pts = np.asarray(b.points + (b.otherwise,))

    def index(v: np.ndarray) -> np.ndarray:
        if b.at_most:
            return (v[:, None] > edges[None, :] + _tol(edges)[None, :]).sum(axis=1)
        return (v[:, None] < edges[None, :] - _tol(edges)[None, :]).sum(axis=1)

    i_lo, i_hi = index(value.lo), index(value.hi)
    first, last = np.minimum(i_lo, i_hi), np.maximum(i_lo, i_hi)
    p_lo = np.full(len(first), np.inf)
    p_hi = np.full(len(first), -np.inf)
    for j, p in enumerate(pts):
        inside = (first <= j) & (j <= last)
        p_lo = np.where(inside, np.minimum(p_lo, p), p_lo)
        p_hi = np.where(inside, np.maximum(p_hi, p), p_hi)
    return p_lo, p_hi


def _scored_status(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return np.where(lo != hi, UNKNOWN, np.where(lo > 0, MET, NOT_MET)).astype(np.int8)


class Judge:
    """Evaluate every criterion and tier of a rule set over a clean profiles frame."""

    def __init__(self, clean: pd.DataFrame, ruleset: RuleSet, *, review: bool = False):
        self.ruleset = ruleset
        self.env = FieldIntervals(clean, ruleset.metrics, review=review)
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
        composite = ("score_pass", "any_of")
        for crit in [c for c in crits if c.form not in composite] + [c for c in crits if c.form in composite]:
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
        return _FORMS[crit.form](self, crit, tier)

    def _test(self, crit: Criterion, tier: Tier) -> CriterionResult:
        if crit.routes:
            statuses = [status_codes(self.env.evaluator.evaluate(r.test)) for r in crit.routes]
            status, route = kleene_or(statuses)
            return CriterionResult(status, route=route)
        return CriterionResult(status_codes(self.env.evaluator.evaluate(crit.test)))

    def _brackets(self, crit: Criterion, tier: Tier) -> CriterionResult:
        ranges = [bracket_points(b, self.env.evaluator.evaluate(b.metric)) for b in crit.options]
        lo = np.maximum.reduce([r[0] for r in ranges])
        hi = np.maximum.reduce([r[1] for r in ranges])
        return CriterionResult(_scored_status(lo, hi), lo, hi)

    def _points(self, crit: Criterion, tier: Tier) -> CriterionResult:
        res = self.env.evaluator.evaluate(crit.points)
        lo = np.clip(res.lo, 0, crit.max_points)
        hi = np.clip(res.hi, 0, crit.max_points)
        return CriterionResult(_scored_status(lo, hi), lo, hi)

    def _score_pass(self, crit: Criterion, tier: Tier) -> CriterionResult:
        score = Interval(np.sum([self.criteria[c].points_lo for c in tier.score], axis=0),
                         np.sum([self.criteria[c].points_hi for c in tier.score], axis=0))
        parts = [_at_least(score, crit.score_at_least)]
        for sub in crit.sub_minimums:
            total = Interval(np.sum([self.criteria[c].points_lo for c in sub["of"]], axis=0),
                             np.sum([self.criteria[c].points_hi for c in sub["of"]], axis=0))
            if "above" in sub:
                parts.append(status_codes(Interval((total.lo > sub["above"]).astype(float),
                                                   (total.hi > sub["above"]).astype(float))))
            else:
                parts.append(_at_least(total, sub["at_least"]))
        options = [kleene_and(parts)] + [self.criteria[r.id].status for r in crit.routes]
        status, route = kleene_or(options)
        return CriterionResult(status, route=route)  # route 0 = the score, j+1 = routes[j]

    def _any_of(self, crit: Criterion, tier: Tier) -> CriterionResult:
        options = [kleene_and([self.criteria[c].status for c in r.all_of]) for r in crit.routes]
        status, route = kleene_or(options)
        return CriterionResult(status, route=route)

    def _prerequisite(self, crit: Criterion, tier: Tier) -> CriterionResult:
        held = [status_codes(self.env.resolve(t)) for t in crit.titles]
        eligible = [self.tiers[t].status for t in crit.eligible if t in self.tiers]
        held_status, _ = kleene_or(held)
        status, _ = kleene_or([held_status] + eligible) if eligible else (held_status, None)
        via = np.where(held_status == MET, 1, 0)
        if eligible:
            elig_status, _ = kleene_or(eligible)
            via = np.where((via == 0) & (elig_status == MET), 2, via)
        if crit.also is not None:
            status = kleene_and([status, status_codes(self.env.evaluator.evaluate(crit.also))])
        return CriterionResult(status, via=via.astype(np.int8))

    def _manual(self, crit: Criterion, tier: Tier) -> CriterionResult:
        return CriterionResult(np.full(self.n, UNKNOWN, dtype=np.int8))


def _at_least(score: Interval, bar: float) -> np.ndarray:
    return status_codes(Interval((score.lo >= bar - 1e-9).astype(float), (score.hi >= bar - 1e-9).astype(float)))


_FORMS = {
    "test": Judge._test,
    "brackets": Judge._brackets,
    "best_of": Judge._brackets,
    "points": Judge._points,
    "score_pass": Judge._score_pass,
    "any_of": Judge._any_of,
    "prerequisite": Judge._prerequisite,
    "manual": Judge._manual,
}
RULE_FORMS = tuple(_FORMS)  # the evaluator forms a rule table may name (checked against rulebook)
