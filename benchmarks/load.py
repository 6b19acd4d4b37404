"""Load test: N users with think time against ``giantstep serve`` as shipped, on 127.0.0.1 only; p50/p95 and errors.

Run ``python -m benchmarks.load [--users 50] [--think 0.5] [--seconds 40] [--server gunicorn|waitress] [--seed S]
[--workers N]``. It starts ``giantstep serve`` on a free loopback port with a temporary instance folder and the
API rate limit lifted through ``FLASK_API_RATE_LIMIT`` (every simulated user shares one address), waits until
it answers, runs the users for the given time and stops the server with SIGTERM (graceful shutdown). With
``--url http://127.0.0.1:PORT`` it targets a server already running instead (loopback addresses only).

Each user repeats what a visitor does, waiting ``--think`` seconds after each answer: the landing page, the full
form, posting it (CSRF token and session cookie as a browser), the result page, then ``POST /api/v1/assess``
with the same firm. Every user describes a different firm on every round (revenue, R&D, staff and class I IP
of the example firm scaled at random, seeded per user: ``--seed``), so no cache keyed on the firm can answer
for the engine; ``--same-firm`` posts the example firm unchanged. Any status other than the expected one, or a
timeout, is an error. The run is bounded in
time (``--seconds``, then at most 30 s for answers in flight) and in requests (``--max-requests``).
"""

from __future__ import annotations

import argparse
import http.client
import ipaddress
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "data" / "examples" / "srdi_machinery.json"
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
REQUEST_TIMEOUT_S = 30


@dataclass
class Tally:
    """Latencies (ms) by kind of request, and the errors seen."""

    times: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    cpu_s: float | None = None  # the server's CPU seconds over the run (when it was started here)

    def add(self, kind: str, ms: float, error: str | None) -> None:
        with self.lock:
            self.times.setdefault(kind, []).append(ms)
            if error:
                self.errors.append(f"{kind}: {error}")

    def count(self) -> int:
        with self.lock:
            return sum(len(v) for v in self.times.values())


def varied_firm(profile: dict, rng: random.Random) -> dict:
    """The example firm at another size and R&D effort: revenue, profit and assets scaled by 0.4-3, R&D by a
    further 0.3-3 (R&D intensity 1.5-15 % instead of 5 %), staff with the size, class I IP 0-12."""
    size, effort = rng.uniform(0.4, 3.0), rng.uniform(0.3, 3.0)
    firm = dict(profile)
    for key in ("revenue", "revenue_prev", "revenue_prev2", "main_revenue", "main_revenue_prev",
                "main_revenue_prev2", "net_profit", "total_assets", "total_costs"):
        firm[key] = round(profile[key] * size, 1)
    for key in ("rd_expense", "rd_expense_prev", "rd_expense_prev2"):
        firm[key] = round(profile[key] * size * effort, 1)
    firm["employees"] = max(10, round(profile["employees"] * size))
    firm["rd_staff"] = min(firm["employees"], max(1, round(profile["rd_staff"] * size * effort)))
    firm["class1_ip"] = firm["class1_ip_self"] = rng.randint(0, 12)
    firm["class1_ip_applied"] = rng.randint(0, firm["class1_ip"])
    return firm


