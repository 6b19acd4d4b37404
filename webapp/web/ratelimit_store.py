"""Rate-limit counters in one SQLite file of the instance folder, shared by every worker process of a machine.

With in-memory counters each gunicorn worker would count on its own, so N workers would allow N times each
limit (log-in attempts per address and per account, API calls, PDFs). ``giantstep+sqlite:///<file>`` is a
storage for the ``limits`` library (fixed windows, the Flask-Limiter default) kept in
``<instance>/ratelimits.sqlite`` (WAL, mode 0600) unless ``RATELIMIT_STORAGE_URI`` names another store
(``redis://…`` for several machines, ``memory://`` for one process).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

from flask import Flask
from limits.storage import Storage

from webapp.web.instance import ensure_folder

SCHEME = "giantstep+sqlite"
FILE = "ratelimits.sqlite"
BUSY_TIMEOUT_S = 5.0
PURGE_EVERY = 1000  # increments between two deletions of ended windows (one row per address or account)


class SQLiteStorage(Storage):
    """Fixed-window counters: one row per key with its count and the end of its window."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions, **options)
        self.path = Path((uri or "").split("://", 1)[1] or FILE)
        self._local = threading.local()
        self._increments = 0
        with self._connection() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, count INTEGER NOT NULL, "
                         "expires REAL NOT NULL)")

    @property
    def base_exceptions(self):
        return sqlite3.Error

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection (a new one after a fork), in WAL mode, autocommit outside BEGIN."""
        conn = getattr(self._local, "conn", None)
        if conn is None or self._local.pid != os.getpid():
            if not self.path.exists():
                self.path.touch(mode=0o600)
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add ``amount`` to the key's count, starting a window of ``expiry`` seconds when none is running."""
        conn, now = self._connection(), time.time()
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute("SELECT count, expires FROM counters WHERE key = ?", (key,)).fetchone()
            count, expires = (amount, now + expiry) if row is None or row[1] <= now else (row[0] + amount, row[1])
            conn.execute("INSERT OR REPLACE INTO counters (key, count, expires) VALUES (?, ?, ?)",
                         (key, count, expires))
            self._increments += 1
            if self._increments % PURGE_EVERY == 0:
                conn.execute("DELETE FROM counters WHERE expires <= ?", (now,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return count

    def get(self, key: str) -> int:
        row = self._connection().execute("SELECT count FROM counters WHERE key = ? AND expires > ?",
                                          (key, time.time())).fetchone()
        return row[0] if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._connection().execute("SELECT expires FROM counters WHERE key = ?", (key,)).fetchone()
        return row[0] if row else time.time()

    def check(self) -> bool:
        try:
            self._connection().execute("SELECT 1").fetchone()
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int | None:
        return self._connection().execute("DELETE FROM counters").rowcount

    def clear(self, key: str) -> None:
        self._connection().execute("DELETE FROM counters WHERE key = ?", (key,))


def init_app(app: Flask) -> None:
    """Default ``RATELIMIT_STORAGE_URI`` to the instance folder's counters file (before the limiter binds)."""
    if not app.config.get("RATELIMIT_STORAGE_URI"):
        folder = ensure_folder(Path(app.instance_path))
        app.config["RATELIMIT_STORAGE_URI"] = f"{SCHEME}://{folder / FILE}"
