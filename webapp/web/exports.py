"""Exports of a saved assessment: JSON (profile and result contract) and XLSX (inputs and checklist)."""

from __future__ import annotations

import io
import json
from urllib.parse import quote

from flask import Response
from openpyxl import Workbook
from openpyxl.styles import Font

from webapp.web import present

FORMATS = {"json": "application/json",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
_HEAD = {
    "zh": (("字段", "名称", "取值"), ("层级", "条款", "名称", "结果", "取值", "得分", "满分", "差距"),
           "输入", "评估结果"),
    "en": (("field", "label", "value"), ("tier", "criterion", "name", "status", "value", "points", "max", "gap"),
           "Inputs", "Checklist"),
}
_STATUS = {"zh": {"met": "符合", "not_met": "不符合", "unknown": "未知"},
           "en": {"met": "met", "not_met": "not met", "unknown": "unknown"}}


def attachment(data: bytes, mimetype: str, name: str, *, fallback: str) -> Response:
    """``data`` as a download named ``name``: RFC 6266 ``filename`` (ASCII ``fallback``) and RFC 5987
    ``filename*`` (UTF-8, percent-encoded) so a Chinese client name survives in every browser."""
    response = Response(data, mimetype=mimetype)
    ascii_name = fallback.encode("ascii", "replace").decode("ascii").replace('"', "").replace("\\", "")
    response.headers["Content-Disposition"] = \
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
    response.headers["Content-Length"] = str(len(data))
    return response


def export(record, fmt: str, *, lang: str) -> tuple[bytes, str]:
    """The bytes and MIME type of ``record`` exported as ``fmt`` (json or xlsx)."""
    if fmt == "json":
        doc = {"id": record.id, "client": record.client.name, "created_at": record.created_at.isoformat(),
               "profile": record.profile, "result": record.result}
        return json.dumps(doc, ensure_ascii=False, indent=2).encode("utf-8"), FORMATS[fmt]
    return _xlsx(record, lang), FORMATS[fmt]


def _xlsx(record, lang: str) -> bytes:
    """Two sheets: the inputs as entered, and every tier's criteria with status, value, points and gap."""
    input_head, check_head, input_title, check_title = _HEAD[lang]
    book = Workbook()
    sheet = book.active
    sheet.title = input_title
    sheet.append(input_head)
    for group in present.profile_rows(record.profile, lang):
        for row in group["rows"]:
            sheet.append((row["name"], row["label"], _cell(record.profile[row["name"]])))
    checks = book.create_sheet(check_title)
    checks.append(check_head)
    view = present.result_view(record.result, lang)
    for tier in view["tiers"]:
        for c in tier["criteria"]:
            gap = "; ".join(_gap_text(g, lang) for g in c["gap"])
            checks.append((tier["name"], c["id"], c["name"], _STATUS[lang][c["status"]], c["value"], c["points"],
                           c["max_points"], gap))
    for ws in (sheet, checks):
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _cell(value):
    """Spreadsheet cells hold numbers as numbers; text that looks like a formula is defused."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


_DIRECTION = {"zh": {"below_min": "还差", "above_max": "超出"},
              "en": {"below_min": "short by", "above_max": "exceeds by"}}


def _gap_text(g: dict, lang: str) -> str:
    parts = [g["label"]]
    if g["value"] or g["target"]:
        parts.append(f"{g['value'] or '?'} {g['target'] or ''}".strip())
    if g["distance"]:
        word = _DIRECTION[lang].get(g.get("direction") or "below_min", _DIRECTION[lang]["below_min"])
        parts.append(f"({word} {g['distance']})")
    return " ".join(parts)
