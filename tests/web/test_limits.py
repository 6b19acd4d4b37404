"""Limits and bad input (issue 13): oversize bodies, throttled PDFs, header splitting, deep or huge JSON,
lists where text belongs, and no server path in any public answer."""

from __future__ import annotations

import json
import re

import pytest

from tests.factories import make_profile
from tests.web.helpers import form_data, register

DEEP = '{"profile": {"revenue": ' + "[" * 5000 + "]" * 5000 + "}}"
HUGE = '{"profile": {"revenue": ' + "9" * 5000 + "}}"


@pytest.mark.parametrize("logged_in", [False, True])
def test_oversize_form_is_413_logged_in_or_not(client, app, logged_in):
    """A body over MAX_CONTENT_LENGTH is a 413 page, also for a consultant (the page header's log-out form
    must not read the body again)."""
    if logged_in:
        assert register(client).status_code == 302
    big = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = client.post("/assess", data={**form_data(), "firm_name": big})
    assert response.status_code == 413
    assert "上传内容超过了允许的大小" in response.text
    assert ("退出" in response.text) == logged_in  # the page header still shows the log-out button


@pytest.mark.parametrize("next_url", ["/%0d%0aSet-Cookie:%20x=1", "/assess%0a", "/x%00y"])
def test_control_characters_in_next_are_400(client, next_url):
    """CR, LF or another control character in ?next= is refused with 400, never a 500 or a split header."""
    response = client.get(f"/lang/en?next={next_url}")
    assert response.status_code == 400 and "Set-Cookie" not in str(response.headers.get("Location"))
    login = client.post(f"/auth/login?next={next_url}", data={"email": "a@example.com", "password": "x" * 12,
                                                             "next": "/\r\nX: y"})
    assert login.status_code in (400, 429)


def test_a_safe_next_still_redirects(client):
    """An ordinary path on the site is still followed."""
    response = client.get("/lang/en?next=/assess%3Ffull%3D1")
    assert response.status_code == 302 and response.headers["Location"] == "/assess?full=1"


def test_anonymous_pdf_is_rate_limited(app_config, tmp_path):
    """The anonymous PDF route has its own per-address limit (PDF_RATE_LIMIT)."""
    from webapp.web import create_app

    app = create_app({**app_config, "PDF_RATE_LIMIT": "2 per minute"}, instance_path=str(tmp_path / "pdf"))
    client = app.test_client()
    assert client.post("/assess", data=form_data()).status_code == 302
    codes = [client.post("/assess/report.pdf").status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_no_server_path_in_public_answers(client, app):
    """Results, what-if answers and the field list never name a folder of the server (the model's file was one)."""
    answers = [client.post("/api/v1/assess", json={"profile": make_profile()}),
               client.post("/api/v1/assess", json={"profile": {}}),
               client.post("/api/v1/whatif", json={"profile": make_profile(), "changes": {}}),
               client.get("/api/v1/fields")]
    folders = {app.instance_path, *(str(p) for p in app.extensions["giantstep"].paths.__dict__.values())}
    for response in answers:
        assert response.status_code == 200
        text = response.get_data(as_text=True)
        assert not any(folder in text for folder in folders)
        assert not re.search(r"\.(skops|toml|sqlite)\b|/(work|home|root|tmp)/", text)
    assert "path" not in answers[0].get_json()["readiness"]["_model"]


@pytest.mark.parametrize(("body", "says"), [
    (DEEP, "nested too deeply"),
    (HUGE, "profile.revenue: an integer of 5000 digits"),
    ('{"profile": {"revenue": 1' + "0" * 40 + "}}", "an integer of 41 digits"),
])
def test_deep_json_and_huge_integers_are_400_naming_the_problem(client, body, says):
    """JSON nested 5,000 deep or a 5,000-digit integer: 400 with a message saying what is wrong, no 500."""
    response = client.post("/api/v1/assess", data=body, content_type="application/json")
    assert response.status_code == 400
    assert says in response.get_json()["error"]["message"]


@pytest.mark.parametrize("value", [["浙江"], {"name": "浙江"}, [[1, 2], {"a": 1}]])
@pytest.mark.parametrize("field", ["firm_name", "province", "city"])
def test_lists_and_objects_in_text_fields_are_refused(client, field, value):
    """A text field given a JSON list or object is refused naming the field (rule ``text``)."""
    response = client.post("/api/v1/assess", json={"profile": {**make_profile(), field: value}})
    assert response.status_code == 400
    errors = response.get_json()["error"]["errors"]
    assert [(e["field"], e["rule"]) for e in errors] == [(field, "text")]
    assert field in errors[0]["message_en"] and "列表或对象" in errors[0]["message_zh"]


@pytest.mark.parametrize("field", ["revenue", "sme_industry", "hnte"])
def test_lists_in_other_fields_are_refused_too(client, field):
    """Numbers, choices and yes/no fields given a list are refused naming the field."""
    response = client.post("/api/v1/assess", json={"profile": {**make_profile(), field: [1, 2]}})
    assert response.status_code == 400
    assert [e["field"] for e in response.get_json()["error"]["errors"]] == [field]


def test_what_if_reads_the_same_limits(client):
    """The what-if endpoint parses its body the same way."""
    response = client.post("/api/v1/whatif", data=DEEP, content_type="application/json")
    assert response.status_code == 400 and "nested too deeply" in response.get_json()["error"]["message"]
    assert json.loads(client.post("/api/v1/whatif", data="[]", content_type="application/json").text)["error"]


@pytest.mark.parametrize("logged_in", [False, True])
def test_oversize_body_is_drained_so_the_client_reads_the_413(client, app, logged_in):
    """After the 413 the rest of the body is read and dropped (a client still sending it gets the answer, not a
    broken pipe); a body over the drain bound is left alone."""
    import io

    from webapp.web import bodylimit

    if logged_in:
        register(client)
    size = app.config["MAX_CONTENT_LENGTH"] * 2
    stream = io.BytesIO(b"a" * size)
    response = client.post("/assess", input_stream=stream, content_length=size,
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413 and stream.tell() == size
    huge = io.BytesIO(b"a" * 16)
    middleware = bodylimit.DrainOversizeBody(lambda environ, start: [b"413"], 10)
    assert middleware({"CONTENT_LENGTH": str(bodylimit.DRAIN_MAX_BYTES + 1), "wsgi.input": huge}, None) == [b"413"]
    assert huge.tell() == 0


def test_rate_limits_are_counted_once_across_worker_processes(app_config, tmp_path):
    """The counters live in <instance>/ratelimits.sqlite (mode 0600): a forked worker process and its parent
    count against the same limit, as gunicorn's workers do."""
    import os

    from tests.web.helpers import login
    from webapp.web import create_app
    from webapp.web.db import db

    app = create_app({**app_config, "LOGIN_RATE_LIMIT": "3 per minute"}, instance_path=str(tmp_path / "inst"))
    with app.app_context():
        db.create_all()
    assert app.config["RATELIMIT_STORAGE_URI"].startswith("giantstep+sqlite://")
    assert login(app.test_client(), email="u1@example.com", password="nope").status_code == 400
    child = os.fork()
    if child == 0:  # the "other worker": one more failed login, then report its status
        status = login(app.test_client(), email="u2@example.com", password="nope").status_code
        os._exit(0 if status == 400 else 1)
    assert os.waitpid(child, 0)[1] == 0
    codes = [login(app.test_client(), email=f"u{i}@example.com", password="nope").status_code for i in (3, 4)]
    assert codes == [400, 429]
    assert oct((tmp_path / "inst" / "ratelimits.sqlite").stat().st_mode & 0o777) == "0o600"
