"""Security baseline: the secret key kept in instance/, cookie flags and response headers."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface

from webapp.web.bodylimit import DrainOversizeBody
from webapp.web.instance import InstanceError, read_or_create_secret_key


def ensure_secret_key(app: Flask) -> None:
    """Use the configured SECRET_KEY, else the one in instance/secret_key, generating it on first run.

    Raises :class:`webapp.web.instance.InstanceError` (one line) for the key "dev" outside debug and tests, an
    empty or damaged key file, or an instance folder that cannot be written.
    """
    if app.config.get("SECRET_KEY"):
        if app.config["SECRET_KEY"] == "dev" and not (app.debug or app.testing):
            raise InstanceError("SECRET_KEY is 'dev': set a real key in instance/config.py or FLASK_SECRET_KEY")
        return
    app.config["SECRET_KEY"] = read_or_create_secret_key(Path(app.instance_path))


class AutoSecureSessionInterface(SecureCookieSessionInterface):
    """Session cookies marked Secure whenever the request came over HTTPS (SESSION_COOKIE_SECURE = "auto").

    Plain ``http://127.0.0.1:5000`` keeps working for one user on one machine; behind a TLS proxy (with
    ProxyFix) every cookie is Secure. ``True`` forces it; ``False`` turns it off.
    """

    def get_cookie_secure(self, app: Flask) -> bool:
        value = app.config["SESSION_COOKIE_SECURE"]
        return request.is_secure if value == "auto" else bool(value)


def init_app(app: Flask) -> None:
    """Set the secret key, the session interface and the headers added to every response."""
    ensure_secret_key(app)
    app.session_interface = AutoSecureSessionInterface()
    app.wsgi_app = DrainOversizeBody(app.wsgi_app, app.config.get("MAX_CONTENT_LENGTH"))
    proxies = int(app.config.get("PROXY_COUNT") or 0)
    if proxies:  # behind nginx & co: trust X-Forwarded-For/-Proto from that many proxies (HTTPS, client address)
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    app.after_request(_security_headers)


def _security_headers(response):
    """CSP allowing only the app's own files, no sniffing, no framing, no referrer leaks."""
    from flask import current_app

    headers = response.headers
    headers.setdefault("Content-Security-Policy", current_app.config["CONTENT_SECURITY_POLICY"])
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if request.endpoint != "static" and "Cache-Control" not in headers:
        headers["Cache-Control"] = "no-store"  # results and client data must not sit in shared caches
    return response
