"""The pieces a criterion row is built from: its alternative routes, its bracket tables, and the error a
malformed rule table raises (with the helper that compiles a row's expression under that error).

:mod:`webapp.engine.rules.rulebook` re-exports these names; they live here so that the criterion forms
(:mod:`webapp.engine.rules.forms`), which the rule book imports to parse rows, can build them too.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from webapp.engine.rules.expressions import Expression, ExpressionError, compile_expression


class RuleTableError(ValueError):
    """A rule table is malformed; the message names the file and the row."""


@dataclass(frozen=True)
class Route:
    """One alternative of an any-of criterion."""

    id: str
    name_zh: str
    name_en: str
    test: Expression | None = None          # for a test route
    all_of: tuple[str, ...] = ()           # for an any_of route over criteria
    verification: str | None = None


@dataclass(frozen=True)
class Brackets:
    """Points by brackets of one metric; edges inclusive, shared end points to the higher score."""

    metric: Expression
    edges: tuple[float, ...]
    points: tuple[float, ...]
    otherwise: float
    at_most: bool = False


def read_toml(path: Path, error: type[Exception] = RuleTableError) -> dict[str, Any]:
    """Parse one TOML data file; a missing or malformed file raises ``error`` naming it."""
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise error(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path.name}: not valid TOML: {exc}") from None


def compile_in(text, names_ok: Callable[[str], bool], where: str) -> Expression:
    """Compile one expression of a rule table row.

    Parameters
    ----------
    text : str or number
        The expression as written in the table.
    names_ok : callable
        Whether a name (field, metric or flag) may appear.
    where : str
        File and row, for the error message.

    Returns
    -------
    Expression

    Raises
    ------
    RuleTableError
        When the expression does not compile; the message starts with ``where``.
    """
    try:
        return compile_expression(str(text), allowed_names=names_ok)
    except ExpressionError as exc:
        raise RuleTableError(f"{where}: {exc}") from None


def parse_brackets(spec: dict, names_ok, where: str) -> Brackets:
    """One bracket table: ``metric``, ``brackets`` ([edge, points] pairs), ``direction``, ``otherwise``.

    Parameters
    ----------
    spec : dict
        The row, or one of its ``options``.
    names_ok : callable
        Whether a name may appear in the metric expression.
    where : str
        File and row, for the error message.

    Returns
    -------
    Brackets

    Raises
    ------
    RuleTableError
        When the pairs, the direction or the order of the edges is wrong.
    """
    try:
        pairs = [(float(e), float(p)) for e, p in spec["brackets"]]
    except (KeyError, TypeError, ValueError):
        raise RuleTableError(f"{where}: brackets must be a list of [edge, points] pairs") from None
    at_most = spec.get("direction", "at_least") == "at_most"
    if spec.get("direction", "at_least") not in ("at_least", "at_most"):
        raise RuleTableError(f"{where}: direction must be at_least or at_most")
    edges = [e for e, _ in pairs]
    if edges != sorted(edges, reverse=not at_most) or len(set(edges)) != len(edges):
        raise RuleTableError(f"{where}: bracket edges must be strictly {'rising' if at_most else 'falling'}")
    return Brackets(metric=compile_in(spec["metric"], names_ok, where), edges=tuple(edges),
                    points=tuple(p for _, p in pairs), otherwise=float(spec.get("otherwise", 0)), at_most=at_most)
