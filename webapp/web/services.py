"""Engine resources loaded once per app, and the calls views make into the engine and reports.

Optional parts (cohort benchmarks, the readiness model, advice, PDF and charts) are being built
alongside the web app. Each is imported lazily: when it is missing the feature is hidden and the page
says so, and when it lands it lights up without a change here (see ``_assess_kwargs`` and ``charts``).
"""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import logging
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from flask import Flask, current_app

from webapp import fields
from webapp.engine.assess import assess
from webapp.engine.inputs import validate_profiles
from webapp.engine.rulebook import RuleBook, load_rule_book

log = logging.getLogger(__name__)

RULE_CHOICES = ("SME-2022", "SME-2026")
MODES = ("new", "review")
WHAT_IF_FIELDS = ("rd_expense", "rd_expense_prev", "revenue", "class1_ip", "class1_ip_applied")
_NUMERIC_OR_BOOL = fields.NUMERIC_KINDS | {"bool"}


class FeatureUnavailable(RuntimeError):
    """An optional part (PDF, charts, cohorts, model) is not installed or not built yet."""


@dataclass
class Services:
    """What one app keeps in memory: rule tables, cohorts and the readiness model."""

    rule_book: RuleBook
    cohorts: Any = None
    model: Any = None
    notes: dict[str, str] = field(default_factory=dict)
    assess_kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass
class Outcome:
    """A result contract dict (None when the input was invalid) and the input errors frame."""

    result: dict | None
    errors: pd.DataFrame


def init_app(app: Flask) -> None:
    """Load the rule tables, cohorts and readiness model once; keep them on the app."""
    services = Services(rule_book=load_rule_book(app.config.get("RULES_DIR")))
    services.cohorts = _optional(services, "cohorts", "webapp.engine.assess", "default_cohorts", None)
    services.model = _optional(services, "model", "webapp.engine.readiness", "load_model",
                               app.config.get("MODEL_PATH"))
    services.assess_kwargs = _assess_kwargs(services)
    app.extensions["giantstep"] = services


def get_services() -> Services:
    """Return the loaded engine resources for the current app."""
    return current_app.extensions["giantstep"]


def _optional(services: Services, name: str, module: str, loader: str, path):
    """Call ``module.loader(path)`` if that part exists; record why not otherwise."""
    try:
        load = getattr(importlib.import_module(module), loader)
        return load(path) if path else load()
    except (ImportError, AttributeError) as exc:
        services.notes[name] = f"{module}.{loader} not available ({exc})"
    except Exception as exc:  # noqa: BLE001 - a missing or stale artefact must not stop the app: log it, go on
        services.notes[name] = f"{module}.{loader} failed: {exc}"
        log.warning("GiantStep: %s unavailable: %s", name, exc)
    return None


def _assess_kwargs(services: Services) -> dict[str, Any]:
    """Pass cohorts and model to the engine once its ``assess`` accepts them (STYLE.md: assess(..., cohorts, model))."""
    params = inspect.signature(assess).parameters
    extra = {"cohorts": services.cohorts, "model": services.model}
    return {k: v for k, v in extra.items() if k in params and v is not None}


# ------------------------------------------------------------------------------------------ profiles


def profile_frame(profile: dict) -> pd.DataFrame:
    """A one-row frame with registry dtypes (floats for numbers and booleans) from a clean profile dict.

    Typed columns take the engine's fast path; values are still validated by the engine.
    """
    cols = {}
    for spec in fields.REGISTRY:
        value = profile.get(spec.name)
        if spec.kind in _NUMERIC_OR_BOOL:
            number = np.nan if value is None or value == "" else _to_float(value)
            cols[spec.name] = np.array([number], dtype="float64") if not isinstance(number, str) else \
                np.array([number], dtype=object)
        else:
            cols[spec.name] = np.array([value if value not in ("", None) else None], dtype=object)
    return pd.DataFrame(cols)


