"""The consultant's client file in Chromium: date order after a backfill, prefilled titles, rename, search,
exports and calendar, confirmed deletes; a form that loses nothing; branding and the client edition."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook

pytestmark = pytest.mark.browser

FIGURES = {"province": "浙江", "revenue": "8000", "revenue_prev": "7000", "rd_expense": "400",
           "rd_expense_prev": "350", "employees": "300", "rd_staff": "60", "patent_applications": "40",
           "invention_applications": "20", "invention_grants": "8", "valid_inventions": "8", "class1_ip": "5"}


def fill(page, values: dict) -> None:
    """Type the values of the fields this form shows (the quick check's set is derived from the rules)."""
    for name, value in values.items():
        if page.locator(f"input[name={name}]:visible").count():
            page.fill(f"input[name={name}]:visible", value)


def submit(page, url: str) -> None:
    page.click("form.profile-form button[type=submit]")
    page.wait_for_url(re.compile(url))


def register(page, live_server, email, name):
    page.goto(live_server + "/auth/register")
    fill(page, {"name": name, "email": email, "password": "correct horse 1", "confirm": "correct horse 1"})
    page.click("form button[type=submit].primary")
    page.wait_for_url(re.compile(r"/clients$"))


def download(page, click: str):
    with page.expect_download() as info:
        page.click(click)
    return info.value


@pytest.mark.slow
def test_client_file(page, live_server, screenshots):
    """Backfill an earlier assessment: list, chart and latest tier follow the date; the title recorded is in
    the new form; rename and search; XLSX and .ics; each delete asks first."""
    register(page, live_server, "file@example.com", "顾问丙")
    fill(page, {"name": "宁波精工机械有限公司", "province": "浙江", "city": "宁波"})
    page.click("form[action$='/clients'] button[type=submit]")
    page.wait_for_url(re.compile(r"/clients/\d+$"))
    client_url = page.url
    page.select_option("[name=tier]", "srdi_sme")
    page.fill("[name=granted_on]", "2025-07-01")
    page.click("form[action$='/titles'] button[type=submit]")
    page.wait_for_load_state()
    for as_of, rd in (("2026-06-01", "400"), ("2025-03-01", "50")):  # the 2025 one is entered last
        page.goto(client_url)
        page.click(".head-actions >> text=快速自测")
        page.wait_for_url(re.compile(r"/assess\?client=\d+$"))
        assert page.input_value("[name=firm_name]") == "宁波精工机械有限公司"
        assert page.locator("[name=title_srdi]").first.input_value() == "true"
        fill(page, {**FIGURES, "rd_expense": rd})
        page.click("details.options > summary")
        page.fill("[name=as_of]", as_of)
        submit(page, r"/assessments/\d+$")
    page.goto(client_url)
    chart = page.text_content("svg.trend-chart")
    assert chart.index("2025-03-01") < chart.index("2026-06-01")
    assert page.locator("table.trend tbody tr").first.inner_text().startswith("2026-06-01")
    page.screenshot(path=screenshots / "20-client-backfilled-zh.png", full_page=True)
    page.goto(live_server + "/clients")
    assert "2026-06-01" in page.inner_text("td.latest")

    page.goto(client_url)
    page.click("text=编辑客户")
    page.fill("[name=name]", "宁波精工传动股份有限公司")
    page.click("form button[type=submit].primary")
    page.wait_for_url(client_url)
    assert page.inner_text("h1") == "宁波精工传动股份有限公司"
    page.goto(live_server + "/clients")
    page.fill("#q", "精工传动")
    page.press("#q", "Enter")
    page.wait_for_url(re.compile(r"q="))
    assert page.locator("table.clients tbody tr").count() == 1
    page.screenshot(path=screenshots / "21-clients-search-zh.png", full_page=True)

    page.goto(client_url)
    calendar = download(page, "a[href$='reviews.ics']")
    assert calendar.suggested_filename.endswith(".ics")
    with open(calendar.path(), "rb") as fh:
        assert b"BEGIN:VCALENDAR" in fh.read()
    page.click("table.trend tbody tr >> nth=0 >> a[href*='/assessments/']")
    page.wait_for_url(re.compile(r"/assessments/\d+$"))
    sheet = download(page, "a[href$='export.xlsx']")
    assert re.fullmatch(r"宁波精工传动股份有限公司-2026-06-01-.+\.xlsx", sheet.suggested_filename)
    with open(sheet.path(), "rb") as fh:
        book = load_workbook(io.BytesIO(fh.read()))
    revenue = next(r for r in book["输入"].iter_rows(min_row=2) if r[1].value == "上年度营业收入")[2]
    assert revenue.value == 8000 and "万元" in revenue.number_format

    page.click("form[action$='/delete'] button")
    page.wait_for_selector(".confirm-delete")
    assert "2026-06-01" in page.inner_text(".confirm-delete")
    page.screenshot(path=screenshots / "22-confirm-delete-zh.png", full_page=True)
    page.click(".confirm-delete >> text=取消")
    page.wait_for_url(re.compile(r"/assessments/\d+$"))
    page.click("form[action$='/delete'] button")
    page.click(".confirm-delete button.danger")
    page.wait_for_url(client_url)
    assert page.locator("table.trend tbody tr").count() == 1
    page.click("form[action*='/titles/'] button")
    page.click(".confirm-delete button.danger")
    page.wait_for_url(client_url)
    assert "2028-07-01" not in page.inner_text("body")
    page.click(".danger-zone form button")
    page.click(".confirm-delete button.danger")
    page.wait_for_url(re.compile(r"/clients$"))
    assert "宁波精工" not in page.inner_text("main")
    assert page.console_errors == []


def test_form_keeps_what_was_typed(page, live_server, screenshots):
    """A reload keeps the draft; a refused submit focuses the error summary; Back after a result refills
    the form; a new form after it starts empty; the skip link leads to the main content."""
    page.goto(live_server + "/assess?full=1")
    page.click("#group-finance > summary")
    fill(page, {"firm_name": "草稿测试企业", "revenue": "8000", "revenue_prev": "-5"})
    page.wait_for_timeout(400)
    page.reload()
    assert page.input_value("#firm_name") == "草稿测试企业" and page.input_value("#revenue_prev") == "-5"
    assert page.locator(".draft-notice").is_visible()
    page.screenshot(path=screenshots / "23-draft-restored-zh.png")
    submit(page, r"/assess$")
    assert page.evaluate("document.activeElement.id") == "form-errors"
    page.goto(live_server + "/assess?full=1")  # not accepted yet: the draft is still there
    assert page.input_value("#revenue") == "8000"
    page.fill("#revenue_prev", "7000")
    submit(page, r"/assess/result$")
    page.go_back()
    page.wait_for_url(re.compile(r"/assess\?full=1$"))
    assert page.input_value("#firm_name") == "草稿测试企业" and page.input_value("#revenue_prev") == "7000"
    page.goto(live_server + "/assess?full=1")
    assert page.input_value("#firm_name") == "" and page.locator(".draft-notice").count() == 0

    page.goto(live_server + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert page.locator(".skip-link").is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    assert page.console_errors == []


@pytest.mark.slow
def test_branding_and_client_edition(page, live_server, screenshots):
    """A logo and practice name on the account (a wrong file is refused saying why); both PDF editions."""
    from PIL import Image

    register(page, live_server, "brand@example.com", "顾问丁")
    page.click("a.user-name")
    page.wait_for_url(re.compile(r"/account/branding$"))
    page.set_input_files("[name=logo]", {"name": "logo.txt", "mimeType": "image/png", "buffer": b"not a logo"})
    page.click("form button[type=submit].primary")
    assert "PNG 或 JPEG" in page.inner_text(".field.has-error")
    logo = io.BytesIO()
    Image.new("RGB", (300, 100), "#1f4e79").save(logo, format="PNG")
    page.fill("[name=practice_name]", "甬信知识产权咨询")
    page.set_input_files("[name=logo]", {"name": "logo.png", "mimeType": "image/png", "buffer": logo.getvalue()})
    page.click("form button[type=submit].primary")
    page.wait_for_selector("img.logo-preview")
    assert page.evaluate("document.querySelector('img.logo-preview').naturalWidth") == 300
    page.screenshot(path=screenshots / "24-branding-zh.png", full_page=True)
    page.goto(live_server + "/assess")
    fill(page, {"firm_name": "杭州示例精密机械有限公司", **FIGURES})
    submit(page, r"/assess/result$")
    full = download(page, "form[action$='report.pdf'] button.primary")
    short = download(page, "form[action$='report.pdf'] button[value=client]")
    assert full.suggested_filename.startswith("杭州示例精密机械有限公司-") and full.suggested_filename.endswith(".pdf")
    sizes = []
    for item in (full, short):
        with open(item.path(), "rb") as fh:
            data = fh.read()
        assert data.startswith(b"%PDF") and data.count(b"/Subtype /Image") == 1  # the logo
        sizes.append(data.count(b"/Type /Page") - data.count(b"/Type /Pages"))
    assert 0 < sizes[1] < sizes[0]  # the client edition has no method appendix
    assert page.console_errors == []
