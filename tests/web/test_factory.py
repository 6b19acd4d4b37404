"""The app factory: configuration layers, the secret key in instance/, security headers and limits."""

from __future__ import annotations

import os

import pytest

from tests.web.helpers import form_data
from webapp.web import create_app


def test_config_layers_instance_file_then_environment(tmp_path, monkeypatch):
    """Defaults, then instance/config.py, then FLASK_* variables."""
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text("SECRET_KEY = 'from-file'\nAPI_RATE_LIMIT = '5 per minute'\n")
    monkeypatch.setenv("FLASK_API_RATE_LIMIT", "7 per minute")
    monkeypatch.setenv("FLASK_SQLALCHEMY_DATABASE_URI", f"sqlite:///{tmp_path / 'env.sqlite'}")
    app = create_app(instance_path=str(instance))
    assert app.config["SECRET_KEY"] == "from-file"
    assert app.config["API_RATE_LIMIT"] == "7 per minute"
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("env.sqlite")
    assert app.config["BABEL_DEFAULT_LOCALE"] == "zh"


def test_secret_key_generated_into_instance_once(tmp_path, monkeypatch):
    """Without a configured key, one is generated into instance/secret_key (mode 600) and reused."""
    monkeypatch.delenv("FLASK_SECRET_KEY", raising=False)
    instance = tmp_path / "instance"
    first = create_app(instance_path=str(instance))
    key_file = instance / "secret_key"
    assert key_file.exists() and oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert len(first.config["SECRET_KEY"]) == 64
    assert first.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{instance / 'giantstep.sqlite'}"
    second = create_app(instance_path=str(instance))
    assert second.config["SECRET_KEY"] == first.config["SECRET_KEY"]


def test_dev_secret_key_refused_outside_debug(tmp_path):
    """The placeholder key 'dev' stops a production start."""
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"SECRET_KEY": "dev"}, instance_path=str(tmp_path))


def test_security_headers_on_every_page(client):
    """CSP allows only the app's own files; no sniffing, no framing; pages are not cached."""
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe-inline" not in csp
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"


def test_pages_have_no_inline_script_or_style(client):
    """The CSP forbids inline code, so the pages must not rely on it."""
    html = client.get("/assess?full=1").text
    assert "<script>" not in html and " style=" not in html and "<style" not in html
    assert 'src="/static/js/' not in html or "defer" in html


def test_session_cookie_flags(client):
    """HttpOnly and SameSite always; Secure over HTTPS."""
    plain = client.post("/assess", data=form_data()).headers["Set-Cookie"]
    assert "HttpOnly" in plain and "SameSite=Lax" in plain and "Secure" not in plain
    secure = client.post("/assess", data=form_data(), base_url="https://localhost")
    assert "Secure" in secure.headers["Set-Cookie"]
    assert "Strict-Transport-Security" in secure.headers


def test_request_size_limit(client, app):
    """Bodies over MAX_CONTENT_LENGTH get 413."""
    big = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    assert client.post("/assess", data={"firm_name": big}).status_code == 413


def test_engine_resources_loaded_once(app):
    """The rule book lives on the app, not reloaded per request."""
    from webapp.web.services import Services

    services = app.extensions["giantstep"]
    assert isinstance(services, Services)
    assert {"SME-2022", "SME-2026"} <= set(services.rule_book.tables)


def test_routes_listed(app):
    """Every blueprint is registered (flask --app webapp.web routes)."""
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    for name in ("assess.index", "assess.form", "assess.submit", "assess.result", "assess.report_pdf",
                 "history.clients", "history.client", "history.assessment", "history.export", "auth.login",
                 "auth.register", "auth.logout", "api.assess", "api.what_if", "i18n.set_language"):
        assert name in endpoints


def test_serve_migrates_then_starts_waitress(tmp_path, monkeypatch):
    """`giantstep serve --server waitress` builds the app on the instance folder, migrates the database and
    hands it to waitress, closing it when stopped."""
    import waitress

    from webapp.web import server

    seen = {}

    class Stopped:
        def run(self):
            raise KeyboardInterrupt  # as SIGTERM does

        def close(self):
            seen["closed"] = True

    monkeypatch.setenv("FLASK_SECRET_KEY", "serve-test")
    monkeypatch.setattr(waitress, "create_server", lambda app, **kw: seen.update(app=app, **kw) or Stopped())
    server.serve("127.0.0.1", 5099, server="waitress", instance_path=str(tmp_path / "instance"))
    assert seen["port"] == 5099 and seen["host"] == "127.0.0.1" and seen["threads"] == 8 and seen["closed"]
    assert (tmp_path / "instance" / "giantstep.sqlite").exists()


def test_serve_forks_gunicorn_workers_after_loading(tmp_path, monkeypatch):
    """By default gunicorn: two single-threaded workers per core, the app (rule book, cohorts, model, migrated
    database) loaded before the fork, graceful shutdown within 30 s."""
    from gunicorn.app.base import BaseApplication

    from webapp.web import server

    seen = {}
    monkeypatch.setenv("FLASK_SECRET_KEY", "serve-test")
    monkeypatch.setattr(BaseApplication, "run", lambda self: seen.update(cfg=self.cfg, app=self.wsgi()))
    server.serve("127.0.0.1", 5099, instance_path=str(tmp_path / "instance"))
    cfg = seen["cfg"]
    assert cfg.workers == server.default_workers() == 2 * len(os.sched_getaffinity(0))
    assert cfg.preload_app and cfg.worker_class_str == "gthread" and cfg.threads == 1
    assert cfg.bind == ["127.0.0.1:5099"] and cfg.graceful_timeout == 30
    assert "giantstep" in seen["app"].extensions and (tmp_path / "instance" / "giantstep.sqlite").exists()
