"""Blueprint "history": clients, titles and dated assessments; one consultant never sees another's data."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from openpyxl import load_workbook

from tests.web.helpers import add_client, form_data, login, logout, register, save_assessment
from webapp.web import services


@pytest.fixture
def consultant(client):
    """A logged-in consultant with one client and one saved assessment."""
    register(client)
    client_id = add_client(client)
    assessment_id = save_assessment(client, client_id)
    return {"client_id": client_id, "assessment_id": assessment_id}


def test_pages_need_login(client):
    """Anonymous visitors are sent to the login page."""
    for path in ("/clients", "/clients/1", "/assessments/1", "/assessments/1/export.json"):
        response = client.get(path)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_client_list_and_detail(client, consultant):
    """The client appears in the list, with its assessment in the trend table."""
    assert "宁波示例精密传动有限公司" in client.get("/clients").text
    html = client.get(f"/clients/{consultant['client_id']}").text
    assert "专精特新中小企业" in html and f"/assessments/{consultant['assessment_id']}" in html


def test_client_name_is_escaped(client):
    """User text is escaped wherever it is shown."""
    register(client)
    client_id = add_client(client, name='<script>alert("x")</script>', notes="<img src=x onerror=1>")
    for html in (client.get("/clients").text, client.get(f"/clients/{client_id}").text):
        assert '<script>alert("x")</script>' not in html and "&lt;script&gt;" in html
        assert "<img src=x" not in html


def test_saved_assessment_page_and_exports(client, consultant, monkeypatch):
    """A saved assessment can be reopened and exported as JSON, XLSX and PDF."""
    aid = consultant["assessment_id"]
    html = client.get(f"/assessments/{aid}").text
    assert "专精特新中小企业" in html and "删除本次评估" in html
    doc = json.loads(client.get(f"/assessments/{aid}/export.json").data)
    assert doc["result"]["tier"] == "srdi_sme" and doc["profile"]["revenue"] == 8000
    book = load_workbook(io.BytesIO(client.get(f"/assessments/{aid}/export.xlsx").data))
    assert book.sheetnames == ["概要", "输入", "评估结果", "对标", "就绪度", "行动建议", "路线图", "里程碑"]
    assert any(row[1] == "上年度营业收入" for row in book["输入"].iter_rows(values_only=True))
    monkeypatch.setattr(services, "render_pdf", lambda result, fp, *, lang, **cover: fp.write(b"%PDF-fake"))
    pdf = client.get(f"/assessments/{aid}/export.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert client.get(f"/assessments/{aid}/export.exe").status_code == 404


def test_edit_into_a_new_assessment(client, consultant):
    """Editing opens the full form prefilled; saving makes a second dated assessment."""
    html = client.get(f"/assessments/{consultant['assessment_id']}/edit").text
    assert 'value="600"' in html and f'<option selected value="{consultant["client_id"]}"' in html
    second = save_assessment(client, consultant["client_id"], rd_expense=900, rd_expense_prev=700)
    assert second != consultant["assessment_id"]
    html = client.get(f"/clients/{consultant['client_id']}").text
    assert html.count("/assessments/") >= 2 and 'class="trend-chart"' in html


def test_delete_assessment_and_client(client, consultant):
    """Deleting needs a confirmed POST; the client goes with all of its assessments."""
    aid, cid = consultant["assessment_id"], consultant["client_id"]
    assert client.get(f"/assessments/{aid}/delete").status_code == 405
    assert client.post(f"/assessments/{aid}/delete", data={"confirmed": "yes"}).status_code == 302
    assert client.get(f"/assessments/{aid}").status_code == 404
    second = save_assessment(client, cid)
    assert client.post(f"/clients/{cid}/delete", data={"confirmed": "yes"}).status_code == 302
    assert client.get(f"/clients/{cid}").status_code == 404
    assert client.get(f"/assessments/{second}").status_code == 404


def test_titles_and_re_review_dates(client, consultant):
    """A recorded title shows its re-review date: granted + the tier's validity years."""
    cid = consultant["client_id"]
    client.post(f"/clients/{cid}/titles", data={"tier": "srdi_sme", "granted_on": "2024-07-01"})
    html = client.get(f"/clients/{cid}").text
    assert "2027-07-01" in html
    client.post(f"/clients/{cid}/titles", data={"tier": "tech_sme", "granted_on": "2020-05-01"})
    assert "已逾期" in client.get(f"/clients/{cid}").text


def test_trend_rows_oldest_first(client, consultant, app):
    """The trend holds one row per assessment with tier and scores, oldest first. Expected by hand from
    criteria.md: cutting R&D to 50万 of 8000万 revenue (0.6%) takes I2 from 20 to 0 points (innovative SME
    100 -> 80) and T-S2 from 50 to 0 (tech SME 92 -> 42), and below 100万 of R&D the firm loses the SRDI tier."""
    from webapp.web import records
    from webapp.web.models import Client

    save_assessment(client, consultant["client_id"], rd_expense=50, rd_expense_prev=40)
    with app.test_request_context():
        rows = records.trend(app.extensions["sqlalchemy"].session.get(Client, consultant["client_id"]))
    assert len(rows) == 2 and rows[0]["record"].id == consultant["assessment_id"]
    assert all(isinstance(r["as_of"], dt.date) for r in rows)
    assert [r["tier"] for r in rows] == ["srdi_sme", "innovative_sme"]
    assert [(r["scores"]["innovative_sme"], r["scores"]["tech_sme"]) for r in rows] == [
        ((100, 100), (92, 92)), ((80, 80), (42, 42))]


def test_anonymous_quick_check_while_logged_in_stores_nothing(client, consultant, app):
    """A consultant who does not pick a client gets a result that is not saved."""
    from webapp.web.db import db
    from webapp.web.models import AssessmentRecord

    response = client.post("/assess", data=form_data())
    assert response.headers["Location"] == "/assess/result"
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(AssessmentRecord)) == 1


def test_second_consultant_cannot_reach_the_first_ones_data(client, consultant, app):
    """Every read and every change of another consultant's client or assessment is a 404."""
    cid, aid = consultant["client_id"], consultant["assessment_id"]
    client.post(f"/clients/{cid}/titles", data={"tier": "srdi_sme", "granted_on": "2024-07-01"})
    logout(client)
    register(client, email="b@example.com", name="顾问乙")
    for path in (f"/clients/{cid}", f"/assessments/{aid}", f"/assessments/{aid}/edit",
                 f"/assessments/{aid}/export.json", f"/assessments/{aid}/export.xlsx",
                 f"/assessments/{aid}/export.pdf"):
        assert client.get(path).status_code == 404, path
    for path in (f"/clients/{cid}/delete", f"/assessments/{aid}/delete", f"/clients/{cid}/titles",
                 "/titles/1/delete"):
        assert client.post(path, data={"tier": "srdi_sme", "granted_on": "2024-01-01"}).status_code == 404, path
    assert "宁波示例" not in client.get("/clients").text
    # saving an assessment into someone else's client is refused too
    response = client.post("/assess", data=form_data(client_id=str(cid)))
    assert response.status_code == 400
    logout(client)
    login(client)
    assert client.get(f"/assessments/{aid}").status_code == 200
    assert "2027-07-01" in client.get(f"/clients/{cid}").text
