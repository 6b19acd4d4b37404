"""Errors of the HTTP API, all in the spec's shape: ``{"error": {"status", "title", "message", "errors":
[{"field", "rule", "value", "message_zh", "message_en"}]}}``.

The request parser (webargs, as flask-smorest uses it) answers 400, not webargs' 422, and turns marshmallow's
messages, which are rule codes in :mod:`webapp.web.api_schemas`, into records naming the field, the rule and
the value sent, in Chinese and English.
"""

from __future__ import annotations

import flask_smorest
from flask import current_app, request
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.datastructures import CombinedMultiDict
from werkzeug.exceptions import HTTPException, InternalServerError

from webapp.engine.io import jsontext
from webapp.web.errors import error_response

# rule code -> (zh, en) templates; {field} is the key's path, {hint} what it accepts.
RULES = {
    "required": ("{field}: 必填", "{field}: required"),
    "null": ("{field}: 不能为 null", "{field}: may not be null"),
    "type": ("{field}: 类型不对，应为{hint_zh}", "{field}: wrong type, expected {hint_en}"),
    "choice": ("{field}: 只能是 {hint_zh} 之一", "{field}: must be one of {hint_en}"),
    "date": ("{field}: 应为日期，如 2026-05-31", "{field}: must be a date like 2026-05-31"),
    "unknown": ("{field}: 不是可用的键{hint_zh}", "{field}: not an accepted key{hint_en}"),
    "include": ("{field}: 未知的部分 {hint_zh}", "{field}: unknown part(s) {hint_en}"),
    "json": ("请求体无法读取为 JSON（Content-Type: application/json）：{hint_en}",
             "the body cannot be read as JSON (Content-Type: application/json): {hint_en}"),
    "invalid": ("{field}: 取值无效", "{field}: invalid value"),
}


class ApiError(HTTPException):
    """An HTTP error with the spec's error records."""

    def __init__(self, status: int, message: str, errors: list[dict] | None = None, headers=None):
        super().__init__(description=message)
        self.code = status
        self.errors = errors or []
        self.extra_headers = headers or {}


def record(field: str, rule: str, value=None, hint: str | tuple[str, str] = "") -> dict:
    """One error record with the zh/en message of ``rule`` (``hint``: what the key accepts, text or zh/en)."""
    zh, en = RULES.get(rule, RULES["invalid"])
    hint_zh, hint_en = (hint, hint) if isinstance(hint, str) else hint
    return {"field": field, "rule": rule, "value": value,
            "message_zh": zh.format(field=field, hint_zh=hint_zh, hint_en=hint_en),
            "message_en": en.format(field=field, hint_zh=hint_zh, hint_en=hint_en)}


def json_response(exc: HTTPException):
    """The JSON error answer of an HTTP error raised in the API (its records and headers kept)."""
    errors = getattr(exc, "errors", None)
    extra = {"errors": errors} if errors else {}
    response, status = error_response(exc.code or 500, exc.description, **extra)
    for key, value in exc.get_headers():
        if key.lower() not in ("content-type", "content-length"):
            response.headers[key] = value
    for key, value in getattr(exc, "extra_headers", {}).items():
        response.headers[key] = value
    return response, status


def _flatten(messages, path=()):
    """(path, code) pairs of marshmallow's nested error messages."""
    if isinstance(messages, dict):
        for key, value in messages.items():
            yield from _flatten(value, (*path, str(key)))
    elif isinstance(messages, list | tuple):
        for item in messages:
            yield from _flatten(item, path)
    else:
        yield path, str(messages)


def _sent_value(location: str, path: tuple[str, ...]):
    """The value the client sent at ``path`` (None when it cannot be found)."""
    if location == "query":
        return request.args.get(path[0]) if path else None
    node = request.get_json(silent=True) if location == "json" else request.form
    for key in path:
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            return None
    return node if node is None or isinstance(node, str | int | float | bool) else None


