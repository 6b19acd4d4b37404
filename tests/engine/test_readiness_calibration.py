"""Readiness under the rules applied (one model per SME rule set) and calibrated on a population of a fresh seed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from webapp import paths
from webapp.engine.assess import assess
from webapp.engine.readiness.build import evaluation_seed
from webapp.engine.readiness.calibration import InformationCalibratedClassifier
from webapp.engine.readiness.evaluation import HIDDEN_SHARES, PROFILES, ece, hide_fields, noise_band, reliability
from webapp.engine.readiness.evaluation import calibration_firms as total_calibration_firms
from webapp.engine.readiness.population.params import load_population_params
from webapp.engine.readiness.population.simulate import TIERS, simulate_population
from webapp.engine.readiness.store import load_model
from webapp.engine.readiness.train import (
    MASKABLE,
    TrainConfig,
    calibration_kinds,
    fit_tiers,
    mask_profiles,
    split_firms,
)
from webapp.engine.rules.criteria import MET, NOT_MET, Judge
from webapp.engine.rules.rulebook import load_rule_book

FRESH_SEED = 880_017   # never used to train the shipped model (its seeds are in models/readiness.json)


@pytest.fixture(scope="module")
def shipped():
    return load_model(paths.resolve().models)


def test_shipped_artefact_has_one_model_per_sme_rule_set(shipped):
    """Every SME rule set of the rule tables has its own model, trained on a population simulated under it."""
    book = load_rule_book()
    assert set(shipped.rule_sets) == set(book.sme_ids())
    for rules in book.sme_ids():
        model = shipped.under(rules)
        assert model.rules == rules
        assert model.metadata["data"]["population"]["rules"]["sme"] == rules
        assert set(model.tiers) == set(TIERS)
        seeds = {model.metadata["training"]["seed"], model.metadata["data"]["population"]["seed"],
                 *(b["seed"] for b in model.metadata["data"]["calibration_population"])}
        assert FRESH_SEED not in seeds and model.metadata["evaluation"]["seed"] not in seeds
        assert model.metadata["evaluation"]["seed"] == evaluation_seed(
            model.metadata["training"]["seed"])


def _little_giant_under_2022_only() -> pd.DataFrame:
    """Simulated firms whose little-giant rules are met under SME-2022 and certainly not under SME-2026."""
    pop = simulate_population(1500, seed=FRESH_SEED, rules="SME-2022")
    book = load_rule_book()
    old = Judge(pop.profiles, book.select("SME-2022")).run().tiers["little_giant"].status
    new = Judge(pop.profiles, book.select("SME-2026")).run().tiers["little_giant"].status
    rows = pop.to_frame()[pop.profiles.columns][(old == MET) & (new == NOT_MET)]
    assert len(rows), "the simulated SME-2022 little giants include firms the 2026 rules refuse"
    return rows.reset_index(drop=True)


def test_readiness_is_computed_under_the_rules_of_the_assessment(shipped):
    """An SME-2022 little giant is answered by the SME-2022 model, and says so; under SME-2026 by the other."""
    rows = _little_giant_under_2022_only().iloc[:5]
    old = assess(rows, rules="SME-2022", model=shipped)
    new = assess(rows, rules="SME-2026", model=shipped)
    assert old.errors.empty, old.errors.to_dict("records")
    for i in range(len(rows)):
        before, after = old.readiness(i), new.readiness(i)
        assert before["_model"]["rules"] == "SME-2022" and after["_model"]["rules"] == "SME-2026"
        assert old.tier[i] in ("little_giant", "single_champion")
        assert before["little_giant"]["probability"] > 0.05
        assert after["little_giant"]["probability"] < before["little_giant"]["probability"]
    columns = old.readiness_frame()["little_giant_readiness"].to_numpy()
    expected = [old.readiness(i)["little_giant"]["probability"] for i in range(len(rows))]
    np.testing.assert_allclose(columns, expected, atol=1e-4)


def test_information_levels():
    """Quick: nothing known beyond the quick-check fields and most of those known; full: nearly every input
    known; partial in between, by share known (an empty profile is a partial one of the lowest share, not a
    quick check: a form with nearly everything hidden is not what the quick level is calibrated on)."""
    known, quick = tuple(range(10)), (0, 1, 2)
    calibrator = InformationCalibratedClassifier(known=known, quick=quick, edges=(0.4, 0.7), full_share=0.95)
    X = np.full((7, 12), np.nan)
    X[1, :3] = 1.0                 # a quick check
    X[2, :4] = 1.0                 # one field beyond it: 40% known
    X[3, :6] = 1.0                 # 60%
    X[4, :9] = 1.0                 # 90%
    X[5, :10] = 1.0                # everything
    X[6, :1] = 1.0                 # one quick field of three: too little for a quick check
    assert calibrator.level(X).tolist() == [1, 0, 1, 2, 3, 4, 1]


class _Score:
    """A fitted 'classifier' whose score is the first feature column."""

    def decision_function(self, X):
        return X[:, 0]


def _synthetic(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows [score, status, 10 input fields] whose true rate rises with the score and the status and with the
    share of fields known: one score does not mean one rate, as in the readiness trees' output."""
    rng = np.random.default_rng(seed)
    X = np.full((n, 12), np.nan)
    X[:, 0], X[:, 1] = rng.normal(size=n), rng.integers(0, 3, n)
    X[:, 2:] = np.where(rng.random((n, 10)) < rng.uniform(0.05, 1.0, n)[:, None], 1.0, np.nan)
    share = (~np.isnan(X[:, 2:])).mean(axis=1)
    rate = 1.0 / (1.0 + np.exp(-(1.5 * X[:, 0] + 0.8 * (X[:, 1] - 1) + 2.0 * (share - 0.5))))
    return X, rate, (rng.random(n) < rate).astype(int)