class User:
    """One visitor with its own keep-alive connection and cookies; ``rng`` varies its firm on every round
    (None: always the example firm)."""

    def __init__(self, host: str, port: int, profile: dict, tally: Tally, rng: random.Random | None = None):
        self.host, self.port, self.tally, self.base, self.rng = host, port, tally, profile, rng
        self.firm(profile)
        self.cookies: dict[str, str] = {}
        self.conn: http.client.HTTPConnection | None = None

    def firm(self, profile: dict) -> None:
        """Describe ``profile`` in the next round's form and API call."""
        self.form = {k: ("true" if v is True else "false" if v is False else str(v)) for k, v in profile.items()}
        self.api_body = json.dumps({"profile": profile}).encode()

    def request(self, kind: str, method: str, path: str, body: bytes | None = None, ctype: str | None = None,
                expect: int = 200) -> str | None:
        headers = {"Accept-Language": "zh-CN"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if ctype:
            headers["Content-Type"] = ctype
        start = time.perf_counter()
        error, text = None, None
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=REQUEST_TIMEOUT_S)
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
            for header in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = header.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
            if response.status != expect:
                error = f"status {response.status} (expected {expect})"
            text = data.decode("utf-8", "replace")
            if response.getheader("Connection", "").lower() == "close":
                self.close()
        except (OSError, http.client.HTTPException) as exc:
            error = f"{type(exc).__name__}: {exc}"
            self.close()
        self.tally.add(kind, (time.perf_counter() - start) * 1000, error)
        return None if error else text

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def run(self, until: float, think: float, budget: threading.Semaphore) -> None:
        steps = (self.landing, self.full_form, self.submit, self.result, self.api)
        token = None
        while time.monotonic() < until:
            if self.rng is not None:
                self.firm(varied_firm(self.base, self.rng))
            for step in steps:
                if time.monotonic() >= until or not budget.acquire(blocking=False):
                    self.close()
                    return
                token = step(token)
                time.sleep(think)
        self.close()

    def landing(self, token):
        self.request("page /", "GET", "/")
        return token

    def full_form(self, token):
        html = self.request("page /assess?full=1", "GET", "/assess?full=1")
        match = TOKEN.search(html or "")
        return match.group(1) if match else token

    def submit(self, token):
        data = {**self.form, "variant": "full", "mode": "new", "rules": "", "as_of": "", "csrf_token": token or ""}
        self.request("post /assess", "POST", "/assess", urlencode(data).encode(),
                     "application/x-www-form-urlencoded", expect=302)
        return token

    def result(self, token):
        self.request("page /assess/result", "GET", "/assess/result")
        return token

    def api(self, token):
        self.request("api /api/v1/assess", "POST", "/api/v1/assess", self.api_body, "application/json")
        return token


def loopback_only(url: str) -> tuple[str, int]:
    """Host and port of ``url``; refuse anything but a loopback address."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if parts.scheme != "http" or not loopback:
        raise SystemExit(f"{url}: this load test only targets http:// on a loopback address (127.0.0.1, ::1)")
    return host, parts.port or 80


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(args, instance: str) -> tuple[subprocess.Popen, int]:
    """``giantstep serve`` as shipped, on a free loopback port, API rate limit lifted; wait until it answers."""
    port = free_port()
    env = {**os.environ, "GIANTSTEP_INSTANCE_DIR": instance, "FLASK_API_RATE_LIMIT": "1000000 per minute",
           "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "webapp.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
               "--server", args.server]
    if args.workers:
        command += ["--workers", str(args.workers)]
    proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"giantstep serve exited with {proc.returncode}: {proc.stderr.read()}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/")
            if conn.getresponse().status == 200:
                conn.close()
                return proc, port
        except OSError:
            time.sleep(0.5)
    stop_server(proc)
    raise SystemExit("giantstep serve did not answer within 120 s")


def stop_server(proc: subprocess.Popen) -> None:
    """SIGTERM (graceful), then SIGKILL after 40 s."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=40)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU seconds used so far by the live processes of process group ``pgid`` (Linux /proc)."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields after the command: state, ppid, pgrp, ..., utime (12), stime (13)
            total += int(fields[11]) + int(fields[12])
    return total / tick


def percentile(sorted_ms: list[float], q: float) -> float:
    return sorted_ms[min(len(sorted_ms) - 1, max(0, round(q * len(sorted_ms)) - 1))]


