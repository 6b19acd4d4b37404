"""Benchmark: ``giantstep batch`` CSV -> CSV against pandas alone reading and writing the same file.

Usage: ``python -m benchmarks.batch --rows 200000 --repeats 3 [--engine local|dask] [--workers N]``

Both are timed in the same run, alternately, on the same generated file (``tests.factories.make_profiles``);
the batch runs as the command line does, in a child process whose peak memory is reported: the sum over
it and its worker processes of their proportional set size (shared pages counted once), sampled every 0.1 s,
and the largest resident set size of one of them (what ``/usr/bin/time -v`` reports).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import psutil

from tests.factories import make_profiles

ROOT = Path(__file__).resolve().parents[1]
PIECE = 100_000


def write_input(path: Path, rows: int) -> None:
    """``rows`` generated firms as a UTF-8 CSV with BOM, written piece by piece."""
    for start in range(0, rows, PIECE):
        piece = make_profiles(min(PIECE, rows - start), seed=2 + start // PIECE)
        piece.to_csv(path, index=False, header=start == 0, mode="w" if start == 0 else "a",
                     encoding="utf-8-sig" if start == 0 else "utf-8")


def pandas_floor(src: Path, ref: Path) -> float:
    """Seconds for pandas to read the CSV as text and write it back."""
    start = time.perf_counter()
    pd.read_csv(src, dtype=str, keep_default_na=False, encoding="utf-8-sig").to_csv(ref, index=False)
    return time.perf_counter() - start


def batch_run(src: Path, out: Path, extra: list[str]) -> tuple[float, float, float]:
    """(seconds, peak proportional memory of the process tree, peak resident memory of one process), in MB, of
    ``giantstep batch``. Proportional set size counts pages shared by the worker processes once."""
    command = [sys.executable, "-m", "webapp.cli", "batch", str(src), "-o", str(out), "--rules", "SME-2026",
               "--as-of", "2026-06-01", *extra]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    proc = psutil.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = single = 0
    while proc.poll() is None:
        try:
            tree = [p.memory_full_info() for p in [proc, *proc.children(recursive=True)] if p.is_running()]
            peak = max(peak, sum(m.pss for m in tree))
            single = max([single] + [m.rss for m in tree])
        except psutil.Error:
            pass
        time.sleep(0.1)
    seconds = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"batch failed ({proc.returncode}): {proc.stderr.read().decode()[-2000:]}")
    return seconds, peak / 1e6, single / 1e6


def main(argv=None) -> None:
    """Median wall time of the batch run and of a pandas read + write of the same CSV; peak memory."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--engine", choices=("local", "dask"), default="local")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--dir", type=Path, default=None, help="Folder for the files (default: a temporary one).")
    args = ap.parse_args(argv)
    extra = ["--engine", args.engine] + (["--workers", str(args.workers)] if args.workers else [])
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        src, out, ref = Path(tmp, "in.csv"), Path(tmp, "out.csv"), Path(tmp, "ref.csv")
        write_input(src, args.rows)
        print(f"input: {args.rows:,} rows, {src.stat().st_size / 1e6:.0f} MB; {os.cpu_count()} cores; "
              f"load average {os.getloadavg()[0]:.1f}", flush=True)
        base, runs, peaks, singles = [], [], [], []
        for _ in range(args.repeats):
            base.append(pandas_floor(src, ref))
            seconds, peak, single = batch_run(src, out, extra)
            runs.append(seconds)
            peaks.append(peak)
            singles.append(single)
            print(f"  pandas {base[-1]:.1f} s, batch {seconds:.1f} s, peak {peak:,.0f} MB (tree, PSS), "
                  f"{single:,.0f} MB (one process, RSS)", flush=True)
        rows = sum(1 for _ in open(out, "rb")) - 1 if args.rows < 2_000_000 else None
    b, r = statistics.median(base), statistics.median(runs)
    print(f"pandas read + write: median {b:.2f} s; giantstep batch ({args.engine}): median {r:.2f} s; "
          f"ratio {r / b:.2f}x (target <= 1.5x); peak memory of the batch process tree {max(peaks):,.0f} MB "
          f"PSS, of its largest process {max(singles):,.0f} MB RSS (target <= 2,000 MB); output rows {rows}")


if __name__ == "__main__":
    main()
