"""Cohorts and where they come from: the fitted ones in data/cohorts, and empirical ones imported from firm
rows. Nothing is read at import.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from webapp import paths
from webapp.engine.cohorts.distributions import FAMILIES, Distribution, Empirical
from webapp.engine.cohorts.metrics import METRICS, RATIO_METRICS, metric_values


class CohortError(ValueError):
    """A cohort file cannot be read; the message names the file."""


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

    @functools.cached_property
    def metrics(self) -> tuple[str, ...]:
        """Metrics this cohort has, in ``METRICS`` order (imported extras last)."""
        known = [m for m in METRICS if m in self.distributions]
        return tuple(known + sorted(set(self.distributions) - set(known)))

    @functools.cached_property
    def statistics(self) -> dict[str, tuple[float, str, float, float]]:
        """Per metric, what does not depend on any firm, worked out once: the published-comparable mean and
        its statistic (:meth:`published_mean`), the median and the mean over firms."""
        return {m: (*self.published_mean(m), self.median(m), self.mean(m)) for m in self.metrics}

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
            "sources_zh": list(entry["references_zh"]), "sources_en": list(entry["references_en"]),
            "source_zh": entry["basis_zh"], "source_en": entry["basis_en"]}


def _load_empirical(meta_path: Path) -> Cohort:
    """Read one imported cohort (meta json + metric csv)."""
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    rows = pd.read_csv(meta_path.with_suffix(".csv"), dtype="float64")
    dists = {m: Empirical(rows[m].to_numpy()) for m in meta["metrics"]}
    bases = {}
    for m in meta["metrics"]:
        n, src, as_of = len(dists[m].values), meta["source"], meta["as_of"]
        bases[m] = {"kind": "empirical", "as_of": as_of, "family": "empirical", "assumption": False,
                    "dispersion": "empirical", "n": n, "sources_zh": [src], "sources_en": [src],
                    "source_zh": f"{src}：{n}家企业的实际数据（经验分布），截至{as_of}",
                    "source_en": f"{src}: observed values of {n} firms (empirical), as of {as_of}"}
    return Cohort(meta["id"], meta["name_zh"], meta["name_en"], float(meta["n_firms"]), meta["as_of"],
                  "empirical", meta["source"], meta["source"], dists, bases, meta.get("description", ""))


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
    values = metric_values(frame)
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
