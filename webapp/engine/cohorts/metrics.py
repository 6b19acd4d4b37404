"""The cohort metrics: their names and labels, and how they are computed from canonical profile fields.

Shares are fractions (0.454, not 45.4).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

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
RATIO_METRICS = ("invention_share", "grant_rate", "invention_density")
# The profile fields the metrics are computed from, and the metrics a caller may give directly.
METRIC_INPUTS = (*COUNT_METRICS, "invention_applications", "invention_grants", "applications_last",
                 "applications_prev2", "rd_expense", "revenue", *[m for m in METRICS if m not in COUNT_METRICS])


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


def metric_values(profiles: pd.DataFrame) -> pd.DataFrame:
    """Derived metrics, taking a metric column the caller gave directly where derivation leaves NaN.

    Parameters
    ----------
    profiles : pandas.DataFrame
        Canonical profile fields and/or metric columns, one row a firm.

    Returns
    -------
    pandas.DataFrame
        As :func:`derive_metrics`, with NaN ratio and growth metrics filled from same-named columns of
        ``profiles`` (counts are always taken from the profile fields).
    """
    values = derive_metrics(profiles)
    for m in METRICS:
        if m in profiles and m not in COUNT_METRICS:
            given = pd.to_numeric(profiles[m], errors="coerce").astype("float64")
            values[m] = values[m].fillna(given)
    return values


def metric_row(profile: Mapping) -> dict[str, float]:
    """One firm's metrics from a mapping of its fields: what :func:`metric_values` gives for that firm's row,
    without building a frame (the single-firm path of :func:`webapp.engine.cohorts.benchmark.benchmarks_json`).

    Parameters
    ----------
    profile : Mapping
        Canonical field names and/or metric names to values (absent, None or NaN: unknown).

    Returns
    -------
    dict[str, float]
        ``METRICS`` in order; NaN where unknown or undefined.
    """
    def num(name):
        return _number(profile[name]) if name in profile else math.nan

    out = {m: num(m) for m in COUNT_METRICS}
    out["invention_share"] = _ratio(num("invention_applications"), out["patent_applications"])
    out["grant_rate"] = _ratio(num("invention_grants"), num("invention_applications"))
    out["invention_density"] = _ratio(out["valid_inventions"] * 1000.0, out["employees"])
    growth = _ratio(num("applications_last"), num("applications_prev2"))
    out["application_cagr"] = (math.sqrt(growth) if growth >= 0 else math.nan) - 1.0
    out["rd_ratio"] = _ratio(num("rd_expense"), num("revenue"))
    for m in METRICS:
        if m not in COUNT_METRICS and m in profile and math.isnan(out[m]):
            out[m] = num(m)
    return {m: out[m] for m in METRICS}


def _ratio(num: float, den: float) -> float:
    """num / den where den > 0, else NaN (as ``derive_metrics``)."""
    return num / den if den > 0 else math.nan


_PLAIN_NUMBERS = (float, np.float64, np.float32, np.int64, np.int32)


def _number(value) -> float:
    """A value as ``pd.to_numeric(errors="coerce")`` of its one-cell column gives it, as a float."""
    if value is None:
        return math.nan
    if type(value) in _PLAIN_NUMBERS or (type(value) is int and -2**63 <= value < 2**63):
        return float(value)
    return float(pd.to_numeric(pd.Series([value]), errors="coerce").astype("float64").iloc[0])
