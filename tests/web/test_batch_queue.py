"""Batch jobs through a real Huey consumer on the SQLite queue: consumer threads beside the app, cancel,
restart recovery (resumed or failed, never left running), and a `giantstep worker` process killed mid-job."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.web.helpers import register
from tests.web.test_batches import firms_csv, job_id_of, upload
from webapp.web import create_app, jobqueue
from webapp.web.db import db, upgrade_database
from webapp.web.models import BatchJob

ROOT = Path(__file__).resolve().parents[2]


def wait_for(client, job: str, predicate, timeout: float = 120.0) -> dict:
    """Poll the job JSON until ``predicate(doc)`` holds."""
    deadline = time.monotonic() + timeout
    while True:
        doc = client.get(f"/batches/{job}.json").get_json()
        if predicate(doc):
            return doc
        assert time.monotonic() < deadline, doc
        time.sleep(0.2)


@pytest.fixture
def queued_app(tmp_path):
    """The app on a migrated SQLite file with its jobs on the SQLite queue (no immediate mode)."""
    app = create_app({"TESTING": True, "SECRET_KEY": "queue-tests", "WTF_CSRF_ENABLED": False,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'app.sqlite'}", "JOB_HEARTBEAT": 0.5},
                     instance_path=str(tmp_path / "instance"))
    upgrade_database(app)
    yield app
    with app.app_context():
        db.engine.dispose()


def test_the_consumer_process_serve_forks_runs_a_job(queued_app):
    """What `giantstep serve` starts beside its server: a forked process consuming the SQLite queue."""
    client = queued_app.test_client()
    register(client)
    job = job_id_of(upload(client, firms_csv(6, bad=(2,))))
    assert client.get(f"/batches/{job}.json").get_json()["status"] == "queued"
    assert job in jobqueue.get_queue(queued_app).pending_ids()
    spawned = jobqueue.spawn_consumer(queued_app)
    try:
        doc = wait_for(client, job, lambda d: d["status"] in ("done", "failed"))
    finally:
        code = jobqueue.stop_spawned(spawned)
    assert code == 0  # SIGINT: a graceful stop
    assert doc["status"] == "done" and (doc["rows_total"], doc["rows_failed"]) == (6, 1)
    assert doc["downloads"]["reports"] and jobqueue.get_queue(queued_app).pending_ids() == set()


@pytest.mark.slow
def test_a_running_job_is_cancelled(queued_app):
    client = queued_app.test_client()
    register(client)
    consumer = jobqueue.start_consumer(queued_app, workers=1)
    try:
        job = job_id_of(upload(client, firms_csv(20, seed=5)))
        wait_for(client, job, lambda d: d["status"] == "running" and d["reports_done"] > 0)
        assert client.post(f"/batches/{job}/cancel").status_code == 303
        time.sleep(2.5)  # the run notices within a second and stops
        doc = client.get(f"/batches/{job}.json").get_json()
    finally:
        jobqueue.stop_consumer(consumer)
    assert doc["status"] == "cancelled" and doc["downloads"]["reports"] is None
    with queued_app.app_context():
        from webapp.web.job_runner import job_folder

        assert not (job_folder(job) / "reports.zip").exists()


def _job_row(app, job: str, **values) -> None:
    with app.app_context():
        row = db.session.get(BatchJob, job)
        for key, value in values.items():
            setattr(row, key, value)
        db.session.commit()


def test_recovery_resumes_or_fails_interrupted_jobs(queued_app):
    client = queued_app.test_client()
    register(client)
    old = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=10)
    resumed, failed, alive = (job_id_of(upload(client, firms_csv(3))) for _ in range(3))
    _job_row(queued_app, resumed, status="running", attempts=1, heartbeat_at=old)
    _job_row(queued_app, failed, status="running", attempts=2, heartbeat_at=old)
    _job_row(queued_app, alive, status="running", attempts=1,
             heartbeat_at=dt.datetime.now(dt.UTC).replace(tzinfo=None))
    queue = jobqueue.get_queue(queued_app)
    queue.huey.flush()  # the queue lost every task (e.g. a new Redis): queued jobs are sent again
    outcome = jobqueue.recover(queued_app)
    assert outcome["resumed"] == [resumed] and outcome["failed"] == [failed] and outcome["requeued"] == []
    docs = {j: client.get(f"/batches/{j}.json", headers={"Accept-Language": "en"}).get_json()
            for j in (resumed, failed, alive)}
    assert docs[resumed]["status"] == "queued" and resumed in queue.pending_ids()
    assert docs[failed]["status"] == "failed" and "服务器停止" in docs[failed]["error"]
    assert docs[alive]["status"] == "running"


def test_queued_jobs_the_queue_lost_are_sent_again(queued_app):
    client = queued_app.test_client()
    register(client)
    job = job_id_of(upload(client, firms_csv(3)))
    queue = jobqueue.get_queue(queued_app)
    queue.huey.flush()
    assert jobqueue.recover(queued_app)["requeued"] == [job] and queue.pending_ids() == {job}


@pytest.mark.slow
def test_a_worker_killed_mid_job_is_resumed_by_the_next_consumer(queued_app, tmp_path):
    """`giantstep worker` (a real process) is killed with SIGKILL while it runs a job; the next consumer
    finds the job's heartbeat stopped and runs it again to the end."""
    client = queued_app.test_client()
    register(client)
    job = job_id_of(upload(client, firms_csv(15, bad=(1,), seed=9)))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GIANTSTEP_INSTANCE_DIR": queued_app.instance_path,
           "FLASK_SECRET_KEY": "queue-tests", "FLASK_JOB_HEARTBEAT": "0.5",
           "FLASK_SQLALCHEMY_DATABASE_URI": queued_app.config["SQLALCHEMY_DATABASE_URI"]}
    worker = subprocess.Popen([sys.executable, "-m", "webapp.cli", "worker"], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(client, job, lambda d: d["status"] == "running" and d["reports_done"] > 0, timeout=90)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    assert client.get(f"/batches/{job}.json").get_json()["status"] == "running"  # left behind
    queued_app.config["JOB_STALE_AFTER"] = 1.0
    time.sleep(1.5)
    consumer = jobqueue.start_consumer(queued_app, workers=1)
    try:
        doc = wait_for(client, job, lambda d: d["status"] in ("done", "failed"))
    finally:
        jobqueue.stop_consumer(consumer)
    assert doc["status"] == "done" and (doc["rows_total"], doc["rows_failed"]) == (15, 1)
    with queued_app.app_context():
        assert db.session.get(BatchJob, job).attempts == 2


@pytest.fixture
def redis_url(tmp_path):
    """A throw-away redis-server on a free local port (Debian's redis-server package)."""
    import shutil
    import socket

    import redis

    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("the Redis queue test needs redis-server (apt-get install redis-server)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                               "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.exceptions.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.1)
        client.close()
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.mark.slow
def test_the_same_jobs_run_on_a_redis_queue(redis_url, tmp_path):
    """JOB_QUEUE_URL=redis://…: the same task, consumed the same way (as `giantstep worker` does)."""
    from huey import RedisHuey

    app = create_app({"TESTING": True, "SECRET_KEY": "redis-tests", "WTF_CSRF_ENABLED": False,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'app.sqlite'}", "JOB_QUEUE_URL": redis_url},
                     instance_path=str(tmp_path / "instance"))
    upgrade_database(app)
    queue = jobqueue.get_queue(app)
    assert isinstance(queue.huey, RedisHuey)
    client = app.test_client()
    register(client)
    job = job_id_of(upload(client, firms_csv(4, bad=(0,))))
    assert queue.pending_ids() == {job}
    consumer = jobqueue.start_consumer(app, workers=1)
    try:
        doc = wait_for(client, job, lambda d: d["status"] in ("done", "failed"))
    finally:
        jobqueue.stop_consumer(consumer)
        queue.huey.storage.conn.close()
        with app.app_context():
            db.engine.dispose()
    assert doc["status"] == "done" and (doc["rows_total"], doc["rows_failed"]) == (4, 1)
    assert not (Path(app.instance_path) / "queue.sqlite").exists()


def test_serve_starts_a_new_consumer_when_its_consumer_dies(queued_app):
    """kill -9 of the consumer `giantstep serve` forked: a new one takes over and runs the queued job."""
    import psutil

    spawned = jobqueue.spawn_consumer(queued_app)
    try:
        supervisor = psutil.Process(spawned.pid)
        deadline = time.monotonic() + 30
        while not supervisor.children():
            assert time.monotonic() < deadline, "no consumer process"
            time.sleep(0.1)
        first = supervisor.children()[0]
        first.kill()
        first.wait(timeout=10)
        client = queued_app.test_client()
        register(client)
        job = job_id_of(upload(client, firms_csv(4, bad=(1,))))
        doc = wait_for(client, job, lambda d: d["status"] in ("done", "failed"))
        assert doc["status"] == "done" and (doc["rows_total"], doc["rows_failed"]) == (4, 1)
        (second,) = supervisor.children()
        assert second.pid != first.pid
    finally:
        code = jobqueue.stop_spawned(spawned)
    assert code == 0  # SIGINT passed on: a graceful stop of the new consumer
    assert not psutil.pid_exists(second.pid) or second.status() == psutil.STATUS_ZOMBIE
