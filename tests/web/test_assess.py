"""Blueprint "assess": quick check and full form, errors beside fields, result page and PDF download."""

from __future__ import annotations

import re

import pytest

from tests.factories import make_profile
from tests.web.helpers import form_data
from webapp import fields
from webapp.engine.rules.rulebook import load_rule_book
from webapp.web import services
from webapp.web.db import db
from webapp.web.models import AssessmentRecord

QUICK = list(load_rule_book().quick_fields)


def _input_names(html: str) -> set[str]:
    return set(re.findall(r'<(?:input|select|textarea)[^>]*\bname="([^"]+)"', html))


def test_quick_check_has_the_quick_fields_only(client):
    """The quick check shows the fields derived from the rule tables, named canonically, and no other."""
    names = _input_names(client.get("/assess").text)
    assert set(QUICK) <= names
    assert {"firm_name", "province", "revenue", "main_revenue", "rd_expense", "class1_ip"} <= set(QUICK)
    assert not (names & (set(fields.FIELDS) - set(QUICK)))


def test_full_form_has_every_field_with_unit_and_help(client):
    """The full form holds every registry field in collapsible sections, each with unit and help."""
    html = client.get("/assess?full=1").text
    assert {s.name for s in fields.REGISTRY} <= _input_names(html)
    assert html.count('<details class="section"') >= len(fields.GROUPS)
    spec = fields.FIELDS["rd_expense"]
    assert spec.help_zh in html and "万元" in html


def test_landing_page_in_chinese_by_default(client):
    """Chinese first: the landing page speaks zh unless told otherwise."""
    html = client.get("/").text
    assert 'lang="zh-CN"' in html and "快速自测" in html


def test_quick_check_to_result(client, app):
    """Posting the quick check redirects to the result, which names the tier; nothing is stored."""
    quick = {k: v for k, v in make_profile().items() if k in QUICK}
    response = client.post("/assess", data=form_data(quick, variant="quick"))
    assert response.status_code == 302 and response.headers["Location"] == "/assess/result"
    page = client.get("/assess/result")
    assert page.status_code == 200
    assert "逐条对照" in page.text and quick["firm_name"] in page.text
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(AssessmentRecord)) == 0


def test_full_profile_result_shows_tier_checklist_and_sources(client):
    """The result page shows the tier, the ladder, each criterion with value, points and source."""
    client.post("/assess", data=form_data())
    html = client.get("/assess/result").text
    assert "专精特新中小企业" in html and "您在这里" in html
    assert "S26-5" in html and "2号" in html and "SME-2026" in html
    assert "自我声明" in html
    assert "8,000 万元" in html  # money with thousands separators


def test_empty_is_unknown_not_zero(client):
    """Leaving R&D empty makes its criteria unknown, not failed."""
    client.post("/assess", data=form_data(make_profile(rd_expense=None, rd_expense_prev=None)))
    html = client.get("/assess/result").text
    assert "row-unknown" in html
    assert "缺少数据" in html


@pytest.mark.parametrize(("lang", "message"), [("zh", "不能小于"), ("en", "must be at least")])
def test_errors_beside_the_field_in_the_users_language_input_kept(client, lang, message):
    """A bad value is reported beside its field, in the user's language, and every input is kept."""
    client.get(f"/lang/{lang}")
    data = form_data(make_profile(revenue=-5, firm_name="<b>杭州</b>"))
    response = client.post("/assess", data=data)
    assert response.status_code == 400
    html = response.text
    field_block = html[html.index('id="revenue"') - 400: html.index('id="revenue"') + 900]
    assert message in field_block
    assert 'value="-5"' in html and 'value="7000"' in html
    assert "&lt;b&gt;杭州&lt;/b&gt;" in html and "<b>杭州</b>" not in html


def test_cross_rule_error_named_on_the_field(client):
    """R&D staff above total staff is reported on the field."""
    response = client.post("/assess", data=form_data(make_profile(rd_staff=500, employees=100)))
    assert response.status_code == 400
    assert "研发人员数（rd_staff）不能大于职工总数（employees）" in response.text


def test_rule_set_override(client):
    """The rule set is chosen by date, or forced by the user."""
    client.post("/assess", data=form_data(as_of="2025-06-01"))
    assert "SME-2022" in client.get("/assess/result").text
    client.post("/assess", data=form_data(as_of="2025-06-01", rules="SME-2026"))
    html = client.get("/assess/result").text
    assert "S26-1" in html and "S22-1" not in html


