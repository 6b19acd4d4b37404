"""Flask application factory: the only place where the web app is assembled."""

from __future__ import annotations

from flask import Flask

from webapp import paths
from webapp.web import config, db, jobqueue, security, services
from webapp.web.json_provider import FastJSONProvider


def create_app(test_config: dict | None = None, *, instance_path: str | None = None) -> Flask:
    """Create and configure the GiantStep web application."""
    app = Flask(__name__, instance_relative_config=True,
                instance_path=instance_path or str(paths.resolve().instance))
    app.json = FastJSONProvider(app)  # answers written by orjson (webapp/web/json_provider.py)
    app.config.from_object(config.DefaultConfig)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)  # instance/config.py: SECRET_KEY, database URL ...
        app.config.from_prefixed_env()  # FLASK_SECRET_KEY, FLASK_SQLALCHEMY_DATABASE_URI, ...
    else:
        app.config.update(test_config)
    security.init_app(app)
    services.init_app(app)
    db.init_app(app)
    jobqueue.init_app(app)
    register_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_template_helpers(app)
    return app


def register_extensions(app: Flask) -> None:
    """Bind CSRF protection, Babel, Flask-Login and the rate limiter."""
    from webapp.web import i18n, ratelimit_store, sessions
    from webapp.web.extensions import babel, csrf, limiter, login_manager

    ratelimit_store.init_app(app)  # counters shared by the worker processes, unless configured otherwise

    csrf.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    i18n.install_template_gettext(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.user_loader(sessions.load_user)


def register_blueprints(app: Flask) -> None:
    """Import and register one blueprint per feature."""
    from webapp.web import assess, auth, batches, branding, errors, history, i18n, openapi, token_views

    for module in (assess, history, branding, batches, auth, errors, i18n, token_views):
        app.register_blueprint(module.bp)
    openapi.init_app(app)  # /api/v1: the API's blueprints, its OpenAPI document and docs page


def register_error_handlers(app: Flask) -> None:
    """App-wide error pages: JSON for the API and JSON clients, HTML otherwise."""
    from webapp.web import errors

    errors.init_app(app)


def register_template_helpers(app: Flask) -> None:
    """Filters and globals the templates share (formatting, language, optional features)."""
    from webapp.web import templating

    templating.init_app(app)
