"""The instance folder on a first start and every start: secret key and database file created atomically with mode
0600, a damaged key refused, a read-only or full folder reported in one line.

A problem raises :class:`InstanceError` (a :class:`webapp.engine.defaults.StartupError`), whose message is one
line naming the file and what to do; ``giantstep`` prints it and exits with status 2.
"""

from __future__ import annotations

import errno
import os
import secrets
import string
from pathlib import Path

from webapp.engine.defaults import StartupError

SECRET_FILE = "secret_key"
DATABASE_FILE = "giantstep.sqlite"
MIN_KEY_CHARS = 32  # a generated key is 64 hex digits (32 random bytes); a shorter one was cut or typed by hand
_KEY_CHARS = set(string.printable) - set(string.whitespace)


class InstanceError(StartupError):
    """The instance folder cannot be used: one line naming the file and the fix."""


def ensure_folder(folder: Path) -> Path:
    """Create the instance folder (mode 0700) if needed; :class:`InstanceError` when that fails."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise InstanceError(_os_problem(folder, exc)) from None
    if not folder.is_dir():
        raise InstanceError(f"{folder}: the instance folder is a file, not a folder")
    return folder


def read_or_create_secret_key(folder: Path) -> str:
    """The key in ``<folder>/secret_key``, writing a new random one atomically (mode 0600) when there is none.

    The key is written to a temporary file, flushed to disk and linked into place, so a crash, a full disk or
    a second process starting at the same moment never leaves an empty or half-written key behind.
    """
    path = ensure_folder(folder) / SECRET_FILE
    if not path.exists():
        _write_atomically(path, secrets.token_hex(32).encode())
    try:
        key = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not ASCII text"
        raise InstanceError(f"{path}: cannot read the secret key ({reason})") from None
    if len(key) < MIN_KEY_CHARS or not set(key) <= _KEY_CHARS:
        what = "empty" if not key else "damaged (too short or not printable text)"
        raise InstanceError(f"{path}: the secret key is {what}; restore it from a backup, or delete the file to "
                            "make a new one (everyone will have to log in again)")
    return key


def create_database_file(folder: Path) -> Path:
    """Create the embedded SQLite file empty with mode 0600 (SQLite gives its -wal and -shm files the same
    mode), or narrow an existing one's mode to 0600; return its path."""
    return private_file(ensure_folder(folder) / DATABASE_FILE)


def private_file(path: Path) -> Path:
    """Create ``path`` empty with mode 0600, or narrow an existing file's mode to 0600; return it.

    For SQLite files (the database, the job queue): SQLite gives their -wal and -shm files the same mode.
    """
    try:
        if path.exists():
            if path.stat().st_mode & 0o077:
                path.chmod(0o600)
        else:
            _write_atomically(path, b"")
    except OSError as exc:
        raise InstanceError(_os_problem(path, exc)) from None
    return path


def _write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` (mode 0600) all or nothing; keep a file another process put there first."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)  # fails if the file appeared meanwhile: the first one wins
        except FileExistsError:
            pass
        _fsync_folder(path.parent)
    except OSError as exc:
        raise InstanceError(_os_problem(path, exc)) from None
    finally:
        tmp.unlink(missing_ok=True)


def _fsync_folder(folder: Path) -> None:
    """Flush the folder entry of a new file to disk."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _os_problem(path: Path, exc: OSError) -> str:
    """One line for an operating-system error on ``path``: full disk, read-only folder, no permission, other."""
    if exc.errno == errno.ENOSPC or exc.errno == errno.EDQUOT:
        return f"{path}: the disk is full (no space left); free some space and start again"
    if exc.errno == errno.EROFS:
        return f"{path}: the instance folder is on a read-only file system; set GIANTSTEP_INSTANCE_DIR to a " \
               "writable folder"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"{path}: permission denied; make the instance folder writable or set GIANTSTEP_INSTANCE_DIR"
    return f"{path}: {exc.strerror or exc}"
