"""Blueprint "api" at /api/v1: JSON in, JSON out, JSON errors. It stores nothing and reads nothing stored."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, current_app, g, request
from werkzeug.exceptions import BadRequest, HTTPException

from webapp import fields
from webapp.engine.io import jsontext
from webapp.engine.io.inputs import unknown_key_warnings
from webapp.web import services
from webapp.web.errors import error_response
from webapp.web.extensions import limiter

bp = Blueprint("api", __name__, url_prefix="/api/v1")
limiter.limit(lambda: current_app.config["API_RATE_LIMIT"])(bp)  # one limit per client address for every call


@bp.errorhandler(HTTPException)
def _json_error(exc: HTTPException):
    """Every API error as a JSON body."""
    return error_response(exc.code or 500, exc.description)


@bp.post("/assess")
def assess():
    """Assess one firm: ``{"profile": {...}, "rules"?, "as_of"?, "mode"?}`` -> the result contract, plus
    ``warnings``: one line per profile key that is not a registry field (ignored, as the CLI does)."""
    profile, options = _read_request()
    outcome = services.assess_profile(profile, **options)
    if outcome.result is None:
        return _invalid(outcome)
    return {**outcome.result, "warnings": unknown_key_warnings(profile)}


@bp.post("/whatif")
def what_if():
    """The what-if panel: a profile plus ``changes`` -> new tier, scores and readiness (compact)."""
    profile, options = _read_request()
    changes = _body().get("changes") or {}
    if not isinstance(changes, dict) or set(changes) - set(services.WHAT_IF_FIELDS):
        return error_response(400, f"changes may only set {', '.join(services.WHAT_IF_FIELDS)}")
    outcome = services.assess_profile({**profile, **changes}, **options)
    if outcome.result is None:
        return _invalid(outcome)
    return services.summarise(outcome.result)


@bp.get("/fields")
def field_list():
    """The field registry: names, kinds, units, labels, bounds and choices; ``quick`` marks the quick check's
    fields (derived from the rule tables)."""
    keys = ("name", "kind", "group", "unit_zh", "unit_en", "label_zh", "label_en", "lo", "hi", "integer",
            "choices", "self_declared")
    quick = services.get_services().quick_fields
    return {"fields": [{**{k: getattr(spec, k) for k in keys}, "quick": spec.name in quick}
                       for spec in fields.REGISTRY]}


def _body():
    """The request's JSON document, read once with the profile limits (400 naming the problem)."""
    if "api_body" not in g:
        if not request.is_json:
            raise _bad("send one JSON object (Content-Type: application/json)")
        try:
            g.api_body = jsontext.loads(request.get_data(cache=True))
        except jsontext.JSONInputError as exc:
            raise _bad(str(exc)) from None
    return g.api_body


def _read_request() -> tuple[dict, dict]:
    """The profile and options of a JSON request body (400 when it is not one JSON object)."""
    doc = _body()
    if not isinstance(doc, dict) or not isinstance(doc.get("profile", {}), dict):
        raise _bad("send one JSON object: {\"profile\": {canonical field: value, ...}}")
    rules, mode = doc.get("rules") or None, doc.get("mode") or "new"
    choices = services.get_services().rule_choices
    if rules not in (None, *choices) or mode not in services.MODES:
        raise _bad(f"rules must be one of {choices}, mode one of {services.MODES}")
    try:
        as_of = dt.date.fromisoformat(doc["as_of"]) if doc.get("as_of") else None
    except (TypeError, ValueError):
        raise _bad("as_of must be a date like 2026-05-31") from None
    return doc.get("profile", {}), {"rules": rules, "as_of": as_of, "mode": mode}


def _bad(message: str) -> HTTPException:
    return BadRequest(description=message)


def _invalid(outcome: services.Outcome):
    """400 with the engine's input errors as records (field, rule, value, message_zh, message_en)."""
    records = outcome.errors.drop(columns=["index", "row"]).to_dict(orient="records")
    return error_response(400, "invalid input", errors=records)
