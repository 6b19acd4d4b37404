"""Engine resources loaded once per app, and the calls views make into the engine and reports.

Every part (rule tables, cohorts, advice data, the readiness model) is loaded when the app is created, from
the folders of :func:`webapp.paths.resolve` with the app's ``GIANTSTEP_*_DIR`` config keys and its instance
folder; a file that cannot be loaded stops the start with one line naming it (``StartupError``).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from flask import Flask, current_app
from pandas.api.internals import create_dataframe_from_blocks

from webapp import fields, paths
from webapp.engine import defaults
from webapp.engine.advice.advise import advise
from webapp.engine.advice.data import AdviceData
from webapp.engine.assess import assess
from webapp.engine.cohorts.store import CohortSet
from webapp.engine.io.inputs import profiles_from_records, validate_columns
from webapp.engine.readiness.model import ReadinessModel
from webapp.engine.rules.rulebook import RuleBook
from webapp.reports.pdf import render_pdf as _render_pdf

MODES = ("new", "review")
WHAT_IF_FIELDS = ("rd_expense", "rd_expense_prev", "revenue", "class1_ip", "class1_ip_applied")
_NUMERIC_OR_BOOL = fields.NUMERIC_KINDS | {"bool"}
_ONE_ROW = pd.RangeIndex(1)


@dataclass(frozen=True)
class Services:
    """What one app keeps in memory: its folders, rule tables, cohorts, advice data and readiness model."""

    paths: paths.Paths
    rule_book: RuleBook
    cohorts: CohortSet
    advice_data: AdviceData
    model: ReadinessModel

    @property
    def rule_choices(self) -> tuple[str, ...]:
        """SME rule-set ids a user may choose, from the rule tables."""
        return self.rule_book.sme_ids()

    @property
    def quick_fields(self) -> tuple[str, ...]:
        """The quick check's fields, derived from the rule tables (webapp.engine.rules.quick)."""
        return self.rule_book.quick_fields


@dataclass
class Outcome:
    """A result contract dict (None when the input was invalid) and the input errors frame."""

    result: dict | None
    errors: pd.DataFrame


def init_app(app: Flask) -> None:
    """Load the rule tables, cohorts, advice data and readiness model once; keep them on the app.

    Raises
    ------
    webapp.engine.defaults.StartupError
        When a file cannot be loaded; the message is one line naming it.
    """
    where = paths.resolve(data=app.config.get("GIANTSTEP_DATA_DIR"), rules=app.config.get("GIANTSTEP_RULES_DIR"),
                          models=app.config.get("GIANTSTEP_MODELS_DIR"), instance=app.instance_path)
    app.extensions["giantstep"] = Services(where, *defaults.load_all(where))


def get_services() -> Services:
    """Return the loaded engine resources for the current app."""
    return current_app.extensions["giantstep"]


# ------------------------------------------------------------------------------------------ profiles


def profile_frame(profile: dict) -> pd.DataFrame:
    """A one-row frame with registry dtypes (floats for numbers and booleans) from a clean profile dict.

    Typed columns take the engine's fast path; values are still validated by the engine. The columns come in
    two blocks, the float ones and then the others (text, enum codes or labels, and any number given as text,
    left for the engine to parse or refuse), not in registry order: the engine finds them by name.
    """
    numbers: dict[str, float] = {}
    others: dict[str, object] = {}
    for spec in fields.REGISTRY:
        value = profile.get(spec.name)
        if spec.kind in _NUMERIC_OR_BOOL:
            number = np.nan if value is None or value == "" else _to_float(value)
            if isinstance(number, str):
                others[spec.name] = number
            else:
                numbers[spec.name] = number
        else:
            others[spec.name] = None if isinstance(value, str | type(None)) and not value else value
    cells = np.empty((len(others), 1), dtype=object)
    for j, value in enumerate(others.values()):
        cells[j, 0] = value  # one cell even when the value is a list (refused by the engine)
    # built from its two blocks: the float one and the object one, with no per-column constructor work
    floats = np.array(list(numbers.values()), dtype="float64").reshape(len(numbers), 1)
    blocks = [(floats, np.arange(len(numbers))), (cells, np.arange(len(numbers), len(numbers) + len(others)))]
    return create_dataframe_from_blocks(blocks, index=_ONE_ROW, columns=_profile_columns(tuple(numbers), tuple(others)))


