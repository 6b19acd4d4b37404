"""Blueprint "api" at /api/v1: JSON in, JSON out, JSON errors; public and rate-limited per client address.

Requests are parsed and answers shaped by the schemas of :mod:`webapp.web.api_schemas` (flask-smorest), which
are also the OpenAPI document (:mod:`webapp.web.openapi`). These calls store nothing and read nothing stored.
"""

from __future__ import annotations

from flask import current_app

from webapp import fields
from webapp.engine.io.inputs import unknown_key_warnings
from webapp.web import api_schemas as s
from webapp.web import services
from webapp.web.api_errors import ApiBlueprint, ApiError, document_errors, json_errors, record
from webapp.web.extensions import limiter

bp = ApiBlueprint("api", __name__, url_prefix="/api/v1",
               description="Assess one firm, try what-if changes, list the fields. Public, no token; "
                           "rate-limited per client address.")
limiter.limit(lambda: current_app.config["API_RATE_LIMIT"])(bp)  # one limit per client address for every call
json_errors(bp)
# Request schemas as instances: given a class, webargs makes a schema per request, and with it the profile's
# schema of every registry field (about half a millisecond a request); a schema keeps no state between loads.
ASSESS_REQUEST, ASSESS_QUERY, WHAT_IF_REQUEST = s.AssessRequest(), s.AssessQuery(), s.WhatIfRequest()


def _options(body: dict) -> dict:
    """Keyword options of an assessment from a parsed body (rules checked against the installation's tables)."""
    choices = services.get_services().rule_choices
    if body["rules"] not in (None, "", *choices):
        raise ApiError(400, "invalid request", [record("rules", "choice", body["rules"], ", ".join(choices))])
    return {"rules": body["rules"] or None, "as_of": body["as_of"], "mode": body["mode"]}


@bp.route("/assess", methods=["POST"])
@bp.arguments(ASSESS_REQUEST, example={"profile": {"revenue": 8000, "rd_expense": 600}, "as_of": "2026-05-01"})
@bp.arguments(ASSESS_QUERY, location="query", as_kwargs=True)
@bp.response(200, s.AssessResult)
@document_errors(bp, 400, 429)
def assess(body: dict, include: list[str] | None = None):
    """Assess one firm

    `{"profile": {...}, "rules"?, "as_of"?, "mode"?}` -> where the firm stands: `tier`, `likely_tier`,
    `next_tier`, `to_confirm` and each tier's verdict criterion by criterion, with benchmarks, dimensions,
    readiness and advice, plus `warnings` (one line per profile key that is not a field: ignored, as the
    command line does). `include=tiers,readiness` leaves out the other parts.
    """
    parts = s.INCLUDES if include is None else tuple(include)
    outcome = services.assess_profile(body["profile"], **_options(body), parts=parts)
    if outcome.result is None:
        raise _invalid(outcome)
    result = {**outcome.result, "warnings": unknown_key_warnings(body["profile"])}
    return {k: v for k, v in result.items() if k not in s.INCLUDES or k in parts
            or (k == "cohorts" and "benchmarks" in parts)}


@bp.route("/whatif", methods=["POST"])
@bp.arguments(WHAT_IF_REQUEST)
@bp.response(200, s.WhatIfResult)
@document_errors(bp, 400, 429)
def what_if(body: dict):
    """What-if: a profile with changed figures

    The what-if panel: a profile plus `changes` (only R&D, revenue and class I IP figures) -> the new tier,
    each tier's status and scores, and readiness (compact).
    """
    outcome = services.assess_profile({**body["profile"], **(body.get("changes") or {})}, **_options(body))
    if outcome.result is None:
        raise _invalid(outcome)
    return services.summarise(outcome.result)


@bp.route("/fields", methods=["GET"])
@bp.response(200, s.FieldList)
@document_errors(bp, 429)
def field_list():
    """The field registry

    Names, kinds, units, labels, bounds and choices of every profile field; `quick` marks the quick check's.
    """
    keys = ("name", "kind", "group", "unit_zh", "unit_en", "label_zh", "label_en", "lo", "hi", "integer",
            "choices", "self_declared")
    quick = services.get_services().quick_fields  # derived from the rule tables
    return {"fields": [{**{k: getattr(spec, k) for k in keys}, "quick": spec.name in quick}
                       for spec in fields.REGISTRY]}


def _invalid(outcome: services.Outcome) -> ApiError:
    """400 with the engine's input errors as records (field, rule, value, message_zh, message_en)."""
    records = outcome.errors.drop(columns=["index", "row"]).to_dict(orient="records")
    return ApiError(400, "invalid input", records)
