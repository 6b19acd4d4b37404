"""``giantstep serve``: the app built once (rule book, cohorts, model, migrated database), then served by
gunicorn worker processes (two single-threaded ones per core by default, forked after everything is loaded) or
by waitress threads.

Both stop gracefully on SIGTERM or Ctrl+C: requests in flight are finished, new connections are refused.
"""

from __future__ import annotations

import os
import signal
import sys

import sqlalchemy as sa
from flask import Flask

from webapp.web import create_app, jobqueue
from webapp.web.db import db, upgrade_database
from webapp.web.instance import InstanceError

SERVERS = ("gunicorn", "waitress")
GRACEFUL_TIMEOUT_S = 30


# gunicorn's defaults: two single-threaded worker processes per core. Threads in one process share one
# interpreter lock, so a request that computes (an assessment: tens of ms of CPU) stalls the others in its
# process; measured with benchmarks.load on 2 idle cores, 50 users: 4 threads per worker 51 requests/s, p50
# 85 ms, p95 1.7 s; 1 thread per worker 78-80 requests/s, p50 12-16 ms, p95 0.58 s. Two processes per core
# rather than one keep a core busy while a worker waits on the database or a slow client.
WORKERS_PER_CORE = 2
GUNICORN_THREADS = 1


def cores() -> int:
    """The cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def default_workers() -> int:
    """gunicorn worker processes by default: :data:`WORKERS_PER_CORE` per core."""
    return WORKERS_PER_CORE * cores()


def build_app(instance_path: str | None = None) -> Flask:
    """Create the app (secret key, database file, every engine part loaded) and migrate its database.

    Raises
    ------
    webapp.engine.defaults.StartupError
        One line naming the file that cannot be loaded or written (InstanceError for the instance folder and
        the database).
    """
    app = create_app(instance_path=instance_path)
    try:
        upgrade_database(app)
    except sa.exc.OperationalError as exc:
        raise InstanceError(f"{_database_name(app)}: cannot create or update the database "
                            f"({' '.join(str(exc.orig).split())})") from None
    with app.app_context():
        db.engine.dispose()  # no connection crosses the fork into the workers
    return app


def serve(host: str = "127.0.0.1", port: int = 5000, *, server: str = "gunicorn", workers: int | None = None,
          threads: int | None = None, instance_path: str | None = None) -> None:
    """Build the app, then serve it until SIGTERM or Ctrl+C with ``server`` (gunicorn or waitress)."""
    if server not in SERVERS:
        raise ValueError(f"server must be one of {SERVERS}")
    if server == "gunicorn" and os.name != "posix":
        server = "waitress"  # gunicorn runs on POSIX systems only
    app = build_app(instance_path)
    workers = workers or default_workers()
    where = f"{workers} worker process(es) x {threads or GUNICORN_THREADS} thread(s)" if server == "gunicorn" else \
        f"waitress, {threads or 8} threads"
    print(f"GiantStep: http://{host}:{port}/  ({where}; instance folder: {app.instance_path}; "
          "Ctrl+C or SIGTERM to stop)", file=sys.stderr, flush=True)
    consumer = jobqueue.spawn_consumer(app)  # batch jobs: the embedded queue's consumer, a process of its own
    try:
        if server == "waitress":
            _serve_waitress(app, host, port, threads or 8)
        else:
            _serve_gunicorn(app, host, port, workers, threads or GUNICORN_THREADS)
    finally:
        jobqueue.stop_spawned(consumer)


def _serve_gunicorn(app: Flask, host: str, port: int, workers: int, threads: int) -> None:
    """Fork ``workers`` gunicorn processes (threaded) from this process, where the app is already loaded."""
    from gunicorn.app.base import BaseApplication

    def post_fork(_server, _worker) -> None:
        with app.app_context():
            db.engine.dispose(close=False)  # a fresh connection pool in each worker

    options = {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}", "workers": workers,
        "worker_class": "gthread", "threads": threads, "preload_app": True,
        "graceful_timeout": GRACEFUL_TIMEOUT_S, "timeout": 120, "keepalive": 5, "post_fork": post_fork,
        "control_socket_disable": True, "accesslog": None, "errorlog": "-", "loglevel": "warning",
        "proc_name": "giantstep",
    }

    class GiantStepServer(BaseApplication):
        """gunicorn with the app object built above (no import string, no config file read)."""

        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Flask:
            return app

    GiantStepServer(prog="giantstep serve").run()


def _serve_waitress(app: Flask, host: str, port: int, threads: int) -> None:
    """One waitress process with ``threads`` threads; SIGTERM closes it after the requests in flight."""
    import waitress

    server = waitress.create_server(app, host=host, port=port, threads=threads, ident="GiantStep")

    def stop(_signum, _frame) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()  # waits (a few seconds at most) for the worker threads to finish their requests
        signal.signal(signal.SIGTERM, previous)


def _database_name(app: Flask) -> str:
    """The database as named in messages: the SQLite file, or the URL without its password."""
    url = sa.engine.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    return url.database if url.get_backend_name() == "sqlite" and url.database else url.render_as_string()
