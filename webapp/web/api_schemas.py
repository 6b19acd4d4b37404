"""Marshmallow schemas of the HTTP API: they parse and check requests, shape responses and, through
flask-smorest and apispec, are the OpenAPI document at ``/api/v1/openapi.json``. One description, three uses.

The profile's schema is generated from the field registry (``webapp.fields``): names, types, bounds, choices
and labels. Its values are not checked here but by the engine's validator, the one validation path of the CLI,
the form and batch files, which also accepts numbers written as text ("8,000") and names the field and the
rule of every problem. The other request keys are checked here; their errors carry a rule code (the message
strings below) that :mod:`webapp.web.api_errors` turns into the spec's zh/en error records.

Response schemas declare the documented keys with their types; a key the engine adds later passes through
unchanged (``additionalProperties``), so the document never silently drops a part of a result.
"""

from __future__ import annotations

import marshmallow as ma
from flask_smorest.fields import Upload
from marshmallow import fields as mf
from webargs.fields import DelimitedList

from webapp import fields as registry
from webapp.web.api_dump import dump_is_identity
from webapp.web.services import MODES, WHAT_IF_FIELDS

STATUSES = ("met", "not_met", "unknown")
JOB_STATUSES = ("queued", "running", "done", "failed", "cancelled")
# Parts of an /assess answer a caller may ask for with include=; the rest (rules, tier, likely_tier,
# next_tier, to_confirm, as_of, mode, firm_name, rule_versions, warnings) is always there.
INCLUDES = ("tiers", "derived", "benchmarks", "dimensions", "readiness", "advice")

# Rule codes used as marshmallow error messages (see api_errors.RULES for their zh/en wording).
_FIELD_ERRORS = {"required": "required", "null": "null", "invalid": "type", "validator_failed": "invalid"}


# ------------------------------------------------------------------------------------------ requests


class RequestSchema(ma.Schema):
    """A request part: unknown keys are refused, every error message is a rule code."""

    error_messages = {"unknown": "unknown", "type": "type"}

    class Meta:
        unknown = ma.RAISE


class RegistryValue(mf.Raw):
    """One profile field, documented from the registry; its value is left to the engine's validator."""

    def __init__(self, spec: registry.FieldSpec, **kwargs):
        super().__init__(allow_none=True, metadata=_field_doc(spec), **kwargs)


def _field_doc(spec: registry.FieldSpec) -> dict:
    """OpenAPI properties of a registry field: type, bounds, choices, labels and unit."""
    unit = f" [{spec.unit_en}]" if spec.unit_en else ""
    doc = {"description": f"{spec.label_en}{unit} / {spec.label_zh}"
                          + (" (self-declared)" if spec.self_declared else ""), "nullable": True}
    if spec.kind == "bool":
        doc["type"] = "boolean"
    elif spec.kind == "enum":
        doc.update(type="string", enum=[*spec.choices, None])
    elif spec.kind == "text":
        doc.update(type="string", maxLength=100)
    else:
        doc["type"] = "integer" if spec.integer else "number"
        if spec.lo is not None:
            doc["minimum"] = spec.lo
        if spec.hi is not None:
            doc["maximum"] = spec.hi
    return doc


class _ProfileBase(RequestSchema):
    @ma.post_load(pass_original=True)
    def _in_the_order_sent(self, data, original, **kwargs):
        """Keys in the order the client sent them (warnings name unknown keys in that order)."""
        return {key: data[key] for key in original if key in data} if isinstance(original, dict) else data


def _profile_schema(name: str, specs, *, unknown: str) -> type[ma.Schema]:
    """A schema class with one RegistryValue per field spec."""
    meta = type("Meta", (), {"unknown": unknown})
    attrs = {spec.name: RegistryValue(spec) for spec in specs}
    return type(name, (_ProfileBase,), {**attrs, "Meta": meta, "__doc__": (
        "A firm's profile: canonical fields of the registry (GET /api/v1/fields). Money in 万元 (10k CNY), "
        "_pct fields 0-100; null or absent is unknown, never zero. Numbers may also be sent as text "
        "(\"8,000\"). Keys that are not fields are ignored and named in the answer's warnings.")})


Profile = _profile_schema("Profile", registry.REGISTRY, unknown=ma.INCLUDE)
Changes = _profile_schema("Changes", [registry.FIELDS[name] for name in WHAT_IF_FIELDS], unknown=ma.RAISE)
Changes.__doc__ = "What-if changes: new values for some of " + ", ".join(WHAT_IF_FIELDS) + "."


