"""Calibration of the boosted trees' score per level of information and per the engine's status of the tier.

Within a level of information (how much of the profile is known) the certification rate at a given tree
score still depends on the engine's status of the tier: a firm whose tier rules are all known and met and
one whose rules are undecided (fields hidden) can share a score and not a rate. How many firms of each
status a score bin holds depends on how many fields are hidden, so a map pooled over the statuses is
right only for the share of hidden fields it was fitted on. Each level therefore gets a grid of
certification rates over (status, score) that rises with both, fitted by two-dimensional isotonic
regression: rows and columns are projected in turn (Dykstra's algorithm, which converges to the weighted
least-squares fit under both orders).
"""

from __future__ import annotations

import functools
import math

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.isotonic import IsotonicRegression, isotonic_regression
from sklearn.utils.validation import check_is_fitted

from webapp.engine.readiness.forest import tree_scores

STATUSES = 3   # the status feature: 0 not met, 1 unknown, 2 met (ReadinessFeatures)
MIN_BINS = 20  # score bins of a grid however few its rows: fewer made a small model's grids too coarse


@functools.lru_cache(maxsize=64)
def _level_columns(known: tuple, quick: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Feature columns of the input fields, and positions among them of the quick-check fields and the others."""
    asked = np.searchsorted(known, quick)
    return np.asarray(known, dtype=np.intp), asked, np.setdiff1d(np.arange(len(known)), asked)


def _monotone_columns(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted isotonic regression of every column of a (3, n) grid along its 3 statuses, vectorised.

    Uses the max-min formula f_i = max over j <= i of min over k >= i of the weighted mean of j..k.
    """
    cum_w = np.vstack([np.zeros(values.shape[1]), np.cumsum(weights, axis=0)])
    cum_t = np.vstack([np.zeros(values.shape[1]), np.cumsum(values * weights, axis=0)])
    n = values.shape[0]
    out = np.empty_like(values)
    for i in range(n):
        best = np.full(values.shape[1], -np.inf)
        for j in range(i + 1):
            low = np.full(values.shape[1], np.inf)
            for k in range(i, n):
                low = np.minimum(low, (cum_t[k + 1] - cum_t[j]) / (cum_w[k + 1] - cum_w[j]))
            best = np.maximum(best, low)
        out[i] = best
    return out


def _rate_edges(prior: IsotonicRegression, step: float = 0.02) -> np.ndarray:
    """Scores where the pooled map crosses each multiple of ``step``: bins as fine in rate as in rows."""
    x, y = np.asarray(prior.X_thresholds_, float), np.asarray(prior.y_thresholds_, float)
    at = np.searchsorted(y, np.arange(step, 1.0, step), side="left")
    return x[at[at < len(x)]]


def _merged(which: np.ndarray, n_bins: int, rows: int) -> np.ndarray:
    """Bin of each row after merging neighbouring bins, left to right, until each holds ``rows`` rows."""
    counts = np.bincount(which, minlength=n_bins)
    group, g, acc = np.empty(n_bins, dtype=np.intp), 0, 0
    for i, c in enumerate(counts):
        group[i] = g
        acc += c
        if acc >= rows:
            g, acc = g + 1, 0
    if acc and g:   # a short last bin joins the one before it
        group[group == g] = g - 1
    return group[which]


def fit_grid(score: np.ndarray, status: np.ndarray, y: np.ndarray, prior: IsotonicRegression, *,
             quantiles: int = 100, prior_rows: float = 1.0, bin_rows: int = 0,
             max_iter: int = 300) -> tuple[np.ndarray, np.ndarray]:
    """Certification rates over (status, score bin), non-decreasing along both.

    Parameters
    ----------
    score, status, y : numpy.ndarray
        Tree scores, statuses (0, 1, 2) and outcomes (0/1) of the calibration rows.
    prior : IsotonicRegression
        The map fitted on the same rows pooled over the statuses. Its steps, refined by ``quantiles``
        quantiles of the score, are the score bins (as fine as the data support, also where few rows fall),
        and each cell is shrunk towards it by ``prior_rows`` pseudo-rows, so a status with few rows in a bin
        follows the pooled rate instead of its own noise.

    Returns
    -------
    centers : numpy.ndarray
        Mean score of each bin, increasing.
    values : numpy.ndarray, shape (3, n_bins)
        Rates per status and bin; predictions interpolate along ``centers`` within the row's status.
    """
    edges = np.unique(np.concatenate([np.quantile(score, np.linspace(0, 1, quantiles + 1)),
                                      _rate_edges(prior) if bin_rows else np.asarray(prior.X_thresholds_, float)]))
    which = np.searchsorted(edges[1:-1], score, side="right")
    if bin_rows:   # merge neighbouring bins until each holds bin_rows rows (fewer when the rows are few)
        which = _merged(which, len(edges) - 1, min(bin_rows, max(len(score) // MIN_BINS, 1)))
        edges = np.arange(which.max() + 2)
    counts = np.bincount(which, minlength=len(edges) - 1)
    used = np.flatnonzero(counts)
    which = np.searchsorted(used, which)   # drop empty bins
    nb = len(used)
    centers = np.bincount(which, weights=score, minlength=nb) / counts[used]
    cell = status.astype(np.intp) * nb + which
    w = np.bincount(cell, minlength=STATUSES * nb).reshape(STATUSES, nb).astype(float)
    t = np.bincount(cell, weights=y.astype(float), minlength=STATUSES * nb).reshape(STATUSES, nb)
    q = prior.predict(centers)
    weights = w + prior_rows
    target = (t + prior_rows * q) / weights
    x, p, r = target.copy(), np.zeros_like(target), np.zeros_like(target)
    for _ in range(max_iter):   # Dykstra: alternate the projections on the two orders
        z = x + p
        rows = np.vstack([isotonic_regression(z[s], sample_weight=weights[s], y_min=0.0, y_max=1.0)
                          for s in range(STATUSES)])
        p = z - rows
        z = rows + r
        nxt = _monotone_columns(z, weights)
        r = z - nxt
        done = np.max(np.abs(nxt - x)) < 1e-7
        x = nxt
        if done:
            break
    x = np.maximum.accumulate(np.maximum.accumulate(np.clip(x, 0.0, 1.0), axis=0), axis=1)   # exact orders
    return centers, x


class InformationCalibratedClassifier(ClassifierMixin, BaseEstimator):
    """Calibrate a fitted classifier's score per level of information and per the tier's engine status.

    A quick check, a half-filled form and a full profile with the same tree score need not share a
    certification rate (the trees see fewer inputs in the first), so one map fitted on the mixture is
    under-confident for full profiles and over-confident for sparse ones. The level is read from which
    input fields are known:

    * level 0, *quick*: no field outside the quick-check fields is known and at least ``quick_share`` of
      them are (the quick check; a profile with next to nothing known is a partial one of the lowest share);
    * levels 1 .. len(edges) + 1, *partial*: the share of input fields known, cut at ``edges``;
    * the last level, *full*: at least ``full_share`` of the input fields are known (a complete form still
      leaves a few conditional fields empty, such as the rank of an award the firm never won).

    Within a level, the rate is a grid over the tier's status (not met, unknown, met: feature column
    ``status``) and the score, non-decreasing in both (:func:`fit_grid`). A level with fewer than
    ``min_rows`` calibration rows, or only one outcome, uses the grid fitted on every row. A change of a
    known field's value never changes the level and never lowers the status or the score of a field
    constrained +1 when it rises, so the trees' monotonic constraints carry through to the probabilities.

    Parameters
    ----------
    estimator : classifier
        Already fitted (wrap it in ``sklearn.frozen.FrozenEstimator``); only its ``decision_function``
        is used and ``fit`` never refits it.
    known : tuple of int
        Feature columns of the input fields (NaN = unknown).
    quick : tuple of int
        Those of them asked by the quick check.
    edges : tuple of float
        Upper ends (inclusive) of the partial levels' shares of known input fields, but the last.
    full_share : float
        Share of known input fields from which a profile counts as full.
    quick_share : float
        Share of the quick-check fields a quick profile has known.
    min_rows : int
        Calibration rows a level needs for its own grid.
    status : int or None
        Feature column of the tier's engine status (0, 1, 2); None calibrates on the score alone.
    prior_rows : float
        Pseudo-rows shrinking each (status, bin) cell towards the level's map pooled over statuses.
    bin_rows, quantiles : int
        Score bins of a grid: equal-count bins of ``bin_rows`` rows (at least ``MIN_BINS``, at most
        ``quantiles`` of them); ``bin_rows=0`` takes ``quantiles`` quantiles refined by the steps of the pooled
        isotonic map (finer, and noisier where few rows fall).
    """

    def __init__(self, estimator=None, known: tuple = (), quick: tuple = (), edges: tuple = (0.4, 0.7),
                 full_share: float = 0.95, min_rows: int = 500, status: int | None = None,
                 prior_rows: float = 1.0, quick_share: float = 0.5, bin_rows: int = 0, quantiles: int = 100):
        self.estimator = estimator
        self.known = known
        self.quick = quick
        self.edges = edges
        self.full_share = full_share
        self.min_rows = min_rows
        self.status = status
        self.prior_rows = prior_rows
        self.quick_share = quick_share
        self.bin_rows = bin_rows
        self.quantiles = quantiles

    @property
    def n_levels(self) -> int:
        """Quick, the partial bands and full."""
        return len(self.edges) + 3

    def level(self, X: np.ndarray) -> np.ndarray:
        """Level of information of each row of the feature matrix ``X`` (0 quick ... n_levels - 1 full)."""
        return self._share_level(X)[1]

    def level_key(self) -> tuple:
        """What :meth:`_share_level` depends on besides ``X``: calibrators with equal keys give every row the same
        share and level, which :meth:`certified` may then be given instead of working them out again."""
        return tuple(self.known), tuple(self.quick), tuple(self.edges), self.full_share, self.quick_share

    def _share_level(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Share of input fields known and level of information of each row."""
        columns, asked, others = _level_columns(tuple(self.known), tuple(self.quick))
        known = ~np.isnan(X[:, columns])
        share = known.mean(axis=1)
        level = 1 + np.digitize(share, np.asarray(self.edges, dtype=float), right=True)
        asked_known = known[:, asked].sum(axis=1) >= self.quick_share * len(asked) if len(asked) else False
        level = np.where(~known[:, others].any(axis=1) & asked_known, 0, level)
        return share, np.where(share >= self.full_share, self.n_levels - 1, level)

    def _status(self, X: np.ndarray) -> np.ndarray:
        if self.status is None:
            return np.ones(len(X), dtype=np.intp)
        status = X[:, self.status]
        return np.clip(np.where(np.isnan(status), 1.0, status), 0, STATUSES - 1).astype(np.intp)

    def fit(self, X, y):
        """Fit the global grid and one grid per level with enough rows of both outcomes."""
        X, y = np.asarray(X, dtype=np.float64), np.asarray(y).astype(int)
        return self.fit_scores(*self.inputs(X), y)

    def inputs(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """What the grids read of each row of the feature matrix ``X``: the trees' score, the share of input
        fields known, the level of information and the tier's status (the fit needs nothing else, so
        calibration rows can be reduced to these block by block)."""
        if list(self.quick) != sorted(set(self.quick) & set(self.known)):
            raise ValueError("quick columns must be a sorted subset of the known columns")
        X = np.asarray(X, dtype=np.float64)
        share, level = self._share_level(X)
        return self.estimator.decision_function(X), share, level, self._status(X)

    def fit_scores(self, score: np.ndarray, share: np.ndarray, level: np.ndarray, status: np.ndarray, y):
        """Fit from the calibration rows' :meth:`inputs` and outcomes ``y`` (0/1)."""
        y = np.asarray(y).astype(int)

        def grid(mask):
            prior = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(score[mask], y[mask])
            return fit_grid(score[mask], status[mask], y[mask], prior, prior_rows=self.prior_rows,
                            bin_rows=self.bin_rows, quantiles=self.quantiles)

        self.global_ = grid(np.ones(len(y), dtype=bool))
        self.grids_, self.level_rows_, self.level_shares_ = [], [], []
        for k in range(self.n_levels):
            inside = level == k
            both = 0 < y[inside].sum() < inside.sum()
            self.grids_.append(grid(inside) if inside.sum() >= self.min_rows and both else None)
            self.level_rows_.append(int(inside.sum()))
            self.level_shares_.append(float(share[inside].mean()) if inside.any() else float("nan"))
        self.classes_ = np.array([0, 1])
        return self

    def _grid_proba(self, k: int, score: np.ndarray, status: np.ndarray) -> np.ndarray:
        """Level ``k``'s grid (the global one when the level has none) at these scores and statuses."""
        centers, values = self.grids_[k] if self.grids_[k] is not None else self.global_
        first = status[0] if len(status) else 0
        if (status == first).all():
            return np.interp(score, centers, values[first])
        out = np.empty(len(score))
        for s in range(STATUSES):
            rows = status == s
            if rows.any():
                out[rows] = np.interp(score[rows], centers, values[s])
        return out

    def predict_proba(self, X):
        """Calibrated probabilities, shape (n, 2): columns for not certified and certified."""
        p = self.certified(X)
        return np.column_stack([1.0 - p, p])

    def certified(self, X, share_level: tuple[np.ndarray, np.ndarray] | None = None,
                  score: np.ndarray | None = None) -> np.ndarray:
        """Calibrated probability of certification per row of ``X`` (the second column of predict_proba).

        A partial profile's rate is interpolated linearly in its share of known fields between the grids
        of the partial levels whose calibration rows' mean shares bracket it (the rate at a given score
        moves with the share even inside one level); quick and full profiles use their level's grid.
        The trees are walked without scikit-learn's per-call checks (:func:`~.forest.tree_scores`), and each
        grid is interpolated once for all the rows that read it with the same status. ``share_level``: the rows'
        share and level (:meth:`_share_level`) when already worked out by a calibrator of the same
        :meth:`level_key`; ``score``: the trees' raw score of the rows (``decision_function``), when already walked.
        """
        if "grids_" not in self.__dict__:
            check_is_fitted(self, "grids_")
        X = np.asarray(X, dtype=np.float64)
        score = tree_scores(self.estimator, X) if score is None else score
        (share, level), status = share_level or self._share_level(X), self._status(X)
        p = np.zeros(len(X))
        last = self.n_levels - 1
        ends = (level == 0) | (level == last)
        if ends.any():
            rows = np.flatnonzero(ends)
            p[rows] = self._grids_at(level[rows], score[rows], status[rows])
        partial = np.flatnonzero(~ends)
        anchors = [k for k in range(1, last) if math.isfinite(self.level_shares_[k])]
        if len(partial) and anchors:
            at = np.asarray([self.level_shares_[k] for k in anchors])
            pos = np.interp(share[partial], at, np.arange(len(anchors), dtype=float))   # clamped at the ends
            lower = np.floor(pos).astype(np.intp)
            weight = pos - lower
            grids = np.asarray(anchors, dtype=np.intp)
            score, status = score[partial], status[partial]
            # the lower anchor's rate, then the upper one's where it weighs (in this order, as a sum of two)
            p[partial] += (1.0 - weight) * self._grids_at(grids[lower], score, status)
            up = np.flatnonzero(weight > 0)
            if len(up):
                p[partial[up]] += weight[up] * self._grids_at(grids[lower[up] + 1], score[up], status[up])
        return p

    def _grids_at(self, levels: np.ndarray, score: np.ndarray, status: np.ndarray) -> np.ndarray:
        """Each row's rate on the grid of its level (``levels``) at its score and status: one interpolation per
        (level, status) the rows hold."""
        if (levels == levels[0]).all():   # one firm and its moved copies mostly share their level
            return self._grid_proba(int(levels[0]), score, status)
        out = np.empty(len(score))
        for k in np.unique(levels).tolist():
            rows = np.flatnonzero(levels == k)
            out[rows] = self._grid_proba(k, score[rows], status[rows])
        return out

    def predict(self, X):
        """1 where the calibrated probability is at least 0.5."""
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)
