"""Blueprint "auth": register, log in (rate-limited) and log out consultants."""

from __future__ import annotations

import functools

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.web.db import db
from webapp.web.extensions import limiter
from webapp.web.forms import ConfirmForm, LoginForm, RegisterForm
from webapp.web.i18n import safe_next
from webapp.web.models import User

bp = Blueprint("auth", __name__, url_prefix="/auth")


@functools.cache
def _dummy_hash() -> str:
    """A hash to check unknown e-mails against, so a login takes as long whether the account exists or not."""
    return generate_password_hash("not a password")


def load_user(user_id: str) -> User | None:
    """Flask-Login's user loader."""
    return db.session.get(User, int(user_id)) if user_id.isdigit() else None


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
    """Log out and forget the session (including any anonymous profile)."""
    if not ConfirmForm().validate():
        abort(400)
    logout_user()
    session.clear()
    return redirect(url_for("assess.index"))


def _start_session(user: User) -> None:
    """A fresh session for the user (no fixation), keeping the language cookie."""
    session.clear()
    login_user(user)
    flash(_("Welcome, %(name)s.", name=user.name), "info")


@bp.app_context_processor
def _logout_form():
    """The CSRF-protected log-out button in the page header."""
    # formdata=None: the button never reads the request body (an error page for a 413 must not read it again)
    return {"logout_form": ConfirmForm(formdata=None) if current_user.is_authenticated else None}
