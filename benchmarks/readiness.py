"""Benchmark: readiness for N firms (batch path and end to end), drivers for one firm, training the default.

Usage: ``python -m benchmarks.readiness --rows 1000000 --repeats 3`` (add ``--skip-train`` to time only
prediction). The firms are simulated ones with fields hidden as users leave them (full, quick check,
random), resampled to N rows. Prints medians and every run; for one firm, CPU medians of 50 calls.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time

import numpy as np
import pandas as pd

from webapp.engine.io.inputs import validate_columns
from webapp.engine.readiness.build import train_default
from webapp.engine.readiness.model import readiness_columns, readiness_json
from webapp.engine.readiness.population.params import load_population_params
from webapp.engine.readiness.population.simulate import simulate_population
from webapp.engine.readiness.store import ModelError, load_model, save_model
from webapp.engine.readiness.train import mask_profiles
from webapp.engine.rules.criteria import Judge
from webapp.engine.rules.rulebook import load_rule_book


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _median(label: str, times: list[float], rows: int | None = None) -> float:
    med = statistics.median(times)
    rate = f" ({rows / med:,.0f} firms/s)" if rows else ""
    print(f"{label}: median {med:.2f} s{rate}; runs: {', '.join(f'{x:.2f}' for x in times)}")
    return med


def _firms(rows: int) -> pd.DataFrame:
    pop = simulate_population(20_000, seed=3)
    rng = np.random.default_rng(0)
    masked = mask_profiles(pop.profiles, rng, load_population_params().masking,
                           quick=load_rule_book().quick_fields)
    return masked.iloc[rng.integers(0, len(masked), rows)].reset_index(drop=True)


def one_firm(model, firms: pd.DataFrame, calls: int = 50) -> None:
    """CPU milliseconds (``time.process_time``, median of ``calls``) of the readiness block of one firm:
    5 probabilities and their drivers, with the firm's own verdict given (judged from the validator's
    arrays, as an assessment has it) and with the firm judged again, for the firm with the most fields
    known, the median one and the one with the fewest."""
    known = firms.notna().sum(axis=1).to_numpy()
    middle = int(np.argmin(np.abs(known - np.median(known))))
    picks = {"most fields known": int(np.argmax(known)), "median": middle, "fewest": int(np.argmin(known))}
    for name, row in picks.items():
        one, _, columns = validate_columns(firms.iloc[[row]], first_line=1)   # as an assessment validates it
        verdict = Judge(one, model.features.ruleset, columns=columns).run()
        cpu = {}
        for label, kwargs in (("verdict given", {"judge": verdict}), ("judging the firm too", {})):
            readiness_json(model, one, **kwargs)
            times = []
            for _ in range(calls):
                t = time.process_time()
                readiness_json(model, one, **kwargs)
                times.append((time.process_time() - t) * 1000)
            cpu[label] = statistics.median(times)
        print(f"readiness_json for one firm ({name}: {known[row]} fields; 5 probabilities + drivers): "
              + "; ".join(f"{label} {ms:.1f} ms CPU" for label, ms in cpu.items()) + f" (median of {calls})")


def main(argv=None) -> None:
    """Time readiness over N firms and the training of the default model; medians of repeats."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip-train", action="store_true", help="use the installed model, do not time training")
    args = ap.parse_args(argv)
    if args.skip_train:
        try:
            model = load_model()
        except ModelError as exc:
            raise SystemExit(f"{exc}") from None
    else:
        times = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            model = train_default()
            with tempfile.TemporaryDirectory() as folder:
                save_model(model, folder)
            times.append(time.perf_counter() - t)
        _median("train the default model (60,000 simulated firms, 5 tiers, evaluation, save)", times)
        print(f"  steps of the last run: {model.metadata['training']['seconds']}; "
              f"artefact {model.metadata['artefact']['bytes'] / 1e6:.2f} MB")
    print(f"model: {model.describe()}")
    t = time.perf_counter()
    firms = _firms(args.rows)
    print(f"built {args.rows:,} firms (simulated, fields hidden as users leave them) "
          f"in {time.perf_counter() - t:.1f} s")
    judge = model.judge(firms)
    batch, full = [], []
    for _ in range(args.repeats):
        t = time.perf_counter()
        cols = readiness_columns(model, firms, judge=judge)
        batch.append(time.perf_counter() - t)
        t = time.perf_counter()
        readiness_columns(model, firms)
        full.append(time.perf_counter() - t)
    _median(f"readiness for {args.rows:,} firms, engine verdict reused (batch path)", batch, args.rows)
    _median(f"readiness for {args.rows:,} firms, judging them too", full, args.rows)
    one_firm(model, firms)
    print(f"peak memory (max RSS): {_peak_mb():,.0f} MB")
    print("mean probability per tier:", {c: round(float(cols[c].mean()), 4) for c in cols})


if __name__ == "__main__":
    main()
