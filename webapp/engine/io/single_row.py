"""The fast path of :func:`webapp.engine.io.inputs.validate_profiles` for one valid firm.

A web or API request validates one profile; the vectorised path pays a fixed pandas cost per column for it
(about 17 ms). Here the same rules (the parsers' words, separators, full-width digits, percentages, bounds,
integers and cross rules of :mod:`webapp.engine.io.parse` and :mod:`webapp.fields`) run on plain Python
values. Only a row every cell of which passes is answered here; a row with any problem, or with a value
of a type the fast path does not read (a Decimal, a date, an integer of more than 100 digits), returns None
and goes through the vectorised path, which words the errors. tests/engine/test_single_row.py checks that
both paths give the same clean frame over many generated profiles, bad ones included.
"""

from __future__ import annotations

import functools
import math
import re

import numpy as np
import pandas as pd
from pandas.api.internals import create_dataframe_from_blocks

from webapp.engine.io.parse import (
    _BOOL_WORDS,
    _GROUPED,
    _NULL_TOKENS,
    _NUMBER_CHARS,
    _PLAIN_NUMBER,
    _SEPARATOR,
    _is_numeric,
)
from webapp.fields import CROSS_RULES, FIELDS, NUMERIC_KINDS, REGISTRY, FieldSpec, header_key

_FLOAT_SPECS = tuple(spec for spec in REGISTRY if spec.kind in NUMERIC_KINDS or spec.kind == "bool")
_FLOAT_FIELDS = [spec.name for spec in _FLOAT_SPECS]
_FLOAT_POSITION = {name: position for position, name in enumerate(_FLOAT_FIELDS)}
_OTHER_SPECS = tuple(spec for spec in REGISTRY if spec not in _FLOAT_SPECS)
_FIELD_NAMES = tuple(spec.name for spec in REGISTRY)
_PLACE = {spec.name: position for position, spec in enumerate(REGISTRY)}  # a field's column in the clean frame
_FLOAT_PLACES = np.array([_PLACE[name] for name in _FLOAT_FIELDS], dtype=np.intp)
_TEXT_FIELDS = tuple(spec.name for spec in _OTHER_SPECS if spec.kind != "enum")
_TEXT_PLACES = np.array([_PLACE[name] for name in _TEXT_FIELDS], dtype=np.intp)
_ENUM_POSITIONS = tuple((spec.name, np.array([_PLACE[spec.name]], dtype=np.intp))
                        for spec in _OTHER_SPECS if spec.kind == "enum")
_PLAIN = re.compile(_PLAIN_NUMBER)
_GROUPS = re.compile(_GROUPED)
_SEPARATORS = re.compile(_SEPARATOR)
_SCALARS = (str, bool, int, float, np.bool_, np.integer, np.floating)
_MAX_DIGITS = 100


class _Refuse(Exception):
    """The cell has a problem (or a type not read here): the vectorised path takes the row."""


def clean_single_row(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, np.ndarray]] | None:
    """The clean frame of a one-row ``frame`` whose every cell is valid, with its columns, or None (see the
    module docstring).

    Parameters
    ----------
    frame : pandas.DataFrame
        One row, canonical column names, as :func:`webapp.engine.io.inputs.validate_profiles` takes it.

    Returns
    -------
    tuple or None
        What ``validate_columns(frame)`` returns but the errors (empty): the clean frame and the same values
        as one array per field (see :func:`webapp.engine.io.inputs.validate_columns`); None when a cell has a
        problem.
    """
    positions: dict[str, int] = {}
    for position, column in enumerate(frame.columns.tolist()):  # a list: iterating an Index of str is slow
        if isinstance(column, str) and column in FIELDS:
            positions.setdefault(column, position)
    dtypes = frame.dtypes.tolist()
    kinds: dict = {}  # whether a dtype is numeric, asked once per distinct dtype (a frame has two or three)
    numeric = [kinds[d] if d in kinds else kinds.setdefault(d, _is_numeric(d)) for d in dtypes]
    values = frame.to_numpy(dtype=object)[0].tolist() if positions else []  # the row, without a Series
    try:
        block = np.array([_float_cell(spec, values, numeric, positions.get(spec.name)) for spec in _FLOAT_SPECS])
        others = {spec.name: _other_cell(spec, values, dtypes, positions.get(spec.name)) for spec in _OTHER_SPECS}
    except _Refuse:
        return None
    floats = dict(zip(_FLOAT_FIELDS, block))
    for rule in CROSS_RULES:
        if floats[rule.lhs] > floats[rule.rhs]:
            return None
    rows = block[:, None]  # one one-element array per float field, views of the block
    columns: dict[str, np.ndarray] = dict(zip(_FLOAT_FIELDS, rows))
    enums: list[tuple[pd.Categorical, np.ndarray]] = []
    for name, position in _ENUM_POSITIONS:
        columns[name] = np.array([others[name]], dtype=np.int16)
        enums.append((_one_category(name, others[name]).copy(), position))
    texts = np.array([[others[name]] for name in _TEXT_FIELDS], dtype=object).reshape(len(_TEXT_FIELDS), 1)
    for name, row in zip(_TEXT_FIELDS, texts):
        columns[name] = row
    # the frame from its blocks (one of floats, one of texts, one a category): no per-column constructor work
    blocks = [(block[:, None].copy(), _FLOAT_PLACES), (texts.copy(), _TEXT_PLACES), *enums]
    clean = create_dataframe_from_blocks(blocks, index=frame.index, columns=_clean_columns())
    return clean, {name: columns[name] for name in _FIELD_NAMES}


