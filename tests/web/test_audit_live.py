"""Issue 13's outside audit, replayed against a real `giantstep serve` on 127.0.0.1 with GIANTSTEP_INSTANCE_DIR:
a cookie replayed after logout, registering with "password", 8 MB posted while logged in, CR LF in `next`,
server paths in the public API's answers, and the modes of the files in the instance folder."""

from __future__ import annotations

import http.client
import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.web.live import free_port, stop, wait_until_up

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
GOOD_PASSWORD = "correct horse 1"


class Browser:
    """One client with its cookies over http.client (a fresh connection per request)."""

    def __init__(self, port: int):
        self.port, self.cookies = port, {}

    def call(self, method: str, path: str, body: bytes | None = None, ctype: str | None = None,
             cookies: dict | None = None) -> tuple[int, http.client.HTTPMessage, bytes]:
        jar = self.cookies if cookies is None else cookies
        headers = {"Accept-Language": "zh-CN"}
        if jar:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in jar.items())
        if ctype:
            headers["Content-Type"] = ctype
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        if cookies is None:
            for header in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = header.partition("=")
                value = rest.split(";", 1)[0]
                if value and "Max-Age=0" not in header and "expires=Thu, 01 Jan 1970" not in header:
                    self.cookies[name.strip()] = value
                else:
                    self.cookies.pop(name.strip(), None)
        return response.status, response.headers, data

    def token(self, path: str) -> str:
        status, _, body = self.call("GET", path)
        assert status == 200, (path, status)
        return TOKEN.search(body.decode()).group(1)

    def post_form(self, path: str, data: dict, token_from: str | None = None):
        data = {**data, "csrf_token": self.token(token_from or path)}
        return self.call("POST", path, urlencode(data).encode(), "application/x-www-form-urlencoded")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """`giantstep serve` as shipped on a fresh GIANTSTEP_INSTANCE_DIR; stopped (by pid) afterwards."""
    tmp = tmp_path_factory.mktemp("audit")
    instance = tmp / "instance"
    port = free_port()
    env = {**os.environ, "GIANTSTEP_INSTANCE_DIR": str(instance), "PYTHONPATH": str(ROOT)}
    env.pop("FLASK_SECRET_KEY", None)
    log = (tmp / "serve.log").open("wb")
    server = subprocess.Popen([sys.executable, "-m", "webapp.cli", "serve", "--host", "127.0.0.1", "--port",
                               str(port)], cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_up(lambda: Browser(port).call("GET", "/api/v1/fields")[0] == 200, server, tmp / "serve.log")
        yield port, instance
    finally:
        stop([server])
        log.close()


def _register(browser: Browser, email: str, password: str):
    return browser.post_form("/auth/register", {"name": "审计", "email": email, "password": password,
                                                "confirm": password})


def test_cookie_replayed_after_logout_opens_nothing(served):
    port, _ = served
    browser = Browser(port)
    assert _register(browser, "replay@example.com", GOOD_PASSWORD)[0] == 302
    assert browser.call("GET", "/clients")[0] == 200
    copied = dict(browser.cookies)
    assert browser.post_form("/auth/logout", {}, token_from="/clients")[0] == 302
    status, headers, _ = browser.call("GET", "/clients", cookies=copied)
    assert status == 302 and "/auth/login" in headers["Location"]


def test_registering_with_password_is_refused(served):
    port, _ = served
    browser = Browser(port)
    status, _, body = _register(browser, "weak@example.com", "password")
    assert status == 400 and "密码" in body.decode()
    assert browser.call("GET", "/clients")[0] == 302  # not logged in: no account was made


@pytest.mark.parametrize("path, ctype", [("/assess", "application/x-www-form-urlencoded"),
                                         ("/clients", "application/x-www-form-urlencoded"),
                                         ("/api/v1/assess", "application/json")])
def test_8_mb_while_logged_in_is_413(served, path, ctype):
    port, _ = served
    browser = Browser(port)
    assert _register(browser, f"big{abs(hash(path))}@example.com", GOOD_PASSWORD)[0] == 302
    status, _, body = browser.call("POST", path, b"a=" + b"x" * (8 * 1024 * 1024), ctype)
    assert status == 413, (path, status, body[:300])


@pytest.mark.parametrize("path", ["/lang/en?next=/%0d%0aSet-Cookie:%20x=1", "/lang/zh?next=%0D%0ALocation:%20//x",
                                  "/auth/login?next=/clients%0d%0aX:%201"])
def test_cr_lf_in_next_is_400(served, path):
    port, _ = served
    browser = Browser(port)
    if path.startswith("/auth/login"):
        assert _register(browser, "crlf@example.com", GOOD_PASSWORD)[0] == 302
        browser.post_form("/auth/logout", {}, token_from="/clients")
        data = {"email": "crlf@example.com", "password": GOOD_PASSWORD, "next": "/clients\r\nX: 1",
                "csrf_token": browser.token(path)}
        status, headers, _ = browser.call("POST", path, urlencode(data).encode(),
                                          "application/x-www-form-urlencoded")
    else:
        status, headers, _ = browser.call("GET", path)
    assert status == 400, (path, status)
    assert "x=1" not in str(headers) and "X: 1" not in str(headers)


def test_no_server_path_in_any_public_api_answer(served):
    port, instance = served
    browser = Browser(port)
    example = json.loads((ROOT / "data" / "examples" / "srdi_machinery.json").read_text("utf-8"))
    calls = [("GET", "/api/v1/fields", None), ("GET", "/api/v1/openapi.json", None),
             ("GET", "/api/v1/docs", None), ("GET", "/api/v1/nothing", None), ("GET", "/api/v1/assess", None),
             ("POST", "/api/v1/assess", {"profile": example}),
             ("POST", "/api/v1/assess", {"profile": {**example, "revenue": "lots", "extra": 1}}),
             ("POST", "/api/v1/assess", {"profile": example, "rules": "SME-1999"}),
             ("POST", "/api/v1/whatif", {"profile": example, "changes": {"rd_expense": 900}}),
             ("POST", "/api/v1/assess", b"{not json"), ("GET", "/api/v1/batches", None)]
    needles = {str(ROOT), str(instance), str(instance.parent), sys.prefix, "site-packages", ".joblib", ".pkl",
               "/models/", "/home/", "/root/", "/tmp/", "Traceback"}
    for method, path, body in calls:
        raw = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        status, headers, data = browser.call(method, path, raw, "application/json" if raw else None)
        text = data.decode("utf-8", "replace") + str(headers)
        assert status < 500, (path, status)
        found = [n for n in needles if n in text]
        assert not found, (method, path, status, found)


def test_instance_files_are_private(served):
    port, instance = served
    browser = Browser(port)
    assert _register(browser, "modes@example.com", GOOD_PASSWORD)[0] == 302  # the database has been written to
    assert stat.S_IMODE(instance.stat().st_mode) == 0o700
    database = instance / "giantstep.sqlite"
    assert database.exists() and stat.S_IMODE(database.stat().st_mode) == 0o600
    for path in instance.iterdir():
        if path.is_file():
            assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, (path.name, oct(path.stat().st_mode))
