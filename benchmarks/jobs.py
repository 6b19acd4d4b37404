"""Batch job speed: ``python -m benchmarks.jobs [--rows N] [--repeats R]`` runs a whole browser batch job
(engine output in three formats, one PDF per firm, portfolio summary) on N generated firms and, in the same
run, the baseline: the engine alone writing the same table (what ``giantstep batch`` does). Medians of R runs,
wall seconds, and the job's time per firm."""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    from tests.factories import make_profiles
    from webapp.engine.batch import run_batch
    from webapp.web import create_app, job_runner
    from webapp.web.db import db, upgrade_database
    from webapp.web.models import BatchJob, User

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = folder / "firms.csv"
        make_profiles(args.rows, seed=7).to_csv(source, index=False)
        app = create_app({"TESTING": True, "SECRET_KEY": "bench", "JOB_QUEUE_IMMEDIATE": True,
                          "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.sqlite'}"},
                         instance_path=str(folder / "instance"))
        upgrade_database(app)
        engine, job = [], []
        with app.app_context():
            user = User(email="bench@example.com", name="bench", password_hash="-")
            db.session.add(user)
            db.session.commit()
            owner = user.id
            for i in range(args.repeats):
                start = time.perf_counter()
                run_batch(source, folder / f"baseline-{i}.parquet")
                engine.append(time.perf_counter() - start)
                job_id = f"bench{i:011d}"
                target = job_runner.job_folder(job_id)
                target.mkdir(parents=True)
                (target / "input.csv").write_bytes(source.read_bytes())
                db.session.add(BatchJob(id=job_id, owner_id=owner, filename="firms.csv", input_name="input.csv",
                                        options={"lang": "zh"}))
                db.session.commit()
                start = time.perf_counter()
                job_runner.run_job(job_id)
                job.append(time.perf_counter() - start)
                status = db.session.get(BatchJob, job_id).status
                assert status == "done", status
            db.engine.dispose()
    e, j = statistics.median(engine), statistics.median(job)
    print(f"{args.rows} firms, median of {args.repeats}: engine alone (giantstep batch) {e:.2f} s; whole job "
          f"(CSV, XLSX, Parquet, {args.rows} PDFs, summary) {j:.2f} s = {j / args.rows:.2f} s a firm, "
          f"{j / e:.1f}x the engine")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
