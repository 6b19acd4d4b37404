"""Oversize request bodies answered 413 that the client can read: the unread rest of the body is drained.

The app answers a body over ``MAX_CONTENT_LENGTH`` with 413 without reading it. A client still sending it
(a browser, ``requests``, ``http.client``) would then hit a closed connection and report a broken pipe instead of
the 413. This WSGI middleware reads and discards the rest of such a body after the app has answered, up to
``DRAIN_MAX_BYTES`` and ``DRAIN_SECONDS``; bigger or slower bodies are cut off as before.
"""

from __future__ import annotations

import time

DRAIN_MAX_BYTES = 64 * 1024 * 1024
DRAIN_SECONDS = 30.0
_CHUNK = 256 * 1024


class DrainOversizeBody:
    """WSGI middleware around ``app`` for bodies over ``limit`` bytes (the app's MAX_CONTENT_LENGTH)."""

    def __init__(self, app, limit: int | None):
        self.app, self.limit = app, limit

    def __call__(self, environ, start_response):
        length = _content_length(environ)
        if not self.limit or length <= self.limit or length > DRAIN_MAX_BYTES:
            return self.app(environ, start_response)
        result = self.app(environ, start_response)
        _drain(environ["wsgi.input"], length)
        return result


def _content_length(environ) -> int:
    try:
        return max(0, int(environ.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0


def _drain(stream, length: int) -> None:
    """Read and drop what is left of the body (at most ``length`` bytes, for at most DRAIN_SECONDS)."""
    deadline, left = time.monotonic() + DRAIN_SECONDS, length
    while left > 0 and time.monotonic() < deadline:
        chunk = stream.read(min(_CHUNK, left))
        if not chunk:
            return
        left -= len(chunk)
