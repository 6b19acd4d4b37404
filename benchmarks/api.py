"""Server time and size of POST /api/v1/assess for one firm, whole answer against include= subsets.

Run ``python -m benchmarks.api [--requests 60]``. The app runs in-process on a temporary instance folder with
rate limits off; each request goes through the WSGI stack (parsing, engine, advice, response schema). The
whole answer (no include=) is the baseline, timed in the same run, interleaved with the subsets.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "examples" / "srdi_machinery.json"
VARIANTS = ("", "?include=tiers,readiness", "?include=tiers", "?include=")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=60)
    args = parser.parse_args(argv)
    from webapp.web import create_app

    profile = json.loads(EXAMPLE.read_text("utf-8"))
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"SECRET_KEY": "bench", "RATELIMIT_ENABLED": False,
                          "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite"}, instance_path=tmp)
        client = app.test_client()
        times = {v: [] for v in VARIANTS}
        sizes = {}
        for _ in range(3):  # warm-up
            for variant in VARIANTS:
                client.post("/api/v1/assess" + variant, json={"profile": profile})
        for _ in range(args.requests):
            for variant in VARIANTS:  # interleaved: the machine's load falls on every variant alike
                start = time.perf_counter()
                response = client.post("/api/v1/assess" + variant, json={"profile": profile})
                times[variant].append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200
                sizes[variant] = len(response.data)
        with app.app_context():
            app.extensions["sqlalchemy"].engine.dispose()
    base = statistics.median(times[""])
    for variant in VARIANTS:
        median = statistics.median(times[variant])
        print(f"POST /api/v1/assess{variant or ' (whole answer)'}: median {median:.1f} ms "
              f"({median / base:.2f}x the whole answer), {sizes[variant] / 1024:.1f} KB, {args.requests} requests")


if __name__ == "__main__":
    main()
