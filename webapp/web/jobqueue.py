"""The job queue: Huey on an SQLite file in the instance folder by default, on Redis when configured.

``JOB_QUEUE_URL`` (or ``FLASK_JOB_QUEUE_URL``) picks the storage: unset, the embedded default
``<instance>/queue.sqlite`` consumed by ``giantstep serve`` itself; ``redis://host:6379/0`` to share the queue
with ``giantstep worker`` processes on other machines (same code, same task). ``JOB_QUEUE_IMMEDIATE`` runs
each job inside the call that enqueues it (tests). ``JOB_QUEUE_WORKERS`` is the number of consumer threads
``giantstep serve`` starts (0: leave the jobs to ``giantstep worker``).

Every app gets its own Huey instance with the batch task bound to it, so the task always runs inside that
app's context, with its configuration, database and loaded engine parts.
"""

from __future__ import annotations

import os
import signal as signals_os
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, current_app
from huey import MemoryHuey, RedisHuey, SqliteHuey, crontab, signals
from huey.api import Huey
from huey.consumer import Consumer

from webapp.engine.defaults import StartupError
from webapp.web import job_runner
from webapp.web.instance import private_file

TASK = "giantstep.batch_job"
RECOVER = "giantstep.recover_jobs"
POLL_MAX_DELAY = 1.0  # seconds an idle consumer waits at most before looking at the queue again
SHUTDOWN_TIMEOUT = 5.0  # seconds a stopping consumer gives a running job before handing it back to the queue


@dataclass
class JobQueue:
    """One app's Huey instance and its batch task."""

    huey: Huey
    task: object

    def enqueue(self, job_id: str) -> None:
        """Put a job on the queue (run it at once in immediate mode)."""
        self.task(job_id)

    def pending_ids(self) -> set[str]:
        """Ids of the jobs waiting in the queue."""
        return {t.args[0] for t in self.huey.pending() if t.name == TASK and t.args}


def make_huey(app: Flask) -> Huey:
    """The Huey instance the app's configuration asks for."""
    url = app.config.get("JOB_QUEUE_URL") or ""
    if app.config.get("JOB_QUEUE_IMMEDIATE"):
        return MemoryHuey("giantstep", immediate=True, results=False)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey("giantstep", url=url, results=False)
    if url and not url.startswith("sqlite:///"):
        raise StartupError(f"JOB_QUEUE_URL: {url.split('://')[0]}:// is not supported; use redis://… or sqlite:///…")
    path = Path(url.removeprefix("sqlite:///")) if url else Path(app.instance_path) / "queue.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    private_file(path)  # mode 0600 like the database: jobs name their owners and files
    return SqliteHuey("giantstep", filename=str(path), results=False)


def init_app(app: Flask) -> None:
    """Create the app's queue and bind the batch task, the recovery task and the error signal to it."""
    huey = make_huey(app)

    @huey.task(name=TASK)
    def batch_job(job_id: str) -> None:
        with app.app_context():
            job_runner.run_job(job_id)

    @huey.periodic_task(crontab(minute="*"), name=RECOVER)
    def recover_jobs() -> None:
        with app.app_context():
            job_runner.recover_jobs(batch_job)

    @huey.signal(signals.SIGNAL_ERROR)
    def job_error(signal, task, exc=None) -> None:
        """An unexpected error ends the job as failed (logged with its traceback by Huey)."""
        if task.name == TASK and task.args:
            with app.app_context():
                job_runner.fail(task.args[0], "处理任务时发生内部错误，已记录；请重试或联系管理员。",
                                "An internal error stopped the job; it has been logged. Try again or ask the "
                                "administrator.")

    @huey.signal(signals.SIGNAL_INTERRUPTED)
    def job_interrupted(signal, task, exc=None) -> None:
        """A consumer stopped in the middle of a job: it goes back on the queue and runs again at the next start."""
        if task.name == TASK and task.args:
            with app.app_context():
                if job_runner.update(task.args[0], where=("running",), status="queued", heartbeat_at=None):
                    batch_job(task.args[0])

    app.extensions["giantstep_queue"] = JobQueue(huey, batch_job)


