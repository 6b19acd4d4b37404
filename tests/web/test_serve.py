"""``giantstep serve`` as shipped (gunicorn workers, SQLite in WAL mode): killed with SIGKILL while saving
assessments, it restarts on an intact database that keeps every committed save; SIGTERM stops it gracefully."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.factories import make_profile
from tests.web.helpers import form_data

ROOT = Path(__file__).resolve().parents[2]
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
PASSWORD = "correct horse 1"


class Browser:
    """Cookies, CSRF tokens, no redirects followed (the Location is what the tests read)."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                                  self._NoRedirect())

    def get(self, path: str) -> tuple[int, str]:
        return self._open(urllib.request.Request(self.base + path))

    def post(self, path: str, data: dict, token_from: str) -> tuple[int, str]:
        token = TOKEN.search(self.get(token_from)[1]).group(1)
        body = urllib.parse.urlencode({**data, "csrf_token": token}).encode()
        return self._open(urllib.request.Request(self.base + path, data=body))

    def _open(self, request) -> tuple[int, str]:
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers.get("Location") or exc.read().decode()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(instance: Path, port: int) -> subprocess.Popen:
    env = {"PATH": "/usr/bin:/bin", "GIANTSTEP_INSTANCE_DIR": str(instance)}
    log = instance.parent / "serve.log"
    with open(log, "a") as stderr:
        proc = subprocess.Popen([sys.executable, "-m", "webapp.cli", "serve", "--port", str(port), "--workers", "2"],
                                env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                if response.status == 200:
                    return proc
        except OSError:
            time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGKILL)
    raise AssertionError("giantstep serve did not answer within 180 s")


@pytest.mark.slow
def test_kill_9_while_saving_then_restart(tmp_path):
    """SIGKILL to every process of the server during a stream of saves; after a restart the database passes
    SQLite's integrity check, the account still logs in and every saved assessment opens."""
    instance, port = tmp_path / "instance", _free_port()
    server = _start(instance, port)
    try:
        browser = Browser(f"http://127.0.0.1:{port}")
        status, _ = browser.post("/auth/register", {"name": "顾问", "email": "k@example.com", "password": PASSWORD,
                                                    "confirm": PASSWORD}, "/auth/register")
        assert status == 302
        status, location = browser.post("/clients", {"name": "宁波示例"}, "/clients")
        assert status == 302
        client_id = location.rsplit("/", 1)[1]
        saved, stop = [], threading.Event()

        def save_forever():
            while not stop.is_set():
                try:
                    code, where = browser.post("/assess", form_data(make_profile(), client_id=client_id), "/assess")
                except OSError:
                    return
                if code == 302:
                    saved.append(where)

        writer = threading.Thread(target=save_forever, daemon=True)
        writer.start()
        deadline = time.monotonic() + 120
        while len(saved) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(saved) >= 3
        os.killpg(server.pid, signal.SIGKILL)  # mid-stream: a save is most likely in flight
        server.wait(timeout=30)
        stop.set()
        writer.join(timeout=70)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
    database = instance / "giantstep.sqlite"
    with sqlite3.connect(database) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)

    server = _start(instance, port)
    try:
        browser = Browser(f"http://127.0.0.1:{port}")
        status, _ = browser.post("/auth/login", {"email": "k@example.com", "password": PASSWORD}, "/auth/login")
        assert status == 302
        with sqlite3.connect(database) as conn:
            rows = conn.execute("SELECT id, result FROM assessments").fetchall()
        assert len(rows) >= len(saved) >= 3  # every save answered 302 is there (one in flight may be too)
        for assessment_id, result in rows:
            assert json.loads(result)["tier"]
            assert browser.get(f"/assessments/{assessment_id}")[0] == 200
        assert stat.S_IMODE(database.stat().st_mode) == 0o600
        big = b"firm_name=" + b"a" * 8_000_000  # 8 MB while logged in: a 413 the client can read, no broken pipe
        status, page = browser._open(urllib.request.Request(browser.base + "/assess", data=big))
        assert status == 413
        server.send_signal(signal.SIGTERM)  # graceful: finishes what is in flight, then exits 0
        assert server.wait(timeout=60) == 0
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
