"""A safe first start (issue 13): secret key and database created atomically with mode 0600, an empty or
damaged key refused in one line, a full or read-only instance folder reported in one line (exit 2, no
traceback), GIANTSTEP_INSTANCE_DIR honoured, SQLite in WAL mode with a busy timeout."""

from __future__ import annotations

import errno
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from webapp.web import create_app, instance
from webapp.web.db import upgrade_database
from webapp.web.instance import InstanceError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _no_configured_key(monkeypatch):
    monkeypatch.delenv("FLASK_SECRET_KEY", raising=False)
    monkeypatch.delenv("FLASK_SQLALCHEMY_DATABASE_URI", raising=False)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _serve(instance_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "GIANTSTEP_INSTANCE_DIR": str(instance_dir)}
    return subprocess.run([sys.executable, "-m", "webapp.cli", "serve", "--port", "5098", *args],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)


def _one_line(done: subprocess.CompletedProcess) -> str:
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert lines[0].startswith("giantstep cannot start:")
    return lines[0]


def test_first_start_creates_key_and_database_private(tmp_path):
    """Folder 0700, key and SQLite file 0600 (the database's WAL files follow the file's mode)."""
    folder = tmp_path / "instance"
    app = create_app(instance_path=str(folder))
    upgrade_database(app)
    with app.app_context():
        app.extensions["sqlalchemy"].engine.dispose()
    assert _mode(folder) == 0o700
    assert _mode(folder / "secret_key") == 0o600 and len((folder / "secret_key").read_text()) == 64
    database = folder / "giantstep.sqlite"
    assert _mode(database) == 0o600 and database.stat().st_size > 0
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_database_in_wal_mode_with_a_busy_timeout(tmp_path):
    """Every connection of the embedded database: WAL journal and a busy timeout."""
    app = create_app(instance_path=str(tmp_path / "instance"))
    upgrade_database(app)
    with app.app_context():
        engine = app.extensions["sqlalchemy"].engine
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == app.config["SQLITE_BUSY_TIMEOUT_MS"]
        engine.dispose()
    assert sqlite3.connect(tmp_path / "instance" / "giantstep.sqlite").execute("PRAGMA journal_mode").fetchone() \
        == ("wal",)


def test_world_readable_database_is_narrowed(tmp_path):
    """A database file left readable by others (as older versions made it) is set to 0600 on start."""
    folder = tmp_path / "instance"
    folder.mkdir()
    (folder / "giantstep.sqlite").touch(mode=0o644)
    os.chmod(folder / "giantstep.sqlite", 0o644)
    create_app(instance_path=str(folder))
    assert _mode(folder / "giantstep.sqlite") == 0o600


@pytest.mark.parametrize(("content", "says"), [("", "is empty"), ("   \n", "is empty"), ("abc123", "damaged"),
                                                ("x" * 40 + "\x00" * 30, "damaged")])
def test_empty_or_damaged_key_is_refused(tmp_path, content, says):
    """A key file that is empty, cut short or not text is refused, not used (every page was a 500)."""
    folder = tmp_path / "instance"
    folder.mkdir()
    (folder / "secret_key").write_text(content)
    with pytest.raises(InstanceError, match=says) as caught:
        create_app(instance_path=str(folder))
    assert "\n" not in str(caught.value) and "secret_key" in str(caught.value)


def test_serve_refuses_an_empty_key_in_one_line(tmp_path):
    """``giantstep serve`` in GIANTSTEP_INSTANCE_DIR with an empty key: exit 2, one line, no traceback."""
    folder = tmp_path / "instance"
    folder.mkdir()
    (folder / "secret_key").write_text("")
    line = _one_line(_serve(folder))
    assert str(folder / "secret_key") in line and "empty" in line


@pytest.mark.parametrize(("err", "says"), [(errno.ENOSPC, "disk is full"), (errno.EROFS, "read-only"),
                                           (errno.EACCES, "permission denied")])
def test_write_failure_leaves_no_key_behind(tmp_path, monkeypatch, err, says):
    """A full disk or read-only folder while the key is written: one line, and no empty key left behind."""
    folder = tmp_path / "instance"

    def failing_write(fd, data):
        raise OSError(err, os.strerror(err))

    monkeypatch.setattr(instance.os, "write", failing_write)
    with pytest.raises(InstanceError, match=says):
        create_app(instance_path=str(folder))
    assert not (folder / "secret_key").exists() and not list(folder.iterdir())
    monkeypatch.undo()
    assert len(create_app(instance_path=str(folder)).config["SECRET_KEY"]) == 64  # a later start works


def test_instance_dir_from_the_environment(tmp_path, monkeypatch):
    """GIANTSTEP_INSTANCE_DIR places the key, the database and imported files for the app and the CLI alike."""
    folder = tmp_path / "elsewhere"
    monkeypatch.setenv("GIANTSTEP_INSTANCE_DIR", str(folder))
    app = create_app()
    assert Path(app.instance_path) == folder.resolve()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{folder.resolve() / 'giantstep.sqlite'}"
    assert (folder / "secret_key").exists()
    assert app.extensions["giantstep"].paths.instance == folder.resolve()


@pytest.fixture
def small_tmpfs(tmp_path):
    """A 64 KiB tmpfs (needs root and mount; skipped where the sandbox forbids it), unmounted afterwards."""
    mount_point = tmp_path / "tmpfs"
    mount_point.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0755", "tmpfs", str(mount_point)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_full_disk_first_start_is_one_line(small_tmpfs):
    """``giantstep serve`` on a full file system: exit 2, one line saying the disk is full, no empty key."""
    filler = small_tmpfs / "filler"
    with open(filler, "wb", buffering=0) as fh:
        try:
            while True:
                fh.write(b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    line = _one_line(_serve(small_tmpfs / "instance"))
    assert "disk is full" in line
    key = small_tmpfs / "instance" / "secret_key"
    assert not key.exists() or len(key.read_text()) == 64


def test_read_only_first_start_is_one_line(small_tmpfs):
    """``giantstep serve`` with its instance folder on a read-only file system: exit 2, one line."""
    subprocess.run(["mount", "-o", "remount,ro", str(small_tmpfs)], check=True)
    line = _one_line(_serve(small_tmpfs / "instance"))
    assert "read-only" in line and "GIANTSTEP_INSTANCE_DIR" in line


def test_job_queue_file_is_private_too(tmp_path):
    """The embedded job queue (it names each job's owner and files) is 0600 like the database, and so are the
    -wal and -shm files SQLite makes beside it; an older world-readable queue file is narrowed."""
    folder = tmp_path / "instance"
    create_app(instance_path=str(folder))  # the app's queue, as `giantstep serve` makes it
    with sqlite3.connect(folder / "queue.sqlite") as conn:  # what Huey does: WAL files appear beside the file
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("CREATE TABLE IF NOT EXISTS t (x)")
        assert [p.name for p in folder.iterdir() if p.name.startswith("queue.sqlite-")]
        for path in folder.glob("queue.sqlite*"):
            assert _mode(path) == 0o600, path.name
    os.chmod(folder / "queue.sqlite", 0o644)
    create_app(instance_path=str(folder))
    assert _mode(folder / "queue.sqlite") == 0o600