def _float_cell(spec: FieldSpec, values: list, numeric: list, position: int | None) -> float:
    """The float value of a numeric or bool cell (NaN unknown); :class:`_Refuse` when it breaks a rule."""
    if position is None:
        return math.nan
    value = values[position]
    if numeric[position]:
        number = math.nan if value is pd.NA else float(value)
        if spec.kind == "bool" and number not in (0.0, 1.0) and not math.isnan(number) or math.isinf(number):
            raise _Refuse
    else:
        number = _parse_float(spec, _text(value))
    if not math.isnan(number) and (spec.integer and number != math.floor(number) or
                                   spec.lo is not None and number < spec.lo or
                                   spec.hi is not None and number > spec.hi):
        raise _Refuse
    return number


def _text(value) -> str | None:
    """The cell as the vectorised path reads it (``str(value)``), None when missing."""
    if value is None or (isinstance(value, float | np.floating) and math.isnan(value)):
        return None
    if not isinstance(value, _SCALARS) or isinstance(value, int) and abs(value) >= 10 ** _MAX_DIGITS:
        raise _Refuse
    return str(value)


def _parse_float(spec: FieldSpec, text: str | None) -> float:
    if text is None:
        return math.nan
    key = (text if text.isascii() else text.translate(_NUMBER_CHARS)).strip()
    lower = key.lower()
    if key == "" or lower in _NULL_TOKENS:
        return math.nan
    if spec.kind == "bool":
        if lower not in _BOOL_WORDS:
            raise _Refuse
        return _BOOL_WORDS[lower]
    if key.endswith("%"):
        if spec.kind != "pct":
            raise _Refuse
        key = key.removesuffix("%").rstrip()
    if "," in key or " " in key:
        if not _GROUPS.fullmatch(key):
            raise _Refuse
        key = _SEPARATORS.sub("", key)
    if not _PLAIN.fullmatch(key):
        raise _Refuse
    number = float(key)
    if math.isinf(number):
        raise _Refuse
    return number


def _other_cell(spec: FieldSpec, values: list, dtypes: list, position: int | None):
    """An enum cell's code (-1 unknown) or a text cell's stripped text (None unknown)."""
    if position is None:
        return -1 if spec.kind == "enum" else None
    value = values[position]
    if spec.kind == "text" and isinstance(value, list | dict | tuple | set) and \
            pd.api.types.is_object_dtype(dtypes[position]):
        raise _Refuse
    text = _text(value)
    if spec.kind == "text":
        return (text.strip() or None) if text is not None else None
    if text is None:
        return -1
    code = _enum_codes(spec.name).get(header_key(text))
    if code is None:
        stripped = text.strip()
        if stripped != "" and stripped.lower() not in _NULL_TOKENS:
            raise _Refuse
        return -1
    return code


@functools.cache
def _clean_columns() -> pd.Index:
    """The clean frame's columns: every registry field in registry order."""
    return pd.Index(_FIELD_NAMES)


@functools.cache
def _one_category(name: str, code: int) -> pd.Categorical:
    """A one-element categorical of an enum field holding choice ``code`` (-1 unknown), made once; callers
    take a copy (a copy costs a twentieth of ``from_codes``, which checks the codes every time)."""
    return pd.Categorical.from_codes([code], dtype=_category_dtype(name))


@functools.cache
def _category_dtype(name: str) -> pd.CategoricalDtype:
    """The dtype of an enum field's clean column (its choices, unordered), made once."""
    return pd.CategoricalDtype(list(FIELDS[name].choices))


@functools.cache
def _enum_codes(name: str) -> dict[str, int]:
    spec = FIELDS[name]
    return {header_key(text): position for position, texts in enumerate(
        zip(spec.choices, spec.choice_labels_zh, spec.choice_labels_en, strict=True)) for text in texts}
