"""Isotonic calibration of the boosted trees' score, fitted per level of information a profile carries."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.isotonic import IsotonicRegression
from sklearn.utils.validation import check_is_fitted


class InformationCalibratedClassifier(ClassifierMixin, BaseEstimator):
    """Calibrate a fitted classifier's score with one isotonic map per level of information.

    A quick check and a full profile with the same tree score need not have the same certification rate
    (the trees see fewer inputs in the first), so one map fitted on the mixture is off for each. The level
    is the number of fields known (a feature column), cut at ``edges``; a level with fewer than ``min_rows``
    calibration rows, or only one outcome, uses the map fitted on every row. Each map is isotonic
    (non-decreasing) in the score, and a change of a known field's value never changes the level, so the
    trees' monotonic constraints carry through to the probabilities.

    Parameters
    ----------
    estimator : classifier
        Already fitted (wrap it in ``sklearn.frozen.FrozenEstimator``); only its ``decision_function``
        is used and ``fit`` never refits it.
    column : int
        Feature column holding the number of known fields.
    edges : tuple of float
        Upper ends (inclusive) of the levels but the last.
    min_rows : int
        Calibration rows a level needs for its own map.
    """

    def __init__(self, estimator=None, column: int = -1, edges: tuple = (15.0, 80.0), min_rows: int = 500):
        self.estimator = estimator
        self.column = column
        self.edges = edges
        self.min_rows = min_rows

    def _level(self, X: np.ndarray) -> np.ndarray:
        return np.digitize(X[:, self.column], np.asarray(self.edges, dtype=float), right=True)

    def fit(self, X, y):
        """Fit the global map and one map per level with enough rows of both outcomes."""
        X, y = np.asarray(X, dtype=np.float64), np.asarray(y).astype(int)
        score = self.estimator.decision_function(X)
        level = self._level(X)

        def isotonic(mask):
            return IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(score[mask], y[mask])

        self.global_ = isotonic(np.ones(len(y), dtype=bool))
        self.calibrators_ = []
        self.level_rows_ = []
        for k in range(len(self.edges) + 1):
            inside = level == k
            both = 0 < y[inside].sum() < inside.sum()
            self.calibrators_.append(isotonic(inside) if inside.sum() >= self.min_rows and both else None)
            self.level_rows_.append(int(inside.sum()))
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X):
        """Calibrated probabilities, shape (n, 2): columns for not certified and certified."""
        check_is_fitted(self, "calibrators_")
        X = np.asarray(X, dtype=np.float64)
        score = self.estimator.decision_function(X)
        p = self.global_.predict(score)
        level = self._level(X)
        for k, calibrator in enumerate(self.calibrators_):
            inside = level == k
            if calibrator is not None and inside.any():
                p[inside] = calibrator.predict(score[inside])
        return np.column_stack([1.0 - p, p])

    def predict(self, X):
        """1 where the calibrated probability is at least 0.5."""
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)
