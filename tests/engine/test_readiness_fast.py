"""Readiness's fast prediction path gives exactly what scikit-learn and the calibration formula give.

The trees are walked without scikit-learn's per-call checks (``forest.tree_scores``) and each calibration grid
is interpolated once per level and status the rows hold; both must be bit for bit what the library's
``decision_function`` and the calibration written out row by row give, on the shipped model's real feature
matrices (full, quick-check and randomly hidden profiles, with NaN, infinite and out-of-range values).
"""

from __future__ import annotations

import numpy as np
import pytest

from webapp.engine import defaults
from webapp.engine.readiness.calibration import STATUSES
from webapp.engine.readiness.forest import FEW_ROWS, forest_scorer, tree_scores
from webapp.engine.readiness.population.params import load_population_params
from webapp.engine.readiness.population.simulate import simulate_population
from webapp.engine.readiness.train import mask_profiles

RULES = ("SME-2026", "SME-2022")


@pytest.fixture(scope="module")
def shipped():
    return defaults.load(defaults.model)


@pytest.fixture(scope="module")
def feature_blocks(shipped):
    """Per rule set, feature matrices as readiness builds them: 400 simulated firms with fields hidden as users
    leave them, the same rows with more cells blanked at random, and a few odd values."""
    book = defaults.load(defaults.rule_book)
    rng = np.random.default_rng(7)
    out = {}
    for rules in RULES:
        model = shipped.under(rules)
        pop = simulate_population(400, seed=77, rules=rules)
        masked = mask_profiles(pop.profiles, rng, load_population_params().masking, quick=book.quick_fields)
        feats = model.features.features(masked.reset_index(drop=True))
        blank = feats.copy()
        raw = len(model.features.raw_fields_)
        hide = rng.random((len(blank), raw)) < rng.random((len(blank), 1))
        blank[:, :raw][hide] = np.nan
        odd = feats[:6].copy()
        odd[0, :raw] = np.inf
        odd[1, :raw] = -np.inf
        odd[2, :] = 1e300
        odd[3, :] = -1e300
        odd[4, :raw] = np.nan
        out[rules] = (model, [feats, blank, odd, feats[:1], np.ascontiguousarray(feats[::7])])
    return out


def _reference_certified(clf, X: np.ndarray) -> np.ndarray:
    """The calibration's documented formula, row by row: the level's grid for quick and full profiles; between
    the two partial levels whose mean shares bracket the row's share, linearly, for partial ones."""
    score = clf.estimator.decision_function(X)
    share, level = clf._share_level(X)
    status = clf._status(X)
    last = clf.n_levels - 1
    anchors = [k for k in range(1, last) if np.isfinite(clf.level_shares_[k])]

    def rate(k, i):
        centers, values = clf.grids_[k] if clf.grids_[k] is not None else clf.global_
        return np.interp(score[i:i + 1], centers, values[status[i]])[0]

    out = np.zeros(len(X))
    for i in range(len(X)):
        if level[i] in (0, last):
            out[i] = rate(level[i], i)
        elif anchors:
            pos = np.interp(share[i:i + 1], [clf.level_shares_[k] for k in anchors],
                            np.arange(len(anchors), dtype=float))[0]
            lower = int(np.floor(pos))
            weight = pos - lower
            out[i] = 0.0 + (1.0 - weight) * rate(anchors[lower], i)
            if weight > 0:
                out[i] += weight * rate(anchors[lower + 1], i)
    return out


@pytest.mark.parametrize("rules", RULES)
def test_tree_scores_are_decision_function_bit_for_bit(feature_blocks, rules):
    model, blocks = feature_blocks[rules]
    for tier, pipe in model.pipelines.items():
        estimator = pipe["classifier"].estimator
        for X in blocks:
            fast = tree_scores(estimator, X)
            assert fast.dtype == np.float64 and fast.shape == (len(X),)
            assert np.array_equal(fast, estimator.decision_function(X)), tier


@pytest.mark.parametrize("rules", RULES)
def test_one_walk_of_every_tier_is_decision_function_bit_for_bit(feature_blocks, rules):
    """The five tiers' trees walked in one call under a router (a few rows: one firm and its moved copies) give
    each classifier's decision_function, for 1 to FEW_ROWS rows, with unknown, infinite and huge values."""
    model, blocks = feature_blocks[rules]
    estimators = [model.pipelines[t]["classifier"].estimator for t in model.tiers]
    forest = forest_scorer(estimators)
    assert forest is not None and forest.n_trees == sum(len(e.estimator._predictors) for e in estimators)
    rng = np.random.default_rng(3)
    rows = np.concatenate(blocks)
    for n in (1, 2, 15, 44, 80, FEW_ROWS):
        X = np.ascontiguousarray(rows[rng.integers(0, len(rows), n)])
        for tier, score in zip(model.tiers, forest(X)):
            assert np.array_equal(score, model.pipelines[tier]["classifier"].estimator.decision_function(X)), (n, tier)
    # and through the model: probabilities of a few rows (one walk) equal those of the same rows among many
    few = np.ascontiguousarray(rows[:40])
    many = np.concatenate([few, rows[:FEW_ROWS]])
    alone, among = model.probabilities(few, model.tiers), model.probabilities(many, model.tiers)
    for tier in model.tiers:
        assert np.array_equal(alone[tier], among[tier][:40]), tier


@pytest.mark.parametrize("rules", RULES)
def test_certified_is_the_calibration_formula_bit_for_bit(feature_blocks, rules):
    model, blocks = feature_blocks[rules]
    seen_levels, seen_status = set(), set()
    for tier, pipe in model.pipelines.items():
        clf = pipe["classifier"]
        for X in blocks:
            assert np.array_equal(clf.certified(X), _reference_certified(clf, X)), tier
            seen_levels.update(clf.level(X).tolist())
            seen_status.update(clf._status(X).tolist())
    # the blocks reach quick, every partial band and full profiles, and every status
    assert seen_levels == set(range(model.pipelines[model.tiers[0]]["classifier"].n_levels))
    assert seen_status == set(range(STATUSES))


def test_tree_scores_fall_back_to_the_library_for_other_inputs(shipped):
    """Lists, float32 rows, the wrong width or no rows go through decision_function (its checks and errors)."""
    estimator = shipped.pipelines[shipped.tiers[0]]["classifier"].estimator
    width = estimator.n_features_in_
    X = np.zeros((3, width))
    assert np.array_equal(tree_scores(estimator, X.astype(np.float32)),
                          estimator.decision_function(X.astype(np.float32)))
    assert np.array_equal(tree_scores(estimator, X.tolist()), estimator.decision_function(X))
    with pytest.raises(ValueError):
        tree_scores(estimator, np.zeros((3, width + 1)))
    with pytest.raises(ValueError):
        tree_scores(estimator, np.zeros((0, width)))