def _hint(path: tuple[str, ...], rule: str, value) -> str | tuple[str, str]:
    """What the key at ``path`` accepts, for the message."""
    from webapp.web.api_schemas import INCLUDES, MODES, WHAT_IF_FIELDS

    name = path[-1] if path else ""
    if rule == "include":
        unknown = ", ".join(v for v in str(value or "").split(",") if v and v not in INCLUDES)
        return f"{unknown}（可用：{', '.join(INCLUDES)}）", f"{unknown} (known: {', '.join(INCLUDES)})"
    if rule == "choice" and name == "mode":
        return ", ".join(MODES)
    if rule == "unknown" and path[:1] == ("changes",):
        return f"（只能改 {', '.join(WHAT_IF_FIELDS)}）", f" (only {', '.join(WHAT_IF_FIELDS)})"
    if rule == "type":
        return ("JSON 对象", "a JSON object") if name in ("", "profile", "changes") else ("文本", "a string")
    return ""


_LOCATIONS = ("json", "query", "form", "files", "multipart")


def _json_error(reason: str) -> ApiError:
    return ApiError(400, reason, [record("body", "json", None, reason)])


class ApiParser(FlaskParser):
    """webargs' Flask parser answering every problem with a 400 in the spec's shape; location ``multipart``
    reads a form's files and fields together (one request body in the document)."""

    DEFAULT_VALIDATION_STATUS = 400
    __location_map__ = {**FlaskParser.__location_map__, "multipart": "load_multipart"}

    def load_multipart(self, req, schema):
        """The form's files and fields as one mapping."""
        return self._makeproxy(CombinedMultiDict([req.files, req.form]), schema)

    def _raw_load_json(self, req):
        """The JSON body read with the profile limits (depth, integer length) of the CLI and the form."""
        if not is_json_request(req):
            raise _json_error("send one JSON object with Content-Type: application/json")
        try:
            return jsontext.loads(req.get_data(cache=True))
        except jsontext.JSONInputError as exc:
            raise _json_error(str(exc)) from None

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        raise _json_error(str(error))

    def handle_error(self, error, req, schema, *, error_status_code, error_headers):
        records = []
        for path, rule in _flatten(error.normalized_messages()):
            location, keys = (path[0], path[1:]) if path and path[0] in _LOCATIONS else ("json", path)
            keys = keys[:-1] if keys[-1:] == ("_schema",) else keys  # the part itself, not one of its keys
            value = _sent_value(location, keys)
            rule = rule if rule in RULES else "invalid"
            records.append(record(".".join(keys) or "body", rule, value, _hint(keys, rule, value)))
        raise ApiError(400, "invalid request", records)


class ApiBlueprint(flask_smorest.Blueprint):
    """flask-smorest's blueprint with the API's parser (400 and the spec's error records)."""

    ARGUMENTS_PARSER = ApiParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {**flask_smorest.Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
                                             "multipart": "multipart/form-data"}


DESCRIPTIONS = {
    400: "Invalid request: each problem names the field and the rule, in zh and en",
    401: "No API token, or one that is not valid or has been revoked (WWW-Authenticate: Bearer)",
    404: "No such job, or not one of this account's",
    413: "The upload is larger than this installation accepts",
    429: "Too many calls: wait and retry (see the Retry-After and X-RateLimit-* headers)",
}


def document_errors(blueprint: flask_smorest.Blueprint, *statuses: int):
    """Decorator documenting the JSON error answers a call may give."""
    from webapp.web.api_schemas import Error

    def decorate(view):
        for status in statuses:
            view = blueprint.alt_response(status, schema=Error, description=DESCRIPTIONS.get(status, ""))(view)
        return view

    return decorate


def json_errors(blueprint) -> None:
    """Answer every error of the blueprint's calls in JSON; an unexpected exception is logged and answers 500."""

    def handler(exc):
        if not isinstance(exc, HTTPException):
            current_app.logger.exception("unhandled API error")
            exc = InternalServerError()
        return json_response(exc)

    blueprint.register_error_handler(HTTPException, handler)
    blueprint.register_error_handler(Exception, handler)
