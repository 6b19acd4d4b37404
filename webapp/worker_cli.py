"""``giantstep worker``: run batch jobs from the queue the web app fills (webapp/web/jobqueue.py).

With the embedded default (an SQLite queue in the instance folder) ``giantstep serve`` consumes the queue
itself and no worker is needed; with ``JOB_QUEUE_URL=redis://…`` (``FLASK_JOB_QUEUE_URL``) any number of
``giantstep worker`` processes, on this machine or others sharing the database and the instance folder, run
the jobs. The worker reads the same configuration as the web app (instance/config.py, FLASK_* variables).
"""

from __future__ import annotations

import sys

import click


@click.command()
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Jobs run at once by this process (threads).")
def worker(workers):
    """Run batch jobs from the job queue until stopped (Ctrl+C or SIGTERM finish the running jobs first)."""
    import logging

    from webapp.web import create_app
    from webapp.web.db import upgrade_database
    from webapp.web.jobqueue import run_worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    app = create_app()
    upgrade_database(app)
    queue = app.config.get("JOB_QUEUE_URL") or "queue.sqlite in the instance folder"
    click.echo(f"GiantStep worker: {workers} thread(s), queue {queue} (instance folder: {app.instance_path})", err=True)
    run_worker(app, workers)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(worker())
