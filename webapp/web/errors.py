"""Errors: one ``error_response`` helper; app-wide handlers that answer JSON or HTML by what the client wants."""

from __future__ import annotations

from flask import Blueprint, Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.http import HTTP_STATUS_CODES

bp = Blueprint("errors", __name__)


def error_response(status: int, message: str | None = None, **extra):
    """A JSON error body ``{"error": {"status", "title", "message", ...}}`` with that status."""
    body = {"status": status, "title": HTTP_STATUS_CODES.get(status, "Unknown error")}
    if message:
        body["message"] = message
    body.update(extra)
    return jsonify(error=body), status


def wants_json() -> bool:
    """True for the API and for clients that prefer JSON over HTML."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


_TITLES = {400: _l("Bad request"), 403: _l("Forbidden"), 404: _l("Page not found"), 405: _l("Method not allowed"),
           413: _l("Request too large"), 429: _l("Too many attempts"), 500: _l("Something went wrong")}


def handle_http_error(exc: HTTPException):
    """Render an HTTP error as JSON or as a page in the user's language."""
    status = exc.code or 500
    if wants_json():
        return error_response(status, exc.description)
    return render_template("errors/error.html", status=status, title=_TITLES.get(status, _("Error")),
                           message=_page_message(status, exc)), status


def _page_message(status: int, exc: HTTPException) -> str:
    """A message for people: the view's own description for 404s it raised on purpose, else a generic one."""
    if isinstance(exc, CSRFError):
        return _("The form expired or was sent from another page. Go back, reload it and try again.")
    messages = {
        404: _("There is nothing here, or it is not yours to see."),
        413: _("The upload is larger than this installation accepts."),
        429: _("Too many attempts. Wait a minute and try again."),
        500: _("The error has been logged. Please try again."),
    }
    if status == 404 and exc.description and not exc.description.startswith("The requested URL"):
        return exc.description
    return messages.get(status, _("The request could not be handled."))


def handle_unexpected(exc: Exception):
    """Log an unexpected exception and answer with a 500 that reveals nothing."""
    from flask import current_app

    current_app.logger.exception("unhandled error")
    return handle_http_error(InternalServerError())


def init_app(app: Flask) -> None:
    """Register the handlers for every HTTP error and for unexpected exceptions."""
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected)
