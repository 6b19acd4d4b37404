"""What every ``giantstep`` command shares: the problem exit (status 2, one line each) and option types."""

from __future__ import annotations

import datetime as dt

import click

from webapp.engine import defaults


class InputProblem(click.ClickException):
    """Bad input or a file that cannot be loaded: one line per problem on stderr, exit status 2, no traceback."""

    exit_code = 2

    def __init__(self, lines: list[str]):
        super().__init__("\n".join(lines))
        self.lines = lines

    def show(self, file=None):
        """Print one line per problem."""
        for line in self.lines:
            click.echo(line, err=True)


class Group(click.Group):
    """A command group whose commands stop with one line and exit 2 when a data, rule or model file cannot load."""

    def invoke(self, ctx):
        """Run the command; a StartupError becomes an InputProblem."""
        try:
            return super().invoke(ctx)
        except defaults.StartupError as exc:
            raise InputProblem([f"giantstep cannot start: {exc}"]) from None


def rule_book():
    """The rule tables of the rules folder in force, or InputProblem naming the file that cannot load."""
    try:
        return defaults.load(defaults.rule_book)
    except defaults.StartupError as exc:
        raise InputProblem([f"giantstep cannot start: {exc}"]) from None


class RuleSetChoice(click.ParamType):
    """An SME rule-set id among the tables of the rules folder in force (``data/rules`` by default)."""

    name = "rule set"

    def convert(self, value, param, ctx):
        """Accept an id the rule tables define; list them otherwise."""
        if value is None:
            return None
        ids = rule_book().sme_ids()
        if value not in ids:
            self.fail(f"{value!r} is not an SME rule set; choose one of {', '.join(ids)}", param, ctx)
        return value


RULE_SET = RuleSetChoice()


def parse_date(ctx, param, value):
    """A ``--as-of`` style option: an ISO date or None."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2026-05-31") from None
