"""Percentiles of firms against cohorts: ``benchmark`` for many firms, ``benchmarks_json`` for one."""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from webapp.engine.cohorts.dimensions import dimension_scores
from webapp.engine.cohorts.distributions import percentiles_of
from webapp.engine.cohorts.geography import cohort_membership, cohorts_for
from webapp.engine.cohorts.metrics import METRIC_INPUTS, METRICS, metric_row, metric_values
from webapp.engine.cohorts.store import Cohort, CohortSet

BENCHMARK_FIELDS = (*METRIC_INPUTS, "province", "city")  # what the benchmarks of one firm read of it


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
    values = metric_values(profiles)
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


def benchmarks_json(profile_row_metrics, cohorts: CohortSet, cohort_ids=None) -> dict:
    """One firm's benchmarks as JSON-ready dicts.

    The same figures as :func:`benchmark` gives for that firm, worked out without frames: the firm's metrics
    from its fields, one percentile per cohort metric, and the cohort figures that do not depend on the firm
    from each cohort's cache (:attr:`Cohort.statistics`).

    Parameters
    ----------
    profile_row_metrics : Mapping, pandas.Series or pandas.DataFrame
        The firm's canonical fields and/or metric values (of a frame, its first row).
    cohorts : CohortSet
    cohort_ids : list of str, optional
        Default: :func:`cohorts_for` the firm's province and city, among the loaded cohorts.

    Returns
    -------
    dict
        ``{cohort_id: {metric: {"value", "percentile", "cohort_mean", "cohort_median", "basis"}}}``;
        unknown numbers are None.
    """
    row = _first_row(profile_row_metrics)
    if cohort_ids is None:
        cohort_ids = cohorts_for(row.get("province"), row.get("city"), available=cohorts.ids)
    values = metric_row(row)
    wanted = [(cohorts[cid], m) for cid in cohort_ids for m in cohorts[cid].metrics]
    # the percentiles of every known metric in every cohort, worked out together (one pass per family)
    known = [(cohort, m) for cohort, m in wanted if m in METRICS and not math.isnan(values.get(m, math.nan))]
    found = percentiles_of([(cohort.distribution(m), values[m]) for cohort, m in known])
    percentiles = {(cohort.id, m): p for (cohort, m), p in zip(known, found)}
    out = {}
    for cid in cohort_ids:
        cohort = cohorts[cid]
        stats = cohort.statistics
        out[cid] = {m: _metric_json(cohort, m, values.get(m, math.nan), stats[m], percentiles.get((cid, m)))
                    for m in cohort.metrics}
    return out


def _first_row(source) -> Mapping:
    """The fields the benchmarks read of one firm: a mapping as given, else the first row of a frame."""
    if isinstance(source, pd.DataFrame):
        wanted = [c for c in BENCHMARK_FIELDS if c in source.columns]
        return {c: source[c].iat[0] for c in wanted}
    if isinstance(source, pd.Series):
        return source.to_dict()
    return source


def _metric_json(cohort: Cohort, metric: str, value: float, stats: tuple, percentile: float | None) -> dict:
    """One metric of one cohort for one firm; ``cohort_mean`` is the published-comparable figure.

    ``percentile`` is the firm's, worked out only for the twelve ``METRICS`` (an imported cohort's other
    columns have a distribution but no firm value): None otherwise.
    """
    published, statistic, median, mean = stats
    return {"value": _num(value), "percentile": None if percentile is None else _num(percentile),
            "cohort_mean": _sig(published), "cohort_median": _sig(median), "cohort_mean_statistic": statistic,
            "firm_mean": _sig(mean), "basis": cohort.basis_for(metric)}


def _sig(x, digits: int = 6) -> float | None:
    """A fitted statistic to ``digits`` significant digits (the fit's numerical noise removed)."""
    x = _num(x)
    if x is None:
        return None
    return _rounded(x, digits) if x != 0 else float(f"{x:.{digits}g}")  # 0.0 and -0.0 are one cache key


@functools.lru_cache(maxsize=4096)
def _rounded(x: float, digits: int) -> float:
    """``x`` to ``digits`` significant digits; cached, as the statistics are the cohorts' (the same every call)."""
    return float(f"{x:.{digits}g}")


def _num(x) -> float | None:
    """A JSON-safe number: None for NaN."""
    x = float(x)
    return None if math.isnan(x) else x
