"""Per-request CPU of one full assessment, and batch throughput with the top_actions column.

Run ``python -m benchmarks.request [--requests 200] [--rows 10000] [--sample 60]``.

1. One firm, as ``POST /api/v1/assess`` and the result page compute it (validation, judging, benchmarks,
   readiness with drivers, advice with gap levers and actions, the result dict): median CPU time
   (``time.process_time``) of many calls of ``services.assess_profile`` in an app context, per example firm
   and SME rule set, then the whole API request through the WSGI stack (JSON in and out). In the same run,
   the validation of that firm on the vectorised path (the fast path switched off) as the baseline of the
   one-row fast path.
2. Batch: ``run_batch`` on a generated CSV of ``--rows`` firms with ``--top-actions auto`` (on up to
   10,000 rows) and, in the same run, ``no``: wall and CPU time. Then the same firms described one at a
   time through the single-firm path (a sample of ``--sample`` firms), the cost per firm that the whole-frame
   top_actions replaces.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import tempfile
import time
from pathlib import Path

AS_OF = dt.date(2026, 5, 20)
EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "examples" / "srdi_machinery.json"


def _median_ms(fn, n: int) -> tuple[float, float]:
    """Median and 90th percentile CPU milliseconds of ``n`` calls (after three warm-up calls)."""
    for _ in range(3):
        fn()
    times = []
    for _ in range(n):
        start = time.process_time()
        fn()
        times.append((time.process_time() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.9 * (len(times) - 1))]


def per_request(requests: int) -> None:
    """Part 1: one firm, CPU per request."""
    from webapp.engine.io import inputs
    from webapp.reports.examples import PROFILES
    from webapp.web import create_app, services

    firms = {"srdi_machinery (full form)": json.loads(EXAMPLE.read_text("utf-8")),
             "sparse (quick check)": PROFILES["sparse"], "strong": PROFILES["strong"]}
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False, "API_RATE_LIMIT": "1000000/minute",
                          "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite"}, instance_path=tmp)
        with app.app_context():
            for name, profile in firms.items():
                for rules in ("SME-2026", "SME-2022"):
                    med, p90 = _median_ms(lambda p=profile, r=rules: services.assess_profile(p, rules=r, as_of=AS_OF),
                                          requests)
                    print(f"assess_profile {name:28s} {rules}: median {med:6.1f} ms CPU, p90 {p90:6.1f} ms")
            frame = services.profile_frame(firms["srdi_machinery (full form)"])
            fast, _ = _median_ms(lambda: inputs.validate_profiles(frame, first_line=1), requests)
            real = inputs.clean_single_row
            inputs.clean_single_row = lambda frame: None
            try:
                slow, _ = _median_ms(lambda: inputs.validate_profiles(frame, first_line=1), max(20, requests // 5))
            finally:
                inputs.clean_single_row = real
            print(f"validating one firm: fast path {fast:.2f} ms, vectorised path {slow:.2f} ms (same run)")
        client = app.test_client()
        body = {"profile": firms["srdi_machinery (full form)"], "as_of": AS_OF.isoformat()}
        med, p90 = _median_ms(lambda: client.post("/api/v1/assess", json=body), requests)
        print(f"POST /api/v1/assess through WSGI (JSON in and out): median {med:.1f} ms CPU, p90 {p90:.1f} ms")
        with app.app_context():
            app.extensions["sqlalchemy"].engine.dispose()


def batch(rows: int, sample: int) -> None:
    """Part 2: batch with and without top_actions, and firm by firm through the single-firm path."""
    from tests.factories import make_profiles
    from webapp.engine.advice.advise import top_actions
    from webapp.engine.assess import assess
    from webapp.engine.batch import run_batch

    frame = make_profiles(rows, seed=5)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.csv"
        frame.to_csv(src, index=False)
        for mode in ("no", "auto"):
            wall, cpu = time.perf_counter(), time.process_time()
            run_batch(src, Path(tmp) / f"out_{mode}.csv", as_of=AS_OF, top_actions=mode)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            print(f"run_batch {rows:,} rows, --top-actions {mode:4s}: {wall:6.1f} s wall, {cpu:6.1f} s CPU "
                  f"(this process; {cpu / rows * 1000:.2f} ms CPU a firm)")
    part = frame.iloc[:sample]
    start = time.process_time()
    for i in range(len(part)):
        one = assess(part.iloc[[i]], as_of=AS_OF)
        top_actions([one.to_dict(0, benchmarks=False)], profiles=[one.profiles.iloc[0].to_dict()],
                    rule_book=one.rule_book)
    per_firm = (time.process_time() - start) / len(part) * 1000
    print(f"the same firms one at a time through the single-firm path ({sample} firms): {per_firm:.1f} ms CPU a firm,"
          f" {per_firm * rows / 1000:.0f} s for {rows:,}")


def main(argv=None) -> None:
    """Run both parts and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--sample", type=int, default=60)
    args = parser.parse_args(argv)
    per_request(args.requests)
    batch(args.rows, args.sample)


if __name__ == "__main__":
    main()