def _to_float(value):
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    return str(value)  # text such as "8,000": left for the engine to parse or reject


def clean_profile(clean: pd.DataFrame, i: int = 0) -> dict:
    """The known values of row ``i`` of a validated frame as a JSON-ready dict (unknown fields left out)."""
    out = {}
    for spec in fields.REGISTRY:
        value = clean[spec.name].iloc[i]
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        if spec.kind == "bool":
            out[spec.name] = bool(value)
        elif spec.kind in fields.NUMERIC_KINDS:
            number = float(value)
            out[spec.name] = int(number) if number.is_integer() and abs(number) < 2**53 else number
        else:
            out[spec.name] = str(value)
    return out


def validate(raw: dict) -> tuple[dict, pd.DataFrame]:
    """Validate one profile of raw values (form strings or JSON); return the clean profile and the errors."""
    known = {k: v for k, v in raw.items() if k in fields.FIELDS}
    frame = pd.DataFrame([known], dtype=object) if known else pd.DataFrame(index=pd.RangeIndex(1))
    clean, errors = validate_profiles(frame, first_line=1)
    return clean_profile(clean), errors


# -------------------------------------------------------------------------------------------- engine


def assess_profile(profile: dict, *, rules: str | None = None, as_of: dt.date | None = None,
                   mode: str = "new") -> Outcome:
    """Assess one firm; the result is the JSON contract of spec/assessment.md (plus later keys)."""
    services = get_services()
    assessment = assess(profile_frame(profile), rules=rules or None, as_of=as_of, mode=mode,
                        rule_book=services.rule_book, first_line=1, **services.assess_kwargs)
    if len(assessment.errors):
        return Outcome(None, assessment.errors)
    result = assessment.to_dict(0)
    _add_advice(result, assessment.profiles, services)
    return Outcome(result, assessment.errors)


def _add_advice(result: dict, clean: pd.DataFrame, services: Services) -> None:
    """Recommendations and roadmap (``advice`` key) from webapp.engine.advice, when it is installed."""
    if "advice" in result:
        return
    try:
        from webapp.engine.advice import advise
    except ImportError:
        return
    try:
        result["advice"] = advise(result, clean_profile(clean), rule_book=services.rule_book)
    except Exception:  # noqa: BLE001 - the result page must not fail because the roadmap did; the page says so
        log.exception("GiantStep: advice failed; the result is shown without it")


def summarise(result: dict) -> dict:
    """The compact view of a result used by the what-if panel and the history trend."""
    tiers = {tid: {k: t.get(k) for k in ("status", "score_min", "score_max", "name_zh", "name_en", "level")}
             for tid, t in result["tiers"].items()}
    out = {"tier": result["tier"], "next_tier": result.get("next_tier"), "rules": result["rules"],
           "as_of": result["as_of"], "tiers": tiers}
    for key in ("readiness", "dimensions"):
        if key in result:
            out[key] = result[key]
    return out


def criterion_source(table_id: str, cid: str):
    """The rule-table row of criterion ``cid`` (wording and source), or None."""
    table = get_services().rule_book.tables.get(table_id)
    return table.criteria.get(cid) if table else None


def table_info(table_id: str):
    """The rule table ``table_id`` (instrument, version, source), or None."""
    return get_services().rule_book.tables.get(table_id)


# ----------------------------------------------------------------------------------- reports, charts


def pdf_available() -> bool:
    """True when the PDF report module is installed."""
    return importlib.util.find_spec("webapp.reports.pdf") is not None


def render_pdf(result: dict, fp, *, lang: str, **cover) -> None:
    """Write the PDF report of ``result`` to ``fp`` (``cover``: consultant and client names, when saved).

    Raises FeatureUnavailable while ``webapp.reports.pdf`` is not installed.
    """
    try:
        from webapp.reports.pdf import render_pdf as _render
    except ImportError as exc:
        raise FeatureUnavailable("pdf") from exc
    _render(result, fp, lang=lang, **cover)
