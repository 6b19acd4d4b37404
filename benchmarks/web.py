"""Server time of the result page for one assessment: median and p95 over 200 requests (PDF excluded).

Run ``python -m benchmarks.web [--requests 200]``. The app runs in-process on a temporary instance folder;
each request is a full GET of /assess/result through the WSGI stack (engine, advice, charts, template).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "examples" / "srdi_machinery.json"


def _form(profile: dict) -> dict:
    """A profile as the browser posts it."""
    data = {k: ("true" if v is True else "false" if v is False else str(v)) for k, v in profile.items()}
    return {**data, "variant": "full", "mode": "new", "rules": "", "as_of": ""}


def main(argv=None) -> None:
    """Time the result page (with and without the chart cache) and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args(argv)
    from webapp.web import insights

    for cached in (True, False):
        insights.CHART_CACHE = cached
        times = _time_result_page(args.requests)
        p95 = times[min(len(times) - 1, round(0.95 * len(times)) - 1)]
        label = "charts cached after the first request" if cached else "every chart drawn on every request"
        print(f"result page (/assess/result), {args.requests} requests, {label}: median "
              f"{statistics.median(times):.1f} ms, p95 {p95:.1f} ms, min {times[0]:.1f} ms, max {times[-1]:.1f} ms "
              f"(target: median < 100 ms)")


def _time_result_page(requests: int) -> list[float]:
    """Sorted server times in ms of ``requests`` GETs of the result page for the example firm."""
    from webapp.web import create_app

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                          "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite"}, instance_path=tmp)
        client = app.test_client()
        assert client.post("/assess", data=_form(json.loads(EXAMPLE.read_text("utf-8")))).status_code == 302
        for _ in range(5):  # warm-up: fonts, templates, caches
            client.get("/assess/result")
        times = []
        for _ in range(requests):
            start = time.perf_counter()
            response = client.get("/assess/result")
            times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200
        with app.app_context():
            app.extensions["sqlalchemy"].engine.dispose()
    return sorted(times)


if __name__ == "__main__":
    main()