def test_result_without_profile_goes_back_to_the_form(client):
    """No profile in the session: back to the form."""
    response = client.get("/assess/result")
    assert response.status_code == 302 and response.headers["Location"].endswith("/assess")


def test_edit_reloads_the_last_profile(client):
    """"Change the figures" opens the full form with the values entered before."""
    client.post("/assess", data=form_data())
    html = client.get("/assess?full=1&edit=1").text
    assert 'value="宁波示例精密传动有限公司"' in html and 'value="600"' in html


def test_what_if_panel_present_with_base_profile(client):
    """The what-if panel carries the profile for the API call and loads its script from /static."""
    client.post("/assess", data=form_data())
    html = client.get("/assess/result").text
    assert 'id="what-if"' in html and "data-base='" in html and "/static/js/whatif.js" in html


def test_pdf_download(client, monkeypatch):
    """The PDF view sends what render_pdf writes, as an attachment (STYLE sketch D)."""
    seen = {}

    def fake_render(result, fp, *, lang, **cover):
        seen.update(tier=result["tier"], lang=lang)
        fp.write(b"%PDF-1.4 fake")

    monkeypatch.setattr(services, "render_pdf", fake_render)
    client.post("/assess", data=form_data())
    response = client.post("/assess/report.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    assert seen == {"tier": "srdi_sme", "lang": "zh"}


def test_insight_sections_render_when_keys_present(client, monkeypatch):
    """Benchmarks, readiness and advice render when the result has them; otherwise a note says so."""
    client.post("/assess", data=form_data())
    real = services.assess_profile

    def without(profile, **options):
        outcome = real(profile, **options)
        for key in ("benchmarks", "dimensions", "readiness", "advice"):
            outcome.result.pop(key, None)
        return outcome

    monkeypatch.setattr(services, "assess_profile", without)
    html = client.get("/assess/result").text
    assert html.count('class="not-yet"') == 3

    def richer(profile, **options):
        outcome = real(profile, **options)
        outcome.result["readiness"] = {"little_giant": {"probability": 0.42, "drivers": [
            {"field": "rd_expense", "current": 600, "target": 900, "delta": 0.08}]}}
        return outcome

    monkeypatch.setattr(services, "assess_profile", richer)
    html = client.get("/assess/result").text
    assert "42%" in html and "上年度研发费用" in html
    assert html.count("<svg") >= 2 and 'class="not-yet"' not in html  # engine benchmarks and advice


@pytest.mark.parametrize(("name", "cell", "message"), [
    ("rd_expense", "1e30", "不能大于 100,000,000 万元"),
    ("rd_expense", "NaN", "应为数字，收到 &#39;NaN&#39;"),
    ("revenue", "Infinity", "应为数字，收到 &#39;Infinity&#39;"),
    ("employees", "-inf", "应为数字，收到 &#39;-inf&#39;"),
])
def test_implausible_nan_and_infinite_values_beside_the_field(client, name, cell, message):
    """The form refuses 1e30, NaN and Infinity like the CLI and the API, beside the field."""
    response = client.post("/assess", data=form_data(make_profile(**{name: cell})))
    assert response.status_code == 400
    html = response.text
    field_block = html[html.index(f'id="{name}"') - 400: html.index(f'id="{name}"') + 900]
    assert message in field_block, field_block


def test_quick_check_headline_says_likely_tier_and_what_to_confirm(client):
    """The quick fields of an SRDI firm: the headline names the likely title, the declarations left to confirm
    and what the figures alone confirm; the next tier is the little giant."""
    quick = {k: v for k, v in make_profile().items() if k in QUICK}
    client.post("/assess", data=form_data(quick, variant="quick", rules="SME-2026"))
    html = client.get("/assess/result").text
    card = html[html.index('<div class="tier-card'):html.index('<ol class="ladder"')]
    assert "可能获得的称号（待确认）" in card and "专精特新中小企业" in card
    assert "E3" in card and "S26-7" in card and "自我声明并提供证明" in card
    assert "仅凭数据已确认" in card and "尚未达到任何层级" in card
    assert "下一层级" in card and "“小巨人”" in card
    assert "可能在这里" in html
