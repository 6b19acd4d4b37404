"""Batch jobs of an account: create, look up (owner only), describe as JSON, serve files, cancel, delete.

The one implementation behind the browser pages (``webapp/web/batches.py``) and the HTTP API:

* :func:`create_job` ``(user, upload, options) -> BatchJob`` stores the upload in the job's folder
  (``<instance>/batches/<id>/``) and puts the job on the queue; bad options or files raise :class:`JobInputError`
  whose ``errors`` are ``{"field", "rule", "value", "message_zh", "message_en"}`` dicts.
* :func:`owned_job_or_404` ``(job_id, user)``: another account's job is a 404, like one that does not exist.
* :func:`job_json` ``(job, lang=..., url=...)``: the contract of spec/batch-and-api.md.
* :func:`job_file` ``(job, kind)`` with kind csv, xlsx, parquet or reports: a Flask response, 404 until ready.
* :func:`cancel_job`, :func:`delete_job`, :func:`list_jobs`.
"""

from __future__ import annotations

import datetime as dt
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from flask import abort, current_app, send_file, url_for

from webapp.web import job_runner, services
from webapp.web.db import db
from webapp.web.jobqueue import get_queue
from webapp.web.models import BatchJob

EXTENSIONS = (".csv", ".xlsx", ".parquet")
MIMETYPES = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             "parquet": "application/vnd.apache.parquet", "reports": "application/zip"}
MODES = ("new", "review")
LANGS = ("zh", "en")


class JobInputError(ValueError):
    """An upload or option that cannot start a job; ``errors`` name the field and the rule in zh and en."""

    def __init__(self, errors: list[dict]):
        super().__init__("; ".join(e["message_en"] for e in errors))
        self.errors = errors


def _problem(field: str, rule: str, value, zh: str, en: str) -> dict:
    return {"field": field, "rule": rule, "value": None if value is None else str(value)[:100],
            "message_zh": zh, "message_en": en}


def check_options(options: dict) -> dict:
    """Validated job options ``rules``, ``as_of``, ``mode``, ``lang``, ``cohorts`` (text as from a form).

    Raises
    ------
    JobInputError
        Naming each bad option and its rule.
    """
    svc = services.get_services()
    problems, out = [], {}
    rules = (options.get("rules") or "").strip() or None
    if rules is not None and rules not in svc.rule_choices:
        problems.append(_problem("rules", "choice", rules, f"规则须为 {'、'.join(svc.rule_choices)} 之一或留空",
                                 f"rules must be one of {', '.join(svc.rule_choices)} or empty"))
    out["rules"] = rules
    as_of = options.get("as_of") or None
    if isinstance(as_of, dt.date):
        as_of = as_of.isoformat()
    elif as_of is not None:
        try:
            as_of = dt.date.fromisoformat(str(as_of).strip()).isoformat()
        except ValueError:
            problems.append(_problem("as_of", "date", as_of, "评估日期须为 YYYY-MM-DD 格式的日期",
                                     "as_of must be a date written YYYY-MM-DD"))
    out["as_of"] = as_of
    for name, allowed in (("mode", MODES), ("lang", LANGS)):
        value = (options.get(name) or allowed[0]).strip()
        if value not in allowed:
            problems.append(_problem(name, "choice", value, f"{name} 须为 {' / '.join(allowed)} 之一",
                                     f"{name} must be one of {', '.join(allowed)}"))
        out[name] = value
    cohorts = options.get("cohorts") or []
    if isinstance(cohorts, str):
        cohorts = [c.strip() for c in cohorts.split(",") if c.strip()]
    unknown = [c for c in cohorts if c not in svc.cohorts.ids]
    if unknown:
        problems.append(_problem("cohorts", "choice", ",".join(unknown), f"未知的对标群体：{'、'.join(unknown)}",
                                 f"unknown cohort(s): {', '.join(unknown)}"))
    out["cohorts"] = list(cohorts)
    if problems:
        raise JobInputError(problems)
    return out


