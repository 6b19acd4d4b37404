"""Command line ``giantstep``: assess one firm, batch-assess a spreadsheet, write an input template."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import click
import pandas as pd

from webapp import __version__, fields

RULE_CHOICES = ("SME-2022", "SME-2026")


class InputProblem(click.ClickException):
    """Bad input: one line per problem on stderr, exit status 2, no traceback."""

    exit_code = 2

    def __init__(self, lines: list[str]):
        super().__init__("\n".join(lines))
        self.lines = lines

    def show(self, file=None):
        """Print one line per problem."""
        for line in self.lines:
            click.echo(line, err=True)


def _date(ctx, param, value):
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2026-05-31") from None


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
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputProblem([f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}"]) from None
    if not isinstance(doc, dict):
        raise InputProblem([f"{path}: the profile must be one JSON object of canonical fields"])
    return doc


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="giantstep")
def main():
    """GiantStep: where a firm stands on the 专精特新 ladder and what to do next."""


@main.command()
@click.argument("profile", type=click.Path(path_type=Path))
@click.option("--rules", type=click.Choice(RULE_CHOICES), help="SME rule set (default: the one in force on --as-of).")
@click.option("--as-of", callback=_date, help="Assessment date, YYYY-MM-DD (default today).")
@click.option("--mode", type=click.Choice(("new", "review")), default="new", show_default=True,
              help="new application or re-review (复核) of a title already held.")
@click.option("--format", "fmt", type=click.Choice(("json", "text")), default="json", show_default=True)
@click.option("--lang", type=click.Choice(("zh", "en")), default="zh", show_default=True)
def assess(profile, rules, as_of, mode, fmt, lang):
    """Assess one firm from a JSON file of canonical fields."""
    from webapp.engine.assess import assess as run_assessment
    from webapp.reports.text import render_text

    doc = _read_profile(profile, lang)
    unknown = [k for k in doc if k not in fields.FIELDS]
    frame = pd.DataFrame([{k: v for k, v in doc.items() if k in fields.FIELDS}], dtype=object)
    result = run_assessment(frame, rules=rules, as_of=as_of, mode=mode, first_line=1)
    if len(result.errors):
        raise InputProblem(_error_lines(result.errors, lang, with_row=False))
    for key in unknown:
        click.echo(f"warning: {key}: not a GiantStep field, ignored", err=True)
    out = result.to_dict(0)
    out["warnings"] = [f"{k}: not a GiantStep field, ignored" for k in unknown]
    if fmt == "json":
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        click.echo(render_text(out, lang=lang))


@main.command()
@click.argument("source", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="Output file: .csv, .xlsx or .parquet.")
@click.option("--rules", type=click.Choice(RULE_CHOICES))
@click.option("--as-of", callback=_date)
@click.option("--mode", type=click.Choice(("new", "review")), default="new", show_default=True)
@click.option("--lang", type=click.Choice(("zh", "en")), default="zh", show_default=True,
              help="Language of the errors column.")
def batch(source, output, rules, as_of, mode, lang):
    """Assess every firm of a CSV, XLSX or Parquet file; bad rows are reported, the rest still run."""
    from webapp.engine.batch import run_batch

    try:
        summary = run_batch(source, output, rules=rules, as_of=as_of, mode=mode, lang=lang)
    except (OSError, ValueError) as exc:
        raise InputProblem([f"{source}: {exc}"]) from None
    click.echo(summary.text(lang), err=True)


@main.command()
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="Template file to write: .xlsx or .csv.")
def template(output):
    """Write an input template with zh/en headers and one example row."""
    from webapp.engine.template import write_template

    try:
        write_template(output)
    except (OSError, ValueError) as exc:
        raise InputProblem([f"{output}: {exc}"]) from None
    click.echo(f"wrote {output}", err=True)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
