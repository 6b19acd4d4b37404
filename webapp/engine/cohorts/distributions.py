"""The distribution families of cohort metrics (``FAMILIES``) and their mid-rank percentiles.

A percentile is the share of the cohort strictly below a value plus half the share equal to it, on a
0-100 scale (the mid-rank rule). Count metrics have discrete distributions, so a firm with 0 PCT
applications against little giants, of whom 76.7% have none, sits at 76.7 / 2 = 38.35. Ratio metrics
are continuous. ``data/cohorts/README.md`` documents the families.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

_HERMITE = np.polynomial.hermite.hermgauss(64)


class Distribution:
    """A cohort's distribution of one metric: below/equal shares, mean and median."""

    family = ""

    def below_equal(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return P(X < x) and P(X = x) for each x (float arrays; NaN in, anything out)."""
        raise NotImplementedError

    def percentile(self, x) -> np.ndarray:
        """Mid-rank percentile, 0-100, NaN where x is NaN."""
        x = np.asarray(x, dtype="float64")
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            below, equal = self.below_equal(x)
            out = 100.0 * (below + 0.5 * equal)
        return np.where(np.isnan(x), np.nan, np.clip(out, 0.0, 100.0))

    def cdf(self, x) -> np.ndarray:
        """P(X <= x)."""
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            below, equal = self.below_equal(np.asarray(x, dtype="float64"))
        return below + equal

    def share_between(self, lo: float, hi: float) -> float:
        """P(lo <= X <= hi); ``hi`` may be ``inf``."""
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            below_lo = self.below_equal(np.array([lo], dtype="float64"))[0][0]
            upper = 1.0 if np.isinf(hi) else float(self.cdf(np.array([hi]))[0])
        return float(upper - below_lo)

    def params(self) -> dict:
        """Parameters as stored in fitted.json."""
        return {k: float(v) for k, v in vars(self).items()}


class ZIDLogNorm(Distribution):
    """Zero-inflated discretised lognormal for counts: X = 0 with probability ``pi``, else floor(Y).

    Y ~ lognormal(mu, sigma), so P(X <= k) = pi + (1 - pi) * Phi((ln(k + 1) - mu) / sigma) for k >= 0.
    """

    family = "zi_dlognorm"

    def __init__(self, mu: float, sigma: float, pi: float = 0.0):
        self.mu, self.sigma, self.pi = float(mu), float(sigma), float(pi)

    def cdf_int(self, k: np.ndarray) -> np.ndarray:
        """P(X <= k) for whole numbers k (negative k gives 0)."""
        k = np.asarray(k, dtype="float64")
        z = np.log1p(np.maximum(k, 0.0))
        z -= self.mu
        z /= self.sigma
        p = special.ndtr(z)
        p *= 1.0 - self.pi
        p += self.pi
        return np.where(k >= 0, p, 0.0)

    def below_equal(self, x):
        k = np.ceil(x) - 1.0  # P(X < x) = P(X <= ceil(x) - 1)
        below = self.cdf_int(k)
        whole = (x == k + 1.0) & (x >= 0)
        return below, np.where(whole, self.cdf_int(x) - below, 0.0)

    def mean(self) -> float:
        """E[X] = (1 - pi) * sum_k P(Y >= k): 400 terms, then the lognormal tail integral."""
        k = np.arange(1.0, 401.0)
        head = special.ndtr(-(np.log(k) - self.mu) / self.sigma).sum()
        a, s = 400.5, self.sigma
        tail = (np.exp(self.mu + s * s / 2) * special.ndtr((self.mu + s * s - np.log(a)) / s)
                - a * special.ndtr((self.mu - np.log(a)) / s))
        return float((1.0 - self.pi) * (head + tail))

    def median(self) -> float:
        """Smallest k with P(X <= k) >= 0.5."""
        if self.pi >= 0.5:
            return 0.0
        q = (0.5 - self.pi) / (1.0 - self.pi)
        y = np.exp(self.mu + self.sigma * special.ndtri(q))
        return float(max(np.ceil(y) - 1.0, 0.0))


class ZILogNorm(Distribution):
    """Continuous lognormal(mu, sigma) with a point mass ``pi`` at 0 (invention density)."""

    family = "zi_lognorm"

    def __init__(self, mu: float, sigma: float, pi: float = 0.0):
        self.mu, self.sigma, self.pi = float(mu), float(sigma), float(pi)

    def below_equal(self, x):
        cont = special.ndtr((np.log(np.where(x > 0, x, 1.0)) - self.mu) / self.sigma)
        below = np.where(x > 0, self.pi + (1.0 - self.pi) * cont, 0.0)
        return below, np.where(x == 0, self.pi, 0.0)

    def mean(self) -> float:
        return float((1.0 - self.pi) * np.exp(self.mu + self.sigma ** 2 / 2))

    def pooled_ratio(self) -> float:
        """Sum of numerators over sum of denominators, (1 - pi) * e^mu, when both are lognormal with equal
        log-sd (the model behind the borrowed spread)."""
        return float((1.0 - self.pi) * np.exp(self.mu))

    def median(self) -> float:
        if self.pi >= 0.5:
            return 0.0
        return float(np.exp(self.mu + self.sigma * special.ndtri((0.5 - self.pi) / (1.0 - self.pi))))


class LogitNorm(Distribution):
    """Logit-normal for fractions in (0, 1): logit(X) ~ normal(mu, sigma)."""

    family = "logitnorm"

    def __init__(self, mu: float, sigma: float):
        self.mu, self.sigma = float(mu), float(sigma)

    def below_equal(self, x):
        inside = special.ndtr((special.logit(np.clip(x, 1e-300, 1.0)) - self.mu) / self.sigma)
        below = np.where(x <= 0, 0.0, np.where(x >= 1, 1.0, inside))
        return below, np.zeros_like(below)

    def mean(self) -> float:
        nodes, weights = _HERMITE
        return float(weights @ special.expit(self.mu + np.sqrt(2.0) * self.sigma * nodes) / np.sqrt(np.pi))

    def median(self) -> float:
        return float(special.expit(self.mu))

    def pooled_ratio(self) -> float:
        """Pooled share, sum(part) / sum(whole) = expit(mu), when the part and the rest are lognormal with
        equal log-sd (the model behind the borrowed spread)."""
        return float(special.expit(self.mu))


class GrowthLogNorm(Distribution):
    """Annual growth rate g with 1 + g ~ lognormal(mu, sigma) (application CAGR)."""

    family = "growth_lognorm"

    def __init__(self, mu: float, sigma: float):
        self.mu, self.sigma = float(mu), float(sigma)

    def below_equal(self, x):
        z = (np.log1p(np.where(x > -1, x, 0.0)) - self.mu) / self.sigma
        below = np.where(x > -1, special.ndtr(z), 0.0)
        return below, np.zeros_like(below)

    def mean(self) -> float:
        return float(np.exp(self.mu + self.sigma ** 2 / 2) - 1.0)

    def median(self) -> float:
        return float(np.expm1(self.mu))

    def cagr_of_mean(self) -> float:
        """Growth of the cohort mean, (E[a_t] / E[a_t-2]) ** 0.5 - 1, when growth is independent of size."""
        return float(np.exp(self.mu + self.sigma ** 2) - 1.0)


class Empirical(Distribution):
    """The distribution of observed values (an imported cohort); NaN values are dropped."""

    family = "empirical"

    def __init__(self, values):
        v = np.asarray(values, dtype="float64")
        self.values = np.sort(v[~np.isnan(v)])

    def below_equal(self, x):
        n = max(len(self.values), 1)
        left = np.searchsorted(self.values, x, side="left")
        right = np.searchsorted(self.values, x, side="right")
        return left / n, (right - left) / n

    def mean(self) -> float:
        return float(self.values.mean()) if len(self.values) else float("nan")

    def median(self) -> float:
        return float(np.median(self.values)) if len(self.values) else float("nan")

    def params(self) -> dict:
        return {"n": int(len(self.values))}


FAMILIES = {cls.family: cls for cls in (ZIDLogNorm, ZILogNorm, LogitNorm, GrowthLogNorm, Empirical)}
_STACKED = (ZIDLogNorm, ZILogNorm, LogitNorm, GrowthLogNorm)  # scalar parameters, element-wise formulas


def percentiles_of(pairs: list[tuple[Distribution, float]]) -> list[float]:
    """The percentile of each value under its distribution: ``dist.percentile(np.array([x]))[0]`` for each
    ``(dist, x)``, with the distributions of one parametric family stacked into one whose parameters are
    arrays, so one firm's metrics against several cohorts cost one numpy pass per family, not per metric.
    The formulas are element-wise, so every value is the float it would be alone
    (tests/engine/test_benchmarks_one_firm.py)."""
    out: list[float] = [math.nan] * len(pairs)
    families: dict[type, list[int]] = {}
    for k, (dist, _) in enumerate(pairs):
        families.setdefault(type(dist), []).append(k)
    for cls, where in families.items():
        dists = [pairs[k][0] for k in where]
        values = np.array([pairs[k][1] for k in where], dtype="float64")
        if cls in _STACKED and len(where) > 1:
            stacked = cls.__new__(cls)
            stacked.__dict__.update({name: np.array([d.__dict__[name] for d in dists], dtype="float64")
                                     for name in dists[0].__dict__})
            found = stacked.percentile(values).tolist()
        else:
            found = [float(d.percentile(values[j:j + 1])[0]) for j, d in enumerate(dists)]
        for k, value in zip(where, found):
            out[k] = value
    return out