@functools.lru_cache(maxsize=64)
def _profile_columns(numbers: tuple[str, ...], others: tuple[str, ...]) -> pd.Index:
    """The columns of :func:`profile_frame`, made once per layout (which numbers came as text)."""
    return pd.Index(numbers + others)


def _to_float(value):
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:  # an int beyond float range
            return str(value)
        if math.isfinite(number):
            return number
    # text such as "8,000", and NaN or infinity as "nan"/"inf": left for the engine to parse or reject
    return str(float(value)) if isinstance(value, float) else str(value)


def clean_profile(clean: pd.DataFrame, i: int = 0, columns: dict | None = None) -> dict:
    """The known values of row ``i`` of a validated frame as a JSON-ready dict (unknown fields left out).

    ``columns``, the frame's values as one array per field (:func:`webapp.engine.io.inputs.validate_columns`),
    are read instead of the frame when given: the same values without a pandas lookup per field.
    """
    out = {}
    for spec in fields.REGISTRY:
        if columns is not None:
            value = columns[spec.name][i]
            if spec.kind == "enum":
                value = None if value < 0 else spec.choices[value]
        else:
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
    frame = profiles_from_records([known]) if known else pd.DataFrame(index=pd.RangeIndex(1))
    clean, errors, columns = validate_columns(frame, first_line=1)
    return clean_profile(clean, columns=columns), errors


# -------------------------------------------------------------------------------------------- engine


def assess_profile(profile: dict, *, rules: str | None = None, as_of: dt.date | None = None,
                   mode: str = "new", parts=None) -> Outcome:
    """Assess one firm; the result is the JSON contract of spec/assessment.md (plus later keys).

    ``parts`` (default all) names the optional parts wanted: benchmarks and dimensions need the cohorts,
    readiness the model, advice all three; parts not asked for may be left out of the result.
    """
    services = get_services()
    parts = set(("benchmarks", "dimensions", "readiness", "advice") if parts is None else parts)
    cohorts = services.cohorts if parts & {"benchmarks", "dimensions", "advice"} else False
    model = services.model if parts & {"readiness", "advice"} else False
    assessment = assess(profile_frame(profile), rules=rules or None, as_of=as_of, mode=mode,
                        rule_book=services.rule_book, first_line=1, cohorts=cohorts, model=model)
    if len(assessment.errors):
        return Outcome(None, assessment.errors)
    result = assessment.to_dict(0)
    if "advice" in parts:
        profile = clean_profile(assessment.profiles, columns=assessment.judge.env.columns or None)
        result["advice"] = advise(result, profile, rule_book=services.rule_book,
                                  data=services.advice_data)
    return Outcome(result, assessment.errors)


def summarise(result: dict) -> dict:
    """The compact view of a result used by the what-if panel and the history trend."""
    tiers = {tid: {k: t.get(k) for k in ("status", "score_min", "score_max", "name_zh", "name_en", "level")}
             for tid, t in result["tiers"].items()}
    out = {"tier": result["tier"], "next_tier": result.get("next_tier"), "rules": result["rules"],
           "as_of": result["as_of"], "tiers": tiers, "beside": get_services().rule_book.beside_ladder(tiers)}
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


# ------------------------------------------------------------------------------------------- reports


def render_pdf(result: dict, fp, *, lang: str, **cover) -> None:
    """Write the PDF report of ``result`` to ``fp`` (``cover``: consultant and client names, when saved)."""
    services = get_services()
    _render_pdf(result, fp, lang=lang, rule_book=services.rule_book, cohorts=services.cohorts, **cover)
