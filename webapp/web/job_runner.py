"""What a queued batch job does, run by the queue's consumer inside an app context.

A job is claimed (``queued`` → ``running``, one atomic update, so a task delivered twice runs once), then:

1. the engine (:func:`webapp.engine.batch.run_batch`) writes ``results.parquet``, the ``giantstep batch``
   output, from which ``results.csv`` and ``results.xlsx`` are written;
2. every valid firm is judged once more in chunks for its result contract, which gives one PDF report per
   firm (``reports.zip``), the portfolio summary and the results table of the job page.

While it runs a thread refreshes ``heartbeat_at``; :func:`recover_jobs` (at consumer start and every minute)
sends a job whose heartbeat stopped (a server that was stopped or killed) back to the queue, or fails it with
the reason once it was tried ``JOB_MAX_ATTEMPTS`` times, so no job stays ``running`` for ever.
"""

from __future__ import annotations

import datetime as dt
import shutil
import threading
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from flask import current_app

from webapp.engine.batch import BatchCancelled, run_batch
from webapp.engine.io.formats import TableError
from webapp.engine.io.tables import read_table, write_table
from webapp.web import portfolio
from webapp.web.db import db
from webapp.web.models import BatchJob

STATUSES = ("queued", "running", "done", "failed", "cancelled")
FINISHED = ("done", "failed", "cancelled")
FILES = {"csv": "results.csv", "xlsx": "results.xlsx", "parquet": "results.parquet", "reports": "reports.zip"}
TABLE_FILE = "table.parquet"
REPORT_CHUNK = 50  # firms judged together for their reports


class JobCancelled(Exception):
    """Raised inside a run when its owner cancelled or deleted the job."""


def now() -> dt.datetime:
    """Naive UTC, as the models store it."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def jobs_folder(app=None) -> Path:
    """``<instance>/batches``: one folder per job."""
    return Path((app or current_app).instance_path) / "batches"


def job_folder(job_id: str, app=None) -> Path:
    """The folder of one job's input and output files."""
    return jobs_folder(app) / job_id


def update(job_id: str, *, where: tuple[str, ...] | None = None, **values) -> bool:
    """Set columns of a job in one statement (only while its status is in ``where``); True if a row changed."""
    stmt = sa.update(BatchJob).where(BatchJob.id == job_id)
    if where:
        stmt = stmt.where(BatchJob.status.in_(where))
    with db.engine.begin() as connection:
        return connection.execute(stmt.values(**values)).rowcount == 1


def fail(job_id: str, message_zh: str, message_en: str, *, where=("queued", "running")) -> bool:
    """Mark a job failed with its reason in both languages."""
    return update(job_id, where=where, status="failed", finished_at=now(), heartbeat_at=None,
                   error_zh=message_zh[:2000], error_en=message_en[:2000])


class _Watch:
    """The running job's heartbeat (a thread) and its cancellation check (read at most once a second)."""

    def __init__(self, job_id: str, interval: float):
        self.job_id, self.interval = job_id, interval
        self.engine = db.engine
        self.stop = threading.Event()
        self._checked, self._cancelled = 0.0, False
        self.thread = threading.Thread(target=self._beat, name=f"job-heartbeat-{job_id}", daemon=True)

    def _beat(self) -> None:
        stmt = sa.update(BatchJob).where(BatchJob.id == self.job_id, BatchJob.status == "running")
        while not self.stop.wait(self.interval):
            with self.engine.begin() as connection:
                connection.execute(stmt.values(heartbeat_at=now()))

    def cancelled(self) -> bool:
        """True once the job is no longer ``running`` in the database (cancelled or deleted)."""
        if not self._cancelled and time.monotonic() - self._checked >= 1.0:
            self._checked = time.monotonic()
            with self.engine.connect() as connection:
                status = connection.scalar(sa.select(BatchJob.status).where(BatchJob.id == self.job_id))
            self._cancelled = status != "running"
        return self._cancelled

    def check(self) -> None:
        """Raise :class:`JobCancelled` when the job was cancelled."""
        if self.cancelled():
            raise JobCancelled(self.job_id)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=5)


def run_job(job_id: str) -> None:
    """Run one queued job to its end (``done``, ``failed`` or ``cancelled``)."""
    if not update(job_id, where=("queued",), status="running", started_at=now(), heartbeat_at=now(),
                   attempts=BatchJob.attempts + 1, rows_done=0, reports_done=0, error_zh=None, error_en=None):
        return  # cancelled, deleted or already taken by another consumer
    job = db.session.get(BatchJob, job_id)
    folder = job_folder(job_id)
    interval = float(current_app.config.get("JOB_HEARTBEAT", 5))
    try:
        with _Watch(job_id, interval) as watch:
            summary = _run(job, folder, watch)
    except JobCancelled:
        _cleanup_if_deleted(job_id, folder)
        return
    except (OSError, ValueError) as exc:  # the file cannot be read or written, or its table is refused
        zh = getattr(exc, "message_zh", None) or f"无法处理上传的文件：{exc}"
        en = getattr(exc, "message_en", None) or f"The uploaded file cannot be processed: {exc}"
        fail(job_id, zh, en)
        _cleanup_if_deleted(job_id, folder)
        return
    finally:
        db.session.remove()
    update(job_id, where=("running",), status="done", finished_at=now(), heartbeat_at=None, summary=summary)
    _cleanup_if_deleted(job_id, folder)


