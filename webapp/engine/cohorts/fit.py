"""Fit cohort distributions to published aggregates: the reproducible step behind ``giantstep cohorts fit``.

Input: ``data/cohorts/aggregates.csv`` (one row per published figure or stated assumption) and
``cohorts.csv`` beside it. Output: ``fitted.json``, with per (cohort, metric) the family, parameters,
the figures fitted to, where the spread comes from, and every figure beside its fitted value.

Method. Rows with ``use == "fit"`` are targets. Each target's residual is (fitted - published) / scale,
where scale is half a unit in the last printed digit (counts and totals divided by the cohort's firms),
and at least 0.5 percentage point for shares, so that a family that cannot meet every figure exactly
spreads its error across the buckets (within the 1-point acceptance bound) rather than sacrificing a mean.
With k targets, the first min(k, n) parameters of (mu, sigma, pi) are free; the rest are borrowed:

- counts: the same metric's sigma (and, for sub-cohorts of little giants, its zero share pi) when
  little giants' spread of that metric is published (PCT, overseas markets); otherwise the pooled sigma,
  the mean of the fitted sigmas of those two published spreads, with pi = 0;
- invention_share, grant_rate, invention_density: the pooled sigma times sqrt(2 (1 - rho)), rho from the
  ``assume:part_log_corr`` rows; density's zero share is the same cohort's P(valid_inventions = 0);
- application_cagr: the pooled sigma times sqrt(2 (1 - r)) / 2, r from ``assume:two_year_log_corr``.

Deterministic: fixed starting points, scipy's least_squares (trf), no randomness, rounded output.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import optimize, special

from webapp import paths
from webapp.engine.cohorts.basis import basis_text, load_publications
from webapp.engine.cohorts.distributions import FAMILIES
from webapp.engine.cohorts.metrics import COUNT_METRICS, METRICS

REFERENCE = "little_giant"
POOL_FROM = ("pct_applications", "overseas_markets")
FAMILY_OF = {**{m: "zi_dlognorm" for m in COUNT_METRICS}, "invention_share": "logitnorm",
             "grant_rate": "logitnorm", "rd_ratio": "logitnorm", "invention_density": "zi_lognorm",
             "application_cagr": "growth_lognorm"}
FREE = {"zi_dlognorm": ("mu", "sigma", "pi"), "zi_lognorm": ("mu", "sigma"), "logitnorm": ("mu", "sigma"),
        "growth_lognorm": ("mu", "sigma")}
FAMILY_DOC = {
    "zi_dlognorm": "zero-inflated discretised lognormal: X = 0 w.p. pi, else floor(Y), "
                   "Y ~ lognormal(mu, sigma)",
    "zi_lognorm": "lognormal(mu, sigma) with a point mass pi at 0",
    "logitnorm": "logit-normal: logit(X) ~ normal(mu, sigma), X a fraction in (0, 1)",
    "growth_lognorm": "1 + X ~ lognormal(mu, sigma), X an annual growth rate",
}
SHARE_FLOOR = 0.005
_BOUNDS = {"mu": (-15.0, 15.0), "sigma": (np.log(0.05), np.log(5.0)), "pi": (-12.0, 12.0)}
_STAT = re.compile(r"^(?P<kind>mean|typical|ratio_of_totals|total|median|cagr_of_mean|share_below|share"
                   r"|count)(?::(?P<arg>[^@]+))?(?:@(?P<label>.+))?$")


@dataclass(frozen=True)
class Target:
    """One published figure in model terms: kind, bounds, published value and residual scale."""

    kind: str
    lo: float
    hi: float
    published: float
    scale: float
    row: dict


def _half_unit(text: str) -> float:
    """Half a unit in the last printed digit of a number as written ("0.8" -> 0.05)."""
    return 0.5 * 10.0 ** Decimal(text).as_tuple().exponent


def _target(row: dict, n_firms: float) -> Target | None:
    """Translate an aggregates row into a model statistic, or None when it is not comparable."""
    m = _STAT.match(row["statistic"])
    if m is None or (m["label"] and m["kind"] in ("count", "total")):
        return None
    kind, arg, value = m["kind"], m["arg"], float(row["value"])
    per_firm = kind in ("count", "total")
    value, scale = (value / n_firms, _half_unit(row["value"]) / n_firms) if per_firm else \
        (value, _half_unit(row["value"]))
    lo = hi = np.nan
    if kind in ("share", "count"):
        lo_text, _, hi_text = arg.rstrip("+").partition("-")
        lo, hi = float(lo_text), (np.inf if arg.endswith("+") else float(hi_text or lo_text))
        kind = "share"
    elif kind == "share_below":
        lo, kind = float(arg), "below"
    elif kind in ("typical", "total"):
        kind = "mean"
    elif kind == "ratio_of_totals":
        kind = "pooled"
    if kind in ("share", "below"):
        scale = max(scale, SHARE_FLOOR)
    return Target(kind, lo, hi, value, scale, row)


def _model_value(dist, t: Target) -> float:
    """The fitted distribution's value of a target's statistic."""
    if t.kind == "mean":
        return dist.mean()
    if t.kind == "median":
        return dist.median()
    if t.kind == "cagr_of_mean":
        return dist.cagr_of_mean()
    if t.kind == "pooled":
        return dist.pooled_ratio()
    if t.kind == "share":
        return dist.share_between(t.lo, t.hi)
    return float(dist.below_equal(np.array([t.lo]))[0][0])


def _build(family: str, free: tuple, theta, fixed: dict):
    """A distribution from free (transformed) parameters plus fixed ones."""
    params = dict(fixed)
    for name, value in zip(free, theta, strict=True):
        params[name] = {"mu": value, "sigma": np.exp(value), "pi": special.expit(value)}[name]
    return FAMILIES[family](**params)


def _start_mu(family: str, targets: list[Target], sigma: float, pi: float) -> float:
    """A starting mu from the first mean-like target (moment matching)."""
    t = next((t for t in targets if t.kind in ("mean", "median", "cagr_of_mean", "pooled")), None)
    if t is None:
        return 0.0
    if family == "logitnorm":
        return float(special.logit(np.clip(t.published, 1e-4, 1 - 1e-4)))
    if family == "growth_lognorm":
        return float(np.log1p(t.published) - (sigma ** 2 if t.kind == "cagr_of_mean" else sigma ** 2 / 2))
    shift = 0.0 if t.kind == "pooled" else sigma ** 2 / 2
    return float(np.log(max(t.published / max(1.0 - pi, 1e-3), 0.05)) - shift)


def _solve(family: str, targets: list[Target], free: tuple, fixed: dict) -> tuple[dict, float]:
    """Least squares over the free parameters from a small fixed grid of starts; best params and cost."""
    def residuals(theta):
        dist = _build(family, free, theta, fixed)
        return np.array([(_model_value(dist, t) - t.published) / t.scale for t in targets])

    starts = []
    for sigma0 in ((fixed.get("sigma", 1.0),) if "sigma" not in free else (0.5, 1.0, 2.0)):
        for pi0 in ((fixed.get("pi", 0.0),) if "pi" not in free else (0.2, 0.5)):
            guess = {"mu": _start_mu(family, targets, sigma0, pi0), "sigma": np.log(sigma0),
                     "pi": special.logit(pi0) if pi0 > 0 else 0.0}
            starts.append([guess[name] for name in free])
    lower = [_BOUNDS[name][0] for name in free]
    upper = [_BOUNDS[name][1] for name in free]
    best = None
    with np.errstate(all="ignore"):
        for x0 in starts:
            x0 = np.clip(x0, np.array(lower) + 1e-9, np.array(upper) - 1e-9)
            res = optimize.least_squares(residuals, x0, bounds=(lower, upper), method="trf", x_scale="jac",
                                         xtol=1e-14, ftol=1e-14, gtol=1e-14, max_nfev=3000)
            if best is None or res.cost < best.cost - 1e-12:
                best = res
    return _build(family, free, best.x, fixed).params(), float(best.cost)


class _Fit:
    """Fitting state: the inputs, the entries fitted so far and the pooled spread."""

    def __init__(self, aggregates: pd.DataFrame, cohorts: pd.DataFrame, publications: list):
        self.rows, self.meta, self.publications = aggregates, cohorts, publications
        self.entries: dict[str, dict[str, dict]] = {}
        self.dists: dict[tuple[str, str], object] = {}
        self.pooled = np.nan

    def assumption(self, metric: str, statistic: str) -> float:
        """A shared modelling assumption (cohort ``*``), or an error naming the missing row."""
        hit = self.rows[(self.rows.cohort == "*") & (self.rows.metric == metric) &
                        (self.rows.statistic == statistic)]
        if hit.empty:
            raise ValueError(f"aggregates.csv: no spread is published for {metric} and no "
                             f"('*', {metric!r}, {statistic!r}) assumption row says how to borrow one")
        return float(hit.value.iloc[0])

    def borrowed(self, cid: str, metric: str, family: str) -> tuple[dict, dict]:
        """Fixed parameters for a cohort-metric whose spread is not published, and where they come from."""
        pool = [f"{REFERENCE}/{m}" for m in POOL_FROM]
        ref = self.entries.get(REFERENCE, {}).get(metric)
        if family == "zi_dlognorm" and ref is not None and ref["dispersion"]["origin"] == "published":
            same_tier = self.meta.loc[cid, "parent"] == REFERENCE
            fixed = {"sigma": ref["params"]["sigma"], "pi": ref["params"]["pi"] if same_tier else 0.0}
            why = ("same metric, little giants' published distribution (sigma and zero share pi)" if same_tier
                   else "same metric, little giants' published distribution (sigma; pi = 0 for another tier)")
            return fixed, {"origin": "borrowed", "from": [f"{REFERENCE}/{metric}"], "note": why}
        if np.isnan(self.pooled):
            raise ValueError(f"aggregates.csv: {REFERENCE} needs published distributions of {POOL_FROM} "
                             f"(bucket shares or counts) to lend a spread to {cid}/{metric}")
        record = {"origin": "borrowed", "from": pool, "pooled_sigma": self.pooled}
        if family == "zi_dlognorm":
            return {"sigma": self.pooled, "pi": 0.0}, {**record, "note": "pooled sigma, no zero inflation"}
        if family == "growth_lognorm":
            r = self.assumption(metric, "assume:two_year_log_corr")
            return {"sigma": self.pooled * np.sqrt(2 * (1 - r)) / 2}, \
                {**record, "note": f"pooled sigma * sqrt(2 (1 - {r})) / 2 (assume:two_year_log_corr)"}
        rho = self.assumption(metric, "assume:part_log_corr")
        fixed = {"sigma": self.pooled * np.sqrt(2 * (1 - rho))}
        note = f"pooled sigma * sqrt(2 (1 - {rho})) (assume:part_log_corr)"
        if family == "zi_lognorm":
            fixed["pi"], note = self.zero_share(cid), note + "; pi = P(valid_inventions = 0) of this cohort"
        return fixed, {**record, "note": note}

    def zero_share(self, cid: str) -> float:
        """P(valid_inventions = 0) in the cohort, or 0 when the cohort has no such figure."""
        dist = self.dists.get((cid, "valid_inventions"))
        return 0.0 if dist is None else dist.share_between(0.0, 0.0)

    def fit(self, cid: str, metric: str) -> None:
        """Fit one (cohort, metric) and store its entry."""
        n_firms = float(self.meta.loc[cid, "n_firms"])
        rows = self.rows[(self.rows.cohort == cid) & (self.rows.metric == metric)].to_dict("records")
        targets = [t for r in rows if r["use"] == "fit" and (t := _target(r, n_firms)) is not None]
        if not targets:
            return
        family = FAMILY_OF[metric]
        free = FREE[family][: min(len(targets), len(FREE[family]))]
        if "sigma" in free:
            fixed = {"pi": self.zero_share(cid)} if family == "zi_lognorm" else \
                ({"pi": 0.0} if family == "zi_dlognorm" and "pi" not in free else {})
            assumed = any(t.row["is_assumption"] == "1" for t in targets)
            dispersion = {"origin": "assumed" if assumed else "published", "from": [f"{cid}/{metric}"]}
        else:
            fixed, dispersion = self.borrowed(cid, metric, family)
        params, cost = _solve(family, targets, free, fixed)
        dist = FAMILIES[family](**params)
        self.dists[(cid, metric)] = dist
        dispersion["sigma"] = params["sigma"]
        entry = {"family": family, "params": params, "free": list(free),
                 "fixed": sorted(set(params) - set(free)),
                 "method": "exact solve of one target (least_squares)" if len(free) == len(targets)
                 else "least_squares on scaled residuals", "cost": cost,
                 "as_of": max(t.row["as_of"] for t in targets),
                 "sources": sorted({t.row["source"] for t in targets}),
                 "assumption": any(t.row["is_assumption"] == "1" for t in targets),
                 "fitted_to": [{"statistic": t.row["statistic"], "value": float(t.row["value"]),
                                "as_of": t.row["as_of"], "source": t.row["source"],
                                "is_assumption": t.row["is_assumption"] == "1"} for t in targets],
                 "dispersion": dispersion,
                 "summary": {"mean": dist.mean(), "median": dist.median(),
                             "p_zero": float(dist.cdf(np.array([0.0]))[0])},
                 "diagnostics": [_diagnostic(dist, r, n_firms) for r in rows]}
        entry.update(basis_text(entry, [t.row for t in targets], self.meta, cid, self.publications))
        self.entries.setdefault(cid, {})[metric] = entry


def _diagnostic(dist, row: dict, n_firms: float) -> dict:
    """A published figure beside what the fitted distribution gives (None when not comparable)."""
    t = _target(row, n_firms)
    fitted = None if t is None else _model_value(dist, t)
    out = {"statistic": row["statistic"], "value": float(row["value"]),
           "published": None if t is None else t.published, "fitted": fitted,
           "used_in_fit": row["use"] == "fit" and t is not None, "is_assumption": row["is_assumption"] == "1",
           "as_of": row["as_of"], "source": row["source"], "note": row["note"]}
    if t is not None and t.kind in ("share", "below"):
        out["diff_pp"] = 100.0 * (fitted - t.published)
    elif t is not None and t.published:
        out["diff_rel"] = (fitted - t.published) / t.published
    return out


def _rounded(obj, digits: int = 10):
    """Round every float to ``digits`` significant digits, so the JSON text is stable."""
    if isinstance(obj, dict):
        return {k: _rounded(v, digits) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_rounded(v, digits) for v in obj]
    if isinstance(obj, float | np.floating):
        return None if np.isnan(obj) else float(f"{float(obj):.{digits}g}")
    return obj


def read_inputs(aggregates_csv: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read aggregates.csv (values kept as printed) and the cohorts.csv beside it."""
    path = Path(aggregates_csv)
    rows = pd.read_csv(path, dtype=str, keep_default_na=False)
    meta = pd.read_csv(path.with_name("cohorts.csv"), dtype=str, keep_default_na=False).set_index("cohort")
    unknown = sorted(set(rows.cohort) - set(meta.index) - {"*"})
    if unknown:
        raise ValueError(f"{path}: cohorts not in cohorts.csv: {unknown}")
    return rows, meta


