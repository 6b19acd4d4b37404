"""The password policy of consultant accounts: at least 10 characters, not the account's e-mail address, not a
common password (the list in ``data/security/``, with its source in that folder's README)."""

from __future__ import annotations

import functools
import gzip
from pathlib import Path

from flask_babel import gettext as _

MIN_LENGTH = 10
COMMON_FILE = Path("security") / "common-passwords.txt.gz"


@functools.cache
def common_passwords(data_dir: Path) -> frozenset[str]:
    """The lower-cased common passwords shipped in ``<data>/security/common-passwords.txt.gz``."""
    with gzip.open(data_dir / COMMON_FILE, "rt", encoding="utf-8") as fh:
        return frozenset(line.strip() for line in fh if line.strip())


def problems(password: str, email: str, data_dir: Path) -> list[str]:
    """What is wrong with ``password`` for the account ``email``, in the request's language (empty: acceptable)."""
    found = []
    if len(password) < MIN_LENGTH or not password.strip():
        found.append(_("Use at least %(n)d characters (not only spaces).", n=MIN_LENGTH))
    folded, address = password.strip().casefold(), (email or "").strip().casefold()
    if address and folded in {address, address.partition("@")[0]}:
        found.append(_("The password must not be your e-mail address."))
    elif folded in common_passwords(data_dir) or _one_repeated(folded):
        found.append(_("This password is one of the most common ones; choose another."))
    return found


def _one_repeated(text: str) -> bool:
    """One character or one short group repeated ("aaaaaaaaaa", "abcabcabcabc")."""
    return any(len(text) % size == 0 and text == text[:size] * (len(text) // size) for size in range(1, 4)) \
        if text else False
