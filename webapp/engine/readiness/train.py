"""Train and evaluate the readiness classifier: masked training rows, monotone boosted trees, calibration."""

from __future__ import annotations

import functools
import os
import time
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import Pipeline

from webapp.engine.readiness.calibration import InformationCalibratedClassifier
from webapp.engine.readiness.features import ReadinessFeatures
from webapp.engine.readiness.population.draw import UNDRAWN_GROUPS
from webapp.engine.rules.rulebook import RuleSet
from webapp.fields import REGISTRY

MASKABLE = tuple(s.name for s in REGISTRY if s.kind != "text" and s.group not in UNDRAWN_GROUPS)
VARIANTS = ("full", "quick", "random")   # evaluation profiles: every field, the quick check, half hidden
P_FLOOR = 0.001                          # probabilities are reported within [P_FLOOR, 1 - P_FLOOR]


@functools.cache
def _controller():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def openmp_threads():
    """Context limiting OpenMP (the boosted trees' fit and predict) to ``GIANTSTEP_READINESS_THREADS`` (1).

    libgomp's threads spin at the barrier after every tree; on a shared 2-core machine one busy core makes
    two threads ten times slower than one (measured: 23 s against 2.8 s for 300,000 firms, 42 s against
    15 s to train). One thread costs about 30% on an idle machine and is never pathological.
    """
    return _controller().limit(limits=int(os.environ.get("GIANTSTEP_READINESS_THREADS", "1")), user_api="openmp")


@dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters and splits of the classifier (recorded in the artefact's metadata)."""

    learning_rate: float = 0.5
    max_iter: int = 20
    max_leaf_nodes: int = 31
    min_samples_leaf: int = 100
    l2_regularization: float = 1.0
    n_iter_no_change: int = 8
    validation_fraction: float = 0.1
    information_edges: tuple = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)   # shares of input fields known cutting levels
    full_share: float = 0.95                  # share of input fields known from which a profile is full
    calibration_copies: int = 5
    calibration_hidden: tuple = (0.05, 0.95)  # range of the share of fields hidden in partial calibration copies
    prior_rows: float = 1.0                   # pseudo-rows shrinking a (status, score) cell to its level's map
    bin_rows: int = 1000                      # calibration rows per score bin of a level's grid (at least)
    test_fraction: float = 0.0               # held-out metrics come from a population of a fresh seed
    calibration_fraction: float = 0.5
    calibration_population: int = 0          # more simulated firms (other seeds) for the calibration grids only
    min_class_rows: int = 20


def mask_profiles(clean: pd.DataFrame, rng: np.random.Generator, masking: dict,
                  kind: str | None = None, *, quick) -> pd.DataFrame:
    """Hide fields of each profile as a user with partial data would leave them empty.

    Parameters
    ----------
    clean : pandas.DataFrame
        Complete (or real) clean profiles.
    rng : numpy.random.Generator
        Source of the patterns.
    masking : dict
        ``full``, ``quick``, ``random`` (pattern probabilities), ``quick_drop``, ``random_lo``, ``random_hi``
        (data/population/labels.toml [masking]).
    kind : {"full", "quick", "random", "partial"}, optional
        One pattern for every row (``random`` then hides each field with probability 0.5, ``partial`` with a
        probability drawn per row between ``random_lo`` and ``random_hi``); by default each row draws its
        pattern from ``masking``.
    quick : collection of str
        The quick check's fields (``RuleSet.quick_fields``, derived from the rule tables); a quick pattern
        keeps only these.

    Returns
    -------
    pandas.DataFrame
        A copy with hidden cells set to NaN (unknown).
    """
    n, m = len(clean), len(MASKABLE)
    if kind is None:
        probs = np.array([masking["full"], masking["quick"], masking["random"]])
        pattern = rng.choice(3, size=n, p=probs / probs.sum())
        hide_p = np.where(pattern == 2, rng.uniform(masking["random_lo"], masking["random_hi"], n), 0.0)
    elif kind == "partial":
        pattern = np.full(n, 2)
        hide_p = rng.uniform(masking["random_lo"], masking["random_hi"], n)
    else:
        pattern = np.full(n, VARIANTS.index(kind))
        hide_p = np.full(n, 0.5 if kind == "random" else 0.0)
    quick = np.isin(MASKABLE, list(quick))
    draws = rng.random((n, m))
    hide = draws < hide_p[:, None]
    is_quick = pattern == 1
    drop = masking["quick_drop"] if kind is None else 0.0
    hide[is_quick] = ~quick[None, :] | (draws[is_quick] < drop)
    columns = {name: clean[name] for name in clean.columns}
    for j, name in enumerate(MASKABLE):
        if hide[:, j].any():
            columns[name] = columns[name].mask(hide[:, j])
    return pd.DataFrame(columns, index=clean.index)  # built at once: one block per dtype


