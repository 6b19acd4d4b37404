"""The README's multi-machine setup, run for real on 127.0.0.1: one PostgreSQL, one Redis, two app "machines"
(two `giantstep serve` processes sharing the configuration and the instance folder) and one `giantstep worker`.

What it proves: `flask init-db` migrates PostgreSQL; an account registered on one machine logs in on the other
(the session lives in the shared database) and a logout on one ends it on both; the API rate limit is counted
across both machines (Redis storage); a batch posted to one machine runs on the worker (Redis queue) and its
results download from the other.
"""

from __future__ import annotations

import csv
import glob
import http.cookiejar
import io
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.web.live import call, follow_job, free_port, multipart, stop, wait_until_up
from tests.web.test_batch_queue import redis_url  # noqa: F401  (fixture)
from tests.web.test_batches import firms_csv

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = json.loads((ROOT / "data" / "examples" / "srdi_machinery.json").read_text("utf-8"))
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def _pg_binary(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


@pytest.fixture
def postgres_url():
    """A throw-away PostgreSQL cluster on a free loopback port (Debian's postgresql package), password login."""
    initdb, pg_ctl = _pg_binary("initdb"), _pg_binary("pg_ctl")
    if initdb is None or pg_ctl is None:
        pytest.skip("the multi-machine test needs PostgreSQL (apt-get install postgresql)")
    as_user: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="giantstep-pg-"))
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: run it as its own system user
        as_user = ["runuser", "-u", "postgres", "--"]
        shutil.chown(folder, "postgres")
    data, password = folder / "data", secrets.token_hex(12)
    (folder / "pw").write_text(password)
    if as_user:
        shutil.chown(folder / "pw", "postgres")
    port = free_port()
    subprocess.run([*as_user, initdb, "-D", str(data), "-U", "giantstep", "--pwfile", str(folder / "pw"),
                    "--auth", "scram-sha-256", "-E", "UTF8", "--locale", "C"], check=True, capture_output=True)
    started = subprocess.run([*as_user, pg_ctl, "-D", str(data), "-l", str(folder / "log"), "-w", "-t", "60", "-o",
                              f"-p {port} -k {folder} -c listen_addresses=127.0.0.1", "start"],
                             capture_output=True, text=True)
    assert started.returncode == 0, started.stderr + (folder / "log").read_text()
    try:
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=port, user="giantstep", password=password, dbname="postgres",
                             autocommit=True) as connection:
            connection.execute("CREATE DATABASE giantstep")
        yield f"postgresql+psycopg://giantstep:{password}@127.0.0.1:{port}/giantstep"
    finally:
        subprocess.run([*as_user, pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


class Browser:
    """A cookie jar shared across both machines (as behind a load balancer), no automatic redirects."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), self._NoRedirect)

    def call(self, url: str, form: dict | None = None) -> tuple[int, str]:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(urllib.request.Request(url, data=data), timeout=60) as response:
                return response.status, response.read().decode("utf-8")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8")

    def token(self, url: str) -> str:
        status, html = self.call(url)
        assert status == 200, (url, status)
        return TOKEN.search(html).group(1)


@pytest.fixture
def machines(postgres_url, redis_url, tmp_path):  # noqa: F811  (redis_url is the imported fixture)
    """The README's environment on two app processes and one worker; stopped afterwards."""
    redis_base = redis_url.rsplit("/", 1)[0]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GIANTSTEP_INSTANCE_DIR": str(tmp_path / "shared"),
           "FLASK_SECRET_KEY": secrets.token_hex(32), "FLASK_SQLALCHEMY_DATABASE_URI": postgres_url,
           "FLASK_RATELIMIT_STORAGE_URI": f"{redis_base}/0", "FLASK_JOB_QUEUE_URL": f"{redis_base}/1",
           "FLASK_JOB_QUEUE_WORKERS": "0", "FLASK_API_RATE_LIMIT": "6/minute"}
    migrated = subprocess.run([sys.executable, "-m", "flask", "--app", "webapp.web:create_app()", "init-db"],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert migrated.returncode == 0, migrated.stderr
    cli = [sys.executable, "-m", "webapp.cli"]
    ports = [free_port(), free_port()]
    logs = [(tmp_path / f"{name}.log").open("wb") for name in ("a", "b", "worker")]
    processes = [subprocess.Popen([*cli, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
                                  cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
                 for port, log in zip(ports, logs)]
    processes.append(subprocess.Popen([*cli, "worker"], cwd=ROOT, env=env, stdout=logs[2], stderr=subprocess.STDOUT))
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for base, process, log in zip(bases, processes, logs):
            wait_until_up(lambda b=base: call(b + "/api/v1/openapi.json", timeout=5)[0] == 200, process, log.name)
        yield bases, cli, env, postgres_url, redis_base
    finally:
        stop(processes, timeout=20)
        for log in logs:
            log.close()


def test_two_machines_share_sessions_limits_and_jobs(machines):
    (a, b), cli, env, postgres_url, redis_base = machines

    # The schema is in PostgreSQL, migrated by `flask init-db`.
    import psycopg

    with psycopg.connect(postgres_url.replace("postgresql+psycopg", "postgresql")) as connection:
        tables = {row[0] for row in connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")}
    assert {"alembic_version", "users", "clients", "assessments", "batch_jobs", "api_tokens"} <= tables, tables

    # Register on machine A; the same browser is logged in on machine B; logging out on B ends it on A too.
    browser = Browser()
    status, _ = browser.call(a + "/auth/register", {
        "csrf_token": browser.token(a + "/auth/register"), "name": "两台机器", "email": "multi@example.com",
        "password": "correct horse 1", "confirm": "correct horse 1"})
    assert status == 302
    assert browser.call(b + "/clients")[0] == 200
    cookies = list(browser.jar)
    status, _ = browser.call(b + "/auth/logout", {"csrf_token": browser.token(b + "/clients")})
    assert status == 302
    replay = Browser()
    for cookie in cookies:
        replay.jar.set_cookie(cookie)
    status, _ = replay.call(a + "/clients")
    assert status == 302, "a cookie replayed on the other machine after logout still opened the account"

    # One API rate limit across both machines (Redis storage): 6 a minute, however the requests are spread.
    body = json.dumps({"profile": EXAMPLE, "as_of": "2026-05-20"}).encode()
    headers = {"Content-Type": "application/json"}
    statuses = [call((a, b)[i % 2] + "/api/v1/assess", data=body, headers=headers)[0] for i in range(7)]
    assert statuses == [200] * 6 + [429], statuses
    import redis

    limits = redis.Redis.from_url(f"{redis_base}/0")
    assert any(b"api" in key.lower() or b"limiter" in key.lower() for key in limits.keys()), limits.keys()
    limits.close()

    # A batch posted to machine A runs on the worker (Redis queue); its results download from machine B.
    created = subprocess.run([*cli, "token", "create", "--email", "multi@example.com", "--name", "two machines"],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert created.returncode == 0, created.stderr
    auth = {"Authorization": f"Bearer {created.stdout.strip()}"}
    upload, content_type = multipart("firms.csv", firms_csv(12, bad=(3,)))
    status, response_headers, answer = call(a + "/api/v1/batches", data=upload,
                                             headers={**auth, "Content-Type": content_type})
    assert status == 202, answer
    location = response_headers["Location"]
    job = follow_job(b + location, auth)
    assert job["status"] == "done", job
    status, _, answer = call(b + job["downloads"]["csv"], headers=auth)
    rows = list(csv.DictReader(io.StringIO(answer.decode("utf-8-sig"))))
    assert status == 200 and len(rows) == 12
    assert sum(1 for row in rows if row["tier"]) == 11
