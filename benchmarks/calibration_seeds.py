"""Reliability of one or more readiness artefacts over several fresh seeds, side by side, in one process.

Usage: ``python -m benchmarks.calibration_seeds --seeds 71001-71006 [--rows 120000] [--rules SME-2022]
[--models models OTHER_DIR ...] [--table bins.csv]``.

``benchmarks.calibration`` is the outside check of one seed through the command line; this one asks whether a
bin that misses is noise or the model: for each seed it draws ``giantstep population``'s firms in process, makes
the same profiles (full; quick: only the quick-check fields; each input field hidden with probability 0.2, 0.5
and 0.8) and compares every tier's readiness with the simulated outcomes in ten bins, for every artefact given
on the same firms. Per artefact it prints the bins of 100+ firms beyond 0.05 against how many a perfectly
calibrated model would put there by sampling alone, the mean squared z of the bins off the 0.001 floor (1 for a
calibrated model), the counts of |z| > 2 and > 3 against chance, every miss, and the cells (tier, profile, bin)
off in the same direction across the seeds (pooled z beyond 3: a model error, not noise).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from webapp.engine.readiness.evaluation import hide_fields, reliability, z_counts
from webapp.engine.readiness.population.simulate import TIERS, simulate_population
from webapp.engine.readiness.store import load_model
from webapp.engine.readiness.train import MASKABLE
from webapp.engine.rules.rulebook import load_rule_book

HIDDEN = (0.2, 0.5, 0.8)


def seed_list(text: str) -> list[int]:
    """``71001-71006`` or ``71001,71003``."""
    seeds = []
    for part in text.split(","):
        lo, _, hi = part.strip().partition("-")
        seeds += list(range(int(lo), int(hi) + 1)) if hi else [int(lo)]
    return seeds


def profiles(clean: pd.DataFrame, quick, seed: int) -> dict[str, pd.DataFrame]:
    """Full, quick and randomly incomplete copies of the firms (the same for every artefact)."""
    rng = np.random.default_rng(seed)
    out = {"full": clean, "quick": clean.assign(**{n: np.nan for n in MASKABLE if n not in quick and n in clean})}
    out.update({f"random{h:g}": hide_fields(clean, h, rng) for h in HIDDEN})
    return out


def summary(bins: pd.DataFrame) -> dict:
    """Misses against chance, mean z squared and z counts of one artefact's bins (all seeds)."""
    counts = z_counts(bins.to_dict("records"))
    judged = bins[(bins.n >= 100) & (bins.gap >= 0.002)]
    return {**counts, "mean_z2": round(float((judged.z ** 2).mean()), 3) if len(judged) else None}


def persistent(bins: pd.DataFrame, seeds: int) -> pd.DataFrame:
    """Cells off in the same direction across seeds: pooled z = mean z x sqrt(seeds) beyond 3."""
    judged = bins[(bins.n >= 100) & (bins.gap >= 0.002)]
    cells = judged.groupby(["tier", "profile", "bin"]).agg(
        seeds=("z", "size"), firms=("n", "mean"), predicted=("mean_predicted", "mean"),
        observed=("observed", "mean"), mean_z=("z", "mean"))
    cells["pooled_z"] = cells.mean_z * np.sqrt(cells.seeds)
    return cells[(cells.seeds == seeds) & (cells.pooled_z.abs() > 3)].round(4)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=seed_list, default=seed_list("71001-71006"),
                        help="Seeds never used in training, e.g. 71001-71006 or 71001,71004.")
    parser.add_argument("--rows", type=int, default=120_000)
    parser.add_argument("--rules", default=None, help="SME rule set (default: in force today).")
    parser.add_argument("--models", nargs="+", type=Path, default=[Path("models")],
                        help="Artefact folders to compare on the same firms (default: models).")
    parser.add_argument("--table", type=Path, default=None, help="Write every bin of every seed to this CSV.")
    args = parser.parse_args(argv)
    ruleset = load_rule_book().select(args.rules)
    models = {str(path): load_model(path).under(ruleset.sme.id) for path in args.models}
    rows, started = [], time.perf_counter()
    for seed in args.seeds:
        pop = simulate_population(args.rows, seed=seed, rules=ruleset.sme.id)
        for name, clean in profiles(pop.profiles, ruleset.quick_fields, seed).items():
            for path, model in models.items():
                probs = model.predict_proba(clean)
                for tier in TIERS:
                    if tier not in probs:
                        continue
                    y = pop.labels[f"{tier}_certified"].to_numpy(float)
                    rows += [{"model": path, "seed": seed, "tier": tier, "profile": name, **r}
                             for r in reliability(y, probs[tier]) if r["n"]]
        print(f"seed {seed}: {time.perf_counter() - started:.0f} s", flush=True)
    bins = pd.DataFrame(rows)
    if args.table:
        bins.assign(rules=ruleset.sme.id).to_csv(args.table, index=False)
    print(f"{len(args.seeds)} seeds of {args.rows:,} firms, rules {ruleset.sme.id}, profiles full, quick, "
          + ", ".join(f"random{h:g}" for h in HIDDEN))
    for path in models:
        mine = bins[bins.model == path]
        s = summary(mine)
        print(f"\n{path}: bins of 100+ firms {s['bins']}, beyond 0.05: {s['beyond_0.05']} (chance alone "
              f"{s['chance_beyond_0.05']}), largest gap {s['max_gap']}; off the floor {s['off_floor']}: mean z^2 "
              f"{s['mean_z2']} (calibrated: 1), |z| > 2: {s['z_over_2']} (chance {s['chance_z_over_2']}), "
              f"|z| > 3: {s['z_over_3']} (chance {s['chance_z_over_3']})")
        misses = mine[(mine.n >= 100) & (mine.gap > 0.05)]
        if len(misses):
            print("misses:\n" + misses[["seed", "tier", "profile", "bin", "n", "mean_predicted", "observed", "se",
                                        "z"]].to_string(index=False))
        cells = persistent(mine, len(args.seeds))
        print("cells off in one direction on every seed (pooled |z| > 3): "
              + ("none" if cells.empty else "\n" + cells.to_string()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