class AssessRequest(RequestSchema):
    """The body of /assess: a profile and the options of the assessment."""

    class Meta:
        unknown = ma.EXCLUDE

    profile = mf.Nested(Profile, load_default=dict, error_messages=_FIELD_ERRORS)
    rules = mf.String(allow_none=True, load_default=None, error_messages=_FIELD_ERRORS, metadata={
        "description": "SME rule set id (SME-2022, SME-2026 or another SME table of the installation); "
                       "null: the one in force on as_of", "example": "SME-2026"})
    as_of = mf.Date(allow_none=True, load_default=None, error_messages={**_FIELD_ERRORS, "invalid": "date"},
                    metadata={"description": "Assessment date (default today)"})
    mode = mf.String(load_default="new", validate=ma.validate.OneOf(MODES, error="choice"),
                     error_messages=_FIELD_ERRORS,
                     metadata={"description": "new application or re-review (复核) of a title already held"})


class WhatIfRequest(AssessRequest):
    """The body of /whatif: an /assess body plus ``changes``."""

    changes = mf.Nested(Changes, load_default=dict, allow_none=True, error_messages=_FIELD_ERRORS)


def _check_include(values: list[str]) -> None:
    if set(values) - set(INCLUDES):
        raise ma.ValidationError("include")


class AssessQuery(RequestSchema):
    """Query parameters of /assess."""

    class Meta:
        unknown = ma.EXCLUDE

    include = DelimitedList(mf.String(metadata={"enum": list(INCLUDES)}), validate=_check_include,
                            error_messages=_FIELD_ERRORS, metadata={
                                "description": "Comma-separated parts of the answer to send besides the core "
                                               "(tier, likely_tier, next_tier, to_confirm, rules...): "
                                               + ", ".join(INCLUDES) + ". Absent: all of them.",
                                "example": "tiers,readiness"})


class BatchUpload(RequestSchema):
    """A batch job (multipart form): the table and the options of ``giantstep batch``."""

    class Meta:
        unknown = ma.EXCLUDE

    file = Upload(required=True, error_messages=_FIELD_ERRORS,
                  metadata={"description": "CSV, XLSX or Parquet; canonical, zh or en headers (as the template)"})
    rules = mf.String(error_messages=_FIELD_ERRORS, metadata={"description": "SME rule set id; empty: by as_of"})
    as_of = mf.String(error_messages=_FIELD_ERRORS, metadata={"description": "Assessment date YYYY-MM-DD"})
    mode = mf.String(error_messages=_FIELD_ERRORS, metadata={
        "description": "new or review: the mode of rows without a mode column"})
    lang = mf.String(error_messages=_FIELD_ERRORS, metadata={
        "description": "zh or en: language of the errors column, the reports and the job's error"})
    cohorts = mf.String(error_messages=_FIELD_ERRORS, metadata={
        "description": "Comma-separated cohort ids: adds pct_<cohort>_<metric> percentile columns"})


# ----------------------------------------------------------------------------------------- responses


class Open(ma.Schema):
    """A response part: documented keys typed; keys not declared here are kept as they are."""

    class Meta:
        unknown = ma.INCLUDE

    def dump(self, obj, *, many: bool | None = None):
        """The dump of ``obj``; ``obj`` itself (a shallow copy) when the dump would not change it (see
        :mod:`webapp.web.api_dump`)."""
        if not (self.many if many is None else many) and \
                dump_is_identity(self, obj, allowed_hooks=frozenset({"_keep_the_rest"})):
            return dict(obj)
        return super().dump(obj, many=many)

    @ma.post_dump(pass_original=True)
    def _keep_the_rest(self, data, original, **kwargs):
        if isinstance(original, dict):
            for key, value in original.items():
                if key not in self.fields and key not in data:
                    data[key] = value
        return data


def _number(**meta):
    return mf.Raw(allow_none=True, metadata={"type": "number", "nullable": True, **meta})


class ErrorItem(ma.Schema):
    """One problem: the field, the rule it broke, the value given and the message in both languages."""

    field = mf.String()
    rule = mf.String()
    value = mf.Raw(allow_none=True)
    message_zh = mf.String()
    message_en = mf.String()


class ErrorBody(ma.Schema):
    status = mf.Integer(required=True)
    title = mf.String(required=True)
    message = mf.String()
    errors = mf.List(mf.Nested(ErrorItem))


class Error(ma.Schema):
    """Every error of the API: ``{"error": {"status", "title", "message", "errors": [...]}}``."""

    error = mf.Nested(ErrorBody, required=True)


