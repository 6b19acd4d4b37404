"""Error handling: HTML pages in the user's language, JSON for JSON clients, CSRF on every POST."""

from __future__ import annotations

import pytest

from tests.web.helpers import form_data


def test_404_html_and_json(client):
    """A missing page is an HTML page, or JSON when the client asks for JSON."""
    page = client.get("/no/such/page")
    assert page.status_code == 404 and "页面不存在" in page.text
    data = client.get("/no/such/page", headers={"Accept": "application/json"})
    assert data.status_code == 404 and data.get_json()["error"]["status"] == 404


def test_500_reveals_nothing(app, client):
    """An unexpected exception becomes a plain 500 page and is logged."""
    def boom():
        raise RuntimeError("secret detail")

    app.add_url_rule("/boom", "boom", boom)
    response = client.get("/boom")
    assert response.status_code == 500 and "secret detail" not in response.text
    assert "系统出错" in response.text


@pytest.fixture
def csrf_client(app_config, tmp_path):
    """A client of an app with CSRF protection on, as in production."""
    from webapp.web import create_app
    from webapp.web.db import db

    app = create_app({**app_config, "WTF_CSRF_ENABLED": True}, instance_path=str(tmp_path / "csrf"))
    with app.app_context():
        db.create_all()
    return app.test_client()


@pytest.mark.parametrize("path", ["/assess", "/assess/report.pdf", "/auth/login", "/auth/register",
                                  "/auth/logout", "/clients", "/clients/1/delete", "/assessments/1/delete"])
def test_every_post_needs_a_csrf_token(csrf_client, path):
    """Without the token every form POST is refused with 400."""
    response = csrf_client.post(path, data=form_data())
    assert response.status_code in (400, 302)
    if response.status_code == 302:  # login-only pages send anonymous users away before anything happens
        assert "/auth/login" in response.headers["Location"]
    else:
        assert "表单已过期" in response.text


def test_post_with_csrf_token_works(csrf_client):
    """With the page's token the quick check goes through."""
    import re

    html = csrf_client.get("/assess").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    response = csrf_client.post("/assess", data=form_data(csrf_token=token))
    assert response.status_code == 302