def run(host: str, port: int, args, pgid: int | None = None) -> Tally:
    """Warm up (each worker: a few requests), then run the users for ``args.seconds``; with ``pgid``, record the
    server's CPU seconds over the run in ``tally.cpu_s``."""
    profile = json.loads(EXAMPLE.read_text("utf-8"))
    warm = Tally()
    warm_user = User(host, port, profile, warm)
    warm_user.run(time.monotonic() + 5, 0.0, threading.Semaphore(40))
    tally = Tally()
    cpu_before = group_cpu_seconds(pgid) if pgid else None
    budget = threading.Semaphore(args.max_requests)
    until = time.monotonic() + args.seconds
    users = [User(host, port, profile, tally, None if args.same_firm else random.Random(args.seed * 100_003 + i))
             for i in range(args.users)]
    threads = [threading.Thread(target=u.run, args=(until, args.think, budget), daemon=True) for u in users]
    for i, thread in enumerate(threads):
        thread.start()
        time.sleep(min(args.think, 1.0) / len(threads) * (i > 0))  # stagger the first requests
    for thread in threads:
        thread.join(timeout=max(0.0, until - time.monotonic()) + REQUEST_TIMEOUT_S)
    tally.cpu_s = group_cpu_seconds(pgid) - cpu_before if pgid else None
    return tally


def report(tally: Tally, args, load_before: tuple) -> None:
    every = sorted(ms for times in tally.times.values() for ms in times)
    if not every:
        print("no request was answered")
        return
    print(f"{args.users} users, think {args.think} s, {args.seconds} s, server {args.server}"
          f"{f' x{args.workers}' if args.workers else ''}, "
          f"{'the example firm' if args.same_firm else f'a different firm per user and round (seed {args.seed})'}; "
          f"load average before: "
          f"{' '.join(f'{x:.2f}' for x in load_before)}, after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
          f"{os.cpu_count()} cores")
    print(f"  {'requests':<22} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for kind, times in sorted(tally.times.items()):
        times = sorted(times)
        print(f"  {kind:<22} {len(times):>6} {statistics.median(times):>8.0f} {percentile(times, 0.95):>8.0f} "
              f"{times[-1]:>8.0f}")
    print(f"  {'all':<22} {len(every):>6} {statistics.median(every):>8.0f} {percentile(every, 0.95):>8.0f} "
          f"{every[-1]:>8.0f}")
    print(f"  throughput {len(every) / args.seconds:.1f} requests/s; errors: {len(tally.errors)}")
    if tally.cpu_s:
        per_request = tally.cpu_s * 1000 / len(every)
        cores = len(os.sched_getaffinity(0))
        print(f"  server CPU: {tally.cpu_s:.1f} s over the run, {per_request:.0f} ms per request on average: "
              f"{cores} idle cores could answer at most {cores * 1000 / per_request:.0f} requests/s of this mix")
    for error in sorted(set(tally.errors))[:10]:
        print(f"    {error}")
    verdict = "met" if (not tally.errors and statistics.median(every) <= 100 and percentile(every, .95) <= 500) \
        else "NOT met"
    print(f"  target (no errors, p50 <= 100 ms, p95 <= 500 ms): {verdict}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--think", type=float, default=0.5, help="seconds each user waits after an answer")
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--max-requests", type=int, default=100_000)
    parser.add_argument("--server", choices=("gunicorn", "waitress"), default="gunicorn")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--same-firm", action="store_true", help="post the example firm unchanged every time")
    parser.add_argument("--seed", type=int, default=13, help="seed of the firms the users describe")
    parser.add_argument("--url", default=None, help="target a running server (loopback only) instead")
    args = parser.parse_args(argv)
    if not (1 <= args.users <= 500 and 0 < args.seconds <= 600):
        raise SystemExit("--users must be 1-500 and --seconds at most 600")
    load_before = os.getloadavg()
    if args.url:
        host, port = loopback_only(args.url)
        tally = run(host, port, args)
    else:
        with tempfile.TemporaryDirectory(prefix="giantstep-load-") as instance:
            proc, port = start_server(args, instance)
            try:
                tally = run("127.0.0.1", port, args, pgid=proc.pid)
            finally:
                stop_server(proc)
    report(tally, args, load_before)
    return 1 if tally.errors else 0


if __name__ == "__main__":
    sys.exit(main())
