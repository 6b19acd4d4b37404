"""The boosted trees' raw score of a ready feature matrix, without scikit-learn's checks on every call.

``HistGradientBoostingClassifier.decision_function`` validates its input (a pandas/array-API dispatch,
dtype and shape checks, a finiteness policy) before it walks the trees. For one firm and its drivers' moved
copies (a few dozen rows, five tiers) those checks cost as much as the walk. Readiness always hands the trees
a float64 matrix it built itself (:meth:`~.features.ReadinessFeatures.assemble`), so :func:`tree_scores`
walks the fitted trees directly, with the same per-tree routine, in the same order, adding to the same
baseline: the score is bit for bit the one ``decision_function`` gives (``tests/engine/test_readiness_fast.py``).
Any other estimator (or a classifier whose fitted state is not the plain binary kind this expects) goes
through ``decision_function``.
"""

from __future__ import annotations

import threading
import weakref

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.utils._openmp_helpers import _openmp_effective_n_threads

__all__ = ["TreeScorer", "tree_scores"]


class TreeScorer:
    """The fitted trees of one binary ``HistGradientBoostingClassifier``, ready to score float64 rows."""

    def __init__(self, hgb):
        self.n_features = int(hgb.n_features_in_)
        self.baseline = float(np.asarray(hgb._baseline_prediction).reshape(-1)[0])
        self.known_cat_bitsets, self.f_idx_map = hgb._bin_mapper.make_known_categories_bitsets()
        self.predictors = tuple(predictors[0] for predictors in hgb._predictors)

    @staticmethod
    def supports(hgb) -> bool:
        """Whether ``hgb`` is a fitted binary HistGradientBoostingClassifier without a categorical
        preprocessor (the only state :class:`TreeScorer` reproduces exactly)."""
        return (type(hgb) is HistGradientBoostingClassifier and hasattr(hgb, "_predictors")
                and getattr(hgb, "n_trees_per_iteration_", None) == 1 and getattr(hgb, "_preprocessor", 0) is None
                and not getattr(hgb, "_in_fit", False)
                and all(len(p) == 1 for p in hgb._predictors)
                and np.asarray(hgb._baseline_prediction).size == 1)

    def __call__(self, X: np.ndarray) -> np.ndarray:
        """Raw scores of the rows of ``X`` (float64, shape (n, n_features)): what ``decision_function`` gives."""
        threads = _openmp_effective_n_threads()
        raw = np.full(X.shape[0], self.baseline)
        for predictor in self.predictors:
            raw += predictor.predict(X, self.known_cat_bitsets, self.f_idx_map, threads)
        return raw


_SCORERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()   # by fitted classifier; none when unsupported
_LOCK = threading.Lock()


def _scorer(estimator) -> TreeScorer | None:
    hgb = estimator.estimator if isinstance(estimator, FrozenEstimator) else estimator
    try:
        return _SCORERS[hgb]
    except (KeyError, TypeError):
        pass
    scorer = TreeScorer(hgb) if TreeScorer.supports(hgb) else None
    try:
        with _LOCK:
            _SCORERS[hgb] = scorer
    except TypeError:   # not weakly referable: no cache
        pass
    return scorer


def tree_scores(estimator, X) -> np.ndarray:
    """``estimator.decision_function(X)``, walking the trees directly when ``estimator`` is (a FrozenEstimator
    of) a fitted binary HistGradientBoostingClassifier and ``X`` a float64 matrix of its width."""
    scorer = _scorer(estimator)
    if (scorer is None or not isinstance(X, np.ndarray) or X.dtype != np.float64 or X.ndim != 2
            or X.shape[1] != scorer.n_features or X.shape[0] == 0):
        return estimator.decision_function(X)
    return scorer(X)
