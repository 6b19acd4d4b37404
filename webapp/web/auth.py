"""Blueprint "auth": register (password policy), log in (rate-limited per address and per account), log out
this browser or every browser of the account (server-side sessions, :mod:`webapp.web.sessions`)."""

from __future__ import annotations

import functools

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.web.db import db
from webapp.web.extensions import limiter
from webapp.web.forms import ConfirmForm, LoginForm, RegisterForm
from webapp.web.i18n import safe_next
from webapp.web.models import User
from webapp.web.sessions import end, end_all, start

bp = Blueprint("auth", __name__, url_prefix="/auth")


@functools.cache
def _dummy_hash() -> str:
    """A hash to check unknown e-mails against, so a login takes as long whether the account exists or not."""
    return generate_password_hash("not a password")


def _account_key() -> str:
    """The rate-limit key of the account a login names (its e-mail as typed, normalised)."""
    return "login-account:" + (request.form.get("email") or "").strip().lower()[:254]


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["REGISTER_RATE_LIMIT"], methods=["POST"])
def register():
    """Create a consultant account and log in."""
    form = RegisterForm()
    if form.validate_on_submit():
        email = form.email.data.lower()
        if db.session.scalar(db.select(User).where(User.email == email)) is None:
            user = User(email=email, name=form.name.data)
            user.set_password(form.password.data)
            db.session.add(user)
            db.session.commit()
            _start_session(user)
            return redirect(url_for("history.clients"))
        form.email.errors = [*form.email.errors, _("An account with this e-mail already exists.")]
    return render_template("auth/register.html", form=form), 400 if request.method == "POST" else 200


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
@limiter.limit(lambda: current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"], key_func=_account_key, methods=["POST"],
               deduct_when=lambda response: response.status_code != 302)  # failed attempts on one account
def login():
    """Log in with e-mail and password."""
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = db.session.scalar(db.select(User).where(User.email == form.email.data.lower()))
        if user is None:
            check_password_hash(_dummy_hash(), form.password.data)  # same work either way: no account probing
        elif user.check_password(form.password.data):
            _start_session(user)
            return redirect(safe_next(form.next.data, "history.clients"))
        flash(_("E-mail or password is wrong."), "error")
    return render_template("auth/login.html", form=form), 400 if request.method == "POST" else 200


@bp.post("/logout")
@login_required
def logout():
    """Log out: this browser's session ends on the server too, and the cookie (with any profile) is cleared."""
    if not ConfirmForm().validate():
        abort(400)
    end()
    return redirect(url_for("assess.index"))


@bp.post("/logout-everywhere")
@login_required
def logout_everywhere():
    """End every session of this account, on every browser and device (a lost laptop, a shared computer)."""
    if not ConfirmForm().validate():
        abort(400)
    ended = end_all(current_user._get_current_object())
    flash(_("Logged out on every device (%(n)d sessions ended).", n=ended), "info")
    return redirect(url_for("assess.index"))


def _start_session(user: User) -> None:
    """A fresh server-side session for the user (no fixation), keeping the language cookie."""
    start(user)
    flash(_("Welcome, %(name)s.", name=user.name), "info")


@bp.app_context_processor
def _logout_form():
    """The CSRF-protected log-out button in the page header."""
    # formdata=None: the button never reads the request body (an error page for a 413 must not read it again)
    return {"logout_form": ConfirmForm(formdata=None) if current_user.is_authenticated else None}
