"""Reliability of the readiness model on a population of a fresh seed, checked from the outside.

Usage: ``python -m benchmarks.calibration --rows 30000 --seed 990001 [--rules SME-2026] [--hidden 0.2,0.5,0.8]
[--out DIR]``.

It does what an outside check does, through the command line only: ``giantstep population --rows N --seed S``
writes simulated firms with their outcomes (``<tier>_certified``) and a ``mode`` column; three copies of the
file are made: full (as drawn), quick (only the quick-check fields kept, the rest blanked) and random (each
input cell blanked with probability 0.5, or one random copy per share of ``--hidden``: calibration must hold
whatever share a user leaves empty); each copy goes through ``giantstep batch``; and each tier's
``<tier>_readiness`` is compared with the simulated outcomes in ten bins of predicted probability. Prints the
reliability table (every bin, and the ones of ``--min-bin`` firms or more judged against ``--tolerance``) and
exits 1 when such a bin is further than the tolerance from the observed rate. A bin of 100 firms at a rate of
0.5 has a sampling standard deviation of 0.05 itself, so use a population large enough for its bins: each bin
also gets its binomial standard error at the mean prediction and its z-score, and each profile a count of
the bins more than 2 and 3 standard errors off against what chance gives a calibrated model, so a miss can
be told from noise. ``--table FILE.csv`` keeps every bin with its z-score.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from webapp.engine.readiness.evaluation import N_BINS, reliability, z_counts
from webapp.engine.readiness.population.simulate import TIERS
from webapp.engine.readiness.train import MASKABLE
from webapp.engine.rules.rulebook import load_rule_book


def variants(hidden: str) -> dict[str, tuple[str, float]]:
    """Profile names and (kind, share hidden): full, quick, then ``random`` (one share) or ``random0.2`` ...."""
    shares = [float(x) for x in hidden.split(",") if x.strip()]
    if not shares or not all(0.0 < h < 1.0 for h in shares):
        raise SystemExit(f"--hidden takes shares strictly between 0 and 1, got {hidden!r}")
    randoms = {("random" if len(shares) == 1 else f"random{h:g}"): ("random", h) for h in shares}
    return {"full": ("full", 0.0), "quick": ("quick", 0.0), **randoms}


def _cli(*args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "webapp.cli", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"giantstep {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")


def variant(frame: pd.DataFrame, kind: str, rng: np.random.Generator, quick, hidden: float = 0.5) -> pd.DataFrame:
    """The population file as a user of ``kind`` would fill it: input cells blanked, outcomes kept; ``quick``
    names the quick check's fields (of the rule set in use); ``random`` blanks each input cell with
    probability ``hidden``."""
    out = frame.copy()
    if kind == "quick":
        for name in MASKABLE:
            if name not in quick and name in out:
                out[name] = ""
    elif kind == "random":
        for name in MASKABLE:
            if name in out:
                out[name] = out[name].mask(rng.random(len(out)) < hidden, "")
    return out


def table(results: dict[str, pd.DataFrame], outcomes: pd.DataFrame) -> list[dict]:
    """One row per tier, profile and bin: firms, mean predicted, observed (simulated) rate and gap."""
    rows = []
    for kind, out in results.items():
        for tier in TIERS:
            if f"{tier}_readiness" not in out:
                continue
            p = pd.to_numeric(out[f"{tier}_readiness"], errors="coerce").to_numpy(float)
            y = pd.to_numeric(outcomes[f"{tier}_certified"], errors="coerce").to_numpy(float)
            known = ~np.isnan(p) & ~np.isnan(y)
            for row in reliability(y[known], p[known], N_BINS):
                rows.append({"tier": tier, "profile": kind, **row})
    return rows


def chance(rows: list[dict]) -> str:
    """How many bins are more than 2 and 3 standard errors from their prediction, against what chance gives a
    calibrated model, not counting bins at the 0.001 floor (see ``z_counts``)."""
    c = z_counts(rows, 0)
    return (f"beyond 0.05 by chance alone: {c['chance_beyond_0.05']}; "
            f"|z| > 2: {c['z_over_2']} of {c['off_floor']} (chance: {c['chance_z_over_2']}), |z| > 3: "
            f"{c['z_over_3']} (chance: {c['chance_z_over_3']})")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=990_001, help="A seed never used in training.")
    parser.add_argument("--rules", default=None, help="SME rule set (default: in force today).")
    parser.add_argument("--min-bin", type=int, default=100)
    parser.add_argument("--tolerance", type=float, default=0.05)
    parser.add_argument("--hidden", default="0.5",
                        help="Share(s) of input cells the random copies blank, comma-separated (e.g. 0.2,0.5,0.8).")
    parser.add_argument("--table", type=Path, default=None, help="Write every bin (with se and z) to this CSV.")
    parser.add_argument("--out", type=Path, default=None, help="Keep the files here (default: a temporary folder).")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.out or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        rules = ["--rules", args.rules] if args.rules else []
        started = time.perf_counter()
        population = folder / "population.csv"
        _cli("population", "--rows", str(args.rows), "--seed", str(args.seed), *rules, "-o", str(population))
        frame = pd.read_csv(population, dtype=str, keep_default_na=False)
        rng = np.random.default_rng(args.seed)
        quick = load_rule_book().select(args.rules).quick_fields
        results = {}
        for name, (kind, hidden) in variants(args.hidden).items():
            source, output = folder / f"{name}.csv", folder / f"{name}_out.csv"
            variant(frame, kind, rng, quick, hidden).to_csv(source, index=False)
            _cli("batch", str(source), "-o", str(output), "--top-actions", "no", *rules)
            results[name] = pd.read_csv(output, low_memory=False)
        rows = table(results, frame)
        if args.table:
            pd.DataFrame(rows).assign(seed=args.seed, rules=args.rules or "in force").to_csv(args.table, index=False)
        print(f"population {args.rows:,} firms, seed {args.seed}, rules {args.rules or 'in force today'}; "
              f"{time.perf_counter() - started:.0f} s")
        print(f"{'tier':<16} {'profile':<10} {'bin':<8} {'n':>6} {'predicted':>9} {'observed':>9} {'gap':>6} "
              f"{'se':>6} {'z':>6}")
        failures = []
        for r in rows:
            if r["n"] == 0:
                continue
            judged = r["n"] >= args.min_bin
            bad = judged and r["gap"] > args.tolerance
            failures += [r] if bad else []
            flag = (" OUT" + (" beyond 3 se" if abs(r["z"]) > 3 else "")) if bad else ("" if judged else " (small)")
            print(f"{r['tier']:<16} {r['profile']:<10} {r['bin']:<8} {r['n']:>6} {r['mean_predicted']:>9.4f} "
                  f"{r['observed']:>9.4f} {r['gap']:>6.4f} {r['se']:>6.4f} {r['z']:>+6.2f}{flag}")
        for name in results:   # one line per profile: what the report quotes
            mine = [r for r in rows if r["profile"] == name and r["n"] >= args.min_bin]
            print(f"{name:<10} bins of {args.min_bin}+ firms: {len(mine)}, beyond {args.tolerance}: "
                  f"{sum(r['gap'] > args.tolerance for r in mine)}, largest gap "
                  f"{max((r['gap'] for r in mine), default=0.0):.4f}; bins of 1,000+ firms: "
                  f"{sum(r['n'] >= 1000 for r in mine)}, largest gap "
                  f"{max((r['gap'] for r in mine if r['n'] >= 1000), default=0.0):.4f}; {chance(mine)}")
        judged = [r for r in rows if r["n"] >= args.min_bin]
        worst = max((r["gap"] for r in judged), default=0.0)
        print(f"largest gap over the {len(judged)} bins of {args.min_bin}+ firms: {worst:.4f}; bins beyond "
              f"{args.tolerance}: {len(failures)}, of which beyond 3 binomial se of their prediction: "
              f"{sum(abs(r['z']) > 3 for r in failures)}; {chance(judged)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
