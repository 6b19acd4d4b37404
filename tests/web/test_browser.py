"""The web app in a real browser: quick check, full form with an error, result, PDF, language, history."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser

QUICK = {"firm_name": "杭州示例精密机械有限公司", "province": "浙江", "revenue": "8,000", "revenue_prev": "7000",
         "revenue_prev2": "6000", "main_revenue": "7600", "main_revenue_prev": "6600", "total_assets": "9000",
         "debt_ratio_pct": "45", "rd_expense": "400", "rd_expense_prev": "350", "employees": "300",
         "rd_staff": "60", "class1_ip": "5", "class1_ip_applied": "4", "years_in_niche": "8"}


def fill(page, values: dict) -> None:
    """Type values into the inputs named by canonical field names."""
    for name, value in values.items():
        page.fill(f"[name={name}]", value)


def test_quick_check_result_and_what_if(page, live_server, screenshots):
    """A first-time user runs the quick check, reads the result and tries a what-if."""
    page.goto(live_server + "/")
    assert "专精特新" in page.title() or "梯度" in page.title()
    page.screenshot(path=screenshots / "01-home-zh.png", full_page=True)
    fill(page, QUICK)
    page.select_option("[name=sme_industry]", "industrial")
    page.click("form.profile-form button[type=submit]")
    page.wait_for_url(re.compile(r"/assess/result$"))
    assert page.locator(".tier-card").is_visible()
    assert page.locator("#tier-innovative_sme").count() == 1
    assert "杭州示例精密机械有限公司" in page.inner_text("h1")
    page.screenshot(path=screenshots / "02-result-quick-zh.png", full_page=True)
    page.fill("#wi-rd_expense", "900")
    page.click("#what-if button[type=submit]")
    page.wait_for_selector(".what-if-tiers li")
    assert page.url.endswith("/assess/result")  # no navigation
    assert "原为" in page.inner_text(".what-if-result")
    page.locator("#what-if").screenshot(path=screenshots / "03-what-if-zh.png")
    assert page.console_errors == []


def test_full_form_error_then_result(page, live_server, screenshots):
    """The full form reports a bad value beside its field, keeps the input, then assesses once fixed."""
    page.goto(live_server + "/assess?full=1")
    page.click("#group-finance > summary")
    page.click("#group-people > summary")
    fill(page, {"firm_name": "<b>测试</b>企业", "revenue": "-5", "revenue_prev": "7000", "employees": "100",
                "rd_staff": "20"})
    page.click("form.profile-form button[type=submit]")
    error = page.locator("#revenue").locator("xpath=ancestor::div[contains(@class,'field')]").locator(".error")
    assert "不能小于" in error.inner_text()
    assert page.input_value("#revenue_prev") == "7000"
    assert page.input_value("#firm_name") == "<b>测试</b>企业"
    page.locator("#revenue").scroll_into_view_if_needed()
    page.screenshot(path=screenshots / "04-full-form-error-zh.png")
    page.fill("#revenue", "8000")
    page.click("form.profile-form button[type=submit]")
    page.wait_for_url(re.compile(r"/assess/result$"))
    assert "<b>测试</b>企业" in page.inner_text("h1")  # shown as text, not markup
    page.screenshot(path=screenshots / "05-result-full-zh.png", full_page=True)
    assert page.console_errors == []


def test_pdf_download(page, live_server, screenshots):
    """The PDF button downloads the report the engine and reportlab write."""
    page.goto(live_server + "/assess")
    fill(page, QUICK)
    page.click("form.profile-form button[type=submit]")
    page.wait_for_url(re.compile(r"/assess/result$"))
    with page.expect_download() as info:
        page.click("form[action$='report.pdf'] button")
    download = info.value
    assert download.suggested_filename.endswith(".pdf")
    with open(download.path(), "rb") as fh:
        assert fh.read(4) == b"%PDF"


def test_language_switch_is_remembered(page, live_server, screenshots):
    """Switching to English changes every page and is remembered; switching back restores Chinese."""
    page.goto(live_server + "/assess")
    page.click("a[hreflang=en]")
    page.wait_for_load_state()
    assert "Quick check" in page.inner_text("h1")
    fill(page, QUICK)
    page.click("form.profile-form button[type=submit]")
    page.wait_for_url(re.compile(r"/assess/result$"))
    assert "Criterion by criterion" in page.inner_text("body")
    assert re.search(r"\d{1,3}(,\d{3})+ \(10k CNY\)", page.inner_text("body"))  # 万元 with separators
    page.screenshot(path=screenshots / "06-result-en.png", full_page=True)
    page.goto(live_server + "/")
    assert page.locator("html").get_attribute("lang") == "en"
    page.click("a[hreflang=zh]")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.console_errors == []


def _register(page, live_server, email, name):
    page.goto(live_server + "/auth/register")
    fill(page, {"name": name, "email": email, "password": "correct horse 1", "confirm": "correct horse 1"})
    page.click("form button[type=submit].primary")
    page.wait_for_url(re.compile(r"/clients$"))


def _add_client(page, name, city):
    fill(page, {"name": name, "province": "浙江", "city": city})
    page.click("form[action$='/clients'] button[type=submit]")
    page.wait_for_url(re.compile(r"/clients/\d+$"))
    return int(page.url.rsplit("/", 1)[1])


def _assess_client(page, values):
    page.click("text=快速自测 >> nth=-1")
    page.wait_for_url(re.compile(r"/assess\?client=\d+$"))
    fill(page, values)
    page.click("form.profile-form button[type=submit]")
    page.wait_for_url(re.compile(r"/assessments/\d+$"))
    return int(page.url.rsplit("/", 1)[1])


@pytest.mark.slow
def test_consultant_with_two_clients_and_history(page, browser, live_server, screenshots):
    """A consultant keeps two clients, assesses one twice, sees the trend; another consultant sees none of it."""
    _register(page, live_server, "gu@example.com", "顾问甲")
    page.screenshot(path=screenshots / "07-clients-empty-zh.png", full_page=True)
    first = _add_client(page, "宁波精工机械有限公司", "宁波")
    page.goto(live_server + "/clients")
    _add_client(page, "深圳创新电子有限公司", "深圳")
    page.goto(f"{live_server}/clients/{first}")
    assessment = _assess_client(page, QUICK)
    assert "宁波精工机械有限公司" in page.inner_text(".eyebrow")
    page.screenshot(path=screenshots / "08-saved-assessment-zh.png", full_page=True)
    page.click("text=修改为新评估")
    page.wait_for_url(re.compile(r"/edit$"))
    page.click("#group-finance > summary")
    fill(page, {"rd_expense": "900", "rd_expense_prev": "700"})
    page.click("form.profile-form button[type=submit]")
    page.wait_for_url(re.compile(r"/assessments/\d+$"))
    assert int(page.url.rsplit("/", 1)[1]) != assessment
    page.goto(f"{live_server}/clients/{first}")
    page.select_option("[name=tier]", "srdi_sme")
    page.fill("[name=granted_on]", "2024-07-01")
    page.click("form[action$='/titles'] button[type=submit]")
    page.wait_for_load_state()
    assert "2027-07-01" in page.inner_text("body")
    assert page.locator("svg.trend-chart").count() == 1
    page.screenshot(path=screenshots / "09-client-history-zh.png", full_page=True)
    page.goto(live_server + "/clients")
    page.screenshot(path=screenshots / "10-clients-zh.png", full_page=True)
    assert page.console_errors == []

    other = browser.new_context(locale="zh-CN").new_page()
    _register(other, live_server, "yi@example.com", "顾问乙")
    assert "宁波精工" not in other.inner_text("body")
    for path in (f"/clients/{first}", f"/assessments/{assessment}", f"/assessments/{assessment}/export.json"):
        response = other.goto(live_server + path)
        assert response.status == 404, path
    other.screenshot(path=screenshots / "11-other-consultant-404-zh.png", full_page=True)
    other.context.close()


def test_full_profile_shows_hnte_beside_the_ladder(page, live_server, screenshots):
    """Every field of the full form, HNTE group included: the result has an HNTE section of its own."""
    from tests.factories import make_profile
    from tests.web.helpers import form_data
    from webapp import fields

    values = form_data(make_profile(hnte=False, tech_level="a", core_support="a", tech_transfers_3y=15))
    page.goto(live_server + "/assess?full=1")
    page.evaluate("document.querySelectorAll('details.section').forEach(d => { d.open = true; })")
    for spec in fields.REGISTRY:
        if page.locator(f"select[name={spec.name}]").count():
            page.select_option(f"select[name={spec.name}]", values[spec.name])
        else:
            page.fill(f"[name={spec.name}]", values[spec.name])
    page.click("form.profile-form button[type=submit]")
    page.wait_for_url(re.compile(r"/assess/result$"))
    section = page.locator("#hnte")
    assert "您的数据满足高企认定条件" in section.inner_text() and "I-D2" in section.inner_text()
    assert page.locator("#tier-hnte").count() == 0 and "高新技术企业" not in page.inner_text("ol.ladder")
    section.screenshot(path=screenshots / "12-result-hnte-zh.png")
    assert page.console_errors == []


_FILL = """(profile) => { for (const [k, v] of Object.entries(profile)) {
  for (const el of document.querySelectorAll(`[name="${k}"]`)) {
    if (el.type === 'radio' || el.type === 'checkbox') { el.checked = (el.value === v); }
    else { el.value = v; } } } }"""
_CHART_TEXT = """() => { const small = parseFloat(getComputedStyle(document.querySelector('.help')).fontSize);
  const sizes = []; document.querySelectorAll('figure.chart svg').forEach(svg => {
    const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    svg.querySelectorAll('text').forEach(t => sizes.push(parseFloat(t.getAttribute('font-size')) * scale)); });
  return {small, sizes}; }"""


@pytest.mark.parametrize("width", [1280, 390])
def test_chart_text_is_legible_at_desktop_and_phone_width(browser, live_server, screenshots, width):
    """A full result: every chart's text is at least the page's small print at desktop width, and within a
    tenth of it on a 390 px phone (charts are drawn narrow with large text and only ever shrunk)."""
    from tests.factories import make_profile

    context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.goto(live_server + "/assess?full=1")
    profile = {k: "true" if v is True else "false" if v is False else str(v) for k, v in make_profile().items()}
    page.evaluate(_FILL, profile)
    page.click("form.profile-form button[type=submit]")
    page.wait_for_url(re.compile(r"/assess/result$"))
    got = page.evaluate(_CHART_TEXT)
    assert len(got["sizes"]) > 50  # benchmarks, radar, readiness, timeline, HNTE
    floor = got["small"] if width >= 1000 else 0.9 * got["small"]
    assert min(got["sizes"]) >= floor - 0.05, (min(got["sizes"]), got["small"])
    page.screenshot(path=screenshots / f"10-charts-{width}.png", full_page=True)
    context.close()
