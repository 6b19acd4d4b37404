"""Held-out figures of a readiness model: AUC, Brier, log loss and reliability bins, with the rules-only baseline."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

from webapp.engine.readiness.train import MASKABLE, VARIANTS, clip_probability, mask_profiles
from webapp.engine.rules.criteria import MET, NOT_MET

N_BINS = 10
HIDDEN_SHARES = {"random0.2": 0.2, "random0.8": 0.8}   # more partial profiles: each field hidden with this probability
PROFILES = (*VARIANTS, *HIDDEN_SHARES)                  # the profiles figures are measured on


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
    """Ten equal-width bins of predicted probability: firms, mean prediction, observed rate, gap, and the bin's
    binomial standard error at its mean prediction, sqrt(p(1 - p) / n), with the observed rate's distance from
    the prediction in those units (``z``: a calibrated model is more than 2 off in about 5% of bins by chance;
    a bin at the 0.001 floor reads a large z for a gap of 0.001)."""
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
                     "gap": None if k == 0 else round(abs(mean_p - observed), 4), **_z(mean_p, observed, k)})
    return rows


def _z(mean_p: float | None, observed: float | None, n: int) -> dict:
    if not n:
        return {"se": None, "z": None}
    p = min(max(mean_p, 1e-6), 1.0 - 1e-6)
    se = float(np.sqrt(p * (1.0 - p) / n))
    return {"se": round(se, 4), "z": round((observed - mean_p) / se, 2)}


CHANCE_Z2, CHANCE_Z3 = 0.0455, 0.0027   # two-sided normal tail beyond 2 and 3 standard errors


def z_counts(rows: list[dict], min_rows: int = 100) -> dict:
    """Bins of ``min_rows``+ firms, how many are beyond 0.05 (and how many a calibrated model would put there by
    sampling alone: the sum over bins of P(|normal| > 0.05 / se)) and the largest gap; of those off the 0.001 floor
    (gap 0.002 or more), how many are more than 2 and 3 standard errors from their prediction, against what
    chance gives a calibrated model."""
    judged = [r for r in rows if r["n"] >= min_rows]
    off_floor = [r for r in judged if r["gap"] >= 0.002]
    return {"bins": len(judged), "beyond_0.05": sum(r["gap"] > 0.05 for r in judged),
            "chance_beyond_0.05": round(sum(math.erfc(0.05 / (r["se"] * math.sqrt(2.0))) for r in judged if r["se"]),
                                        1),
            "max_gap": max((r["gap"] for r in judged), default=None),
            "off_floor": len(off_floor), "z_over_2": sum(abs(r["z"]) > 2 for r in off_floor),
            "z_over_3": sum(abs(r["z"]) > 3 for r in off_floor),
            "chance_z_over_2": round(CHANCE_Z2 * len(off_floor), 1),
            "chance_z_over_3": round(CHANCE_Z3 * len(off_floor), 1)}


def hide_fields(clean: pd.DataFrame, share: float, rng: np.random.Generator) -> pd.DataFrame:
    """Each input field of each profile hidden with probability ``share`` (as a user leaving cells empty)."""
    hide = rng.random((len(clean), len(MASKABLE))) < share
    return clean.assign(**{name: clean[name].mask(hide[:, j]) for j, name in enumerate(MASKABLE) if hide[:, j].any()})


def rules_baseline(status: np.ndarray) -> np.ndarray:
    """The rules alone as a probability: met 1, not met 0, unknown 0.5."""
    return np.where(status == MET, 1.0, np.where(status == NOT_MET, 0.0, 0.5))


def evaluate(model, clean: pd.DataFrame, labels: pd.DataFrame, masking: dict, seed: int) -> dict:
    """Held-out metrics per tier and profile (full, quick, random, random0.2, random0.8: ``PROFILES``), with
    the rules-only baseline.

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
    for variant in PROFILES:
        masked = (hide_fields(clean, HIDDEN_SHARES[variant], rng) if variant in HIDDEN_SHARES
                  else mask_profiles(clean, rng, masking, kind=variant, quick=model.features.ruleset.quick_fields))
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
    the model, and ROC AUC and Brier of the rules alone, per profile measured; ``evaluated_on`` beside them says what
    they were measured on (``simulated: ...`` for a model trained on the simulated population)."""
    out = {}
    for tier, by in evaluation.items():
        row = {"evaluated_on": evaluated_on(info or {})}
        for variant in by:
            for metric in ("roc_auc", "brier"):
                row[f"{metric}_{variant}"] = by[variant]["model"][metric]
                row[f"baseline_{metric}_{variant}"] = by[variant]["baseline"][metric]
            row[f"max_calibration_gap_{variant}"] = max_gap(by[variant]["reliability"])
            row[f"ece_{variant}"] = ece(by[variant]["reliability"])
        out[tier] = row
    return out


def calibration_firms(meta: dict) -> int:
    """Firms the calibration grids of a model were fitted on: its calibration split and the extra simulated
    firms drawn for the grids alone (``calibration_population``)."""
    training = meta["training"]
    return int(training["split"]["calibration"]) + int(training["config"].get("calibration_population", 0))