def build_pipeline(features: ReadinessFeatures, *, config: TrainConfig, seed: int) -> HistGradientBoostingClassifier:
    """The boosted-tree classifier for one tier: monotone constraints, native missing values, seeded."""
    return HistGradientBoostingClassifier(
        learning_rate=config.learning_rate, max_iter=config.max_iter, max_leaf_nodes=config.max_leaf_nodes,
        min_samples_leaf=config.min_samples_leaf, l2_regularization=config.l2_regularization,
        monotonic_cst=features.monotonic_cst_.tolist(), categorical_features=None,
        early_stopping=True, validation_fraction=config.validation_fraction,
        n_iter_no_change=config.n_iter_no_change, random_state=seed)


def split_firms(n: int, config: TrainConfig, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Positions of the training, calibration and test firms (disjoint, shuffled)."""
    order = rng.permutation(n)
    n_test, n_cal = int(round(n * config.test_fraction)), int(round(n * config.calibration_fraction))
    return {"test": np.sort(order[:n_test]), "calibration": np.sort(order[n_test:n_test + n_cal]),
            "train": np.sort(order[n_test + n_cal:])}


def _copies(clean: pd.DataFrame, labels: pd.DataFrame, kinds, masking: dict, rng, quick) -> tuple:
    """Masked copies of ``clean``, one per entry of ``kinds`` (a pattern name, or None: drawn per row)."""
    masked = [mask_profiles(clean, rng, masking, kind=kind, quick=quick) for kind in kinds]
    return (pd.concat(masked, ignore_index=True),
            pd.concat([labels] * len(masked), ignore_index=True))


def calibration_kinds(config: TrainConfig) -> list[str]:
    """Patterns of the calibration copies: every calibration firm once full and once as a quick check, then
    partial (a random share of fields hidden per row). Each level of information gets every firm at least
    once, instead of the share of copies a random pattern would give it (a full profile was 20%)."""
    return ["full", "quick"] + ["partial"] * max(int(config.calibration_copies) - 2, 1)


def _without_count(features, feats: np.ndarray) -> np.ndarray:
    """The training features with ``known_fields`` held constant, so the trees never split on it.

    How much of a profile is known is the calibration's to read (its levels and share known): a split of
    the trees on the count of known fields makes the score jump inside a level (measured: up to 0.06 off in
    bins of 1,000+ firms when a fifth of the fields was hidden), where the calibration cannot undo it. The
    trees still see which fields are missing, field by field.
    """
    out = feats.copy()
    out[:, list(features.feature_names_out_).index("known_fields")] = 0.0
    return out


def _fit_trees(features, f_fit, y_fit, f_cal, y_cal, tier, columns, config, seed):
    """One tier's boosted trees, wrapped in an (unfitted) calibrator, or None when an outcome is too rare.

    When no training or calibration row whose rules are certainly not met (and that is known not to hold
    the title) was certified, prediction gives such rows the floor without the trees (``gate_not_met``);
    the trees and the calibration grids are then fitted on the other rows only, the ones they answer for.
    Calibrating on the gated rows too put their certain failures into the grids' score ranges and dragged
    down the probabilities of the firms the grids are applied to.
    """
    known_fit, known_cal = ~np.isnan(y_fit), ~np.isnan(y_cal)
    off_fit, off_cal = known_fit & features.gated(f_fit, tier), known_cal & features.gated(f_cal, tier)
    certified_off = int(y_fit[off_fit].sum() + y_cal[off_cal].sum())
    gate = bool(certified_off == 0 and (off_fit.sum() + off_cal.sum()) > 0)
    use_fit, use_cal = (known_fit & ~off_fit, known_cal & ~off_cal) if gate else (known_fit, known_cal)
    counts = [np.bincount(y[k].astype(int), minlength=2).min() for y, k in ((y_fit, use_fit), (y_cal, use_cal))]
    if min(counts) < config.min_class_rows:
        return None
    model = build_pipeline(features, config=config, seed=seed).fit(_without_count(features, f_fit[use_fit]),
                                                                   y_fit[use_fit].astype(int))
    status = list(features.feature_names_out_).index(f"status_{tier}")
    calibrated = InformationCalibratedClassifier(FrozenEstimator(model), known=columns[0], quick=columns[1],
                                                 edges=config.information_edges, full_share=config.full_share,
                                                 status=status, prior_rows=config.prior_rows,
                                                 bin_rows=config.bin_rows)
    info = {"rows": int(use_fit.sum()), "positives": int(y_fit[use_fit].sum()),
            "calibration_rows": int(use_cal.sum()), "iterations": int(model.n_iter_),
            "gate_not_met": gate, "not_met_rows": int(off_fit.sum() + off_cal.sum()),
            "not_met_certified": certified_off}
    return calibrated, info, use_cal, off_cal


def _compact(calibrated, feats: np.ndarray, y: np.ndarray) -> tuple:
    """The calibration rows reduced to what the grids read (score, share known, level, status) and outcomes."""
    score, share, level, status = calibrated.inputs(feats)
    return score, share.astype(np.float32), level.astype(np.int8), status.astype(np.int8), y.astype(np.int8)


def _extra_rows(features, fitted: dict, extra, kinds, masking: dict, rng, quick) -> tuple[dict, dict]:
    """Calibration rows of the extra firms (blocks of clean profiles and outcomes), compacted per tier.

    The trees are fitted already: each block is masked, its features built and reduced to the grids' inputs
    before the next is read, so the calibration sample can be many times the training one. Rows the tier's
    gate answers for are left out as for the calibration split (and counted when certified)."""
    rows = {tier: [] for tier in fitted}
    counts = {tier: {"calibration_rows": 0, "not_met_certified": 0} for tier in fitted}
    for clean, labels in extra:
        x, y = _copies(clean, labels, kinds, masking, rng, quick)
        feats = features.features(x)
        for tier, (calibrated, info, *_) in fitted.items():
            outcome = y[f"{tier}_certified"].to_numpy(float)
            use = ~np.isnan(outcome)
            if info["gate_not_met"]:
                off = use & features.gated(feats, tier)
                counts[tier]["not_met_certified"] += int(outcome[off].sum())
                use &= ~off
            rows[tier].append(_compact(calibrated, feats[use], outcome[use]))
            counts[tier]["calibration_rows"] += int(use.sum())
    return rows, counts


def fit_tiers(clean: pd.DataFrame, labels: pd.DataFrame, parts: dict, *, ruleset: RuleSet, masking: dict,
              config: TrainConfig, seed: int, tiers, extra=()) -> tuple[dict[str, Pipeline], dict[str, dict]]:
    """Fit one calibrated pipeline per tier on masked copies of the training and calibration firms.

    Parameters
    ----------
    extra : iterable of (pandas.DataFrame, pandas.DataFrame), optional
        More calibration firms (clean profiles and ``<tier>_certified`` outcomes, block by block, e.g. a
        simulated population of other seeds): the grids are fitted on them and the calibration split
        together, the trees on the training split alone.

    Returns
    -------
    pipelines : dict of str to sklearn.pipeline.Pipeline
        ``features`` (ReadinessFeatures) then ``classifier`` (InformationCalibratedClassifier: grids per
        level of information around a frozen HistGradientBoostingClassifier). Tiers lacking
        ``config.min_class_rows`` of either outcome in either split are left out.
    tier_info : dict
        Per tier: training rows and positives, boosting iterations, calibration rows, and ``gate_not_met``:
        True when no training or calibration row whose rules are certainly not met (and that is known not to
        hold the tier's title, see ``ReadinessFeatures.gated``) was certified. Prediction then gives such
        rows the floor, 0.001, as the data says, instead of walking the trees.
    """
    rng = np.random.default_rng(seed)
    features = ReadinessFeatures(rules=ruleset.sme.id).bind(ruleset).fit()
    quick = ruleset.quick_fields
    fit_x, fit_y = _copies(clean.iloc[parts["train"]], labels.iloc[parts["train"]],
                           [None] * max(int(masking["copies"]), 1), masking, rng, quick)
    lo, hi = config.calibration_hidden   # any share a user may leave empty, not only the training mix's
    cal_masking = {**masking, "random_lo": lo, "random_hi": hi}
    cal_x, cal_y = _copies(clean.iloc[parts["calibration"]], labels.iloc[parts["calibration"]],
                           calibration_kinds(config), cal_masking, rng, quick)
    f_fit, f_cal = features.features(fit_x), features.features(cal_x)
    raw = features.raw_fields_
    columns = (tuple(range(len(raw))), tuple(j for j, name in enumerate(raw) if name in quick))
    pipelines, info, fitted = {}, {}, {}
    with openmp_threads():
        for tier in tiers:
            y_cal = cal_y[f"{tier}_certified"].to_numpy(float)
            out = _fit_trees(features, f_fit, fit_y[f"{tier}_certified"].to_numpy(float), f_cal, y_cal, tier,
                             columns, config, seed)
            if out is not None:
                fitted[tier] = out
        own = {tier: [_compact(c, f_cal[use], cal_y[f"{tier}_certified"].to_numpy(float)[use])]
               for tier, (c, _, use, _) in fitted.items()}
        more, counts = _extra_rows(features, fitted, extra, calibration_kinds(config), cal_masking,
                                   np.random.default_rng([seed, 1]), quick)   # own stream: the split's masks stay
        for tier, (calibrated, tier_info, _, off_cal) in fitted.items():
            blocks = own[tier] + more[tier]
            score, share, level, status, y = (np.concatenate([b[i] for b in blocks]) for i in range(5))
            calibrated.fit_scores(score, share.astype(np.float64), level.astype(np.intp), status.astype(np.intp), y)
            worst = float(calibrated.predict_proba(f_cal[off_cal])[:, 1].max()) if off_cal.any() else 0.0
            tier_info = {**tier_info, "not_met_max_predicted": round(worst, 5)}
            if counts[tier]["calibration_rows"]:
                tier_info["extra_calibration_rows"] = counts[tier]["calibration_rows"]
                tier_info["extra_not_met_certified"] = counts[tier]["not_met_certified"]
            pipelines[tier], info[tier] = Pipeline([("features", features), ("classifier", calibrated)]), tier_info
    return pipelines, info


def clip_probability(p: np.ndarray) -> np.ndarray:
    """Keep probabilities inside [P_FLOOR, 1 - P_FLOOR]: the model never claims certainty."""
    return np.clip(p, P_FLOOR, 1.0 - P_FLOOR)


def config_dict(config: TrainConfig) -> dict:
    """The configuration as plain JSON values."""
    return asdict(config)


class Timer:
    """Wall-clock seconds of named steps, for the metadata and the benchmark."""

    def __init__(self):
        self.steps: dict[str, float] = {}
        self._t = time.perf_counter()

    def lap(self, name: str) -> None:
        """Record the time since the last lap under ``name``."""
        now = time.perf_counter()
        self.steps[name] = round(now - self._t, 3)
        self._t = now
