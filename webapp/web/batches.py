"""Blueprint "batches": upload a table of firms, follow its job, read the portfolio, download the results.

Every view is login-only and reaches jobs through ``jobs.owned_job_or_404`` (another account's job is a 404).
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from webapp.engine.io.template import write_template
from webapp.web import job_runner, jobs, portfolio, services
from webapp.web.forms import ConfirmForm
from webapp.web.i18n import get_lang

bp = Blueprint("batches", __name__)
FILE_NAMES = {"results.csv": "csv", "results.xlsx": "xlsx", "results.parquet": "parquet", "reports.zip": "reports"}


@bp.url_value_preprocessor
def _upload_limit(endpoint, values):
    """Batch uploads may be larger than other forms (runs before CSRF protection reads the body)."""
    if endpoint == "batches.create":
        request.max_content_length = jobs.max_upload()


@bp.context_processor
def _words():
    """Status and dimension words for the batch templates, in the user's language."""
    return {"status_names": {"queued": _("queued"), "running": _("running"), "done": _("done"),
                             "failed": _("failed"), "cancelled": _("cancelled")},
            "dimension_names": {"scale": _("scale"), "quality": _("quality"), "influence": _("influence"),
                                "globalisation": _("globalisation")}}


@bp.before_request
@login_required
def _login_first():
    """Every page here needs a signed-in account."""


def _index(errors=None, status=200):
    svc = services.get_services()
    return render_template("batches/index.html", jobs=jobs.list_jobs(current_user), form=ConfirmForm(),
                           errors=errors or [], rule_choices=svc.rule_choices, cohort_ids=svc.cohorts.ids,
                           max_mb=jobs.max_upload() / 1024 / 1024, headers=_accepted_headers(),
                           values=request.form if request.method == "POST" else {}), status


@bp.get("/batches")
def index():
    """The account's jobs, newest first, and the upload form."""
    return _index()


@bp.post("/batches")
def create():
    """Start a job from an uploaded table; answer 303 to its page."""
    if not ConfirmForm().validate():
        abort(400)
    options = {k: request.form.get(k) for k in ("rules", "as_of", "mode", "lang", "cohorts")}
    options["lang"] = options["lang"] or get_lang()
    try:
        job = jobs.create_job(current_user, request.files.get("file"), options)
    except jobs.JobInputError as exc:
        return _index(exc.errors, 400)
    return redirect(url_for("batches.job", job_id=job.id), code=303)


@bp.get("/batches/template.<ext>")
def template(ext: str):
    """The input template (.xlsx with a help sheet, or .csv) with bilingual headers and one example row."""
    if ext not in ("xlsx", "csv"):
        abort(404)
    with tempfile.TemporaryDirectory() as tmp:
        data = write_template(Path(tmp) / f"template.{ext}", lang=get_lang()).read_bytes()
    return send_file(io.BytesIO(data), mimetype=jobs.MIMETYPES[ext], as_attachment=True,
                     download_name=f"giantstep-template.{ext}")


@bp.get("/batches/<job_id>")
def job(job_id: str):
    """The job page: progress while it runs; summary, results table and downloads when done."""
    item = jobs.owned_job_or_404(job_id, current_user)
    data = jobs.job_json(item, lang=get_lang())
    table, levels = None, _levels()
    path = job_runner.job_folder(item.id) / job_runner.TABLE_FILE
    if item.status == "done" and path.exists():
        try:
            page = max(1, int(request.args.get("page", "1")))
        except ValueError:
            page = 1
        table = portfolio.table_page(path, tier=request.args.get("tier", ""), status=request.args.get("status", ""),
                                     sort=request.args.get("sort", "row"), desc=request.args.get("dir") == "desc",
                                     page=page, levels=levels)
    return render_template("batches/job.html", job=item, data=data, summary=item.summary, table=table,
                           args=request.args, form=ConfirmForm(), sorts=portfolio.SORTS)


@bp.get("/batches/<job_id>.json")
def job_json(job_id: str):
    """The job's status as JSON (what the progress bar polls)."""
    item = jobs.owned_job_or_404(job_id, current_user)
    response = jsonify(jobs.job_json(item, lang=get_lang()))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/batches/<job_id>/<name>")
def file(job_id: str, name: str):
    """results.csv, results.xlsx, results.parquet or reports.zip of a finished job."""
    item = jobs.owned_job_or_404(job_id, current_user)
    if name not in FILE_NAMES:
        abort(404)
    return jobs.job_file(item, FILE_NAMES[name])


@bp.post("/batches/<job_id>/cancel")
def cancel(job_id: str):
    """Stop a queued or running job."""
    item = jobs.owned_job_or_404(job_id, current_user)
    if not ConfirmForm().validate():
        abort(400)
    if jobs.cancel_job(item):
        flash(_("The job was cancelled."), "info")
    return redirect(url_for("batches.job", job_id=item.id), code=303)


@bp.post("/batches/<job_id>/delete")
def delete(job_id: str):
    """Remove a job and its files."""
    item = jobs.owned_job_or_404(job_id, current_user)
    if not ConfirmForm().validate():
        abort(400)
    jobs.delete_job(item)
    flash(_("The job and its files were deleted."), "info")
    return redirect(url_for("batches.index"), code=303)


def _levels() -> dict:
    """Tier id -> ladder level, for sorting by tier."""
    out = {"none": 0}
    for table in services.get_services().rule_book.tables.values():
        for tid, tier in table.tiers.items():
            out.setdefault(tid, getattr(tier, "level", 0))
    return out


def _accepted_headers() -> list[tuple[str, str, str]]:
    """(canonical name, zh label, en label) of every field, for the upload page's list of headers."""
    from webapp import fields

    return [(s.name, s.label_zh, s.label_en) for s in fields.REGISTRY]
