"""The four dimensions of innovation strength (scale, quality, influence, globalisation) as 0-100 scores.

A dimension's score against a cohort is the plain mean of the percentiles (0-100) of its metrics that are
available for the firm, i.e. known for the firm and published for the cohort; it is unknown (NaN) when
none is. The dimensions and their metrics follow the seed report (PatSnap 2023, section 2.3):

- scale: patent_applications, valid_inventions
- quality: invention_share, grant_rate, invention_density
- influence: citations, licenses_out
- globalisation: pct_applications, overseas_markets
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

DIMENSIONS = {
    "scale": {"name_zh": "技术规模", "name_en": "Scale",
              "metrics": ("patent_applications", "valid_inventions")},
    "quality": {"name_zh": "技术质量", "name_en": "Quality",
                "metrics": ("invention_share", "grant_rate", "invention_density")},
    "influence": {"name_zh": "技术影响力", "name_en": "Influence",
                  "metrics": ("citations", "licenses_out")},
    "globalisation": {"name_zh": "技术全球化", "name_en": "Globalisation",
                      "metrics": ("pct_applications", "overseas_markets")},
}
FORMULA_EN = "mean of the available percentiles of the dimension's metrics; unknown when none is available"
FORMULA_ZH = "该维度各指标中可得百分位的算术平均；均不可得时为未知"


def _stack(percentiles: Mapping, metrics) -> np.ndarray:
    """The dimension's percentile columns as a 2-D float array (firms x metrics present)."""
    cols = [np.asarray(percentiles[m], dtype="float64").reshape(-1) for m in metrics if m in percentiles]
    if cols:
        return np.column_stack(cols)
    if hasattr(percentiles, "index"):
        n = len(percentiles.index)
    else:
        n = len(np.asarray(next(iter(percentiles.values())))) if len(percentiles) else 0
    return np.empty((n, 0))


def dimension_scores(percentiles: Mapping) -> dict[str, np.ndarray]:
    """Score each dimension as the mean of its metrics' available percentiles.

    Parameters
    ----------
    percentiles : Mapping[str, array-like] or pandas.DataFrame
        Metric name -> percentiles (0-100, NaN unknown), all of the same length.

    Returns
    -------
    dict[str, numpy.ndarray]
        Dimension id (``scale``, ``quality``, ``influence``, ``globalisation``) -> float64 scores, 0-100,
        NaN where none of the dimension's percentiles is available.
    """
    out = {}
    for dim, spec in DIMENSIONS.items():
        block = _stack(percentiles, spec["metrics"])
        known = ~np.isnan(block)
        count = known.sum(axis=1)
        total = np.where(known, block, 0.0).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[dim] = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return out


def dimension_coverage(percentiles: Mapping) -> dict[str, np.ndarray]:
    """How many of each dimension's metrics had a percentile (int arrays), to show beside the score."""
    return {dim: (~np.isnan(_stack(percentiles, spec["metrics"]))).sum(axis=1)
            for dim, spec in DIMENSIONS.items()}


def dimensions_json(benchmarks: Mapping) -> dict:
    """Dimension scores for one firm from :func:`webapp.engine.cohorts.benchmark.benchmarks_json` output.

    The scores are those of :func:`dimension_scores`, worked out with plain floats for the one firm.

    Returns
    -------
    dict
        ``{cohort_id: {dim: {"score", "n_metrics", "metrics", "name_zh", "name_en", "formula_zh",
        "formula_en"}}}``; score None when unknown.
    """
    out = {}
    for cid, metrics in benchmarks.items():
        out[cid] = {}
        for dim, spec in DIMENSIONS.items():
            present = [m for m in spec["metrics"] if m in metrics]
            known = [p for p in (metrics[m]["percentile"] for m in present) if p is not None and p == p]
            total = 0.0
            for p in known:  # in metric order, as dimension_scores sums
                total += p
            out[cid][dim] = {"score": float(total / len(known)) if known else None, "n_metrics": len(known),
                             "metrics": present, "name_zh": spec["name_zh"], "name_en": spec["name_en"],
                             "formula_zh": FORMULA_ZH, "formula_en": FORMULA_EN}
    return out
