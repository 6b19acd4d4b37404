"""Blueprint "api": JSON in, JSON out, JSON errors for 400, 404, 405 and 413."""

from __future__ import annotations

import json
import re

import pytest

from tests.factories import make_profile
from webapp.engine.rules.rulebook import load_rule_book
from webapp.reports.examples import STRONG


def test_assess_returns_the_contract(client):
    """POST /api/v1/assess returns the result contract of spec/assessment.md."""
    response = client.post("/api/v1/assess", json={"profile": make_profile(), "as_of": "2026-05-01"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["tier"] == "srdi_sme" and body["rules"]["sme"] == "SME-2026"
    assert {"innovative_sme", "tech_sme", "srdi_sme", "little_giant", "single_champion"} <= set(body["tiers"])


def test_assess_accepts_text_values_like_the_form(client):
    """Numbers as text with separators are parsed by the same validator as the form: the same result as typed
    values."""
    typed = make_profile()
    text = {k: str(v) for k, v in typed.items()}
    text["revenue"] = "8,000"
    assert typed["revenue"] == 8000
    as_text = client.post("/api/v1/assess", json={"profile": text, "as_of": "2026-05-01"})
    as_typed = client.post("/api/v1/assess", json={"profile": typed, "as_of": "2026-05-01"})
    assert as_text.status_code == as_typed.status_code == 200
    assert as_text.get_json() == as_typed.get_json()


@pytest.mark.parametrize(("overrides", "field", "rule"), [
    ({"revenue": -1}, "revenue", "min"),
    ({"debt_ratio_pct": 120}, "debt_ratio_pct", "max"),
    ({"rd_staff": 400, "employees": 300}, "rd_staff", "rd_staff_le_employees"),
    ({"employees": "many"}, "employees", "number"),
])
def test_invalid_input_400_with_errors(client, overrides, field, rule):
    """Invalid values: 400 with one record per problem naming the field and the rule, in zh and en."""
    response = client.post("/api/v1/assess", json={"profile": make_profile(**overrides)})
    assert response.status_code == 400
    errors = response.get_json()["error"]["errors"]
    assert any(e["field"] == field and e["rule"] == rule and e["message_zh"] and e["message_en"] for e in errors)


@pytest.mark.parametrize("body", ["not json", "[1, 2]", '{"profile": [1]}', '{"profile": {}, "rules": "X"}',
                                  '{"profile": {}, "as_of": "tomorrow"}'])
def test_bad_requests_are_json(client, body):
    """Malformed bodies get a JSON 400."""
    response = client.post("/api/v1/assess", data=body, content_type="application/json")
    assert response.status_code == 400 and response.get_json()["error"]["status"] == 400


def test_what_if_changes_the_tier(client):
    """More R&D over two years lifts a firm short of it; the summary is compact and names each tier."""
    profile = make_profile(rd_expense=400, rd_expense_prev=350)
    before = client.post("/api/v1/whatif", json={"profile": profile, "changes": {}}).get_json()
    after = client.post("/api/v1/whatif", json={"profile": profile,
                                                 "changes": {"rd_expense": "900", "rd_expense_prev": 700}})
    assert after.status_code == 200
    after = after.get_json()
    assert before["tiers"]["little_giant"]["status"] == "not_met"
    assert after["tiers"]["little_giant"]["status"] != "not_met"
    assert set(after) >= {"tier", "tiers", "rules", "as_of"} and "criteria" not in after["tiers"]["srdi_sme"]


def test_what_if_only_the_panel_fields(client):
    """The what-if endpoint changes only the few figures the panel offers."""
    response = client.post("/api/v1/whatif", json={"profile": make_profile(), "changes": {"clean_record": True}})
    assert response.status_code == 400


def test_fields_registry(client):
    """GET /api/v1/fields lists the registry, each field marked quick or not as the quick form asks."""
    body = client.get("/api/v1/fields").get_json()
    assert {f["name"] for f in body["fields"]} >= {"revenue", "rd_expense", "class1_ip"}
    quick = {f["name"] for f in body["fields"] if f["quick"] is True}
    assert all(f["quick"] in (True, False) for f in body["fields"])
    assert quick == set(load_rule_book().quick_fields)
    form = set(re.findall(r'<(?:input|select|textarea)[^>]*\bname="([^"]+)"', client.get("/assess").text))
    assert quick == form & {f["name"] for f in body["fields"]}


def test_json_404_405_413(client, app):
    """Unknown API paths, wrong methods and oversized bodies answer in JSON."""
    assert client.get("/api/v1/nothing").get_json()["error"]["status"] == 404
    assert client.get("/api/v1/assess").get_json()["error"]["status"] == 405
    big = b'{"profile": {"firm_name": "' + b"x" * app.config["MAX_CONTENT_LENGTH"] + b'"}}'
    response = client.post("/api/v1/assess", data=big, content_type="application/json")
    assert response.status_code == 413 and response.get_json()["error"]["status"] == 413


def test_api_is_csrf_exempt_and_rate_limited(app_config, tmp_path):
    """The API needs no CSRF token (it stores nothing) and has a per-address rate limit."""
    from webapp.web import create_app
    from webapp.web.db import db

    app = create_app({**app_config, "WTF_CSRF_ENABLED": True, "API_RATE_LIMIT": "3 per minute"},
                     instance_path=str(tmp_path / "i2"))
    with app.app_context():
        db.create_all()
    client = app.test_client()
    codes = [client.post("/api/v1/whatif", json={"profile": make_profile()}).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


@pytest.mark.parametrize(("body", "field", "rule"), [
    ('"rd_expense": 1e30, "revenue": 1000, "main_revenue": 900', "rd_expense", "max"),
    ('"rd_expense": NaN', "rd_expense", "number"),
    ('"rd_expense": Infinity', "rd_expense", "number"),
    ('"rd_expense": -Infinity', "rd_expense", "number"),
    ('"rd_expense": "NaN"', "rd_expense", "number"),
    ('"rd_expense": "nan"', "rd_expense", "number"),
    ('"employees": "Infinity"', "employees", "number"),
    ('"employees": "-inf"', "employees", "number"),
])
def test_implausible_nan_and_infinite_values_are_refused(client, body, field, rule):
    """1e30 is refused (max); NaN and Infinity, as text or as the bare tokens Python's json module reads, are
    refused (number) like in the CLI, never taken as unknown."""
    given = ("rd_expense", "revenue", "main_revenue", "employees")
    profile = {k: v for k, v in make_profile().items() if k not in given}
    text = '{"profile": {' + body + ", " + json.dumps(profile, ensure_ascii=False)[1:] + "}"
    response = client.post("/api/v1/assess", data=text.encode(), content_type="application/json")
    assert response.status_code == 400
    errors = response.get_json()["error"]["errors"]
    assert [(e["field"], e["rule"]) for e in errors] == [(field, rule)]
    assert field in errors[0]["message_zh"] and field in errors[0]["message_en"]


def test_null_is_unknown(client):
    """Only null or an absent key means unknown."""
    response = client.post("/api/v1/assess", json={"profile": make_profile(rd_expense=None)})
    assert response.status_code == 200


def test_unknown_keys_are_warned_like_the_cli(client):
    """A misspelt key is ignored with the CLI's warning text in ``warnings``; the request still succeeds."""
    response = client.post("/api/v1/assess", json={"profile": {**make_profile(), "rd_expence": 5, "revnue": 1}})
    assert response.status_code == 200
    assert response.get_json()["warnings"] == ["rd_expence: not a GiantStep field, ignored (did you mean rd_expense?)",
                                               "revnue: not a GiantStep field, ignored (did you mean revenue?)"]
    assert client.post("/api/v1/assess", json={"profile": make_profile()}).get_json()["warnings"] == []


INNOVATIVE = dict(title_srdi=False, title_innovative=False, rd_expense=200, rd_expense_prev=150, years_in_niche=2)


@pytest.mark.parametrize("firm, likely, nxt", [
    (STRONG, "little_giant", "single_champion"),
    (make_profile(), "srdi_sme", "little_giant"),
    (make_profile(**INNOVATIVE), "innovative_sme", "srdi_sme"),
])
def test_quick_fields_give_the_likely_tier(client, firm, likely, nxt):
    """Only the quick fields of a little giant, an SRDI firm and an innovative SME through the API: their
    likely tiers (as the full profile's tier), the next tier above, and only declarations left to confirm."""
    quick = {k: v for k, v in firm.items() if k in set(load_rule_book().quick_fields)}
    body = client.post("/api/v1/assess", json={"profile": quick, "as_of": "2026-05-01"}).get_json()
    full = client.post("/api/v1/assess", json={"profile": firm, "as_of": "2026-05-01"}).get_json()
    assert full["tier"] == likely
    assert body["likely_tier"] == likely and body["next_tier"] == nxt and body["tiers"][likely]["conditional"]
    assert all(c["self_declared"] or c["manual_review"] for c in body["to_confirm"] if c["tier"] == likely)