def test_calibration_follows_status_and_share_known():
    """Fitted on 40,000 rows, predictions on fresh rows are within 0.03 of the true rate in every (status, share
    known) cell, where a map of the score alone is off by more than 0.1 in some: the status and the share
    known both move the rate at a given score."""
    X, _, y = _synthetic(40_000, 1)
    calibrator = InformationCalibratedClassifier(_Score(), known=tuple(range(2, 12)), quick=(2, 3),
                                                 edges=(0.2, 0.4, 0.6, 0.8), status=1).fit(X, y)
    pooled = InformationCalibratedClassifier(_Score(), known=tuple(range(2, 12)), quick=(2, 3), edges=(),
                                             full_share=1.01).fit(X, y)
    fresh, rate, _ = _synthetic(100_000, 2)
    share = (~np.isnan(fresh[:, 2:])).mean(axis=1)
    cells = [(fresh[:, 1] == s) & (np.abs(share - c) < 0.051) for s in range(3) for c in (0.2, 0.5, 0.8)]
    ours, theirs = calibrator.predict_proba(fresh)[:, 1], pooled.predict_proba(fresh)[:, 1]
    assert max(abs(float(np.mean(ours[c] - rate[c]))) for c in cells) < 0.03
    assert max(abs(float(np.mean(theirs[c] - rate[c]))) for c in cells) > 0.1


def test_calibrated_probability_rises_with_status_and_score(shipped):
    """Every calibration grid of the shipped models rises along the score and from not met to unknown to
    met, so a field change that raises the tier's status or the trees' score never lowers the probability."""
    checked = 0
    for rules in shipped.rule_sets:
        for pipe in shipped.under(rules).pipelines.values():
            classifier = pipe["classifier"]
            assert classifier.status is not None
            for centers, values in [classifier.global_, *(g for g in classifier.grids_ if g is not None)]:
                assert np.all(np.diff(centers) > 0)
                assert np.all(np.diff(values, axis=1) >= 0) and np.all(np.diff(values, axis=0) >= 0)
                checked += 1
    assert checked >= 2 * 5 * 5


def test_quick_levels_follow_the_rule_sets_quick_fields(shipped):
    """The calibration's quick level is the quick check of the model's own rule set (derived from its tables)."""
    book = load_rule_book()
    for rules in shipped.rule_sets:
        model = shipped.under(rules)
        raw = model.features.raw_fields_
        quick = {n for n in book.select(rules).quick_fields if n in MASKABLE}
        for pipe in model.pipelines.values():
            assert {raw[j] for j in pipe["classifier"].quick} == quick


def out_of_bounds(rows: list[dict], firms: int, calibration_firms: int) -> list[dict]:
    """Bins of 100+ firms further than 0.05 from the observed rate, and further than sampling noise allows
    (:func:`noise_band`: a bin of 100 firms at 0.5 has a standard deviation of 0.05 by itself); every bin of
    1,000+ firms is held to 0.05 whatever the noise."""
    return [r for r in rows if r["n"] >= 100 and r["gap"] > 0.05
            and (r["n"] >= 1000 or r["gap"] > noise_band(r, firms, calibration_firms))]


