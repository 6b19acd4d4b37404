"""Per-request CPU of one full assessment, part by part, and batch throughput with the top_actions column.

Run ``python -m benchmarks.request [--requests 200] [--rows 10000] [--sample 60]`` (``--rows 0`` skips part 2).

1. One firm, as ``POST /api/v1/assess`` and the result page compute it (validation, judging, benchmarks,
   readiness with drivers, advice with gap levers and actions, the result dict): median CPU time
   (``time.process_time``) of many calls of ``services.assess_profile`` in an app context, per example firm
   and SME rule set, with where the time goes: the real call is timed part by part (the functions doing each
   part are wrapped while it runs; a part called from inside another counts in the outer one), and the
   part of the API answer that follows (schema dump and JSON response) is timed after it. Then the whole API
   request through the WSGI stack (JSON in and out). In the same run, the validation of that firm on the
   vectorised path (the fast path switched off) as the baseline of the one-row fast path.
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
from collections import defaultdict
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


SHORT = {"srdi_machinery (full form)": "full", "sparse (quick check)": "quick", "strong": "strong"}
PARTS = ("validate", "judge", "benchmarks", "readiness+drivers", "advice", "gaps", "to_dict", "JSON")
PART_NOTES = {
    "validate": "profile_frame + validate_columns",
    "judge": "Judge.run + place_on_ladder",
    "benchmarks": "cohort percentiles + dimension scores",
    "readiness+drivers": "Assessment.readiness (model + drivers)",
    "advice": "clean_profile + advise (actions, levers, roadmap)",
    "gaps": "GapFinder.gap: what each open criterion lacks",
    "to_dict": "the rest: tier and criterion dicts, to_confirm, ...",
    "JSON": "API schema dump + JSON response",
}


class PartTimer:
    """CPU time of named parts of real calls: the functions doing each part are replaced, while the timer is
    on, by wrappers adding their CPU time to the part. Only the outermost wrapped call counts (the judging
    of the drivers' moved copies is readiness, not judging)."""

    def __init__(self):
        self.times: dict[str, float] = defaultdict(float)
        self._busy = False
        self._undo: list[tuple[object, str, object]] = []

    def wrap(self, owner, name: str, part: str) -> None:
        """Time ``owner.name`` (a module function or a class's method) as ``part``."""
        real = getattr(owner, name)

        def timed(*args, **kwargs):
            if self._busy:
                return real(*args, **kwargs)
            self._busy, start = True, time.process_time()
            try:
                return real(*args, **kwargs)
            finally:
                self.times[part] += time.process_time() - start
                self._busy = False

        setattr(owner, name, timed)
        self._undo.append((owner, name, real))

    def __enter__(self):
        from webapp.engine import assess
        from webapp.web import services

        for owner, name, part in ((services, "profile_frame", "validate"), (assess, "validate_columns", "validate"),
                                  (assess.Judge, "run", "judge"), (assess, "place_on_ladder", "judge"),
                                  (assess, "benchmarks_json", "benchmarks"), (assess, "dimensions_json", "benchmarks"),
                                  (assess.Assessment, "readiness", "readiness+drivers"),
                                  (assess.GapFinder, "gap", "gaps"),
                                  (services, "clean_profile", "advice"), (services, "advise", "advice")):
            self.wrap(owner, name, part)
        return self

    def __exit__(self, *exc):
        for owner, name, real in reversed(self._undo):
            setattr(owner, name, real)
        self._undo.clear()

    def run(self, profile: dict, rules: str) -> dict[str, float]:
        """One assessment as the API answers it: milliseconds of CPU per part, and ``total``."""
        from flask import current_app

        from webapp.web import api_schemas, services

        self.times.clear()
        start = time.process_time()
        result = services.assess_profile(profile, rules=rules, as_of=AS_OF).result
        total = time.process_time() - start
        start = time.process_time()
        current_app.json.response(api_schemas.AssessResult().dump(result))
        out = {part: self.times[part] * 1000 for part in PARTS}
        out["to_dict"] = (total - sum(self.times.values())) * 1000
        out["JSON"] = (time.process_time() - start) * 1000
        out["total"] = total * 1000
        return out


def per_request(requests: int) -> None:
    """Part 1: one firm, CPU per request, part by part."""
    from webapp.engine.io import inputs
    from webapp.reports.examples import PROFILES
    from webapp.web import create_app, services

    firms = {"srdi_machinery (full form)": json.loads(EXAMPLE.read_text("utf-8")),
             "sparse (quick check)": PROFILES["sparse"], "strong": PROFILES["strong"]}
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False, "API_RATE_LIMIT": "1000000/minute",
                          "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite"}, instance_path=tmp)
        with app.app_context():
            columns = {}
            with PartTimer() as timer:
                for name, profile in firms.items():
                    for rules in ("SME-2026", "SME-2022"):
                        runs = [timer.run(profile, rules) for _ in range(3 + requests)][3:]
                        columns[f"{SHORT[name]} {rules[-4:]}"] = runs
                        total = sorted(r["total"] for r in runs)
                        print(f"assess_profile {name:28s} {rules}: median {statistics.median(total):6.1f} ms CPU, "
                              f"p90 {total[int(0.9 * (len(total) - 1))]:6.1f} ms")
            _print_parts(columns)
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


def _print_parts(columns: dict[str, list[dict]]) -> None:
    """The part-by-part table: median ms of CPU per part and firm, the parts' sum and the whole call."""
    print("\nwhere one assessment's CPU goes (median ms per part; to_dict = the whole call less the other parts;"
          " JSON follows the call in the API)")
    print(f"{'part':18s}" + "".join(f"{c:>12s}" for c in columns) + "  what")
    for part in PARTS:
        print(f"{part:18s}" + "".join(f"{statistics.median(r[part] for r in runs):12.1f}" for runs in columns.values())
              + f"  {PART_NOTES[part]}")
    print(f"{'sum of medians':18s}" + "".join(
        f"{sum(statistics.median(r[p] for r in runs) for p in PARTS):12.1f}" for runs in columns.values()))
    print(f"{'call + JSON':18s}" + "".join(
        f"{statistics.median(r['total'] + r['JSON'] for r in runs):12.1f}" for runs in columns.values())
        + "  median of the whole, for comparison\n")


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
    if args.rows > 0:
        batch(args.rows, max(args.sample, 1))
    else:
        print("batch part skipped (--rows 0)")


if __name__ == "__main__":
    main()