class Criterion(Open):
    """A criterion's verdict: status, points, value, deciding route, prerequisite via, gap."""

    id = mf.String(required=True)
    status = mf.String(required=True, metadata={"enum": list(STATUSES)})
    kind = mf.String()
    name_zh = mf.String()
    name_en = mf.String()
    self_declared = mf.Boolean()
    verification = mf.String(allow_none=True)
    value = mf.Raw(allow_none=True)
    points = _number()
    gap = mf.Dict(allow_none=True)


class Tier(Open):
    """A tier's status and score range, with its criteria (absent in the what-if summary)."""

    status = mf.String(required=True, metadata={"enum": list(STATUSES)})
    score_min = _number()
    score_max = _number()
    name_zh = mf.String()
    name_en = mf.String()
    level = mf.Integer(allow_none=True)
    conditional = mf.Boolean()
    criteria = mf.List(mf.Nested(Criterion))


class ToConfirm(Open):
    id = mf.String(required=True)
    tier = mf.String()
    missing = mf.List(mf.String())
    self_declared = mf.Boolean()
    manual_review = mf.Boolean()


class AssessResult(Open):
    """Where the firm stands (tier, likely and next tier, each tier criterion by criterion); with include= only
    the parts asked for besides the core."""

    rules = mf.Dict(keys=mf.String(), values=mf.String(), required=True)
    rule_versions = mf.Dict(keys=mf.String(), values=mf.String())
    tier = mf.String(required=True, metadata={"description": "highest tier met, or none"})
    likely_tier = mf.String(metadata={"description": "highest tier met or conditional, or none"})
    next_tier = mf.String(allow_none=True)
    to_confirm = mf.List(mf.Nested(ToConfirm))
    as_of = mf.String(required=True)
    mode = mf.String(metadata={"enum": list(MODES)})
    firm_name = mf.String(allow_none=True)
    warnings = mf.List(mf.String(), metadata={"description": "one line per profile key that is not a field"})
    tiers = mf.Dict(keys=mf.String(), values=mf.Nested(Tier))
    derived = mf.Dict(metadata={"description": "computed metrics (R&D ratio, growth...)"})
    benchmarks = mf.Dict(metadata={"description": "percentiles per cohort and metric"})
    cohorts = mf.Dict(metadata={"description": "the cohorts of the benchmarks (sent with benchmarks)"})
    dimensions = mf.Dict(metadata={"description": "scale, quality, influence, globalisation scores per cohort"})
    readiness = mf.Dict(metadata={"description": "probability per tier and its drivers"})
    advice = mf.Dict(metadata={"description": "actions, roadmap, themes"})


class WhatIfResult(Open):
    """The compact answer of /whatif: tier, next tier and each tier's status and scores."""

    tier = mf.String(required=True)
    next_tier = mf.String(allow_none=True)
    rules = mf.Dict(keys=mf.String(), values=mf.String(), required=True)
    as_of = mf.String(required=True)
    tiers = mf.Dict(keys=mf.String(), values=mf.Nested(Tier), required=True)
    readiness = mf.Dict()
    dimensions = mf.Dict()


class FieldInfo(Open):
    """One registry field."""

    name = mf.String(required=True)
    kind = mf.String(required=True, metadata={"enum": list(registry.KINDS)})
    group = mf.String()
    unit_zh = mf.String()
    unit_en = mf.String()
    label_zh = mf.String()
    label_en = mf.String()
    lo = _number()
    hi = _number()
    integer = mf.Boolean()
    choices = mf.List(mf.String())
    quick = mf.Boolean(metadata={"description": "asked by the quick check"})
    self_declared = mf.Boolean()


class FieldList(ma.Schema):
    fields_ = mf.List(mf.Nested(FieldInfo), data_key="fields", attribute="fields", required=True)


class Downloads(Open):
    """Download addresses; null until the job is done."""

    csv = mf.String(allow_none=True)
    xlsx = mf.String(allow_none=True)
    parquet = mf.String(allow_none=True)
    reports = mf.String(allow_none=True)


class Job(Open):
    """A batch job as the spec fixes it (the same JSON as the browser's /batches/<id>.json)."""

    id = mf.String(required=True)
    status = mf.String(required=True, metadata={"enum": list(JOB_STATUSES)})
    rows_total = mf.Integer(allow_none=True, metadata={"description": "null until the file has been read"})
    rows_done = mf.Integer(allow_none=True)
    rows_failed = mf.Integer(allow_none=True, metadata={"description": "rows with input errors"})
    created_at = mf.String(allow_none=True)
    finished_at = mf.String(allow_none=True)
    error = mf.String(allow_none=True, metadata={"description": "why a failed job failed, in the job's language"})
    downloads = mf.Nested(Downloads, required=True)
