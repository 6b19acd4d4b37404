"""Server time of the result page for one assessment: median and p95 over 200 requests (PDF excluded).

Run ``python -m benchmarks.web [--requests 200] [--mix ROUNDS]``. The app runs in-process on a temporary
instance folder; each request is a full GET of /assess/result through the WSGI stack (engine, advice, charts,
template).

``--mix ROUNDS`` measures instead the CPU (``time.process_time``) of each request of the load test's round
(``benchmarks.load``: landing page, full form, posting it, result page, ``POST /api/v1/assess``), a different
firm every round as the load test's users describe them, so the result page draws its charts anew; and, in the
same run, the engine's share (``services.assess_profile`` for the same firms) and the mean of a round.
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
    parser.add_argument("--mix", type=int, default=0, help="rounds of the load test's requests to time instead")
    args = parser.parse_args(argv)
    if args.mix:
        _time_mix(args.mix)
        return
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



def _time_mix(rounds: int) -> None:
    """Median CPU ms of each request of the load test's round, a new firm every round; the engine's share."""
    import random

    from benchmarks.load import varied_firm
    from webapp.web import create_app, services

    base = json.loads(EXAMPLE.read_text("utf-8"))
    rng = random.Random(13)
    firms = [varied_firm(base, rng) for _ in range(rounds + 3)]
    kinds = ("GET /", "GET /assess?full=1", "POST /assess", "GET /assess/result", "POST /api/v1/assess")
    times: dict[str, list[float]] = {k: [] for k in (*kinds, "engine (assess_profile)")}
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False, "API_RATE_LIMIT": "1000000/minute",
                          "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite"}, instance_path=tmp)
        client = app.test_client()
        for i, firm in enumerate(firms):
            calls = (lambda: client.get("/"), lambda: client.get("/assess?full=1"),
                     lambda f=firm: client.post("/assess", data=_form(f)), lambda: client.get("/assess/result"),
                     lambda f=firm: client.post("/api/v1/assess", json={"profile": f}))
            for kind, call in zip(kinds, calls, strict=True):
                start = time.process_time()
                status = call().status_code
                if i >= 3:  # the first rounds warm up
                    times[kind].append((time.process_time() - start) * 1000)
                assert status in (200, 302), (kind, status)
            with app.app_context():
                start = time.process_time()
                services.assess_profile(firm)
                if i >= 3:
                    times["engine (assess_profile)"].append((time.process_time() - start) * 1000)
        with app.app_context():
            app.extensions["sqlalchemy"].engine.dispose()
    print(f"CPU per request of the load test's round, {rounds} rounds, a new firm each (median ms):")
    for kind, values in times.items():
        print(f"  {kind:<26} {statistics.median(values):7.1f}")
    mean = sum(statistics.median(times[k]) for k in kinds) / len(kinds)
    print(f"  mean of a round's requests {mean:7.1f}  (two cores serve at most {2000 / mean:.0f} requests/s "
          "of this mix)")


if __name__ == "__main__":
    main()
