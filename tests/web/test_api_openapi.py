"""The OpenAPI document (generated from the request and response schemas, the profile from the field
registry), its docs page within the CSP, include= on /assess, and the spec's JSON errors."""

from __future__ import annotations

import pytest

from tests.factories import make_profile
from webapp import fields


@pytest.fixture
def document(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


def test_document_lists_the_operations(document):
    assert document["openapi"].startswith("3.")
    assert {"/api/v1/assess", "/api/v1/whatif", "/api/v1/fields"} <= set(document["paths"])
    error = document["paths"]["/api/v1/assess"]["post"]["responses"]["400"]["content"]["application/json"]
    assert error["schema"] == {"$ref": "#/components/schemas/Error"}


def test_profile_schema_is_the_field_registry(document, app):
    """Every registry field with its type, bounds and choices; nothing else."""
    profile = document["components"]["schemas"]["Profile"]["properties"]
    assert list(profile) == [spec.name for spec in fields.REGISTRY]
    for spec in fields.REGISTRY:
        prop = profile[spec.name]
        assert prop["nullable"] is True
        if spec.kind in fields.NUMERIC_KINDS:
            assert prop["type"] == ("integer" if spec.integer else "number")
            assert (prop["minimum"], prop["maximum"]) == (spec.lo, spec.hi)
        elif spec.kind == "enum":
            assert prop["enum"] == [*spec.choices, None]
        else:
            assert prop["type"] == {"bool": "boolean", "text": "string"}[spec.kind]
    rules = document["components"]["schemas"]["AssessRequest"]["properties"]["rules"]
    with app.app_context():
        assert rules["enum"] == [*app.extensions["giantstep"].rule_choices, None]


def test_docs_page_is_own_files_only(client, document):
    """The docs page lists every operation and schema, loads nothing from elsewhere, and runs no script."""
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    page = response.text
    for path in document["paths"]:
        assert path in page
    assert 'id="schema-Profile"' in page and "revenue" in page
    assert "<script" not in page and "http://" not in page.replace("http://localhost", "")
    assert "https://" not in page and "default-src 'self'" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize(("include", "present", "absent"), [
    ("tiers,readiness", {"tiers", "readiness"}, {"advice", "benchmarks", "cohorts", "dimensions", "derived"}),
    ("benchmarks", {"benchmarks", "cohorts"}, {"tiers", "advice", "readiness"}),
    ("", set(), {"tiers", "advice", "readiness", "benchmarks"}),
])
def test_include_leaves_out_the_rest(client, include, present, absent):
    """include= keeps the core and the parts asked for; the parts kept equal the full answer's."""
    full = client.post("/api/v1/assess", json={"profile": make_profile(), "as_of": "2026-05-01"}).get_json()
    response = client.post(f"/api/v1/assess?include={include}",
                           json={"profile": make_profile(), "as_of": "2026-05-01"})
    assert response.status_code == 200
    body = response.get_json()
    core = {"rules", "tier", "likely_tier", "next_tier", "to_confirm", "as_of", "warnings"}
    assert core | present <= set(body) and not absent & set(body)
    for key in core | present:
        assert body[key] == full[key], key
    assert len(response.data) < len(client.post("/api/v1/assess", json={"profile": make_profile()}).data) / 2


def test_unknown_include_values_are_named(client):
    response = client.post("/api/v1/assess?include=tiers,advise,bench", json={"profile": make_profile()})
    assert response.status_code == 400
    [error] = response.get_json()["error"]["errors"]
    assert error["field"] == "include" and error["rule"] == "include" and error["value"] == "tiers,advise,bench"
    assert "advise, bench" in error["message_en"] and "advise, bench" in error["message_zh"]


def test_full_answer_loses_nothing_in_the_schema(client, app):
    """Shaping the answer through the response schema keeps every key the engine returns."""
    from webapp.web import services

    with app.test_request_context():
        raw = services.assess_profile(make_profile()).result
    body = client.post("/api/v1/assess", json={"profile": make_profile()}).get_json()
    assert set(body) == set(raw) | {"warnings"}
    assert body["tiers"] == raw["tiers"] and body["advice"]["actions"] == raw["advice"]["actions"]


@pytest.mark.parametrize(("body", "field", "rule"), [
    ('{"profile": {}, "mode": "renew"}', "mode", "choice"),
    ('{"profile": {}, "rules": "SME-2099"}', "rules", "choice"),
    ('{"profile": {}, "as_of": "31/05/2026"}', "as_of", "date"),
    ('{"profile": "revenue=1"}', "profile", "type"),
    ('[1, 2]', "body", "type"),
    ('{"profile": ', "body", "json"),
])
def test_request_errors_in_the_spec_shape(client, body, field, rule):
    """Every request error: 400, status/title/message and records naming the field, rule and value in zh/en."""
    response = client.post("/api/v1/assess", data=body, content_type="application/json")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["status"] == 400 and error["title"] and error["message"]
    [record] = error["errors"]
    assert (record["field"], record["rule"]) == (field, rule)
    assert record["message_zh"] and record["message_en"] and set(record) == {"field", "rule", "value",
                                                                             "message_zh", "message_en"}


def test_a_tiny_denominator_is_no_server_error(client):
    """Found by the contract run: a valid but tiny prior-year revenue made the quotient overflow (500 under
    warnings-as-errors); it is an unbounded growth rate instead."""
    response = client.post("/api/v1/assess?include=tiers",
                           json={"profile": {"revenue_prev": 1.7e-301, "main_revenue": 29051719.3}})
    assert response.status_code == 200