def fit_all(aggregates_csv: str | Path | None = None, out_json: str | Path | None = None) -> dict:
    """Fit every (cohort, metric) that has published figures or stated assumptions.

    Parameters
    ----------
    aggregates_csv : str or Path, optional
        The published aggregates (default: data/cohorts/aggregates.csv); cohorts.csv must sit beside it.
    out_json : str or Path, optional
        Where to write the result (e.g. data/cohorts/fitted.json); nothing is written when None.

    Returns
    -------
    dict
        The fitted.json content: families, method, the reference spread and, per cohort and metric,
        the family, parameters, figures fitted to, dispersion origin, diagnostics and zh/en basis text.
    """
    path = Path(aggregates_csv) if aggregates_csv is not None else paths.resolve().cohorts / "aggregates.csv"
    rows, meta = read_inputs(path)
    state = _Fit(rows, meta, load_publications(path.parent))
    for metric in POOL_FROM:
        state.fit(REFERENCE, metric)
    spreads = [state.entries[REFERENCE][m] for m in POOL_FROM]
    if any(e["dispersion"]["origin"] != "published" for e in spreads):
        raise ValueError(f"{path}: {REFERENCE} needs published distributions of {POOL_FROM}")
    state.pooled = float(np.mean([e["params"]["sigma"] for e in spreads]))
    benchmark_ids = [cid for cid in meta.index if meta.loc[cid, "kind"] == "benchmark"]
    for cid in benchmark_ids:
        for metric in METRICS:
            if metric not in state.entries.get(cid, {}):
                state.fit(cid, metric)
    digest = hashlib.sha256(path.read_bytes() + path.with_name("cohorts.csv").read_bytes()
                            + path.with_name("publications.toml").read_bytes()).hexdigest()
    result = _rounded({
        "generated_by": "webapp.engine.cohorts.fit.fit_all",
        "inputs_sha256": digest,
        "families": FAMILY_DOC,
        "method": __doc__.split("Method. ", 1)[1].split("\n\nDeterministic")[0].replace("\n", " "),
        "reference": {"cohort": REFERENCE, "pooled_sigma": state.pooled,
                      "pooled_from": [f"{REFERENCE}/{m}" for m in POOL_FROM]},
        "cohorts": {cid: {m: state.entries[cid][m] for m in METRICS if m in state.entries[cid]}
                    for cid in benchmark_ids if cid in state.entries},
    })
    result["cohorts"] = {cid: {"metrics": metrics} for cid, metrics in result["cohorts"].items()}
    if out_json is not None:
        Path(out_json).write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return result


