"""Helpers for tests against a real server on 127.0.0.1: the app served from a thread of the test process, or
`giantstep serve` / `giantstep worker` processes."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

_RESPONSE = "giantstep.tests.response"   # environ key under which the served response is kept


def _keeping_response(app):
    """The WSGI app, keeping each response's iterable in its environ for the handler of :func:`_closing_handler`."""
    def keep(environ, start_response):
        environ[_RESPONSE] = response = app(environ, start_response)
        return response
    return keep


def _closing_handler():
    """werkzeug's request handler, closing the response when the client drops the connection.

    The development server closes a response in a ``finally`` after draining the request; when the client has
    gone (a browser cancelling a favicon it already has), that drain raises first and the response, with the
    static file it holds open, is left to the garbage collector, whose ResourceWarning fails a test at random.
    """
    from werkzeug.serving import WSGIRequestHandler

    class ClosingHandler(WSGIRequestHandler):
        def connection_dropped(self, error, environ=None):
            response = (environ or {}).get(_RESPONSE)
            if response is not None and hasattr(response, "close"):
                response.close()
            super().connection_dropped(error, environ)

    return ClosingHandler


@contextlib.contextmanager
def app_in_thread(instance: Path, config: dict, *, job_consumer: bool = False) -> Iterator[str]:
    """The real app (migrated SQLite in ``instance``, ``config`` on top) served from a thread on 127.0.0.1 and a
    free port, with consumer threads running its batch jobs when ``job_consumer``; yields its base URL."""
    from werkzeug.serving import make_server

    from webapp.web import create_app, jobqueue
    from webapp.web.db import upgrade_database

    app = create_app({"TESTING": False, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'live.sqlite'}",
                      **config}, instance_path=str(instance))
    upgrade_database(app)
    consumer = jobqueue.start_consumer(app, workers=1) if job_consumer else None
    server = make_server("127.0.0.1", 0, _keeping_response(app), threaded=True, request_handler=_closing_handler())
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        jobqueue.stop_consumer(consumer)
        with app.app_context():
            app.extensions["sqlalchemy"].engine.dispose()


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def call(url: str, *, data: bytes | None = None, headers: dict | None = None, timeout: float = 60):
    """(status, headers, body) of one HTTP call; error statuses are answers too."""
    request = urllib.request.Request(url, data=data, headers=headers or {}, method="POST" if data else "GET")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def multipart(name: str, content: bytes) -> tuple[bytes, str]:
    """A multipart body uploading ``content`` as the form's ``file``, and its content type."""
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            f"Content-Type: text/csv\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def wait_until_up(ready: Callable[[], bool], process: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    """Poll ``ready()`` until it is true; fail with the process's log if it exits or the time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if ready():
                return
        except OSError:
            pass
        assert process.poll() is None and time.monotonic() < deadline, Path(log).read_text()
        time.sleep(0.5)


def stop(processes: Iterable[subprocess.Popen | None], timeout: float = 40) -> None:
    """SIGTERM each process and wait for it (SIGKILL after ``timeout`` seconds)."""
    for process in processes:
        if process is None:
            continue
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def follow_job(url: str, headers: dict, timeout: float = 300) -> dict:
    """Poll a batch job's JSON at ``url`` until it is done, failed or cancelled; return it."""
    deadline = time.monotonic() + timeout
    while True:
        status, _, body = call(url, headers=headers)
        job = json.loads(body)
        if job["status"] in ("done", "failed", "cancelled"):
            return job
        assert status == 200 and time.monotonic() < deadline, job
        time.sleep(1)
