"""Command line ``giantstep``: assess one firm, batch-assess a spreadsheet, write an input template."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import pandas as pd

from webapp import __version__, fields, paths, token_cli
from webapp.batch_cli import batch as batch_command
from webapp.cli_support import RULE_SET, Group, InputProblem, parse_date
from webapp.engine import defaults
from webapp.engine.io import jsontext


def _error_lines(errors: pd.DataFrame, lang: str, *, with_row: bool) -> list[str]:
    col = "message_zh" if lang == "zh" else "message_en"
    prefix = ("第{row}行: " if lang == "zh" else "row {row}: ") if with_row else ""
    return [f"{prefix.format(row=r.row)}{r.field} [{r.rule}]: {getattr(r, col)}" for r in errors.itertuples()]


def _read_profile(path: Path, lang: str) -> dict:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputProblem([f"{path}: cannot read file ({exc.strerror})"]) from None
    except UnicodeDecodeError:
        raise InputProblem([f"{path}: not UTF-8 text"]) from None
    try:
        doc = jsontext.loads(text)
    except jsontext.JSONInputError as exc:
        raise InputProblem([f"{path}: {exc}"]) from None
    if not isinstance(doc, dict):
        raise InputProblem([f"{path}: the profile must be one JSON object of canonical fields"])
    return doc


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="giantstep")
def main():
    """GiantStep: where a firm stands on the 专精特新 ladder and what to do next."""


@main.command()
@click.argument("profile", type=click.Path(path_type=Path))
@click.option("--rules", type=RULE_SET, help="SME rule set (default: the one in force on --as-of).")
@click.option("--as-of", callback=parse_date, help="Assessment date, YYYY-MM-DD (default today).")
@click.option("--mode", type=click.Choice(("new", "review")), default="new", show_default=True,
              help="new application or re-review (复核) of a title already held.")
@click.option("--format", "fmt", type=click.Choice(("json", "text")), default="json", show_default=True)
@click.option("--lang", type=click.Choice(("zh", "en")), default="zh", show_default=True)
@click.option("--cohort", "cohort_ids", multiple=True,
              help="Also benchmark against this cohort id (repeatable; built-in or imported).")
@click.option("--pdf", "pdf_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the PDF report (in --lang) to this file.")
def assess(profile, rules, as_of, mode, fmt, lang, cohort_ids, pdf_path):
    """Assess one firm from a JSON file of canonical fields."""
    from webapp.engine.assess import assess as run_assessment
    from webapp.engine.io.inputs import profiles_from_records, unknown_key_warnings
    from webapp.reports.text import render_text

    doc = _read_profile(profile, lang)
    warnings = unknown_key_warnings(doc, lang)
    frame = profiles_from_records([{k: v for k, v in doc.items() if k in fields.FIELDS}])
    try:
        result = run_assessment(frame, rules=rules, as_of=as_of, mode=mode, first_line=1, extra_cohorts=cohort_ids)
    except ValueError as exc:
        raise InputProblem([f"--cohort: {exc}"]) from None
    if len(result.errors):
        raise InputProblem(_error_lines(result.errors, lang, with_row=False))
    for warning in warnings:
        click.echo(f"{'警告：' if lang == 'zh' else 'warning: '}{warning}", err=True)
    out = result.to_dict(0, advice=True)
    out["warnings"] = warnings
    if pdf_path:
        from webapp.reports.pdf import render_pdf

        try:
            with open(pdf_path, "wb") as fh:
                render_pdf(out, fh, lang=lang)
        except OSError as exc:
            raise InputProblem([f"{pdf_path}: cannot write ({exc.strerror})"]) from None
        click.echo(f"wrote {pdf_path}", err=True)
    if fmt == "json":
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        click.echo(render_text(out, lang=lang))


@main.command()
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="Template file to write: .xlsx or .csv.")
def template(output):
    """Write an input template with zh/en headers and one example row."""
    from webapp.engine.io.template import write_template

    try:
        write_template(output)
    except (OSError, ValueError) as exc:
        raise InputProblem([f"{output}: {exc}"]) from None
    click.echo(f"wrote {output}", err=True)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--server", type=click.Choice(("gunicorn", "waitress")), default="gunicorn", show_default=True,
              help="gunicorn: worker processes forked after loading (POSIX); waitress: one process, threads.")
@click.option("--workers", type=click.IntRange(1, 256), default=None,
              help="gunicorn worker processes  [default: two per core]")
@click.option("--threads", type=click.IntRange(1, 64), default=None,
              help="Threads per worker  [default: 1 with gunicorn, 8 with waitress]")
def serve(host, port, server, workers, threads):
    """Run the web app; SQLite and the secret key live in the instance folder (GIANTSTEP_INSTANCE_DIR)."""
    from webapp.web.server import serve as run_server

    run_server(host, port, server=server, workers=workers, threads=threads)


@main.group()
def cohorts():
    """Benchmark cohorts: list them, refit the built-in ones, import your own."""


@cohorts.command("list")
def cohorts_list():
    """List the cohort ids with their size, date and metrics."""
    cohort_set = defaults.load(defaults.cohorts)
    for cid in cohort_set.ids:
        c = cohort_set[cid]
        click.echo(f"{cid:<24} {c.kind:<9} n={c.n_firms:<8g} as of {c.as_of:<10} {c.name_zh} / {c.name_en}")


@cohorts.command("fit")
def cohorts_fit():
    """Refit the built-in cohort distributions from data/cohorts/aggregates.csv (writes fitted.json)."""
    from webapp.engine.cohorts.fit import fit_all, fit_summary
    folder = paths.resolve().cohorts
    click.echo(fit_summary(fit_all(folder / "aggregates.csv", folder / "fitted.json")))


@cohorts.command("import")
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--name", required=True, help="Cohort id to create, e.g. my_portfolio.")
@click.option("--as-of", "as_of", default=None, help="Date the rows describe (default today).")
def cohorts_import(source, name, as_of):
    """Build an empirical cohort from real firm rows (CSV/XLSX/Parquet of canonical fields)."""
    from webapp.engine.cohorts.store import import_cohort
    from webapp.engine.io.inputs import validate_profiles
    from webapp.engine.io.tables import read_table

    try:
        clean, errors = validate_profiles(read_table(source))
        good = clean[~clean.index.isin(errors["index"])]
        path = import_cohort(good, name, paths.resolve().imported_cohorts, as_of=as_of, source=str(source))
    except (OSError, ValueError) as exc:
        raise InputProblem([f"{source}: {exc}"]) from None
    for line in _error_lines(errors, "en", with_row=True):
        click.echo(f"skipped {line}", err=True)
    click.echo(f"cohort {name!r}: {len(good)} firms ({len(clean) - len(good)} rows skipped) -> {path}", err=True)


def _register_model_commands() -> None:
    """Add ``population`` and ``train`` (the readiness model's commands) to the group."""
    from webapp.model_cli import population, train

    main.add_command(population)
    main.add_command(train)


main.add_command(batch_command)


_register_model_commands()
from webapp.worker_cli import worker  # noqa: E402  (giantstep worker: batch jobs from the queue)

main.add_command(worker)
main.add_command(token_cli.token)  # giantstep token create|list|revoke

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
