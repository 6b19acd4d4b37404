"""Blueprint "history": a consultant's clients, their titles and dated assessments, and exports.

Every view is login-only and reaches records through ``records.owned_*_or_404``.
"""

from __future__ import annotations

import datetime as dt
import io

from flask import Blueprint, abort, flash, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from webapp.web import exports, present, records
from webapp.web.assess import pdf_response, render_result
from webapp.web.forms import ClientForm, ConfirmForm, form_data, profile_form_class, title_form_class
from webapp.web.i18n import get_lang

bp = Blueprint("history", __name__)
DIMENSION_NAMES = {"zh": {"scale": "规模", "quality": "质量", "influence": "影响力", "globalisation": "全球化"},
                   "en": {"scale": "scale", "quality": "quality", "influence": "influence", "globalisation": "global"}}


@bp.before_request
@login_required
def _login_first():
    """Every page here needs a logged-in consultant."""


@bp.get("/clients")
def clients():
    """The consultant's clients, with a form to add one."""
    return render_template("history/clients.html", clients=current_user.clients, form=ClientForm())


@bp.post("/clients")
def create_client():
    """Add a client."""
    form = ClientForm()
    if not form.validate():
        return render_template("history/clients.html", clients=current_user.clients, form=form), 400
    client = records.create_client(form)
    return redirect(url_for("history.client", client_id=client.id))


@bp.get("/clients/<int:client_id>")
def client(client_id: int):
    """One client: trend of tier, scores, percentiles and readiness; titles and their re-review dates."""
    client = records.owned_client_or_404(client_id)
    rows = records.trend(client)
    chart, legend = present.trend_chart(rows, get_lang())
    return render_template("history/client.html", client=client, trend=rows, trend_chart=chart, trend_legend=legend,
                           titles=records.re_review_dates(client), title_form=title_form_class(get_lang())(),
                           confirm=ConfirmForm(), today=dt.date.today(), dimension_names=DIMENSION_NAMES[get_lang()])


@bp.post("/clients/<int:client_id>/titles")
def add_title(client_id: int):
    """Record a title the client holds and when it was granted."""
    client = records.owned_client_or_404(client_id)
    form = title_form_class(get_lang())()
    if form.validate():
        records.add_title(client, form)
    else:
        flash(_("Enter the title and the date it was granted."), "error")
    return redirect(url_for("history.client", client_id=client.id))


@bp.post("/titles/<int:title_id>/delete")
def delete_title(title_id: int):
    """Remove a recorded title."""
    title = records.owned_title_or_404(title_id)
    client_id = title.client_id
    _delete_checked(title)
    return redirect(url_for("history.client", client_id=client_id))


@bp.post("/clients/<int:client_id>/delete")
def delete_client(client_id: int):
    """Delete a client with all of its assessments."""
    _delete_checked(records.owned_client_or_404(client_id))
    flash(_("Client deleted."), "info")
    return redirect(url_for("history.clients"))


@bp.get("/assessments/<int:assessment_id>")
def assessment(assessment_id: int):
    """A saved assessment, shown as it was judged."""
    record = records.owned_assessment_or_404(assessment_id)
    options = {"rules": record.rules, "as_of": record.as_of, "mode": record.mode}
    return render_result(record.result, record.profile, options=options, record=record)


@bp.get("/assessments/<int:assessment_id>/edit")
def edit(assessment_id: int):
    """The full form prefilled with a saved assessment; submitting it saves a new one."""
    record = records.owned_assessment_or_404(assessment_id)
    data = {**record.profile, "rules": record.rules or "", "mode": record.mode}
    form = profile_form_class(get_lang())(formdata=None, data=form_data(data))
    form.variant.data, form.client_id.data = "full", str(record.client_id)
    return render_template("assess/form.html", form=form, quick=False, record=record)


@bp.get("/assessments/<int:assessment_id>/export.<fmt>")
def export(assessment_id: int, fmt: str):
    """Export a saved assessment as PDF, JSON or XLSX."""
    record = records.owned_assessment_or_404(assessment_id)
    if fmt == "pdf":
        return pdf_response(record.result, consultant=current_user.name, client=record.client.name)
    if fmt not in exports.FORMATS:
        abort(404)
    data, mimetype = exports.export(record, fmt, lang=get_lang())
    return send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True,
                     download_name=f"giantstep-{record.id}-{record.as_of.isoformat()}.{fmt}")


@bp.post("/assessments/<int:assessment_id>/delete")
def delete_assessment(assessment_id: int):
    """Delete one saved assessment."""
    record = records.owned_assessment_or_404(assessment_id)
    client_id = record.client_id
    _delete_checked(record)
    flash(_("Assessment deleted."), "info")
    return redirect(url_for("history.client", client_id=client_id))


def _delete_checked(obj) -> None:
    """Delete an owned object once the CSRF-protected confirm form validates."""
    if not ConfirmForm().validate():
        abort(400)
    records.delete(obj)
