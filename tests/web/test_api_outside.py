"""The outside check of the HTTP API, end to end against `giantstep serve` (and `giantstep worker`) on
127.0.0.1: read the document, post a batch without a token (JSON 401), register in a browser, create a token
with the command line, post 40 firms, follow the job to the end and count the rows of results.csv."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.web.live import call, follow_job, free_port, multipart, stop, wait_until_up
from tests.web.test_batches import firms_csv

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def installation(tmp_path):
    """`giantstep serve` and `giantstep worker` on a fresh instance folder; stopped (by pid) afterwards."""
    env = {**os.environ, "GIANTSTEP_INSTANCE_DIR": str(tmp_path / "instance"), "PYTHONPATH": str(ROOT)}
    port = free_port()
    cli = [sys.executable, "-m", "webapp.cli"]
    logs = tmp_path / "serve.log", tmp_path / "worker.log"
    files = [path.open("wb") for path in logs]
    server = subprocess.Popen([*cli, "serve", "--host", "127.0.0.1", "--port", str(port)], cwd=ROOT, env=env,
                              stdout=files[0], stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    worker = None
    try:
        wait_until_up(lambda: call(base + "/api/v1/openapi.json", timeout=5)[0] == 200, server, logs[0])
        worker = subprocess.Popen([*cli, "worker"], cwd=ROOT, env=env, stdout=files[1], stderr=subprocess.STDOUT)
        yield base, cli, env
    finally:
        stop((worker, server), timeout=20)
        for file in files:
            file.close()


def test_outside_check(installation, page):
    base, cli, env = installation
    status, _, body = call(base + "/api/v1/openapi.json")
    document = json.loads(body)
    assert status == 200 and document["openapi"].startswith("3.")
    assert {"/api/v1/batches", "/api/v1/batches/{job_id}", "/api/v1/batches/{job_id}/results.csv"} <= set(
        document["paths"])

    upload, content_type = multipart("firms.csv", firms_csv(40))
    status, headers, body = call(base + "/api/v1/batches", data=upload, headers={"Content-Type": content_type})
    assert status == 401 and headers["Content-Type"].startswith("application/json")
    assert json.loads(body)["error"]["status"] == 401

    page.goto(base + "/auth/register")
    page.fill("#name", "外部检查")
    page.fill("#email", "outside@example.com")
    page.fill("#password", "correct horse 1")
    page.fill("#confirm", "correct horse 1")
    page.click("form button[type=submit]")
    page.wait_for_url(lambda url: "/auth/register" not in url)

    created = subprocess.run([*cli, "token", "create", "--email", "outside@example.com", "--name", "outside"],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert created.returncode == 0, created.stderr
    auth = {"Authorization": f"Bearer {created.stdout.strip()}"}

    status, headers, body = call(base + "/api/v1/batches", data=upload,
                                  headers={**auth, "Content-Type": content_type})
    assert status == 202, body
    location = headers["Location"]
    assert location == f"/api/v1/batches/{json.loads(body)['id']}"

    job = follow_job(base + location, auth)
    assert job["status"] == "done", job
    status, headers, body = call(base + job["downloads"]["csv"], headers=auth)
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert len(rows) == 40 and all(row["tier"] for row in rows)
