"""The OpenAPI document of /api/v1 and its docs page.

flask-smorest (marshmallow + apispec) builds the document from the schemas that parse the requests and shape
the answers (:mod:`webapp.web.api_schemas`), so the two cannot drift apart. It is served at
``/api/v1/openapi.json``; ``/api/v1/docs`` renders it as a page of the app's own template and stylesheet
(no script, nothing from another site: within the CSP of :mod:`webapp.web.security`).
"""

from __future__ import annotations

import flask_smorest
from flask import Blueprint, Flask, current_app, render_template

from webapp import __version__
from webapp.web.api_schemas import Error

DEFAULTS = {
    "API_TITLE": "GiantStep API",
    "API_VERSION": __version__,
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
    "API_TOKEN_RATE_LIMIT": "60 per minute",
}
DESCRIPTION = (
    "Where a Chinese SME stands on MIIT's certification ladder (专精特新), criterion by criterion. Money in 万元 "
    "(10k CNY), _pct fields 0-100, unknown is null or absent (never zero). Assess, what-if and fields are public "
    "and rate-limited per client address. Batch jobs need an API token (Authorization: Bearer <token>), made "
    "in the browser (account menu, API tokens) or with `giantstep token create --email E`; they are rate-limited "
    "per token. Every error is JSON: {\"error\": {\"status\", \"title\", \"message\", \"errors\": [{\"field\", "
    "\"rule\", \"value\", \"message_zh\", \"message_en\"}]}}."
)

docs = Blueprint("api_docs", __name__)


class Api(flask_smorest.Api):
    """flask-smorest's Api documenting errors with the spec's error schema; the app keeps its own handlers
    (HTML pages for the browser, JSON under /api/), so none is registered here."""

    ERROR_SCHEMA = Error

    def _register_error_handlers(self):
        """The app's error handlers stay in charge (see webapp.web.errors and the API blueprints)."""

    def _register_pagination_header(self):
        """No call pages its answers: leave flask-smorest's pagination header out of the document."""


def init_app(app: Flask) -> Api:
    """Create the app's Api, register the API blueprints on it and the docs page on the app."""
    from webapp.web import api, api_batches
    from webapp.web.extensions import csrf

    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    openapi = Api(app, spec_kwargs={"info": {"description": DESCRIPTION}})
    openapi.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer",
                                                       "description": "an API token (gs_...)"})
    for blueprint in (api.bp, api_batches.bp):
        csrf.exempt(blueprint)  # JSON in, JSON out: no cookie session, nothing a cross-site form could use
        openapi.register_blueprint(blueprint)
    _rule_choices(openapi, app.extensions["giantstep"].rule_choices)
    app.register_blueprint(docs)
    app.extensions["giantstep_openapi"] = openapi
    return openapi


def _rule_choices(openapi: Api, choices: tuple[str, ...]) -> None:
    """Document ``rules`` with the SME rule sets of this app's rule tables (what the calls check it against)."""
    for schema in openapi.spec.components.schemas.values():
        prop = schema.get("properties", {}).get("rules")
        if prop is not None and prop.get("nullable"):
            prop["enum"] = [*choices, None]


def document() -> dict:
    """The app's OpenAPI document as a dict."""
    return current_app.extensions["giantstep_openapi"].spec.to_dict()


@docs.get("/api/v1/docs")
def page():
    """The API's operations and schemas, from the OpenAPI document, as a page of this app."""
    spec = document()
    return render_template("api/docs.html", spec=spec, operations=list(_operations(spec)),
                           schemas=spec.get("components", {}).get("schemas", {}))


def _operations(spec: dict):
    """(method, path, operation) of the document, in path order."""
    for path, item in spec.get("paths", {}).items():
        for method in ("get", "post", "put", "patch", "delete"):
            if method in item:
                yield method.upper(), path, item[method]