def get_queue(app: Flask | None = None) -> JobQueue:
    """The queue of ``app`` (default: the current app)."""
    return (app or current_app).extensions["giantstep_queue"]


class _EmbeddedConsumer(Consumer):
    """A consumer that runs beside a server: the server keeps its own signal handlers."""

    def _set_signal_handlers(self):
        """Leave SIGINT/SIGTERM to the server that embeds the consumer."""


class _ChildConsumer(Consumer):
    """The consumer process ``giantstep serve`` forks: SIGINT/SIGTERM stop it; SIGHUP does not re-run the server."""

    def _set_signal_handlers(self):
        for signum in (signals_os.SIGINT, signals_os.SIGTERM):
            signals_os.signal(signum, self._handle_signal)
        signals_os.signal(signals_os.SIGHUP, signals_os.SIG_IGN)


def recover(app: Flask) -> dict:
    """Resume or fail interrupted jobs, and re-send queued jobs the queue lost (at consumer start)."""
    queue = get_queue(app)
    with app.app_context():
        return job_runner.recover_jobs(queue.enqueue, pending=queue.pending_ids())


def start_consumer(app: Flask, workers: int | None = None) -> Consumer | None:
    """Start consumer threads in this process (what ``giantstep serve`` calls); None when there is nothing to do.

    Jobs left behind by a stopped server are resumed or failed first. Stop it with :func:`stop_consumer`.
    """
    queue = get_queue(app)
    workers = int(app.config.get("JOB_QUEUE_WORKERS", 1) if workers is None else workers)
    if queue.huey.immediate or workers <= 0:
        return None
    recover(app)
    consumer = _EmbeddedConsumer(queue.huey, workers=workers, worker_type="thread", periodic=True,
                                 check_worker_health=False, shutdown_timeout=SHUTDOWN_TIMEOUT, max_delay=POLL_MAX_DELAY)
    consumer.start()
    return consumer


def stop_consumer(consumer: Consumer | None) -> None:
    """Stop an embedded consumer (a job still running is resumed at the next start)."""
    if consumer is not None:
        consumer.stop(graceful=True)


@dataclass
class SpawnedConsumer:
    """A consumer process forked by :func:`spawn_consumer`, and the process that forked it."""

    pid: int
    owner: int


def spawn_consumer(app: Flask, workers: int | None = None) -> SpawnedConsumer | None:
    """Fork a process that keeps a queue consumer running (what ``giantstep serve`` starts before its server).

    The forked process is a small supervisor: it forks the consumer, and forks a new one when the consumer
    dies without being asked to stop (killed by the system for memory, a crash in a library), waiting a little
    longer after each quick death (:data:`RESTART_DELAYS`); a job the dead consumer was running is taken up by
    the heartbeat recovery. Both are forked from the process where the app is loaded (rule book, cohorts,
    model), so they start at once and share those pages; plain forks (not multiprocessing), so server
    processes forked later inherit no bookkeeping of them and the streaming engine may start worker processes
    of its own. None when jobs run in the request (immediate mode), ``JOB_QUEUE_WORKERS`` is 0 or the system
    cannot fork. Stop it with :func:`stop_spawned`.
    """
    queue = get_queue(app)
    workers = int(app.config.get("JOB_QUEUE_WORKERS", 1) if workers is None else workers)
    if queue.huey.immediate or workers <= 0 or not hasattr(os, "fork"):
        return None
    owner = os.getpid()
    pid = os.fork()
    if pid == 0:  # the supervisor process
        code = 1
        try:
            code = _supervise(app, workers)
        finally:
            os._exit(code)  # never return into the server's code
    return SpawnedConsumer(pid, owner)


RESTART_DELAYS = (1.0, 2.0, 5.0, 15.0, 30.0)  # seconds before restarting a consumer that died, by deaths in a row
STEADY_AFTER_S = 60.0  # a consumer that ran this long before dying starts the delays again from the first


