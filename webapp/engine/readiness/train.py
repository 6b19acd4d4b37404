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
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score
from sklearn.pipeline import Pipeline

from webapp.engine.readiness.calibration import InformationCalibratedClassifier
from webapp.engine.readiness.features import ReadinessFeatures
from webapp.engine.readiness.population.draw import UNDRAWN_GROUPS
from webapp.engine.rules.criteria import MET, NOT_MET
from webapp.engine.rules.rulebook import RuleSet
from webapp.fields import REGISTRY

MASKABLE = tuple(s.name for s in REGISTRY if s.kind != "text" and s.group not in UNDRAWN_GROUPS)
VARIANTS = ("full", "quick", "random")   # evaluation profiles: every field, the quick check, half hidden
P_FLOOR = 0.001                          # probabilities are reported within [P_FLOOR, 1 - P_FLOOR]
N_BINS = 10


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
    bin_rows: int = 200                       # calibration rows per score bin of a level's grid (at least)
    test_fraction: float = 0.0               # held-out metrics come from a population of a fresh seed
    calibration_fraction: float = 0.5
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


def _fit_tier(features, f_fit, y_fit, f_cal, y_cal, tier, columns, config, seed):
    """One tier's calibrated pipeline and its training figures, or None when an outcome is too rare.

    When no training or calibration row whose rules are certainly not met (and that is known not to hold
    the title) was certified, prediction gives such rows the floor without the trees (``gate_not_met``);
    the trees and the isotonic maps are then fitted on the other rows only, the ones they will answer for.
    Calibrating on the gated rows too put their certain failures into the maps' score ranges and dragged
    down the probabilities of the firms the maps are applied to.
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
    calibrated.fit(f_cal[use_cal], y_cal[use_cal].astype(int))
    worst = float(calibrated.predict_proba(f_cal[off_cal])[:, 1].max()) if off_cal.any() else 0.0
    info = {"rows": int(use_fit.sum()), "positives": int(y_fit[use_fit].sum()),
            "calibration_rows": int(use_cal.sum()), "iterations": int(model.n_iter_),
            "gate_not_met": gate, "not_met_rows": int(off_fit.sum() + off_cal.sum()),
            "not_met_certified": certified_off, "not_met_max_predicted": round(worst, 5)}
    return Pipeline([("features", features), ("classifier", calibrated)]), info


def fit_tiers(clean: pd.DataFrame, labels: pd.DataFrame, parts: dict, *, ruleset: RuleSet, masking: dict,
              config: TrainConfig, seed: int, tiers) -> tuple[dict[str, Pipeline], dict[str, dict]]:
    """Fit one calibrated pipeline per tier on masked copies of the training and calibration firms.

    Returns
    -------
    pipelines : dict of str to sklearn.pipeline.Pipeline
        ``features`` (ReadinessFeatures) then ``classifier`` (InformationCalibratedClassifier: isotonic
        maps per level of information around a frozen HistGradientBoostingClassifier). Tiers lacking
        ``config.min_class_rows`` of either outcome in either split are left out.
    tier_info : dict
        Per tier: training rows and positives, boosting iterations, and ``gate_not_met``: True when no
        training or calibration row whose rules are certainly not met (and that is known not to hold the
        tier's title, see ``ReadinessFeatures.gated``) was certified. Prediction then gives such rows the
        floor, 0.001, as the data says, instead of walking the trees.
    """
    rng = np.random.default_rng(seed)
    features = ReadinessFeatures(rules=ruleset.sme.id).bind(ruleset).fit()
    quick = ruleset.quick_fields
    fit_x, fit_y = _copies(clean.iloc[parts["train"]], labels.iloc[parts["train"]],
                           [None] * max(int(masking["copies"]), 1), masking, rng, quick)
    lo, hi = config.calibration_hidden   # any share a user may leave empty, not only the training mix's
    cal_x, cal_y = _copies(clean.iloc[parts["calibration"]], labels.iloc[parts["calibration"]],
                           calibration_kinds(config), {**masking, "random_lo": lo, "random_hi": hi}, rng, quick)
    f_fit, f_cal = features.features(fit_x), features.features(cal_x)
    raw = features.raw_fields_
    columns = (tuple(range(len(raw))), tuple(j for j, name in enumerate(raw) if name in quick))
    pipelines, info = {}, {}
    with openmp_threads():
        for tier in tiers:
            fitted = _fit_tier(features, f_fit, fit_y[f"{tier}_certified"].to_numpy(float), f_cal,
                               cal_y[f"{tier}_certified"].to_numpy(float), tier, columns, config, seed)
            if fitted is not None:
                pipelines[tier], info[tier] = fitted
    return pipelines, info


def clip_probability(p: np.ndarray) -> np.ndarray:
    """Keep probabilities inside [P_FLOOR, 1 - P_FLOOR]: the model never claims certainty."""
    return np.clip(p, P_FLOOR, 1.0 - P_FLOOR)


def metrics(y: np.ndarray, p: np.ndarray) -> dict:
    """ROC AUC, Brier score and log loss (probabilities clipped to [0.001, 0.999]) of predictions ``p``."""
    p = clip_probability(np.asarray(p, dtype=float))
    y = np.asarray(y, dtype=int)
    both = 0 < y.sum() < len(y)
    return {"n": int(len(y)), "positives": int(y.sum()),
            "roc_auc": round(float(roc_auc_score(y, p)), 4) if both else None,
            "brier": round(float(brier_score_loss(y, p)), 5),
            "log_loss": round(float(log_loss(y, p, labels=[0, 1])), 5)}


def reliability(y: np.ndarray, p: np.ndarray, bins: int = N_BINS) -> list[dict]:
    """Ten equal-width bins of predicted probability: firms, mean prediction, observed rate, gap."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    rows = []
    for b in range(bins):
        inside = which == b
        k = int(inside.sum())
        mean_p = float(p[inside].mean()) if k else None
        observed = float(np.mean(y[inside])) if k else None
        rows.append({"bin": f"{edges[b]:.1f}-{edges[b + 1]:.1f}", "n": k,
                     "mean_predicted": None if mean_p is None else round(mean_p, 4),
                     "observed": None if observed is None else round(observed, 4),
                     "gap": None if k == 0 else round(abs(mean_p - observed), 4)})
    return rows


def rules_baseline(status: np.ndarray) -> np.ndarray:
    """The rules alone as a probability: met 1, not met 0, unknown 0.5."""
    return np.where(status == MET, 1.0, np.where(status == NOT_MET, 0.0, 0.5))


def evaluate(model, clean: pd.DataFrame, labels: pd.DataFrame, masking: dict, seed: int) -> dict:
    """Held-out metrics per tier and profile variant (full, quick, random), with the rules-only baseline.

    Parameters
    ----------
    model : ReadinessModel
        Predictions go through ``model.predict_proba``, as the application's do.
    clean, labels : pandas.DataFrame
        Held-out firms (complete profiles) and their ``<tier>_certified`` outcomes.
    masking : dict
        Masking settings (only ``quick_drop`` matters for the fixed variants).
    seed : int
        Seeds the hidden fields of the partial variants.

    Returns
    -------
    dict
        ``{tier: {variant: {"model": metrics, "baseline": metrics, "reliability": [...]}}}``.
    """
    rng = np.random.default_rng(seed + 1)
    out: dict = {tier: {} for tier in model.tiers}
    for variant in VARIANTS:
        masked = mask_profiles(clean, rng, masking, kind=variant, quick=model.features.ruleset.quick_fields)
        judge = model.judge(masked)
        probs = model.predict_proba(masked, judge=judge)
        for tier in model.tiers:
            y = labels[f"{tier}_certified"].to_numpy(float)
            known = ~np.isnan(y)
            p, base = probs[tier][known], rules_baseline(judge.tiers[tier].status[known])
            out[tier][variant] = {"model": metrics(y[known], p), "baseline": metrics(y[known], base),
                                  "reliability": reliability(y[known], p)}
    return out


MIN_BIN_ROWS = 100   # reliability bins with fewer firms are too noisy to judge (sd 0.05 at p = 0.5 and 100 firms)


def max_gap(rows: list[dict], min_rows: int = MIN_BIN_ROWS) -> float | None:
    """Largest |mean predicted - observed| over the reliability bins of at least ``min_rows`` firms."""
    gaps = [r["gap"] for r in rows if r["n"] >= min_rows]
    return max(gaps) if gaps else None


def noise_band(row: dict, firms: int, calibration_firms: int, z: float = 3.0) -> float:
    """How far a reliability bin's observed rate may sit from a calibrated prediction by sampling alone.

    ``z`` binomial standard deviations of the bin's observed rate, widened by sqrt(1 + firms /
    calibration_firms) for the noise of the calibration firms the prediction was fitted on (the bin's share
    of them is the same as of the evaluated ``firms``). A bin of 100 firms at a rate of 0.5 has a standard
    deviation of 0.05 by itself, so a fixed 0.05 bound cannot tell miscalibration from chance in small bins.
    """
    p, n = row["observed"], row["n"]
    return z * float(np.sqrt(p * (1 - p) / n * (1 + firms / max(calibration_firms, 1)))) if n else float("inf")


def ece(rows: list[dict]) -> float:
    """Expected calibration error: the firm-weighted mean of the bins' gaps."""
    n = sum(r["n"] for r in rows)
    return round(sum(r["n"] * r["gap"] for r in rows if r["n"]) / n, 4) if n else 0.0


def evaluated_on(info: dict) -> str:
    """What the held-out figures were measured on, in words (every figure of a simulated model is simulated)."""
    if info.get("kind") == "fresh population":
        return (f"simulated: a population of seed {info['seed']} never used in training, "
                f"{info['rows']:,} firms")
    return f"{info.get('basis', 'real outcomes')}: held-out test split, {info.get('rows', 0):,} firms"


def summarise(evaluation: dict, info: dict | None = None) -> dict:
    """Headline figures per tier: ROC AUC, Brier score and the largest reliability gap (bins of 100+ firms) of
    the model, and ROC AUC and Brier of the rules alone, per variant; ``evaluated_on`` beside them says what
    they were measured on (``simulated: ...`` for a model trained on the simulated population)."""
    out = {}
    for tier, by in evaluation.items():
        row = {"evaluated_on": evaluated_on(info or {})}
        for variant in VARIANTS:
            for metric in ("roc_auc", "brier"):
                row[f"{metric}_{variant}"] = by[variant]["model"][metric]
                row[f"baseline_{metric}_{variant}"] = by[variant]["baseline"][metric]
            row[f"max_calibration_gap_{variant}"] = max_gap(by[variant]["reliability"])
            row[f"ece_{variant}"] = ece(by[variant]["reliability"])
        out[tier] = row
    return out


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
