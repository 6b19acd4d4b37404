"""Exports of a saved assessment (JSON: profile and result contract; XLSX: see ``workbook``) and downloads."""

from __future__ import annotations

import json
from urllib.parse import quote

from flask import Response

from webapp.web.workbook import workbook

FORMATS = {"json": "application/json",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def attachment(data: bytes, mimetype: str, name: str, *, fallback: str) -> Response:
    """``data`` as a download named ``name``: RFC 6266 ``filename`` (ASCII ``fallback``) and RFC 5987
    ``filename*`` (UTF-8, percent-encoded) so a Chinese client name survives in every browser."""
    response = Response(data, mimetype=mimetype)
    ascii_name = fallback.encode("ascii", "replace").decode("ascii").replace('"', "").replace("\\", "")
    response.headers["Content-Disposition"] = \
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
    response.headers["Content-Length"] = str(len(data))
    return response


def export(record, fmt: str, *, lang: str, **branding) -> tuple[bytes, str]:
    """The bytes and MIME type of ``record`` exported as ``fmt`` (json or xlsx); ``branding``: the consultant's
    name, practice name and logo, on the XLSX summary sheet."""
    if fmt == "json":
        doc = {"id": record.id, "client": record.client.name, "created_at": record.created_at.isoformat(),
               "profile": record.profile, "result": record.result}
        return json.dumps(doc, ensure_ascii=False, indent=2).encode("utf-8"), FORMATS[fmt]
    return workbook(record, lang, **branding), FORMATS[fmt]
