"""Blueprint "assess": the quick check and the full form for one firm, its result page and PDF report.

Anonymous use stores nothing on the server: the validated profile travels in the signed session cookie
between the form and the result page. A consultant who picks a client saves a dated assessment instead.
"""

from __future__ import annotations

import datetime as dt
import io

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from webapp.reports.pdf import EDITIONS
from webapp.web import exports, insights, present, records, services
from webapp.web.branding import branding_of
from webapp.web.extensions import limiter
from webapp.web.forms import ConfirmForm, form_data, profile_form_class
from webapp.web.i18n import get_lang
from webapp.web.templating import tier_name

bp = Blueprint("assess", __name__)


@bp.get("/")
def index():
    """Landing page: what GiantStep answers, and the quick check."""
    return render_template("assess/index.html", form=_profile_form(), quick=True)


@bp.get("/assess")
def form():
    """The quick check, or the full form with ?full=1; ?edit=1 reloads the last profile."""
    full = request.args.get("full") == "1"
    edit = request.args.get("edit") == "1"
    profile = {**session.get("profile", {}), **session.get("options", {})} if edit else {}
    client_id = request.args.get("client", type=int) if current_user.is_authenticated else None
    if client_id and not profile:  # a new assessment of a client starts from its name, place and titles
        profile = records.client_prefill(records.owned_client_or_404(client_id))
    form = _profile_form(data=profile or None)
    form.variant.data = "full" if full else "quick"
    if client_id:
        form.client_id.data = str(client_id)
    return render_template("assess/form.html", form=form, quick=not full)


@bp.post("/assess")
def submit():
    """Validate the form; save it to a client or keep it in the session, then show the result."""
    form = _profile_form()
    if not form.validate():
        flash(_("Some values need attention: see the messages beside the fields."), "error")
        return render_template("assess/form.html", form=form, quick=form.variant.data != "full"), 400
    options = form.options()
    if form.client_id.data and current_user.is_authenticated:
        client = records.owned_client_or_404(int(form.client_id.data))
        outcome = services.assess_profile(form.clean, **options)
        record = records.save_assessment(client, form.clean, _json_options(options), outcome.result)
        return redirect(url_for("history.assessment", assessment_id=record.id))
    session["profile"], session["options"] = form.clean, _json_options(options)
    return redirect(url_for("assess.result"))


@bp.get("/assess/result")
def result():
    """The result page of the profile kept in the session."""
    profile, options = _session_profile()
    outcome = services.assess_profile(profile, **options)
    return render_result(outcome.result, profile, options=options)


@bp.post("/assess/report.pdf")
@limiter.limit(lambda: current_app.config["PDF_RATE_LIMIT"])
def report_pdf():
    """Download the assessment report as a PDF."""
    profile, options = _session_profile()
    return pdf_response(services.assess_profile(profile, **options).result, edition=pdf_edition(request.form),
                        **branding_of(current_user))


def render_result(result: dict, profile: dict, *, options: dict, record=None):
    """Render the result page (anonymous or saved) for ``result``."""
    lang = get_lang()
    return render_template(
        "assess/result.html", view=present.result_view(result, lang), result=result, profile=profile,
        options=options, inputs=present.profile_rows(profile, lang), bench=insights.benchmarks(result, lang),
        readiness=insights.readiness(result, lang), plan=insights.advice(result, lang),
        hnte=insights.hnte(result, profile, lang),
        record=record, confirm=ConfirmForm(), what_if_fields=services.WHAT_IF_FIELDS,
        summary=services.summarise(result))


def pdf_response(result: dict, **cover):
    """Send ``result`` as a PDF attachment named ``<client or firm>-<assessment date>-<tier>.pdf``."""
    buffer = io.BytesIO()
    services.render_pdf(result, buffer, lang=get_lang(), **cover)
    as_of = result.get("as_of", "assessment")
    stem = records.file_stem(cover.get("client") or result.get("firm_name"), as_of,
                             tier_name(result.get("tier", ""), get_lang()))
    return exports.attachment(buffer.getvalue(), "application/pdf", f"{stem}.pdf",
                              fallback=f"giantstep-{as_of}-{result.get('tier', '')}.pdf")


def pdf_edition(values) -> str:
    """The PDF edition asked for (``edition`` = full or client; anything else is the full report)."""
    return values.get("edition") if values.get("edition") in EDITIONS else "full"


def _profile_form(data: dict | None = None):
    """The profile form in the current language (prefilled from stored values on GET)."""
    form_class = profile_form_class(get_lang())
    return form_class() if data is None else form_class(formdata=None, data=form_data(data))


def _json_options(options: dict) -> dict:
    """Assessment options as JSON-ready values (the date as ISO text)."""
    as_of = options.get("as_of")
    return {**options, "as_of": as_of.isoformat() if as_of else None}


def _session_profile() -> tuple[dict, dict]:
    """The profile and options kept in the session; back to the form when there is none."""
    if "profile" not in session:
        abort(redirect(url_for("assess.form")))
    options = dict(session.get("options", {}))
    options["as_of"] = dt.date.fromisoformat(options["as_of"]) if options.get("as_of") else None
    return session["profile"], options
