"""Blueprint "branding": a consultant's practice name and logo, printed on PDF covers and XLSX exports.

A logo is checked by its content, not its name: it must decode as a PNG or JPEG image of at most
``LOGO_MAX_BYTES`` and ``LOGO_MAX_INPUT_SIDE`` pixels a side; it is then re-encoded as a PNG of at most
``LOGO_MAX_SIDE`` pixels a side, so what is stored and embedded is an image Pillow wrote, without the upload's metadata.
"""

from __future__ import annotations

import io

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf.file import FileField
from PIL import Image, UnidentifiedImageError
from wtforms import BooleanField, StringField
from wtforms.validators import Length, Optional

from webapp.web.db import db
from webapp.web.forms import FlaskForm
from webapp.web.models import Branding

bp = Blueprint("branding", __name__, url_prefix="/account")
LOGO_MAX_BYTES = 1024 * 1024
LOGO_MAX_INPUT_SIDE = 5000  # checked from the header, before the image is decoded
LOGO_MAX_SIDE = 1200
LOGO_FORMATS = ("PNG", "JPEG")


class BrandingForm(FlaskForm):
    """Practice name, a logo file, or removing the logo."""

    practice_name = StringField(_l("Practice name"), validators=[Optional(), Length(max=200)],
                                filters=[lambda v: v.strip() if isinstance(v, str) else v])
    logo = FileField(_l("Logo (PNG or JPEG, at most 1 MB)"))
    remove_logo = BooleanField(_l("Remove the logo"))


class LogoError(ValueError):
    """An upload that is not a usable logo; the message says why, in the user's language."""


def clean_logo(data: bytes) -> bytes:
    """The PNG bytes to store for an uploaded logo, or LogoError naming what is wrong with it."""
    if len(data) > LOGO_MAX_BYTES:
        raise LogoError(_("The logo is %(kb)s KB; at most 1,024 KB (1 MB) is accepted.", kb=f"{len(data) // 1024:,}"))
    try:
        image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise LogoError(_("The logo must be a PNG or JPEG image; this file is not one.")) from None
    if image.format not in LOGO_FORMATS:
        raise LogoError(_("The logo must be a PNG or JPEG image; this file is %(format)s.", format=image.format))
    width, height = image.size
    if max(width, height) > LOGO_MAX_INPUT_SIDE or min(width, height) < 16:
        raise LogoError(_("The logo is %(w)s × %(h)s pixels; use one between 16 and 5,000 pixels a side.",
                          w=f"{width:,}", h=f"{height:,}"))
    try:
        image.load()
    except (OSError, SyntaxError):  # truncated or corrupt pixel data
        raise LogoError(_("The logo file is damaged: it could not be read to the end.")) from None
    image = image.convert("RGBA") if image.mode in ("P", "LA", "RGBA", "PA") else image.convert("RGB")
    image.thumbnail((LOGO_MAX_SIDE, LOGO_MAX_SIDE))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def branding_of(user) -> dict:
    """The keyword arguments a PDF or XLSX export takes for ``user``'s branding (empty parts left out)."""
    if user is None or not user.is_authenticated:
        return {}
    row = user.branding
    out = {"consultant": user.name}
    if row is not None and row.practice_name:
        out["practice"] = row.practice_name
    if row is not None and row.logo:
        out["logo"] = row.logo
    return out


@bp.before_request
@login_required
def _login_first():
    """Only a logged-in consultant has branding."""


@bp.route("/branding", methods=["GET", "POST"])
def branding():
    """Show and change the practice name and logo."""
    row = current_user.branding or Branding(user_id=current_user.id)
    form = BrandingForm(practice_name=row.practice_name)
    if form.validate_on_submit():
        upload, data = form.logo.data, b""
        if upload:
            with upload.stream:  # a large upload is spooled to a temporary file: close it
                data = upload.stream.read(LOGO_MAX_BYTES + 1)
        try:
            logo = clean_logo(data) if data else None
        except LogoError as error:
            form.logo.errors = [*form.logo.errors, str(error)]
            return render_template("history/branding.html", form=form, branding=row), 400
        row.practice_name = form.practice_name.data or None
        if logo is not None:
            row.logo = logo
        elif form.remove_logo.data:
            row.logo = None
        current_user.branding = row
        db.session.commit()
        flash(_("Branding saved: it appears on your PDF reports and XLSX exports."), "info")
        return redirect(url_for("branding.branding"))
    status = 400 if form.errors else 200
    return render_template("history/branding.html", form=form, branding=row), status


@bp.get("/logo.png")
def logo():
    """The current consultant's logo (for the branding page preview)."""
    row = current_user.branding
    if row is None or not row.logo:
        abort(404)
    return Response(row.logo, mimetype="image/png")
