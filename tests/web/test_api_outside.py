"""The outside check of the HTTP API, end to end against `giantstep serve` (and `giantstep worker`) on
127.0.0.1: read the document, post a batch without a token (JSON 401), register in a browser, create a token
with the command line, post 40 firms, follow the job to the end and count the rows of results.csv."""

from __future__ import annotations

import csv
import io
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.web.test_batches import firms_csv

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _call(url: str, *, data: bytes | None = None, headers: dict | None = None, timeout: float = 60):
    """(status, headers, body) of one HTTP call; error statuses are answers too."""
    request = urllib.request.Request(url, data=data, headers=headers or {}, method="POST" if data else "GET")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def _multipart(name: str, content: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            f"Content-Type: text/csv\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


@pytest.fixture
def installation(tmp_path):
    """`giantstep serve` and `giantstep worker` on a fresh instance folder; stopped (by pid) afterwards."""
    env = {**os.environ, "GIANTSTEP_INSTANCE_DIR": str(tmp_path / "instance"), "PYTHONPATH": str(ROOT)}
    port = _free_port()
    cli = [sys.executable, "-m", "webapp.cli"]
    logs = tmp_path / "serve.log", tmp_path / "worker.log"
    files = [path.open("wb") for path in logs]
    server = subprocess.Popen([*cli, "serve", "--host", "127.0.0.1", "--port", str(port)], cwd=ROOT, env=env,
                              stdout=files[0], stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    worker = None
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if _call(base + "/api/v1/openapi.json", timeout=5)[0] == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, logs[0].read_text()
            time.sleep(0.5)
        worker = subprocess.Popen([*cli, "worker"], cwd=ROOT, env=env, stdout=files[1], stderr=subprocess.STDOUT)
        yield base, cli, env
    finally:
        for process in (worker, server):
            if process is not None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        for file in files:
            file.close()


def test_outside_check(installation, page):
    base, cli, env = installation
    status, _, body = _call(base + "/api/v1/openapi.json")
    document = json.loads(body)
    assert status == 200 and document["openapi"].startswith("3.")
    assert {"/api/v1/batches", "/api/v1/batches/{job_id}", "/api/v1/batches/{job_id}/results.csv"} <= set(
        document["paths"])

    upload, content_type = _multipart("firms.csv", firms_csv(40))
    status, headers, body = _call(base + "/api/v1/batches", data=upload, headers={"Content-Type": content_type})
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

    status, headers, body = _call(base + "/api/v1/batches", data=upload,
                                  headers={**auth, "Content-Type": content_type})
    assert status == 202, body
    location = headers["Location"]
    assert location == f"/api/v1/batches/{json.loads(body)['id']}"

    deadline = time.monotonic() + 300
    while True:
        status, _, body = _call(base + location, headers=auth)
        job = json.loads(body)
        if job["status"] in ("done", "failed", "cancelled"):
            break
        assert status == 200 and time.monotonic() < deadline, job
        time.sleep(1)
    assert job["status"] == "done", job
    status, headers, body = _call(base + job["downloads"]["csv"], headers=auth)
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert len(rows) == 40 and all(row["tier"] for row in rows)
