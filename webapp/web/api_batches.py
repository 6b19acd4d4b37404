"""Blueprint "api_batches" at /api/v1/batches: batch jobs over HTTP, with an API token.

The same jobs, queue and files as the browser's batch pages: every call goes through :mod:`webapp.web.jobs`
(create, owner check, the job JSON, the files). Calls need ``Authorization: Bearer <token>`` (401 without a
valid one) and are rate-limited per token; another account's job is a 404, like one that does not exist.
"""

from __future__ import annotations

from flask import g, request, url_for

from webapp.web import api_schemas as s
from webapp.web import jobs, tokens
from webapp.web.api_errors import ApiBlueprint, ApiError, document_errors, json_errors
from webapp.web.extensions import limiter

bp = ApiBlueprint("api_batches", __name__, url_prefix="/api/v1/batches",
                  description="Batch jobs: upload a table of firms, follow the job, download the results. "
                              "Needs an API token; rate-limited per token.")
limiter.limit(tokens.token_rate_limit, key_func=tokens.rate_limit_key)(bp)
json_errors(bp)

SECURITY = [{"bearer": []}]
OPTIONS = ("rules", "as_of", "mode", "lang", "cohorts")
BINARY = {"schema": {"type": "string", "format": "binary"}}


@bp.url_value_preprocessor
def _upload_limit(endpoint, values):
    """A batch upload may be larger than other requests (the browser's batch limit)."""
    if endpoint == "api_batches.create":
        request.max_content_length = jobs.max_upload()


def _url(job, kind: str) -> str:
    """The API's download address of a job's file."""
    if kind == "reports":
        return url_for("api_batches.reports", job_id=job.id)
    return url_for(f"api_batches.results_{kind}", job_id=job.id)


def _job_json(job) -> dict:
    return jobs.job_json(job, lang=(job.options or {}).get("lang") or "zh", url=_url)


@bp.route("", methods=["POST"])
@tokens.require_token
@bp.arguments(s.BatchUpload, location="multipart")
@bp.response(202, s.Job, headers={"Location": {"description": "the job's address, /api/v1/batches/<id>",
                                               "schema": {"type": "string"}}})
@bp.doc(security=SECURITY)
@document_errors(bp, 400, 401, 413, 429)
def create(form: dict):
    """Start a batch job

    Multipart form: `file` (CSV, XLSX or Parquet; canonical, Chinese or English headers, as the template) and
    the options of `giantstep batch`: `rules`, `as_of`, `mode`, `lang`, `cohorts`. Answers 202 with the job
    and `Location: /api/v1/batches/<id>`; follow it until `status` is `done` (or `failed`, `cancelled`).
    """
    try:
        job = jobs.create_job(g.api_user, form["file"], {k: form.get(k) for k in OPTIONS})
    except jobs.JobInputError as exc:
        raise ApiError(400, "the job was not started", exc.errors) from None
    return _job_json(job), 202, {"Location": url_for("api_batches.job", job_id=job.id)}


@bp.route("/<job_id>", methods=["GET"])
@tokens.require_token
@bp.response(200, s.Job)
@bp.doc(security=SECURITY)
@document_errors(bp, 401, 404, 429)
def job(job_id: str):
    """A batch job

    Status (`queued`, `running`, `done`, `failed`, `cancelled`), rows assessed and failed, the error of a job
    that failed, and the downloads once it is done.
    """
    return _job_json(jobs.owned_job_or_404(job_id, g.api_user))


def _file_route(kind: str, suffix: str, mimetype: str, summary: str):
    """One download call of a finished job's files."""

    @tokens.require_token
    @bp.doc(security=SECURITY, summary=summary, description=(
        f"{summary} of a finished job: the input columns in place, result columns added, one row per input row"
        if kind != "reports" else f"{summary}: one PDF report per valid firm, named after its row and name"),
        responses={200: {"description": summary, "content": {mimetype: BINARY}}})
    @document_errors(bp, 401, 404, 429)
    def view(job_id: str):
        return jobs.job_file(jobs.owned_job_or_404(job_id, g.api_user), kind)

    view.__name__ = f"results_{kind}" if kind != "reports" else "reports"
    bp.route(f"/<job_id>/{suffix}", methods=["GET"], endpoint=view.__name__)(view)


for _kind, _suffix in (("csv", "results.csv"), ("xlsx", "results.xlsx"), ("parquet", "results.parquet"),
                       ("reports", "reports.zip")):
    _file_route(_kind, _suffix, jobs.MIMETYPES[_kind],
                "The PDF reports (ZIP)" if _kind == "reports" else f"The results as {_kind.upper()}")
