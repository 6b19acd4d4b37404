"""Report speed: ``python -m benchmarks.reports`` times one full PDF report and a run of 100 (median of repeats)."""

from __future__ import annotations

import argparse
import io
import itertools
import statistics
import time

from webapp.reports.examples import PROFILES, example_result
from webapp.reports.pdf import render_pdf
from webapp.reports.styles import register_fonts

ONE_LIMIT, HUNDRED_LIMIT = 0.5, 30.0


def _timed(fn) -> tuple[float, float]:
    """Wall and CPU seconds of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def main(argv: list[str] | None = None) -> int:
    """Print the figures; exit status 1 when a median misses its limit."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5, help="repeats of the single report (median)")
    parser.add_argument("--batches", type=int, default=3, help="repeats of the 100-report run (median)")
    parser.add_argument("-n", type=int, default=100, help="reports in the batch run")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    fonts = register_fonts()
    print(f"font: {fonts.source} (embedded: {fonts.embedded}); registered in {time.perf_counter() - start:.3f} s")
    results = {name: example_result(name) for name in PROFILES}          # engine time is not report time
    strong = results["strong"]
    render_pdf(strong, io.BytesIO(), lang="zh")                           # warm caches once
    singles = [_timed(lambda: render_pdf(strong, io.BytesIO(), lang="zh")) for _ in range(args.repeats)]
    one_wall = statistics.median(w for w, _ in singles)
    one_cpu = statistics.median(c for _, c in singles)
    print(f"one full report (strong firm, zh): median {one_wall:.3f} s wall, {one_cpu:.3f} s CPU "
          f"over {args.repeats} runs (limit {ONE_LIMIT} s)")
    jobs = list(itertools.islice(itertools.cycle(itertools.product(results.values(), ("zh", "en"))), args.n))

    def batch():
        for result, lang in jobs:
            render_pdf(result, io.BytesIO(), lang=lang)

    runs = [_timed(batch) for _ in range(args.batches)]
    many_wall = statistics.median(w for w, _ in runs)
    many_cpu = statistics.median(c for _, c in runs)
    print(f"{args.n} reports (3 firms x zh/en): median {many_wall:.2f} s wall, {many_cpu:.2f} s CPU "
          f"over {args.batches} runs (limit {HUNDRED_LIMIT} s for 100)")
    ok = one_wall < ONE_LIMIT and many_wall * 100 / args.n < HUNDRED_LIMIT
    print("PASS" if ok else "SLOW")
    return 0 if ok else 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
