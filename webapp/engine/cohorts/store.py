"""Cohort distributions and percentiles, fitted to published aggregates or built from firm rows.

A percentile is the share of the cohort strictly below a value plus half the share equal to it, on a
0-100 scale (the mid-rank rule). Count metrics have discrete distributions, so a firm with 0 PCT
applications against little giants, of whom 76.7% have none, sits at 76.7 / 2 = 38.35. Ratio metrics
are continuous. The families are listed in ``FAMILIES``, and ``data/cohorts/README.md`` documents them.
Shares are fractions (0.454, not 45.4). Nothing is read at import.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import special

from webapp import paths


class CohortError(ValueError):
    """A cohort file cannot be read; the message names the file."""


METRICS = ("patent_applications", "valid_inventions", "invention_share", "grant_rate", "invention_density",
           "citations", "licenses_out", "pct_applications", "overseas_markets", "application_cagr",
           "employees", "rd_ratio")
COUNT_METRICS = ("patent_applications", "valid_inventions", "citations", "licenses_out", "pct_applications",
                 "overseas_markets", "employees")
METRIC_LABELS = {  # metric -> (zh, en)
    "patent_applications": ("专利申请总量", "patent applications"),
    "valid_inventions": ("有效发明专利量", "valid invention patents"),
    "invention_share": ("发明专利申请占比", "invention share of applications"),
    "grant_rate": ("发明专利授权率", "invention grant rate"),
    "invention_density": ("发明专利密度（件/千人）", "invention density (per 1,000 staff)"),
    "citations": ("专利被引次数", "forward citations"),
    "licenses_out": ("专利对外许可次数", "outbound licences"),
    "pct_applications": ("PCT专利申请量", "PCT applications"),
    "overseas_markets": ("专利布局海外市场数", "overseas filing markets"),
    "application_cagr": ("专利申请年复合增长率", "application growth (CAGR)"),
    "employees": ("职工人数", "staff"),
    "rd_ratio": ("研发费用占营业收入比重", "R&D expense ratio"),
}

_HERMITE = np.polynomial.hermite.hermgauss(64)


RATIO_METRICS = ("invention_share", "grant_rate", "invention_density")
# The cohort that portrays each tier, for comparing a firm with the rung it aims at.
TIER_COHORTS = {"innovative_sme": "tier_innovative_sme", "tech_sme": "tier_innovative_sme",
                "srdi_sme": "tier_srdi_sme", "little_giant": "little_giant",
                "single_champion": "tier_single_champion"}


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


@dataclass(frozen=True)
class Cohort:
    """One benchmark population: its distributions per metric and what each rests on.

    Attributes
    ----------
    id : str
        Cohort id, e.g. ``"little_giant"``.
    name_zh, name_en : str
        Display names.
    n_firms : float
        Number of firms the published figures describe (or the rows of an imported cohort).
    as_of : str
        Date of the figures (ISO, possibly only year-month).
    kind : str
        ``"fitted"`` (to published aggregates) or ``"empirical"`` (from firm rows).
    source_zh, source_en : str
        Where the figures come from, for the PDF and web page.
    distributions : Mapping[str, Distribution]
        One distribution per metric the cohort has figures or stated assumptions for.
    bases : Mapping[str, dict]
        Per metric: kind, as_of, family, sources, assumption flag and a zh/en sentence.
    """

    id: str
    name_zh: str
    name_en: str
    n_firms: float
    as_of: str
    kind: str
    source_zh: str
    source_en: str
    distributions: Mapping[str, Distribution] = field(repr=False)
    bases: Mapping[str, dict] = field(repr=False)
    description: str = ""

    @property
    def metrics(self) -> tuple[str, ...]:
        """Metrics this cohort has, in ``METRICS`` order (imported extras last)."""
        known = [m for m in METRICS if m in self.distributions]
        return tuple(known + sorted(set(self.distributions) - set(known)))

    @property
    def basis(self) -> dict:
        """What the cohort as a whole rests on: kind, as_of, source_zh, source_en."""
        return {"kind": self.kind, "as_of": self.as_of, "source_zh": self.source_zh,
                "source_en": self.source_en}

    def basis_for(self, metric: str) -> dict:
        """What the percentiles of ``metric`` rest on (a copy, safe to serialise)."""
        self.distribution(metric)
        return dict(self.bases[metric])

    def distribution(self, metric: str) -> Distribution:
        """The distribution of ``metric``; KeyError naming the metrics the cohort has."""
        try:
            return self.distributions[metric]
        except KeyError:
            raise KeyError(f"cohort {self.id!r} has no figures for {metric!r}; it has {list(self.metrics)}") \
                from None

    def mean(self, metric: str) -> float:
        """Mean of ``metric`` under the cohort's distribution."""
        return self.distribution(metric).mean()

    def published_mean(self, metric: str) -> tuple[float, str]:
        """The cohort figure comparable with what reports publish, and which statistic it is.

        Reports give ratios as totals over totals (valid inventions per 1,000 staff of the whole cohort)
        and growth as the growth of the cohort mean; for those metrics this returns that statistic
        (``"ratio_of_totals"``, ``"growth_of_mean"``), otherwise the mean over firms (``"mean"``).
        """
        dist = self.distribution(metric)
        if metric in RATIO_METRICS and hasattr(dist, "pooled_ratio"):
            return dist.pooled_ratio(), "ratio_of_totals"
        if hasattr(dist, "cagr_of_mean"):
            return dist.cagr_of_mean(), "growth_of_mean"
        return dist.mean(), "mean"

    def median(self, metric: str) -> float:
        """Median of ``metric`` (for counts: the smallest k with P(X <= k) >= 0.5)."""
        return self.distribution(metric).median()

    def cdf(self, metric: str, x) -> np.ndarray:
        """P(X <= x) for each x."""
        return self.distribution(metric).cdf(x)

    def pmf(self, metric: str, x) -> np.ndarray:
        """P(X = x) for each x (zero for continuous metrics except a point mass at 0)."""
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return self.distribution(metric).below_equal(np.asarray(x, dtype="float64"))[1]

    def percentile(self, metric: str, values) -> np.ndarray:
        """Mid-rank percentiles (0-100) of ``values``; NaN for unknown values."""
        return self.distribution(metric).percentile(values)


