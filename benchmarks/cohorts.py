"""Benchmark: percentiles of N firms on every metric against one cohort, with a numpy baseline.

Usage: ``python -m benchmarks.cohorts --rows 1000000 --repeats 5``
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd

from webapp.engine.cohorts.benchmark import benchmark, percentile_of
from webapp.engine.cohorts.metrics import COUNT_METRICS
from webapp.engine.cohorts.store import load_cohorts

BUDGET_S = 5.0


def synthetic_metrics(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` firms of plausible metric values (counts whole, shares in 0..1, 5% unknown)."""
    rng = np.random.default_rng(seed)
    counts = {m: np.floor(rng.lognormal(np.log(20.0), 1.5, n)) * (rng.random(n) > 0.3) for m in COUNT_METRICS}
    ratios = {"invention_share": rng.beta(2, 2.5, n), "grant_rate": rng.beta(2, 3, n),
              "invention_density": rng.lognormal(np.log(60.0), 1.2, n),
              "application_cagr": np.expm1(rng.normal(0.05, 0.35, n)), "rd_ratio": rng.beta(2, 25, n)}
    frame = pd.DataFrame({**counts, **ratios})
    return frame.mask(rng.random(frame.shape) < 0.05)


def median_time(fn, repeats: int) -> tuple[float, list[float]]:
    """Median wall time of ``fn()`` over ``repeats`` runs after one warm-up run, and the runs."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def main(argv=None) -> None:
    """Time percentile_of over every metric, the same rule in bare numpy, and the whole benchmark() call."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--cohort", default="little_giant")
    args = ap.parse_args(argv)
    cohorts = load_cohorts()
    cohort = cohorts[args.cohort]
    frame = synthetic_metrics(args.rows)
    metrics = [m for m in cohort.metrics if m in frame]
    arrays = {m: frame[m].to_numpy() for m in metrics}
    # Baseline: the same mid-rank rule in bare numpy, against a sorted sample the size of the cohort.
    reference = synthetic_metrics(int(cohort.n_firms), seed=1)
    samples = {m: np.sort(reference[m].dropna().to_numpy()) for m in metrics}

    def ours():
        return {m: percentile_of(arrays[m], cohort, m) for m in metrics}

    def baseline():
        return {m: 50.0 * (np.searchsorted(samples[m], arrays[m], "left")
                           + np.searchsorted(samples[m], arrays[m], "right")) / len(samples[m])
                for m in metrics}

    t_ours, runs = median_time(ours, args.repeats)
    t_base, _ = median_time(baseline, args.repeats)
    t_full, _ = median_time(lambda: benchmark(frame, cohorts, [args.cohort]), max(1, args.repeats // 2))
    print(f"{args.rows:,} firms x {len(metrics)} metrics against {args.cohort!r}, "
          f"median of {args.repeats} runs")
    print(f"percentile_of, fitted distributions: median {t_ours:.3f} s "
          f"({args.rows * len(metrics) / t_ours:,.0f} values/s); runs: {', '.join(f'{x:.3f}' for x in runs)}")
    size = len(samples[metrics[0]])
    print(f"baseline (numpy searchsorted mid-rank against a sorted {size:,}-value sample): "
          f"median {t_base:.3f} s; ratio {t_ours / t_base:.1f}x")
    print(f"benchmark() incl. derive_metrics and dimension scores: median {t_full:.3f} s")
    print(f"budget {BUDGET_S:.0f} s for percentile_of: {'within' if t_ours < BUDGET_S else 'OVER'}")


if __name__ == "__main__":
    main()
