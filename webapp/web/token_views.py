"""Blueprint "tokens": a signed-in consultant creates, names, lists and revokes API tokens (/account/tokens).

A new token's secret is shown once, on the page that answers its creation; only its hash is kept.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms import StringField
from wtforms.validators import Length, Optional

from webapp.web import tokens
from webapp.web.forms import ConfirmForm, FlaskForm

bp = Blueprint("tokens", __name__, url_prefix="/account/tokens")


class TokenForm(FlaskForm):
    """Name of a new token (optional: a dated name is given)."""

    name = StringField(_l("Name"), validators=[Optional(), Length(max=tokens.NAME_MAX)],
                       filters=[lambda value: value.strip() if isinstance(value, str) else value])


@bp.get("")
@login_required
def index():
    """The account's tokens and the form to create one."""
    return _page(TokenForm())


@bp.post("")
@login_required
def create():
    """Create a token and show its secret once."""
    form = TokenForm()
    if not form.validate_on_submit():
        return _page(form), 400
    token, secret = tokens.create_token(current_user, form.name.data)
    return _page(TokenForm(formdata=None), new_token=token, secret=secret)


@bp.post("/<int:token_id>/revoke")
@login_required
def revoke(token_id: int):
    """Revoke one of the account's tokens (another account's: 404)."""
    if not ConfirmForm().validate():
        abort(400)
    token = tokens.revoke_token(current_user, token_id)
    if token is None:
        abort(404)
    flash(_("Token “%(name)s” revoked: calls with it are refused from now on.", name=token.name), "info")
    return redirect(url_for("tokens.index"))


def _page(form: TokenForm, **extra):
    return render_template("account/tokens.html", form=form, tokens=tokens.list_tokens(current_user),
                           confirm=ConfirmForm(), api_base=request.url_root.rstrip("/") + "/api/v1", **extra)