def create_job(user, upload, options: dict | None = None) -> BatchJob:
    """Store an uploaded table (a werkzeug ``FileStorage``) as a new job of ``user`` and queue it.

    Raises
    ------
    JobInputError
        No file, an unsupported file type, an empty file or a bad option.
    """
    checked = check_options(options or {})
    name = (getattr(upload, "filename", None) or "").strip()
    if not name:
        raise JobInputError([_problem("file", "required", None, "请选择要上传的 CSV、XLSX 或 Parquet 文件",
                                      "choose a CSV, XLSX or Parquet file to upload")])
    suffix = Path(name).suffix.lower()
    if suffix not in EXTENSIONS:
        raise JobInputError([_problem("file", "type", name, "文件须为 .csv、.xlsx 或 .parquet",
                                      "the file must be .csv, .xlsx or .parquet")])
    job = BatchJob(id=secrets.token_hex(8), owner_id=user.id, status="queued", filename=name[:255],
                   input_name=f"input{suffix}", options=checked)
    folder = job_runner.job_folder(job.id)
    folder.mkdir(parents=True, exist_ok=False)
    upload.save(str(folder / job.input_name))
    if (folder / job.input_name).stat().st_size == 0:
        shutil.rmtree(folder, ignore_errors=True)
        raise JobInputError([_problem("file", "empty", name, "上传的文件是空的", "the uploaded file is empty")])
    db.session.add(job)
    db.session.commit()
    get_queue().enqueue(job.id)
    db.session.refresh(job)
    return job


def owned_job_or_404(job_id: str, user) -> BatchJob:
    """The job ``job_id`` of ``user``, or 404 (for another account's job too)."""
    job = db.session.scalar(sa.select(BatchJob).where(BatchJob.id == str(job_id), BatchJob.owner_id == user.id))
    if job is None:
        abort(404)
    return job


def list_jobs(user) -> list[BatchJob]:
    """The account's jobs, newest first."""
    return list(db.session.scalars(sa.select(BatchJob).where(BatchJob.owner_id == user.id)
                                   .order_by(BatchJob.created_at.desc())))


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.replace(microsecond=0).isoformat() + "Z"


def progress(job: BatchJob) -> float:
    """Share of the work done, 0-1: the first half assesses the rows, the second writes one report per firm."""
    if job.status == "done":
        return 1.0
    first = job.rows_done / job.rows_total if job.rows_total else 0.0
    second = job.reports_done / job.reports_total if job.reports_total else 0.0
    return round(min(1.0, 0.5 * first + 0.5 * second), 4)


def _default_url(job: BatchJob, kind: str) -> str:
    return url_for("batches.file", job_id=job.id, name="reports.zip" if kind == "reports" else f"results.{kind}")


def job_json(job: BatchJob, *, lang: str = "zh", url: Callable[[BatchJob, str], str] | None = None) -> dict:
    """The job as the spec's JSON; ``url(job, kind)`` makes download links (default: the browser's routes).

    A download is null until its file exists; ``error`` is in ``lang``.
    """
    url = url or _default_url
    folder = job_runner.job_folder(job.id)
    downloads = {kind: url(job, kind) if (folder / name).exists() and job.status == "done" else None
                 for kind, name in job_runner.FILES.items()}
    return {"id": job.id, "status": job.status, "rows_total": job.rows_total, "rows_done": job.rows_done,
            "rows_failed": job.rows_failed, "created_at": _iso(job.created_at), "finished_at": _iso(job.finished_at),
            "error": (job.error_zh if lang == "zh" else job.error_en) if job.status == "failed" else None,
            "downloads": downloads, "filename": job.filename, "progress": round(progress(job), 4),
            "reports_total": job.reports_total, "reports_done": job.reports_done}


def job_file(job: BatchJob, kind: str, *, lang: str = "zh"):
    """A download of a finished job (csv, xlsx, parquet or reports), or 404."""
    name = job_runner.FILES.get(kind)
    path = job_runner.job_folder(job.id) / name if name else None
    if path is None or job.status != "done" or not path.exists():
        abort(404)
    stem = Path(job.filename).stem or "batch"
    download = f"{stem}-reports.zip" if kind == "reports" else f"{stem}-results.{kind}"
    return send_file(path, mimetype=MIMETYPES[kind], as_attachment=True, download_name=download, max_age=0)


def cancel_job(job: BatchJob) -> bool:
    """Stop a queued or running job; False when it had already finished."""
    changed = job_runner.update(job.id, where=("queued", "running"), status="cancelled",
                                 finished_at=job_runner.now(), heartbeat_at=None)
    db.session.refresh(job)
    return changed


def delete_job(job: BatchJob) -> None:
    """Remove a job and its files (a running one is stopped first)."""
    cancel_job(job)
    folder = job_runner.job_folder(job.id)
    db.session.delete(job)
    db.session.commit()
    shutil.rmtree(folder, ignore_errors=True)


def max_upload(app=None) -> int:
    """The upload limit of a batch file in bytes (``BATCH_MAX_UPLOAD``, 50 MB by default)."""
    return int((app or current_app).config.get("BATCH_MAX_UPLOAD", 50 * 1024 * 1024))
