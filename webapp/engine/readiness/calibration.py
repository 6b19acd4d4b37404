"""Isotonic calibration of the boosted trees' score, fitted per level of information a profile carries."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.isotonic import IsotonicRegression
from sklearn.utils.validation import check_is_fitted


class InformationCalibratedClassifier(ClassifierMixin, BaseEstimator):
    """Calibrate a fitted classifier's score with one isotonic map per level of information.

    A quick check, a half-filled form and a full profile with the same tree score need not share a
    certification rate (the trees see fewer inputs in the first), so one map fitted on the mixture is
    under-confident for full profiles and over-confident for sparse ones. The level is read from which
    input fields are known:

    * level 0, *quick*: no field outside the quick-check fields is known (the quick check, or less);
    * levels 1 .. len(edges) + 1, *partial*: the share of input fields known, cut at ``edges``;
    * the last level, *full*: at least ``full_share`` of the input fields are known (a complete form still
      leaves a few conditional fields empty, such as the rank of an award the firm never won).

    A level with fewer than ``min_rows`` calibration rows, or only one outcome, uses the map fitted on
    every row. Each map is isotonic (non-decreasing) in the score, and a change of a known field's value
    never changes the level, so the trees' monotonic constraints carry through to the probabilities.

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
    min_rows : int
        Calibration rows a level needs for its own map.
    """

    def __init__(self, estimator=None, known: tuple = (), quick: tuple = (), edges: tuple = (0.4, 0.7),
                 full_share: float = 0.95, min_rows: int = 500):
        self.estimator = estimator
        self.known = known
        self.quick = quick
        self.edges = edges
        self.full_share = full_share
        self.min_rows = min_rows

    @property
    def n_levels(self) -> int:
        """Quick, the partial bands and full."""
        return len(self.edges) + 3

    def level(self, X: np.ndarray) -> np.ndarray:
        """Level of information of each row of the feature matrix ``X`` (0 quick ... n_levels - 1 full)."""
        known = ~np.isnan(X[:, np.asarray(self.known, dtype=np.intp)])
        others = np.setdiff1d(np.arange(len(self.known)), np.searchsorted(self.known, self.quick))
        share = known.mean(axis=1)
        level = 1 + np.digitize(share, np.asarray(self.edges, dtype=float), right=True)
        level = np.where(known[:, others].any(axis=1), level, 0)
        return np.where(share >= self.full_share, self.n_levels - 1, level)

    def fit(self, X, y):
        """Fit the global map and one map per level with enough rows of both outcomes."""
        X, y = np.asarray(X, dtype=np.float64), np.asarray(y).astype(int)
        if list(self.quick) != sorted(set(self.quick) & set(self.known)):
            raise ValueError("quick columns must be a sorted subset of the known columns")
        score = self.estimator.decision_function(X)
        level = self.level(X)

        def isotonic(mask):
            return IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(score[mask], y[mask])

        self.global_ = isotonic(np.ones(len(y), dtype=bool))
        self.calibrators_ = []
        self.level_rows_ = []
        for k in range(self.n_levels):
            inside = level == k
            both = 0 < y[inside].sum() < inside.sum()
            self.calibrators_.append(isotonic(inside) if inside.sum() >= self.min_rows and both else None)
            self.level_rows_.append(int(inside.sum()))
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X):
        """Calibrated probabilities, shape (n, 2): columns for not certified and certified."""
        p = self.certified(X)
        return np.column_stack([1.0 - p, p])

    def certified(self, X) -> np.ndarray:
        """Calibrated probability of certification per row of ``X`` (the second column of predict_proba).

        Each row is mapped once: by its level's map, or by the global map where its level has none.
        """
        check_is_fitted(self, "calibrators_")
        X = np.asarray(X, dtype=np.float64)
        score = self.estimator.decision_function(X)
        level = self.level(X)
        p = np.empty(len(score), dtype=np.float64)
        rest = np.ones(len(score), dtype=bool)
        for k, calibrator in enumerate(self.calibrators_):
            inside = level == k
            if calibrator is not None and inside.any():
                p[inside] = _isotonic(calibrator, score[inside])
                rest &= ~inside
        if rest.any():
            p[rest] = _isotonic(self.global_, score[rest])
        return p

    def predict(self, X):
        """1 where the calibrated probability is at least 0.5."""
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)


def _isotonic(calibrator: IsotonicRegression, score: np.ndarray) -> np.ndarray:
    """``calibrator.predict(score)`` for a 1-d float64 score, without its input checks (a few calls a request):
    the same clip to the fitted range and the same interpolation function, so the same numbers."""
    if calibrator.out_of_bounds != "clip" or not hasattr(calibrator, "f_"):
        return calibrator.predict(score)
    return np.asarray(calibrator.f_(np.clip(score, calibrator.X_min_, calibrator.X_max_)), dtype=np.float64)
