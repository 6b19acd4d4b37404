"""Benchmark: validation + judging of N synthetic profiles; prints profiles/s, peak memory and a baseline.

Usage: ``python -m benchmarks.engine --rows 1000000 --repeats 3``
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

import numpy as np

from tests.factories import make_profiles
from webapp.engine import defaults
from webapp.engine.assess import assess


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv=None) -> None:
    """Time assess() over N rows, median of repeats, against a numpy pass over the same data."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--rules", default="SME-2026")
    args = ap.parse_args(argv)
    defaults.rule_book()
    t0 = time.perf_counter()
    frame = make_profiles(args.rows, seed=1)
    print(f"generated {args.rows:,} profiles in {time.perf_counter() - t0:.1f} s "
          f"({frame.shape[1]} columns)")
    numeric = frame.select_dtypes("number").to_numpy(dtype=float)
    baseline, times = [], []
    for _ in range(args.repeats):
        t = time.perf_counter()
        np.nan_to_num(numeric).sum(axis=0)
        baseline.append(time.perf_counter() - t)
        t = time.perf_counter()
        result = assess(frame, rules=args.rules, cohorts=False)
        result.frame()
        times.append(time.perf_counter() - t)
        tiers, counts = np.unique(result.tier.astype(str), return_counts=True)
        del result  # so the next run's peak does not include this one's results
    med, base = statistics.median(times), statistics.median(baseline)
    print(f"validate + judge + result frame: median {med:.2f} s over {args.repeats} runs "
          f"({args.rows / med:,.0f} profiles/s); runs: {', '.join(f'{x:.2f}' for x in times)}")
    print(f"baseline (numpy pass over the numeric columns): median {base:.3f} s; ratio {med / base:.0f}x")
    print(f"peak memory (max RSS): {_peak_mb():,.0f} MB")
    print("tiers:", dict(zip(tiers.tolist(), counts.tolist())))


if __name__ == "__main__":
    main()