def _supervise(app: Flask, workers: int) -> int:
    """Run the consumer in a child process until asked to stop; restart it when it dies on its own.

    SIGINT is passed on (the consumer finishes or hands back its job); SIGTERM stops the consumer at once
    (SIGKILL), so the supervisor itself never has to be killed. Returns the consumer's last exit status.
    """
    stopping: list[int] = []
    child = 0

    def forward(signum, _frame) -> None:
        stopping.append(signum)
        if child:
            try:
                os.kill(child, signals_os.SIGINT if signum == signals_os.SIGINT else signals_os.SIGKILL)
            except ProcessLookupError:
                pass

    signals_os.signal(signals_os.SIGINT, forward)
    signals_os.signal(signals_os.SIGTERM, forward)
    signals_os.signal(signals_os.SIGHUP, signals_os.SIG_IGN)
    deaths = 0
    while True:
        started = time.monotonic()
        child = os.fork()
        if child == 0:  # the consumer process
            code = 1
            try:
                signals_os.signal(signals_os.SIGINT, signals_os.default_int_handler)
                signals_os.signal(signals_os.SIGTERM, signals_os.SIG_DFL)
                _consume(app, workers)
                code = 0
            except BaseException:  # the top of a forked process: say why it dies, then exit below
                traceback.print_exc()
            finally:
                os._exit(code)
        if stopping:  # asked to stop while forking: the new consumer has not been told
            os.kill(child, signals_os.SIGINT if stopping[0] == signals_os.SIGINT else signals_os.SIGKILL)
        _, status = os.waitpid(child, 0)
        code = os.waitstatus_to_exitcode(status)
        if stopping:
            return code if code >= 0 else 1
        deaths = 0 if time.monotonic() - started >= STEADY_AFTER_S else deaths + 1
        delay = RESTART_DELAYS[min(max(deaths - 1, 0), len(RESTART_DELAYS) - 1)]
        how = f"signal {-code}" if code < 0 else f"exit status {code}"
        print(f"GiantStep: the job consumer stopped on its own ({how}); starting a new one in {delay:g} s",
              file=sys.stderr, flush=True)
        deadline = time.monotonic() + delay
        while not stopping and time.monotonic() < deadline:
            time.sleep(0.1)
        if stopping:
            return 0


def _consume(app: Flask, workers: int) -> None:
    from webapp.web.db import db

    with app.app_context():
        db.engine.dispose(close=False)  # the parent's connections stay the parent's
    run_worker(app, workers, consumer_class=_ChildConsumer)


def stop_spawned(spawned: SpawnedConsumer | None, timeout: float = 10.0) -> int | None:
    """Stop a spawned consumer: SIGINT (finish or hand back the running job), then SIGTERM, then SIGKILL.

    Only the process that forked it does anything (a server process forked later passes through the same
    ``finally``). Returns the consumer's exit status when this call collected it.
    """
    if spawned is None or spawned.owner != os.getpid():
        return None
    for sig in (signals_os.SIGINT, signals_os.SIGTERM, signals_os.SIGKILL):
        try:
            os.kill(spawned.pid, sig)
        except ProcessLookupError:
            return None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                pid, status = os.waitpid(spawned.pid, os.WNOHANG)
            except ChildProcessError:  # already collected (e.g. by gunicorn's SIGCHLD handler)
                return None
            if pid:
                return os.waitstatus_to_exitcode(status)
            time.sleep(0.05)
    return None


def run_worker(app: Flask, workers: int, *, consumer_class: type[Consumer] = Consumer) -> None:
    """Consume the app's queue in the foreground until SIGINT/SIGTERM (``giantstep worker``)."""
    queue = get_queue(app)
    if queue.huey.immediate:
        raise StartupError("JOB_QUEUE_IMMEDIATE is set: jobs run where they are submitted, there is no queue")
    recover(app)
    consumer_class(queue.huey, workers=workers, worker_type="thread", periodic=True, max_delay=POLL_MAX_DELAY,
                   shutdown_timeout=SHUTDOWN_TIMEOUT).run()
