"""Blueprint "history": a consultant's clients, their titles and dated assessments, and exports.

Every view is login-only and reaches records through ``records.owned_*_or_404``.
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from webapp.web import exports, present, records, reminders
from webapp.web.assess import pdf_edition, pdf_response, render_result
from webapp.web.branding import branding_of
from webapp.web.forms import ClientForm, ConfirmForm, form_data, profile_form_class, title_form_class
from webapp.web.i18n import get_lang
from webapp.web.templating import tier_name

bp = Blueprint("history", __name__)
DIMENSION_NAMES = {"zh": {"scale": "规模", "quality": "质量", "influence": "影响力", "globalisation": "全球化"},
                   "en": {"scale": "scale", "quality": "quality", "influence": "influence", "globalisation": "global"}}


@bp.before_request
@login_required
def _login_first():
    """Every page here needs a logged-in consultant."""


@bp.get("/clients")
def clients():
    """The consultant's clients (searched and sorted by the query string), with a form to add one."""
    return _clients_page(ClientForm())


@bp.post("/clients")
def create_client():
    """Add a client."""
    form = ClientForm()
    if not form.validate():
        return _clients_page(form), 400
    client = records.create_client(form)
    return redirect(url_for("history.client", client_id=client.id))


def _clients_page(form):
    query = request.args.get("q", "").strip()[:100]
    sort = request.args.get("sort") if request.args.get("sort") in records.SORTS else "name"
    return render_template("history/clients.html", rows=records.client_rows(query, sort), query=query, sort=sort,
                           sorts=records.SORTS, total=len(current_user.clients), form=form)


@bp.route("/clients/<int:client_id>/edit", methods=["GET", "POST"])
def edit_client(client_id: int):
    """Rename a client or change its place and notes."""
    client = records.owned_client_or_404(client_id)
    form = ClientForm(obj=client)
    if request.method == "POST":
        if not form.validate():
            return render_template("history/client_edit.html", client=client, form=form), 400
        records.update_client(client, form)
        flash(_("Client saved."), "info")
        return redirect(url_for("history.client", client_id=client.id))
    return render_template("history/client_edit.html", client=client, form=form)


@bp.get("/clients/<int:client_id>")
def client(client_id: int):
    """One client: trend of tier, scores, percentiles and readiness; titles and their re-review dates."""
    client = records.owned_client_or_404(client_id)
    rows = records.trend(client)
    chart, legend = present.trend_chart(rows, get_lang())
    return render_template("history/client.html", client=client, trend=rows, trend_chart=chart, trend_legend=legend,
                           titles=records.re_review_dates(client), title_form=title_form_class(get_lang())(),
                           confirm=ConfirmForm(), today=dt.date.today(), dimension_names=DIMENSION_NAMES[get_lang()])


@bp.get("/clients/<int:client_id>/reviews.ics")
def reviews_ics(client_id: int):
    """The client's re-review dates as an iCalendar file, with reminders before each."""
    client = records.owned_client_or_404(client_id)
    lang = get_lang()
    rows = records.re_review_dates(client)
    data = reminders.calendar(client.name, rows, {r["title"].tier: tier_name(r["title"].tier, lang) for r in rows},
                              lang=lang)
    stem = records.file_stem(client.name, _("re-review"), None)
    return exports.attachment(data, "text/calendar", f"{stem}.ics", fallback=f"giantstep-client-{client.id}.ics")


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
    """Remove a recorded title, once confirmed."""
    title = records.owned_title_or_404(title_id)
    lang = get_lang()
    return _delete_confirmed(
        title, question=_("Remove the title %(title)s granted on %(date)s from %(client)s?",
                          title=tier_name(title.tier, lang), date=title.granted_on.isoformat(),
                          client=title.client.name),
        back=url_for("history.client", client_id=title.client_id), done=_("Title removed."))


@bp.post("/clients/<int:client_id>/delete")
def delete_client(client_id: int):
    """Delete a client with all of its assessments, once confirmed."""
    client = records.owned_client_or_404(client_id)
    return _delete_confirmed(
        client, question=_("Delete %(client)s and all of its %(n)s assessments and %(t)s titles?",
                           client=client.name, n=len(client.assessments), t=len(client.titles)),
        back=url_for("history.client", client_id=client.id), done=_("Client deleted."),
        then=url_for("history.clients"))


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
    """Export a saved assessment as PDF, JSON or XLSX, named ``<client>-<assessment date>-<tier>.<fmt>``."""
    record = records.owned_assessment_or_404(assessment_id)
    if fmt == "pdf":  # ?edition=client: the client edition, without the method appendix
        return pdf_response(record.result, client=record.client.name, edition=pdf_edition(request.args),
                            **branding_of(current_user))
    if fmt not in exports.FORMATS:
        abort(404)
    data, mimetype = exports.export(record, fmt, lang=get_lang(), **branding_of(current_user))
    stem = records.file_stem(record.client.name, record.as_of.isoformat(), tier_name(record.tier, get_lang()))
    return exports.attachment(data, mimetype, f"{stem}.{fmt}",
                              fallback=f"giantstep-{record.id}-{record.as_of.isoformat()}-{record.tier}.{fmt}")


@bp.post("/assessments/<int:assessment_id>/delete")
def delete_assessment(assessment_id: int):
    """Delete one saved assessment, once confirmed."""
    record = records.owned_assessment_or_404(assessment_id)
    return _delete_confirmed(
        record, question=_("Delete the assessment of %(date)s (%(tier)s) of %(client)s?",
                           date=record.as_of.isoformat(), tier=tier_name(record.tier, get_lang()),
                           client=record.client.name),
        back=url_for("history.assessment", assessment_id=record.id), done=_("Assessment deleted."),
        then=url_for("history.client", client_id=record.client_id))


def _delete_confirmed(obj, *, question: str, back: str, done: str, then: str | None = None):
    """A delete button posts here without ``confirmed``: answer with a page that asks, naming what goes.
    The page's own button posts again with ``confirmed=yes``, and only then is ``obj`` deleted."""
    form = ConfirmForm()
    if not form.validate():
        abort(400)
    if request.form.get("confirmed") != "yes":
        return render_template("history/confirm.html", question=question, back=back, action=request.path,
                               confirm=form)
    records.delete(obj)
    flash(done, "info")
    return redirect(then or back)
