"""A consultant's client file: confirmed deletes, date order, client editing, search and sort, titles carried
into new assessments, file names and the re-review calendar."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import unquote

import pytest
from icalendar import Calendar

from tests.factories import make_profile
from tests.web.helpers import add_client, form_data, logout, register, save_assessment


@pytest.fixture
def consultant(client):
    """A logged-in consultant with one client and one saved assessment."""
    register(client)
    client_id = add_client(client)
    return {"client_id": client_id, "assessment_id": save_assessment(client, client_id)}


def _save(client, client_id: int, as_of: str, **overrides) -> int:
    response = client.post("/assess", data=form_data(make_profile(**overrides), client_id=str(client_id),
                                                     as_of=as_of))
    assert response.status_code == 302, response.text
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_backfilled_assessment_takes_its_place_by_date(client, app):
    """Entered 2026-06, 2026-11, then a 2025-03 one: the trend, the chart and the latest tier follow the
    assessment date, not the order of entry. The 2025 profile has 50万 of R&D (below SRDI's 100万)."""
    from webapp.web import records
    from webapp.web.models import Client

    register(client)
    cid = add_client(client)
    june = _save(client, cid, "2026-06-01")
    november = _save(client, cid, "2026-11-01")
    march = _save(client, cid, "2025-03-01", rd_expense=50, rd_expense_prev=40)
    with app.test_request_context():
        rows = records.trend(app.extensions["sqlalchemy"].session.get(Client, cid))
    assert [r["record"].id for r in rows] == [march, june, november]
    assert [r["tier"] for r in rows] == ["innovative_sme", "srdi_sme", "srdi_sme"]
    html = client.get(f"/clients/{cid}").text
    chart = html[html.index('class="trend-chart"'):]
    assert chart.index("2025-03-01") < chart.index("2026-06-01") < chart.index("2026-11-01")
    latest = re.search(r'<td class="latest">(.*?)</td>', client.get("/clients").text, re.S).group(1)
    assert "专精特新中小企业" in latest and "2026-11-01" in latest


def test_every_delete_asks_first(client, consultant):
    """Delete buttons answer with a page naming what goes; only its own button (confirmed=yes) deletes."""
    cid, aid = consultant["client_id"], consultant["assessment_id"]
    client.post(f"/clients/{cid}/titles", data={"tier": "srdi_sme", "granted_on": "2024-07-01"})
    cases = [(f"/assessments/{aid}/delete", f"/assessments/{aid}", "删除宁波示例精密传动有限公司"),
             ("/titles/1/delete", f"/clients/{cid}", "2024-07-01"),
             (f"/clients/{cid}/delete", f"/clients/{cid}", "宁波示例精密传动有限公司")]
    for action, page, words in cases:
        assert client.get(action).status_code == 405
        asked = client.post(action)
        assert asked.status_code == 200 and words in asked.text and 'name="confirmed" value="yes"' in asked.text
        assert "无法撤销" in asked.text
        assert client.get(page).status_code == 200  # nothing deleted yet
    assert "2027-07-01" in client.get(f"/clients/{cid}").text
    assert client.post(f"/assessments/{aid}/delete", data={"confirmed": "yes"}).status_code == 302
    assert client.get(f"/assessments/{aid}").status_code == 404
    assert client.post("/titles/1/delete", data={"confirmed": "yes"}).status_code == 302
    assert "2027-07-01" not in client.get(f"/clients/{cid}").text
    assert client.post(f"/clients/{cid}/delete", data={"confirmed": "yes"}).headers["Location"] == "/clients"
    assert client.get(f"/clients/{cid}").status_code == 404


def test_rename_client(client, consultant):
    """A client can be renamed and its place changed; an empty name is refused beside the field."""
    cid = consultant["client_id"]
    assert 'value="宁波示例精密传动有限公司"' in client.get(f"/clients/{cid}/edit").text
    refused = client.post(f"/clients/{cid}/edit", data={"name": "", "province": "浙江"})
    assert refused.status_code == 400 and 'class="error"' in refused.text
    saved = client.post(f"/clients/{cid}/edit", data={"name": "宁波新名传动股份有限公司", "province": "浙江",
                                                      "city": "慈溪", "notes": "更名"})
    assert saved.status_code == 302
    assert "宁波新名传动股份有限公司" in client.get("/clients").text and "慈溪" in client.get("/clients").text
    logout(client)
    register(client, email="b@example.com")
    assert client.get(f"/clients/{cid}/edit").status_code == 404
    assert client.post(f"/clients/{cid}/edit", data={"name": "x"}).status_code == 404


def test_search_and_sort_clients(client):
    """Search matches name, place or notes; sorts by name, latest date, tier and count."""
    register(client)
    a = add_client(client, name="阿尔法精密", city="宁波")
    b = add_client(client, name="贝塔电子", city="深圳", notes="重点客户")
    add_client(client, name="伽马材料", city="苏州")
    _save(client, a, "2026-05-01", rd_expense=50, rd_expense_prev=40)
    _save(client, b, "2026-09-01")
    _save(client, b, "2025-01-01")

    def names(**query):
        html = client.get("/clients", query_string=query).text
        return re.findall(r'<a href="/clients/\d+">([^<]+)</a>', html)

    assert names(q="深圳") == ["贝塔电子"] and names(q="重点") == ["贝塔电子"]
    assert names(q="精密 宁波") == ["阿尔法精密"]
    assert names(q="%") == [] and "没有与" in client.get("/clients?q=zzz").text
    assert names(sort="latest") == ["贝塔电子", "阿尔法精密", "伽马材料"]
    assert names(sort="tier") == ["贝塔电子", "阿尔法精密", "伽马材料"]
    assert names(sort="count") == ["贝塔电子", "阿尔法精密", "伽马材料"]
    assert names(sort="name") == sorted(["阿尔法精密", "贝塔电子", "伽马材料"], key=str.casefold)
    assert names(sort="bogus") == names(sort="name")


def test_titles_and_place_prefill_a_new_assessment(client, consultant):
    """A new assessment of a client starts with its name, place and valid titles (an expired one is left
    unknown); the quick check shows them or carries them as hidden values."""
    cid = consultant["client_id"]
    today = dt.date.today()
    client.post(f"/clients/{cid}/titles", data={"tier": "srdi_sme", "granted_on": (today - dt.timedelta(days=400))
                                                .isoformat()})
    client.post(f"/clients/{cid}/titles", data={"tier": "tech_sme", "granted_on": "2019-01-01"})  # expired
    client.post(f"/clients/{cid}/titles", data={"tier": "hnte", "granted_on": (today - dt.timedelta(days=30))
                                                .isoformat()})
    full = client.get(f"/assess?full=1&client={cid}").text
    assert re.search(r'<input[^>]*name="firm_name" type="text" value="宁波示例精密传动有限公司"', full)
    assert re.search(r'<input[^>]*name="city" type="text" value="宁波"', full)
    assert re.search(r'<select[^>]*name="title_srdi".*?<option selected value="true">', full, re.S)
    assert re.search(r'<select[^>]*name="hnte".*?<option selected value="true">', full, re.S)
    assert not re.search(r'<select[^>]*name="title_tech_sme".*?<option selected value="true">.*?</select>',
                         full[:full.index('name="title_srdi"')], re.S)
    quick = client.get(f"/assess?client={cid}").text
    for name in ("title_srdi", "hnte"):  # shown in the quick check, or carried as a hidden value
        assert f'<input type="hidden" name="{name}" value="true">' in quick or \
            re.search(rf'<select[^>]*name="{name}".*?<option selected value="true">', quick, re.S)
    assert client.get("/assess?client=999").status_code == 404


def test_export_file_names_carry_client_date_and_tier(client, consultant, monkeypatch):
    """`<client>-<date>-<tier>.<ext>`: UTF-8 in filename* (RFC 5987), an ASCII fallback in filename."""
    from webapp.web import services

    aid = consultant["assessment_id"]
    today = dt.date.today().isoformat()
    monkeypatch.setattr(services, "render_pdf", lambda result, fp, *, lang, **cover: fp.write(b"%PDF-fake"))
    for fmt in ("xlsx", "json", "pdf"):
        header = client.get(f"/assessments/{aid}/export.{fmt}").headers["Content-Disposition"]
        fallback = re.search(r'filename="([^"]+)"', header).group(1)
        assert fallback.isascii() and fallback.endswith(f"{today}-srdi_sme.{fmt}")
        utf8 = unquote(re.search(r"filename\*=UTF-8''(\S+)", header).group(1))
        assert utf8 == f"宁波示例精密传动有限公司-{today}-专精特新中小企业.{fmt}"
    from webapp.web.records import file_stem
    assert file_stem('a/b\\c:"d"<e>|f?*', "2026-01-01", "x y") == "a_b_c_d_e_f-2026-01-01-x_y"


def test_re_review_calendar(client, consultant):
    """The .ics holds one all-day event per title on its re-review date, alarms 90 and 30 days before."""
    cid = consultant["client_id"]
    client.post(f"/clients/{cid}/titles", data={"tier": "srdi_sme", "granted_on": "2024-07-01"})
    client.post(f"/clients/{cid}/titles", data={"tier": "little_giant", "granted_on": "2025-02-28"})
    response = client.get(f"/clients/{cid}/reviews.ics")
    assert response.mimetype == "text/calendar" and ".ics" in response.headers["Content-Disposition"]
    cal = Calendar.from_ical(response.data)
    events = sorted(cal.walk("VEVENT"), key=lambda e: e.decoded("dtstart"))
    assert [e.decoded("dtstart") for e in events] == [dt.date(2027, 7, 1), dt.date(2028, 2, 28)]
    assert "宁波示例精密传动有限公司" in str(events[0]["summary"]) and "专精特新中小企业" in str(events[0]["summary"])
    assert sorted(a.decoded("trigger") for a in events[0].walk("VALARM")) == [dt.timedelta(days=-90),
                                                                              dt.timedelta(days=-30)]
    assert len({str(e["uid"]) for e in events}) == 2
    logout(client)
    register(client, email="b@example.com")
    assert client.get(f"/clients/{cid}/reviews.ics").status_code == 404
