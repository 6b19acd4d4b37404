"""JSON answers written by orjson: the same JSON as Flask's provider, in a tenth of the time.

An assessment's answer (about 100 KB) took Flask's provider (the standard library's encoder, keys sorted,
non-ASCII escaped) about 1.5 ms; orjson writes it in about 0.1 ms. The JSON is the same once read: keys
sorted alike (orjson sorts by UTF-8 bytes, which is code-point order), the same numbers (both write the
shortest text that reads back as the same float), text as UTF-8 instead of ``\\uXXXX`` escapes. Dates and
dataclasses go through Flask's conversion (``http_date``, ``asdict``) as before. What orjson refuses (an
integer beyond 64 bits, a key that is not text, a lone surrogate, nesting deeper than 254) is written by
Flask's provider, as is every answer in debug mode (indented). Only answers change: ``app.json.dumps``
(the templates' ``tojson``) stays the standard library's. One difference remains, in the standard library's
disfavour: a NaN or infinite float, which the engine never puts in an answer (``_json_value`` makes them
null or "inf"), is written ``null`` instead of the invalid ``NaN``.
"""

from __future__ import annotations

import orjson
from flask import Response
from flask.json.provider import DefaultJSONProvider

_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


class FastJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider whose :meth:`response` writes compact answers with orjson."""

    def response(self, *args, **kwargs) -> Response:
        """A JSON response of the arguments (as :meth:`flask.json.provider.DefaultJSONProvider.response`)."""
        if (self.compact is None and self._app.debug) or self.compact is False or not self.sort_keys:
            return super().response(*args, **kwargs)
        obj = self._prepare_response_obj(args, kwargs)
        try:
            body = orjson.dumps(obj, default=self.default, option=_OPTIONS)
        except orjson.JSONEncodeError:  # what orjson does not write (see the module docstring)
            return super().response(*args, **kwargs)
        return self._app.response_class(body + b"\n", mimetype=self.mimetype)
