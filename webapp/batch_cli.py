"""Command ``giantstep batch``: assess every firm of a CSV, XLSX or Parquet file of any size."""

from __future__ import annotations

import signal
from pathlib import Path

import click

from webapp.cli_support import RULE_SET, InputProblem, parse_date


@click.command()
@click.argument("source", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="Output file: .csv, .xlsx or .parquet (appears only when complete).")
@click.option("--rules", type=RULE_SET)
@click.option("--as-of", callback=parse_date)
@click.option("--mode", type=click.Choice(("new", "review")), default="new", show_default=True,
              help="Mode of rows without a 'mode' cell (new application or re-review).")
@click.option("--lang", type=click.Choice(("zh", "en")), default="zh", show_default=True,
              help="Language of the errors and top_actions columns.")
@click.option("--cohorts", "cohort_ids", default="",
              help="Comma-separated cohort ids: adds pct_<cohort>_<metric> percentile columns.")
@click.option("--top-actions", "top_actions", type=click.Choice(("auto", "yes", "no")), default="auto",
              show_default=True, help="Add the top_actions column (auto: for files up to 10,000 rows).")
@click.option("--engine", type=click.Choice(("local", "dask")), default="local", show_default=True,
              help="local: stream chunks through every core of this machine; dask: run them on a Dask cluster.")
@click.option("--scheduler", default=None, help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 "
              "(default: a local cluster).")
@click.option("--workers", type=click.IntRange(1, 256), default=None,
              help="Worker processes of the local engine (default: every core).")
@click.option("--chunk-rows", type=click.IntRange(1, 1_000_000), default=None, hidden=True,
              help="Rows per chunk (default 25,000).")
def batch(source, output, rules, as_of, mode, lang, cohort_ids, top_actions, engine, scheduler, workers, chunk_rows):
    """Assess every firm of a CSV, XLSX or Parquet file; bad rows are reported, the rest still run."""
    from webapp.engine.batch import run_batch
    from webapp.engine.io.tables import TableError

    if scheduler and engine != "dask":
        raise InputProblem(["--scheduler: only with --engine dask"])
    ids = [c.strip() for c in cohort_ids.split(",") if c.strip()]
    previous = signal.signal(signal.SIGTERM, _terminate)  # a terminated run removes its partial output
    try:
        summary = run_batch(source, output, rules=rules, as_of=as_of, mode=mode, lang=lang, cohort_ids=ids,
                            top_actions=top_actions, engine=engine, scheduler=scheduler, workers=workers,
                            **({"chunk_rows": chunk_rows} if chunk_rows else {}))
    except TableError as exc:
        raise InputProblem([f"{source}: {line}" for line in exc.lines(lang)]) from None
    except (OSError, ValueError) as exc:
        raise InputProblem([f"{source}: {exc}"]) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
    click.echo(summary.text(lang), err=True)


def _terminate(signum, frame):
    raise SystemExit(128 + signum)
