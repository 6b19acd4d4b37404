"""Benchmark: ``giantstep batch`` CSV -> CSV against pandas alone reading and writing the same file.

Usage: ``python -m benchmarks.batch --rows 200000 --repeats 3``
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd

from tests.factories import make_profiles
from webapp.engine import defaults
from webapp.engine.batch import run_batch


def main(argv=None) -> None:
    """Median wall time of the batch run and of a pandas read + write of the same CSV."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    defaults.rule_book()
    with tempfile.TemporaryDirectory() as tmp:
        src, out, ref = Path(tmp, "in.csv"), Path(tmp, "out.csv"), Path(tmp, "ref.csv")
        make_profiles(args.rows, seed=2).to_csv(src, index=False, encoding="utf-8-sig")
        print(f"input: {args.rows:,} rows, {src.stat().st_size / 1e6:.0f} MB")
        base, runs = [], []
        for _ in range(args.repeats):
            t = time.perf_counter()
            pd.read_csv(src, dtype=str, keep_default_na=False, encoding="utf-8-sig").to_csv(ref, index=False)
            base.append(time.perf_counter() - t)
            t = time.perf_counter()
            run_batch(src, out, rules="SME-2026")
            runs.append(time.perf_counter() - t)
    b, r = statistics.median(base), statistics.median(runs)
    print(f"pandas read + write: median {b:.2f} s; giantstep batch: median {r:.2f} s; ratio {r / b:.2f}x "
          f"(target <= 3x); batch runs: {', '.join(f'{x:.2f}' for x in runs)}")


if __name__ == "__main__":
    main()