class CohortSet(Mapping):
    """The loaded cohorts, by id, in file order (built-in first, then imported)."""

    def __init__(self, cohorts: list[Cohort], version: str = ""):
        self._cohorts = {c.id: c for c in cohorts}
        self.version = version

    @property
    def ids(self) -> tuple[str, ...]:
        """Cohort ids in order."""
        return tuple(self._cohorts)

    def __getitem__(self, cid: str) -> Cohort:
        try:
            return self._cohorts[cid]
        except KeyError:
            raise KeyError(f"unknown cohort {cid!r}; known: {list(self._cohorts)}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._cohorts)

    def __len__(self) -> int:
        return len(self._cohorts)


def load_cohorts(path: str | Path | None = None, *, extra_dir: str | Path | None = None) -> CohortSet:
    """Load the fitted cohorts, plus imported (empirical) cohorts from ``extra_dir``.

    Parameters
    ----------
    path : str or Path, optional
        Directory holding ``cohorts.csv`` and ``fitted.json`` (default: the repository's data/cohorts).
    extra_dir : str or Path, optional
        Directory of cohorts written by :func:`import_cohort` (``<id>.json`` + ``<id>.csv`` each).

    Returns
    -------
    CohortSet
    """
    base = Path(path) if path is not None else paths.resolve().cohorts
    cohorts = []
    where = base / "fitted.json"
    try:
        meta = pd.read_csv(base / "cohorts.csv", dtype=str, keep_default_na=False).set_index("cohort")
        fitted = json.loads(where.read_text(encoding="utf-8"))
        for cid, entry in fitted["cohorts"].items():
            row = meta.loc[cid]
            dists = {m: FAMILIES[e["family"]](**e["params"]) for m, e in entry["metrics"].items()}
            bases = {m: _fitted_basis(e) for m, e in entry["metrics"].items()}
            cohorts.append(Cohort(cid, row["name_zh"], row["name_en"], float(row["n_firms"] or "nan"),
                                  row["as_of"], "fitted", row["source_zh"], row["source_en"], dists, bases,
                                  row["description"]))
        if extra_dir is not None:
            for where in sorted(Path(extra_dir).glob("*.json")):
                cohorts.append(_load_empirical(where))
    except FileNotFoundError as exc:
        raise CohortError(f"{exc.filename}: file not found") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CohortError(f"{where}: cannot be read ({type(exc).__name__}: {exc})") from None
    ids = [c.id for c in cohorts]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise CohortError(f"cohort ids defined twice (built-in and imported?): {dupes}")
    return CohortSet(cohorts, version=fitted.get("inputs_sha256", ""))


def _fitted_basis(entry: dict) -> dict:
    """The per-metric basis record of a fitted entry."""
    return {"kind": "fitted", "as_of": entry["as_of"], "family": entry["family"],
            "assumption": entry["assumption"], "dispersion": entry["dispersion"]["origin"],
            "sources": list(entry["sources"]), "source_zh": entry["basis_zh"], "source_en": entry["basis_en"]}


def _load_empirical(meta_path: Path) -> Cohort:
    """Read one imported cohort (meta json + metric csv)."""
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    rows = pd.read_csv(meta_path.with_suffix(".csv"), dtype="float64")
    dists = {m: Empirical(rows[m].to_numpy()) for m in meta["metrics"]}
    bases = {}
    for m in meta["metrics"]:
        n, src, as_of = len(dists[m].values), meta["source"], meta["as_of"]
        bases[m] = {"kind": "empirical", "as_of": as_of, "family": "empirical", "assumption": False,
                    "dispersion": "empirical", "n": n, "sources": [src],
                    "source_zh": f"{src}：{n}家企业的实际数据（经验分布），截至{as_of}",
                    "source_en": f"{src}: observed values of {n} firms (empirical), as of {as_of}"}
    return Cohort(meta["id"], meta["name_zh"], meta["name_en"], float(meta["n_firms"]), meta["as_of"],
                  "empirical", meta["source"], meta["source"], dists, bases, meta.get("description", ""))


def derive_metrics(profiles: pd.DataFrame) -> pd.DataFrame:
    """Compute the twelve cohort metrics from canonical profile fields.

    Parameters
    ----------
    profiles : pandas.DataFrame
        One row a firm, canonical field names (spec/fields.md); absent columns count as unknown.

    Returns
    -------
    pandas.DataFrame
        Columns ``METRICS``, float64, same index; NaN where an input is unknown or a ratio is undefined.
        ``invention_share`` = invention_applications / patent_applications, ``grant_rate`` =
        invention_grants / invention_applications, ``invention_density`` = valid_inventions * 1000 /
        employees (per 1,000 staff), ``application_cagr`` = (applications_last / applications_prev2) ** 0.5
        - 1, ``rd_ratio`` = rd_expense / revenue (fractions, not percent); the counts are copied.
    """
    def col(name):
        if name not in profiles:
            return np.full(len(profiles), np.nan)
        return pd.to_numeric(profiles[name], errors="coerce").astype("float64").to_numpy()

    def ratio(num, den, scale=1.0):
        out = np.full(len(profiles), np.nan)
        np.divide(num * scale, den, out=out, where=den > 0)
        return out

    out = {m: col(m) for m in COUNT_METRICS}
    out["invention_share"] = ratio(col("invention_applications"), out["patent_applications"])
    out["grant_rate"] = ratio(col("invention_grants"), col("invention_applications"))
    out["invention_density"] = ratio(out["valid_inventions"], out["employees"], 1000.0)
    growth = ratio(col("applications_last"), col("applications_prev2"))
    with np.errstate(invalid="ignore"):
        out["application_cagr"] = np.where(growth >= 0, np.sqrt(growth), np.nan) - 1.0
    out["rd_ratio"] = ratio(col("rd_expense"), col("revenue"))
    return pd.DataFrame({m: out[m] for m in METRICS}, index=profiles.index)


def percentile_of(values, cohort: Cohort, metric: str) -> np.ndarray:
    """Mid-rank percentiles of ``values`` against ``cohort``'s distribution of ``metric``.

    Parameters
    ----------
    values : numpy.ndarray or pandas.Series
        Metric values (counts as numbers, shares as fractions); NaN is unknown.
    cohort : Cohort
        A loaded cohort.
    metric : str
        One of the cohort's ``metrics``.

    Returns
    -------
    numpy.ndarray
        float64, 0-100: 100 * (P(X < v) + P(X = v) / 2); NaN where the value is unknown.
    """
    return cohort.percentile(metric, np.asarray(values, dtype="float64"))


@dataclass
class BenchmarkResult:
    """Percentiles of many firms against several cohorts.

    ``values``: derived metrics (firms x METRICS). ``percentiles`` and ``dimensions``: per cohort id, a
    frame firms x METRICS (NaN where the cohort lacks the metric, the value is unknown or the firm is
    outside the cohort) and firms x dimension ids. ``cohort_stats``: one row per (cohort, metric) with
    cohort_mean, cohort_median and the basis record.
    """

    values: pd.DataFrame
    percentiles: dict[str, pd.DataFrame]
    dimensions: dict[str, pd.DataFrame]
    cohort_stats: pd.DataFrame


def benchmark(profiles: pd.DataFrame, cohorts: CohortSet, cohort_ids=None) -> BenchmarkResult:
    """Percentiles and dimension scores of every firm against the chosen cohorts.

    Parameters
    ----------
    profiles : pandas.DataFrame
        Canonical profile fields (or the metric columns themselves), one row a firm.
    cohorts : CohortSet
        From :func:`load_cohorts`.
    cohort_ids : list of str, "auto" or None
        Cohorts to use for every firm; ``"auto"`` picks each firm's own (:func:`cohorts_for`, from its
        ``province`` and ``city``) and leaves other cohorts NaN for it; None means every loaded cohort.

    Returns
    -------
    BenchmarkResult
    """
    from webapp.engine.cohorts.dimensions import dimension_scores

    values = _metric_values(profiles)
    members = None
    if isinstance(cohort_ids, str) and cohort_ids == "auto":
        members = cohort_membership(profiles, available=cohorts.ids)
        cohort_ids = list(members.columns)
    ids = list(cohorts.ids if cohort_ids is None else cohort_ids)
    percentiles, dimensions, stats = {}, {}, []
    for cid in ids:
        cohort = cohorts[cid]
        frame = pd.DataFrame(np.nan, index=values.index, columns=list(METRICS))
        for m in cohort.metrics:
            if m in frame:
                frame[m] = cohort.percentile(m, values[m].to_numpy())
            stats.append({"cohort": cid, "metric": m, "cohort_mean": cohort.mean(m),
                          "cohort_median": cohort.median(m), "basis": cohort.basis_for(m)})
        if members is not None:
            frame.loc[~members[cid].to_numpy()] = np.nan
        percentiles[cid] = frame
        dimensions[cid] = pd.DataFrame(dimension_scores(frame), index=values.index)
    return BenchmarkResult(values, percentiles, dimensions, pd.DataFrame(stats))


def _metric_values(profiles: pd.DataFrame) -> pd.DataFrame:
    """Derived metrics, taking a metric column the caller gave directly where derivation leaves NaN."""
    values = derive_metrics(profiles)
    for m in METRICS:
        if m in profiles and m not in COUNT_METRICS:
            given = pd.to_numeric(profiles[m], errors="coerce").astype("float64")
            values[m] = values[m].fillna(given)
    return values


def benchmarks_json(profile_row_metrics, cohorts: CohortSet, cohort_ids=None) -> dict:
    """One firm's benchmarks as JSON-ready dicts.

    Parameters
    ----------
    profile_row_metrics : Mapping, pandas.Series or one-row pandas.DataFrame
        The firm's canonical fields and/or metric values.
    cohorts : CohortSet
    cohort_ids : list of str, optional
        Default: :func:`cohorts_for` the firm's province and city, among the loaded cohorts.

    Returns
    -------
    dict
        ``{cohort_id: {metric: {"value", "percentile", "cohort_mean", "cohort_median", "basis"}}}``;
        unknown numbers are None.
    """
    frame = profile_row_metrics if isinstance(profile_row_metrics, pd.DataFrame) else \
        pd.DataFrame([dict(profile_row_metrics)])
    frame = frame.iloc[:1]
    if cohort_ids is None:
        row = frame.iloc[0]
        cohort_ids = cohorts_for(row.get("province"), row.get("city"), available=cohorts.ids)
    result = benchmark(frame, cohorts, list(cohort_ids))
    values = result.values.iloc[0]
    out = {}
    for cid in cohort_ids:
        cohort, pct = cohorts[cid], result.percentiles[cid].iloc[0]
        out[cid] = {m: _metric_json(cohort, m, values.get(m, np.nan), pct.get(m, np.nan)) for m in cohort.metrics}
    return out


def _metric_json(cohort: Cohort, metric: str, value, percentile) -> dict:
    """One metric of one cohort for one firm; ``cohort_mean`` is the published-comparable figure."""
    published, statistic = cohort.published_mean(metric)
    return {"value": _num(value), "percentile": _num(percentile), "cohort_mean": _sig(published),
            "cohort_median": _sig(cohort.median(metric)), "cohort_mean_statistic": statistic,
            "firm_mean": _sig(cohort.mean(metric)), "basis": cohort.basis_for(metric)}


def _sig(x, digits: int = 6) -> float | None:
    """A fitted statistic to ``digits`` significant digits (the fit's numerical noise removed)."""
    x = _num(x)
    return None if x is None else float(f"{x:.{digits}g}")


def _num(x) -> float | None:
    """A JSON-safe number: None for NaN."""
    x = float(x)
    return None if np.isnan(x) else x


REGION_PROVINCES = {"region_jjj": ("北京", "天津", "河北"), "region_yrd": ("上海", "江苏", "浙江", "安徽")}
GBA_CITIES = ("广州", "深圳", "珠海", "佛山", "惠州", "东莞", "中山", "江门", "肇庆")
PROVINCE_COHORTS = {"北京": "province_beijing", "江苏": "province_jiangsu", "广东": "province_guangdong"}
CITY_COHORTS = {"北京": "city_beijing", "深圳": "city_shenzhen", "上海": "city_shanghai",
                "宁波": "city_ningbo", "重庆": "city_chongqing"}
_MUNICIPALITIES = ("北京", "上海", "天津", "重庆")
_CITY_PROVINCE = {**{c: "广东" for c in GBA_CITIES}, "宁波": "浙江", **{m: m for m in _MUNICIPALITIES}}
_SUFFIXES = ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市")


def _short_name(name) -> str:
    """Short Chinese place name: '广东省' -> '广东', '深圳市' -> '深圳'; None/NaN -> ''."""
    if name is None or (isinstance(name, float) and np.isnan(name)) or name is pd.NA:
        return ""
    s = str(name).strip()
    for suffix in _SUFFIXES:
        if s.endswith(suffix) and len(s) - len(suffix) >= 2:
            return s[: -len(suffix)]
    return s


def cohorts_for(province, city, *, available=None) -> list[str]:
    """Cohorts to compare a firm with: little giants plus its own region, province and city cohorts.

    Parameters
    ----------
    province, city : str or None
        Short Chinese names (广东, 深圳); suffixes 省/市/自治区 are ignored, a missing province is
        inferred from the city where unambiguous (深圳 -> 广东, 宁波 -> 浙江, municipalities).
    available : iterable of str, optional
        Keep only these ids (e.g. ``CohortSet.ids``).

    Returns
    -------
    list of str
        ``["little_giant", region?, province?, city?]``.
    """
    prov, cty = _short_name(province), _short_name(city)
    prov = prov or _CITY_PROVINCE.get(cty, "")
    if not cty and prov in _MUNICIPALITIES:
        cty = prov
    ids = ["little_giant"]
    ids += [cid for cid, provs in REGION_PROVINCES.items() if prov in provs]
    if cty in GBA_CITIES and prov in ("", "广东"):
        ids.append("region_gba")
    ids += [PROVINCE_COHORTS[prov]] if prov in PROVINCE_COHORTS else []
    ids += [CITY_COHORTS[cty]] if cty in CITY_COHORTS and _CITY_PROVINCE.get(cty, prov) == prov else []
    return [i for i in ids if available is None or i in set(available)]


def cohort_membership(profiles: pd.DataFrame, *, available=None) -> pd.DataFrame:
    """Which of its own cohorts each firm belongs to: a boolean frame, firms x cohort ids.

    Looks up each distinct (province, city) pair once, so it stays fast for a million rows.
    """
    n = len(profiles)
    prov = profiles["province"] if "province" in profiles else pd.Series([None] * n, index=profiles.index)
    city = profiles["city"] if "city" in profiles else pd.Series([None] * n, index=profiles.index)
    keys = pd.MultiIndex.from_arrays([prov.map(_short_name), city.map(_short_name)])
    codes, uniques = pd.factorize(keys)
    chosen = [cohorts_for(p, c, available=available) for p, c in uniques]
    ids = list(dict.fromkeys(cid for own in chosen for cid in own))
    table = np.zeros((len(chosen), len(ids)), dtype=bool)
    for row, own in enumerate(chosen):
        table[row, [ids.index(cid) for cid in own]] = True
    return pd.DataFrame(table[codes], index=profiles.index, columns=ids)


_ID_PATTERN = re.compile(r"^[\w\-]+$")


def import_cohort(frame: pd.DataFrame, name: str, out_dir: str | Path, *, as_of: str | None = None,
                  source: str | None = None, name_en: str | None = None) -> Path:
    """Write an empirical cohort from real firm rows, loadable with ``load_cohorts(extra_dir=out_dir)``.

    Parameters
    ----------
    frame : pandas.DataFrame
        Canonical profile fields (or metric columns), one row a firm.
    name : str
        Cohort id and display name (letters, digits, CJK, ``_`` or ``-``).
    out_dir : str or Path
        Directory to write ``<name>.csv`` (metric columns, float) and ``<name>.json`` (meta).
    as_of : str, optional
        Date the rows describe (default: today).
    source : str, optional
        Where the rows come from (default: "imported firm rows").
    name_en : str, optional
        English display name (default: ``name``).

    Returns
    -------
    Path
        The meta json file.
    """
    if not _ID_PATTERN.match(name):
        raise ValueError(f"cohort name {name!r}: use letters, digits, CJK, '_' or '-'")
    values = _metric_values(frame)
    metrics = [m for m in METRICS if values[m].notna().any()]
    if not metrics:
        raise ValueError(f"cohort {name!r}: no metric can be computed from the columns {list(frame.columns)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    values[metrics].to_csv(out / f"{name}.csv", index=False)
    meta = {"id": name, "name_zh": name, "name_en": name_en or name, "kind": "empirical",
            "n_firms": int(len(values)), "as_of": as_of or date.today().isoformat(),
            "source": source or "imported firm rows", "metrics": metrics,
            "n_known": {m: int(values[m].notna().sum()) for m in metrics}}
    path = out / f"{name}.json"
    path.write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path