def fit_summary(result: dict) -> str:
    """A short text report of a fit: cohorts, metrics, and the worst share and mean misfits."""
    diags = [(cid, m, d) for cid, c in result["cohorts"].items() for m, e in c["metrics"].items()
             for d in e["diagnostics"] if d["used_in_fit"]]
    worst_pp = max((abs(d.get("diff_pp", 0.0)), f"{cid}/{m} {d['statistic']}") for cid, m, d in diags)
    worst_rel = max((abs(d.get("diff_rel", 0.0)), f"{cid}/{m} {d['statistic']}") for cid, m, d in diags)
    n_metrics = sum(len(c["metrics"]) for c in result["cohorts"].values())
    return (f"fitted {n_metrics} distributions in {len(result['cohorts'])} cohorts "
            f"(pooled sigma {result['reference']['pooled_sigma']:.3f}); "
            f"worst share misfit {worst_pp[0]:.2f} pp ({worst_pp[1]}); "
            f"worst relative misfit {100 * worst_rel[0]:.1f}% ({worst_rel[1]})")


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Fit cohort distributions to published aggregates.")
    parser.add_argument("--aggregates", type=Path, default=paths.resolve().cohorts / "aggregates.csv")
    parser.add_argument("--out", type=Path, default=paths.resolve().cohorts / "fitted.json")
    args = parser.parse_args()
    print(fit_summary(fit_all(args.aggregates, args.out)))
