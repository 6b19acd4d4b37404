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
from sklearn.ensemble._hist_gradient_boosting._predictor import _predict_from_raw_data
from sklearn.frozen import FrozenEstimator
from sklearn.utils._openmp_helpers import _openmp_effective_n_threads

__all__ = ["FEW_ROWS", "ForestScorer", "TreeScorer", "forest_scorer", "tree_scores"]

FEW_ROWS = 128   # up to this many rows, several classifiers' trees are walked in one call (ForestScorer)


class TreeScorer:
    """The fitted trees of one binary ``HistGradientBoostingClassifier``, ready to score float64 rows."""

    def __init__(self, hgb):
        self.n_features = int(hgb.n_features_in_)
        self.baseline = 0.0 + float(np.asarray(hgb._baseline_prediction).reshape(-1)[0])   # zeros + baseline
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
                and not any(p[0].nodes["is_categorical"].any() for p in hgb._predictors)
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


class ForestScorer:
    """The trees of several classifiers (:class:`TreeScorer`) walked in one call for a few rows.

    A call of the per-tree routine costs a few microseconds before it walks a row, so for one firm and its
    drivers' moved copies (some dozens of rows, five tiers of twenty trees) the calls cost more than the walks.
    Here the trees hang under a small router tree and the routine walks every (tree, row) pair once: row
    ``t * n + i`` of a strided view of one buffer reads firm ``i``'s features at the columns of tree ``t`` (its
    split features are offset by ``(T - t) * n``, the buffer holding the features column after column) and the
    router sends it to tree ``t``'s root by a column that holds ``t``. Each leaf value is then added to the
    classifier's baseline tree after tree, in the trees' order: the scores are bit for bit :class:`TreeScorer`'s.
    """

    def __init__(self, scorers: list[TreeScorer]):
        self.scorers = scorers
        self.n_features = scorers[0].n_features
        trees = [predictor.nodes for scorer in scorers for predictor in scorer.predictors]
        self.n_trees = len(trees)
        router: list[tuple[float, int, int]] = []

        def split(lo: int, hi: int) -> tuple[bool, int]:   # (is a tree root, index)
            if hi - lo == 1:
                return True, lo
            at = len(router)
            router.append((0.0, 0, 0))
            mid = (lo + hi) // 2
            left, right = split(lo, mid), split(mid, hi)
            router[at] = (mid - 0.5, left, right)
            return False, at

        split(0, self.n_trees)
        starts = np.cumsum([len(router)] + [len(t) for t in trees[:-1]])
        nodes = np.zeros(len(router) + sum(len(t) for t in trees), dtype=trees[0].dtype)
        self._offset = np.zeros(len(nodes), dtype=np.int64)   # a split's column is (offset + feature) * n
        self._router = np.zeros(len(nodes), dtype=bool)

        def index(ref: tuple[bool, int]) -> int:
            return int(starts[ref[1]]) if ref[0] else ref[1]

        for k, (threshold, left, right) in enumerate(router):
            nodes[k]["num_threshold"], nodes[k]["left"], nodes[k]["right"] = threshold, index(left), index(right)
            self._router[k] = True
        for t, tree in enumerate(trees):
            part = tree.copy()
            leaf = part["is_leaf"].astype(bool)
            part["left"] = np.where(leaf, 0, tree["left"].astype(np.int64) + starts[t])
            part["right"] = np.where(leaf, 0, tree["right"].astype(np.int64) + starts[t])
            nodes[starts[t]:starts[t] + len(tree)] = part
            self._offset[starts[t]:starts[t] + len(tree)] = self.n_trees - t
        self._feature = nodes["feature_idx"].astype(np.int64)
        self._nodes = nodes
        self._by_rows: dict[int, np.ndarray] = {}
        self._empty_bitsets = np.zeros((0, 8), dtype=np.uint32)
        self._f_idx_map = np.zeros(self.n_features, dtype=np.uint32)

    def _nodes_for(self, n: int) -> np.ndarray:
        """The node array for ``n`` rows: tree ``t``'s splits read column ``(T - t + feature) * n``, the router's
        ``(T + F) * n`` (the tree ids); kept for the last few row counts."""
        nodes = self._by_rows.get(n)
        if nodes is None:
            nodes = self._nodes.copy()
            column = (self._offset + self._feature) * n
            column[self._router] = (self.n_trees + self.n_features) * n
            nodes["feature_idx"] = np.where(self._nodes["is_leaf"].astype(bool), 0, column)
            if len(self._by_rows) >= 8:
                self._by_rows.clear()
            self._by_rows[n] = nodes
        return nodes

    def __call__(self, X: np.ndarray) -> list[np.ndarray]:
        """Raw scores of the rows of ``X`` (float64, 1 to :data:`FEW_ROWS` rows), one array per classifier."""
        n, trees, width = X.shape[0], self.n_trees, self.n_features
        # buffer: [unread: T*n][features, column after column: F*n][tree ids: T*n]; row r of the view = B[r:]
        buffer = np.empty((2 * trees + width) * n)
        buffer[trees * n:(trees + width) * n] = X.T.ravel()
        buffer[(trees + width) * n:] = np.repeat(np.arange(trees, dtype=np.float64), n)
        view = np.lib.stride_tricks.as_strided(buffer, shape=(trees * n, (trees + width) * n + 1),
                                               strides=(buffer.itemsize, buffer.itemsize), writeable=False)
        leaves = np.empty(trees * n)
        _predict_from_raw_data(self._nodes_for(n), view, self._empty_bitsets, self._empty_bitsets,
                               self._f_idx_map, _openmp_effective_n_threads(), leaves)
        leaves = leaves.reshape(trees, n)
        out, t = [], 0
        for scorer in self.scorers:
            k = len(scorer.predictors)
            steps = np.empty((k + 1, n))
            steps[0] = scorer.baseline
            steps[1:] = leaves[t:t + k]
            out.append(np.cumsum(steps, axis=0)[-1])   # baseline, then tree after tree (cumsum adds in order)
            t += k
        return out


def forest_scorer(estimators) -> ForestScorer | None:
    """A :class:`ForestScorer` of these classifiers (FrozenEstimators or not), or None when one of them is not
    the plain binary kind :class:`TreeScorer` reproduces or their widths differ."""
    scorers = [_scorer(e) for e in estimators]
    if not scorers or any(s is None for s in scorers) or len({s.n_features for s in scorers}) != 1:
        return None
    return ForestScorer(scorers)