def test_the_bound_tells_miscalibration_from_chance():
    """The issue's measurement on main (0.45 predicted where 0.68 were certified, in a bin of 300) is out of
    bounds; a 0.06 miss in a bin of 120 at 0.5 (well within its own noise) is not; 1,000 firms get no slack."""
    def row(n, predicted, observed):
        return {"n": n, "mean_predicted": predicted, "observed": observed, "gap": abs(predicted - observed)}

    assert out_of_bounds([row(300, 0.45, 0.68)], 30_000, 60_000)
    assert out_of_bounds([row(300, 0.66, 0.83)], 30_000, 60_000)
    assert not out_of_bounds([row(120, 0.44, 0.50)], 30_000, 60_000)
    assert out_of_bounds([row(1000, 0.44, 0.50)], 30_000, 60_000)
    assert not out_of_bounds([row(99, 0.2, 0.5)], 30_000, 60_000)


@pytest.mark.slow
@pytest.mark.parametrize("rules", ["SME-2026", "SME-2022"])
def test_reliability_on_a_fresh_population(shipped, rules):
    """On 40,000 firms of a seed never used in training, per tier, for full, quick and randomly incomplete
    profiles (each field hidden with probability 0.5, and also 0.2 and 0.8: calibration must hold whatever
    share a user leaves empty): every bin of 100+ firms is within 0.05 of the simulated certification rate
    (or within its own sampling noise, see out_of_bounds), and the firm-weighted mean gap is at most 0.02."""
    firms = 40_000
    pop = simulate_population(firms, seed=FRESH_SEED, rules=rules)
    model = shipped.under(rules)
    calibration_firms = total_calibration_firms(model.metadata)
    rng = np.random.default_rng(FRESH_SEED)
    bad, errors = {}, {}
    for variant in PROFILES:
        masked = (hide_fields(pop.profiles, HIDDEN_SHARES[variant], rng) if variant in HIDDEN_SHARES
                  else mask_profiles(pop.profiles, rng, load_population_params().masking, kind=variant,
                                     quick=load_rule_book().select(rules).quick_fields))
        probs = model.predict_proba(masked)
        for tier in TIERS:
            rows = reliability(pop.labels[f"{tier}_certified"].to_numpy(float), probs[tier])
            bad[(tier, variant)] = out_of_bounds(rows, firms, calibration_firms)
            errors[(tier, variant)] = ece(rows)
    assert not any(bad.values()), {k: v for k, v in bad.items() if v}
    assert max(errors.values()) <= 0.02, errors


def test_extra_calibration_firms_refit_the_grids_and_leave_the_trees():
    """Firms added for calibration (blocks of another seed) enter the grids only: the trees score every row as
    without them, the grids are refitted on the calibration split and the extra firms together (their rows
    counted per tier), and the gate leaves their certain failures out as it does the split's."""
    pop = simulate_population(1500, seed=FRESH_SEED + 1, rules="SME-2026")
    more = simulate_population(1200, seed=FRESH_SEED + 2, rules="SME-2026")
    ruleset = load_rule_book().select("SME-2026")
    config = TrainConfig(min_class_rows=5)
    parts = split_firms(len(pop.profiles), config, np.random.default_rng(3))
    common = dict(ruleset=ruleset, masking=load_population_params().masking, config=config, seed=3,
                  tiers=("innovative_sme", "srdi_sme"))
    alone, info_alone = fit_tiers(pop.profiles, pop.labels, parts, **common)
    blocks = [(more.profiles.iloc[:600], more.labels.iloc[:600]), (more.profiles.iloc[600:], more.labels.iloc[600:])]
    both, info_both = fit_tiers(pop.profiles, pop.labels, parts, **common, extra=blocks)
    feats = alone["srdi_sme"]["features"].features(more.profiles)
    for tier in common["tiers"]:
        a, b = alone[tier]["classifier"], both[tier]["classifier"]
        np.testing.assert_array_equal(a.estimator.decision_function(feats), b.estimator.decision_function(feats))
        assert "extra_calibration_rows" not in info_alone[tier]
        extra_rows = info_both[tier]["extra_calibration_rows"]
        copies = len(calibration_kinds(config))
        gated = info_both[tier]["gate_not_met"]
        assert (extra_rows < copies * len(more.profiles)) if gated else extra_rows == copies * len(more.profiles)
        assert info_both[tier]["extra_not_met_certified"] == 0
        assert sum(b.level_rows_) == info_both[tier]["calibration_rows"] + extra_rows
        assert not np.array_equal(a.predict_proba(feats), b.predict_proba(feats))
