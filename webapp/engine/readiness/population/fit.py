"""Keep simulated title holders on their published cohort means despite being selected by the rules.

Holders are drawn from their stratum's marginals and kept when they meet their tier's rules; that
selection favours larger, more inventive firms, so the kept holders would drift above the cohort means
the marginals were fitted to (little giants: 115 patent applications, 240 staff, 7% R&D intensity).
:func:`fit_holder_marginals` shifts each cohort-sourced marginal's location on a pilot sample until the
kept holders' mean matches the cohort's mean again, and reports the published and simulated means.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from scipy import special

from webapp.engine.cohorts.distributions import FAMILIES
from webapp.engine.readiness.population.params import PopulationParams

_COHORT_FAMILY = {"zidlognorm": "zi_dlognorm", "logitnorm": "logitnorm"}


def _ratio(num: str, den: str):
    def value(frame: pd.DataFrame) -> np.ndarray:
        d = frame[den].to_numpy()
        return (frame[num].to_numpy() / np.where(d > 0, d, np.nan))[d > 0]
    return value


# Quantity -> the profile values its mean is checked on.
MEASURES = {
    "employees": lambda f: f["employees"].to_numpy(),
    "patent_applications": lambda f: f["patent_applications"].to_numpy(),
    "citations": lambda f: f["citations"].to_numpy(),
    "pct_applications": lambda f: f["pct_applications"].to_numpy(),
    "overseas_markets": lambda f: f["overseas_markets"].to_numpy(),
    "licenses_out": lambda f: f["licenses_out"].to_numpy(),
    "rd_ratio": _ratio("rd_expense", "revenue"),
    "invention_share": _ratio("invention_applications", "patent_applications"),
    "grant_rate": _ratio("invention_grants", "invention_applications"),
}


def cohort_means(params: PopulationParams, stratum: str) -> dict[str, float]:
    """Published (fitted cohort) means of the quantities whose marginal comes from a cohort for ``stratum``."""
    out = {}
    for name, q in params.quantities.items():
        if name in MEASURES and q.params[stratum].get("cohort_mean") is not None:
            out[name] = q.params[stratum]["cohort_mean"]
    return out


def with_cohort_means(params: PopulationParams) -> PopulationParams:
    """Record, beside each cohort-sourced marginal of a checked quantity, the mean of the cohort's fit."""
    quantities = dict(params.quantities)
    for name in MEASURES:
        q = params.quantities[name]
        per = {s: {**p, "cohort_mean": FAMILIES[_COHORT_FAMILY[q.family]](**p).mean()}
               if s in q.options.get("cohort_strata", ()) else p for s, p in q.params.items()}
        quantities[name] = dataclasses.replace(q, params=per)
    return dataclasses.replace(params, quantities=quantities)


def _shift(params: PopulationParams, stratum: str, name: str, step: float) -> PopulationParams:
    q = params.quantities[name]
    per = dict(q.params)
    per[stratum] = {**per[stratum], "mu": per[stratum]["mu"] + float(np.clip(step, -1.0, 1.0))}
    quantities = {**params.quantities, name: dataclasses.replace(q, params=per)}
    return dataclasses.replace(params, quantities=quantities)


def _step(family: str, target: float, achieved: float) -> float:
    if not np.isfinite(achieved) or achieved <= 0:
        return 0.0
    if family == "logitnorm":
        return float(special.logit(np.clip(target, 1e-6, 1 - 1e-6)) - special.logit(np.clip(achieved, 1e-6, 1 - 1e-6)))
    return float(np.log(target / achieved))


def fit_holder_marginals(params: PopulationParams, draw_holders, strata, rng: np.random.Generator, *,
                         pilot: int = 3000, iterations: int = 3) -> PopulationParams:
    """Shift cohort-sourced marginals of holder strata so that kept holders match the cohort means.

    Parameters
    ----------
    params : PopulationParams
        With cohort means recorded (:func:`with_cohort_means`).
    draw_holders : callable
        ``draw_holders(params, stratum, n, rng) -> (profiles, standing, legacy)``.
    strata : iterable of str
        Holder strata to fit.
    rng : numpy.random.Generator
        Pilot draws (seeded by the caller).
    pilot : int
        Holders per pilot draw.
    iterations : int
        Location shifts per stratum (each a multiplicative correction of the mean).

    Returns
    -------
    PopulationParams
        The shifted parameters (the recorded cohort means are unchanged).
    """
    for stratum in strata:
        targets = cohort_means(params, stratum)
        for _ in range(iterations):
            frame, _, _ = draw_holders(params, stratum, pilot, rng)
            for name, target in targets.items():
                achieved = float(np.nanmean(MEASURES[name](frame)))
                params = _shift(params, stratum, name, _step(params.quantities[name].family, target, achieved))
    return params


def cohort_check(params: PopulationParams, profiles: pd.DataFrame, stratum: np.ndarray, strata) -> list[dict]:
    """Cohort mean beside the simulated holders' mean, per stratum and quantity; ``assumed`` says whether the
    cohort's figure is a stated assumption (a tier portrait no publication gives) rather than a published one."""
    rows = []
    for s in strata:
        frame = profiles[stratum == s]
        for name, target in cohort_means(params, s).items():
            cid, assumed = params.quantities[name].options.get("cohort_basis", {}).get(s, (None, False))
            rows.append({"stratum": s, "quantity": name, "cohort": cid, "assumed": assumed,
                         "cohort_mean": round(target, 4),
                         "simulated_mean": round(float(np.nanmean(MEASURES[name](frame))), 4)})
    return rows
