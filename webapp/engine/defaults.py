"""The process-wide rule book, cohorts, advice data and readiness model, loaded once per set of folders.

This is the only module that caches what the engine loads by default. Only the top step (``assess``,
``batch``) and the layers above the engine (reports, CLI, web) import it; everything below is given what it
judges with. Each loader is keyed by the folders of :func:`webapp.paths.resolve`, so a process that points
``GIANTSTEP_RULES_DIR`` (or a Flask app its ``GIANTSTEP_RULES_DIR`` config key) elsewhere gets that folder's
tables.

A file that cannot be loaded raises :class:`StartupError`, whose message is one line naming the file.
"""

from __future__ import annotations

import functools
from pathlib import Path

from webapp import paths
from webapp.engine.advice.data import AdviceData, AdviceDataError, load_advice_data
from webapp.engine.cohorts.store import CohortError, CohortSet, load_cohorts
from webapp.engine.readiness.model import ReadinessModel
from webapp.engine.readiness.population.params import PopulationParamsError
from webapp.engine.readiness.store import ModelError, load_model
from webapp.engine.rules.rulebook import RuleBook, RuleTableError, load_rule_book

LOAD_ERRORS = (RuleTableError, CohortError, AdviceDataError, ModelError, PopulationParamsError, OSError)


class StartupError(RuntimeError):
    """A data, rule or model file cannot be loaded; the message is one line that names it."""


def rule_book(where: paths.Paths | None = None) -> RuleBook:
    """The rule tables of the rules folder in force."""
    return _rule_book((where or paths.resolve()).rules)


def cohorts(where: paths.Paths | None = None) -> CohortSet:
    """Built-in cohorts plus those imported into the instance folder."""
    where = where or paths.resolve()
    return _cohorts(where.cohorts, where.imported_cohorts)


def advice_data(where: paths.Paths | None = None) -> AdviceData:
    """Planning constants, action texts and themes of the advice engine."""
    return load_advice_data((where or paths.resolve()).advice)


def model(where: paths.Paths | None = None) -> ReadinessModel:
    """The newest valid readiness model (models folder or the instance folder's retrained ones), bound to the
    rule book in force."""
    where = where or paths.resolve()
    return _model(where.models, where.retrained_models, where.rules)


def load_all(where: paths.Paths | None = None) -> tuple[RuleBook, CohortSet, AdviceData, ReadinessModel]:
    """Everything an assessment needs, loaded now; :class:`StartupError` names the first file that fails."""
    where = where or paths.resolve()
    return tuple(load(loader, where) for loader in (rule_book, cohorts, advice_data, model))


def load(loader, where: paths.Paths | None = None):
    """``loader(where)`` (one of this module's loaders), or :class:`StartupError` naming the file that fails."""
    try:
        return loader(where)
    except LOAD_ERRORS as exc:
        raise StartupError(_one_line(exc)) from exc


def clear() -> None:
    """Forget everything loaded (tests, and a process that changed its folders' files)."""
    for loader in (_rule_book, _cohorts, _model):
        loader.cache_clear()


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if isinstance(exc, OSError) and exc.filename:
        text = f"{exc.filename}: {exc.strerror or text}"
    return text


@functools.cache
def _rule_book(directory: Path) -> RuleBook:
    return load_rule_book(directory)


@functools.cache
def _cohorts(directory: Path, imported: Path) -> CohortSet:
    return load_cohorts(directory, extra_dir=imported if imported.is_dir() else None)


@functools.cache
def _model(models: Path, retrained: Path, rules: Path) -> ReadinessModel:
    return load_model(rule_book=_rule_book(rules))