def _run(job: BatchJob, folder: Path, watch: _Watch) -> dict:
    """Both phases of a job; returns the portfolio summary."""
    options = job.options or {}
    source = folder / job.input_name
    engine_errors = _assess_file(job.id, source, folder, options, watch)
    watch.check()
    raw = read_table(source, normalise=False)
    return _reports(job.id, raw, engine_errors, folder, options, watch)


def _engine_options(options: dict) -> dict:
    as_of = options.get("as_of")
    return {"rules": options.get("rules") or None, "as_of": dt.date.fromisoformat(as_of) if as_of else None,
            "mode": options.get("mode") or "new", "lang": options.get("lang") or "zh",
            "cohort_ids": tuple(options.get("cohorts") or ())}


def _assess_file(job_id: str, source: Path, folder: Path, options: dict, watch: _Watch) -> pd.Series:
    """Phase 1: the engine's batch output as Parquet, then the same table as CSV and XLSX; its errors column."""
    parquet = folder / FILES["parquet"]
    last = [0.0]

    def progress(done: int, total: int | None) -> None:
        if time.monotonic() - last[0] > 0.5 or done == total:
            update(job_id, rows_done=done, **({"rows_total": total} if total is not None else {}))
            last[0] = time.monotonic()

    try:
        summary = run_batch(source, parquet, **_engine_options(options), progress=progress, cancelled=watch.cancelled)
    except BatchCancelled:
        raise JobCancelled(job_id) from None
    if not summary.rows:
        raise TableError([("empty", "表格没有数据行", "the table has no rows")])
    update(job_id, rows_total=summary.rows, rows_done=summary.rows, rows_failed=summary.rows_with_errors)
    out = pd.read_parquet(parquet)
    for kind in ("csv", "xlsx"):
        write_table(out, folder / FILES[kind])
        watch.check()
    return out["errors"].fillna("").astype(str)


def _reports(job_id: str, raw: pd.DataFrame, engine_errors: pd.Series, folder: Path, options: dict,
             watch: _Watch) -> dict:
    """Phase 2: one PDF per valid firm in ``reports.zip``, the results table and the portfolio summary."""
    engine = _engine_options(options)
    lang = engine["lang"]
    judged = portfolio.Judged(raw, rules=engine["rules"], as_of=engine["as_of"], mode=engine["mode"],
                              engine_errors=engine_errors.to_numpy())
    update(job_id, reports_total=judged.valid_count)
    partial = folder / ".reports.zip.part"
    facts, done, last = [], 0, 0.0
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for start in range(0, len(raw), REPORT_CHUNK):
            for firm in judged.firms(start, start + REPORT_CHUNK):
                watch.check()
                archive.writestr(portfolio.report_name(firm.row, firm.name), portfolio.pdf_bytes(firm.result, lang))
                facts.append(portfolio.firm_facts(firm))
                done += 1
                if time.monotonic() - last > 0.5:
                    update(job_id, reports_done=done)
                    last = time.monotonic()
    partial.replace(folder / FILES["reports"])
    portfolio.write_table_view(judged, facts, folder / TABLE_FILE)
    update(job_id, reports_done=done)
    return portfolio.summarise(facts, judged)


def _cleanup_if_deleted(job_id: str, folder: Path) -> None:
    """Remove files a run wrote after its job was deleted."""
    with db.engine.connect() as connection:
        exists = connection.scalar(sa.select(BatchJob.id).where(BatchJob.id == job_id))
    if exists is None:
        shutil.rmtree(folder, ignore_errors=True)


# ------------------------------------------------------------------------------------------- recovery


def recover_jobs(enqueue: Callable[[str], None], *, stale_after: float | None = None,
                 pending: set[str] | None = None) -> dict:
    """Resume or fail jobs left ``running`` by a stopped server; re-send queued jobs the queue has lost.

    Parameters
    ----------
    enqueue : callable
        Puts a job id on the queue.
    stale_after : float, optional
        Seconds without a heartbeat after which a running job is taken as interrupted
        (default: config ``JOB_STALE_AFTER``).
    pending : set of str, optional
        Job ids the queue still holds; when given, queued jobs not among them are sent again.

    Returns
    -------
    dict
        Ids of the jobs ``resumed``, ``failed`` and ``requeued``.
    """
    config = current_app.config
    stale_after = float(config.get("JOB_STALE_AFTER", 60) if stale_after is None else stale_after)
    attempts = int(config.get("JOB_MAX_ATTEMPTS", 2))
    cutoff = now() - dt.timedelta(seconds=stale_after)
    out = {"resumed": [], "failed": [], "requeued": []}
    stale = db.session.scalars(sa.select(BatchJob).where(
        BatchJob.status == "running", sa.or_(BatchJob.heartbeat_at.is_(None), BatchJob.heartbeat_at < cutoff))).all()
    for job in stale:
        if job.attempts >= attempts:
            if fail(job.id, f"任务运行中服务器停止，已尝试 {job.attempts} 次，不再重试；请重新上传文件。",
                    f"The server stopped while the job ran, {job.attempts} times; it is not tried again. "
                    "Upload the file again.", where=("running",)):
                out["failed"].append(job.id)
        elif update(job.id, where=("running",), status="queued", heartbeat_at=None):
            enqueue(job.id)
            out["resumed"].append(job.id)
    if pending is not None:
        queued = db.session.scalars(sa.select(BatchJob.id).where(BatchJob.status == "queued")).all()
        for job_id in queued:
            if job_id not in pending and job_id not in out["resumed"]:
                enqueue(job_id)
                out["requeued"].append(job_id)
    db.session.remove()
    return out
