"""Validate firm profiles against the field registry: headers to field names, cells coerced (with the parsers
of :mod:`webapp.engine.io.parse`) and checked against bounds and cross rules, one vectorised path for all inputs.
"""

from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from webapp.engine.io.messages import error_frame, head
from webapp.engine.io.parse import _is_numeric, non_text_cells, parse_enum, parse_floats, parse_text
from webapp.engine.io.single_row import clean_single_row
from webapp.fields import CROSS_RULES, FIELDS, NUMERIC_KINDS, REGISTRY, FieldSpec, header_aliases, header_key

ERROR_COLUMNS = ("index", "row", "field", "rule", "value", "message_zh", "message_en")

# The float fields (numeric kinds and bool) live in one (field, row) block, processed together.
_FLOAT_SPECS = tuple(spec for spec in REGISTRY if spec.kind in NUMERIC_KINDS or spec.kind == "bool")
_FLOAT_FIELDS = tuple(spec.name for spec in _FLOAT_SPECS)
_FLOAT_ROW = {name: row for row, name in enumerate(_FLOAT_FIELDS)}
_FLOAT_NAMES = np.array(_FLOAT_FIELDS, dtype=object)
_IS_BOOL = np.array([spec.kind == "bool" for spec in _FLOAT_SPECS])
_IS_PCT = np.array([spec.kind == "pct" for spec in _FLOAT_SPECS])
_INTEGER_ROWS = np.flatnonzero([spec.integer for spec in _FLOAT_SPECS])
_LO = np.array([-np.inf if spec.lo is None else spec.lo for spec in _FLOAT_SPECS])
_HI = np.array([np.inf if spec.hi is None else spec.hi for spec in _FLOAT_SPECS])
_STACK_CELLS = 2_000_000  # string columns are parsed in stacks of about this many cells
_TRAILING_NAME = re.compile(r"\[\s*([A-Za-z0-9_]+)\s*\]\s*$")


def normalise_columns(frame: pd.DataFrame) -> tuple[pd.DataFrame, list]:
    """Rename zh/en/canonical/template headers to canonical field names.

    Parameters
    ----------
    frame : pandas.DataFrame
        Profiles as read from a form, JSON or spreadsheet; headers in any form that
        :func:`webapp.fields.header_aliases` knows, or ending in ``[canonical_name]``.

    Returns
    -------
    frame : pandas.DataFrame
        The same rows with recognised columns renamed. A later column for a field already seen
        is dropped (the first one wins); unknown columns are kept as they are.
    unrecognised : list
        Headers that were not mapped, in column order: unknown ones and dropped duplicates.
    """
    aliases = header_aliases()
    labels, keep, seen, unrecognised = [], [], set(), []
    for position, column in enumerate(frame.columns):
        name = _resolve_header(column, aliases)
        if name is None or name in seen:
            unrecognised.append(column)
            if name is not None:
                continue
        else:
            seen.add(name)
        labels.append(column if name is None else name)
        keep.append(position)
    renamed = frame.iloc[:, keep]
    renamed.columns = pd.Index(labels, dtype=object)
    return renamed, unrecognised


def _resolve_header(column, aliases: dict[str, str]) -> str | None:
    """Canonical name for one header, or None."""
    text = str(column)
    name = aliases.get(header_key(text))
    match = _TRAILING_NAME.search(text) if name is None else None
    if match and match.group(1).lower() in FIELDS:
        name = match.group(1).lower()
    return name


def profiles_from_records(records: list[dict]) -> pd.DataFrame:
    """Turn JSON objects (one per firm) into a profiles frame, values kept as given.

    Parameters
    ----------
    records : list of dict
        One mapping per firm, keyed by canonical field names. None or an absent key is unknown. A float
        NaN or infinity (Python's json module reads the bare tokens NaN and Infinity as such) becomes its
        text ("nan", "inf", "-inf"), so :func:`validate_profiles` refuses it (rule ``number``) instead of
        reading the NaN as a missing cell.

    Returns
    -------
    pandas.DataFrame
        One row per record, object dtype, ready for :func:`validate_profiles`.
    """
    return pd.DataFrame([{key: _non_finite_as_text(value) for key, value in record.items()}
                         for record in records], dtype=object)


def _non_finite_as_text(value):
    """A float NaN or infinity as its text; any other value unchanged."""
    if isinstance(value, float | np.floating) and not np.isfinite(value):
        return str(float(value))
    return value


def unknown_key_warnings(keys, lang: str = "en") -> list[str]:
    """The warning for each key that is not a registry field, in ``lang`` (zh or en), with the field it was
    probably meant to be: ``"rd_expence: not a GiantStep field, ignored (did you mean rd_expense?)"``."""
    out = []
    for key in keys:
        if key in FIELDS:
            continue
        near = difflib.get_close_matches(str(key).strip().lower(), FIELDS, n=1, cutoff=0.8)
        if lang == "zh":
            out.append(f"{key}：不是 GiantStep 字段，已忽略" + (f"（是否应为 {near[0]}？）" if near else ""))
        else:
            out.append(f"{key}: not a GiantStep field, ignored" + (f" (did you mean {near[0]}?)" if near else ""))
    return out


def validate_profiles(frame: pd.DataFrame, *, first_line: int = 2) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Coerce a frame of profiles to registry dtypes and report every invalid cell and row.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per firm, canonical column names (see :func:`normalise_columns`). Cells may be
        strings (as read with ``dtype=str, keep_default_na=False``), Python scalars or numeric
        dtypes; numeric and bool columns skip text parsing. Text numbers may use thousands
        separators ("1,234.5", "1 234"), full-width digits, and "%" in pct fields; booleans
        accept true/false, 是/否, yes/no, y/n, 1/0, 有/无; enums the code or its zh/en label.
        Empty or whitespace text, None, a missing (NaN) cell and words such as "NA" or "未知" mean
        *unknown*; the texts "NaN", "inf" and "Infinity" and an infinite number are refused (rule
        ``number``). JSON records go through :func:`profiles_from_records`, which keeps a float NaN
        apart from a missing cell.
        Columns not in the registry are ignored; registry fields missing from the frame are
        all unknown.
    first_line : int, default 2
        Line number of the first data row, for messages (a spreadsheet with one header row: 2).

    Returns
    -------
    clean : pandas.DataFrame
        Same index as ``frame``, one column per registry field in registry order. money, number,
        count and pct are float64 (money in 万元, pct 0-100); bool is float64 1.0/0.0; enum is a
        Categorical whose categories are the field's choices; text is object (stripped str or
        None). Unknown and invalid cells are NaN/None. When a cross rule fails, both of its
        cells become unknown, because either may be the wrong one.
    errors : pandas.DataFrame
        Columns ``index`` (the input's index label), ``row`` (``first_line`` + position),
        ``field``, ``rule`` (number, integer, min, max, enum, bool, text or a cross-rule id), ``value``
        (the offending raw value as str), ``message_zh`` and ``message_en``; sorted by row, then
        registry order. At most one error per cell.
    """
    clean, errors, _ = validate_columns(frame, first_line=first_line)
    return clean, errors


def validate_columns(frame: pd.DataFrame, *, first_line: int = 2) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """:func:`validate_profiles`, with the clean values also as plain arrays, one per registry field.

    Parameters
    ----------
    frame : pandas.DataFrame
        As for :func:`validate_profiles`.
    first_line : int, default 2
        As for :func:`validate_profiles`.

    Returns
    -------
    clean, errors : pandas.DataFrame
        What :func:`validate_profiles` returns.
    columns : dict of str to numpy.ndarray
        Per field, the values of its ``clean`` column in row order: float64 for the numeric and bool fields
        (NaN unknown), int16 codes into the field's choices for an enum (-1 unknown), objects for text (None
        unknown). What the judge reads (:class:`webapp.engine.rules.criteria.Judge`), without a pandas column
        lookup per field; treat the arrays as read-only.
    """
    n = len(frame)
    single = clean_single_row(frame) if n == 1 else None  # one valid firm (a web request): no pandas fixed cost
    if single is not None:
        return single[0], _assemble([], frame.index, first_line), single[1]
    positions: dict[str, int] = {}
    for position, column in enumerate(frame.columns):
        if isinstance(column, str) and column in FIELDS:
            positions.setdefault(column, position)
    columns = {name: frame.iloc[:, position] for name, position in positions.items()}
    block, problems = _coerce_floats(columns, n)
    others = {}
    for spec in REGISTRY:
        if spec.name not in _FLOAT_ROW:
            others[spec.name], found = _coerce_other(spec, columns.get(spec.name), n)
            problems += found
    problems += _cross_errors(block)
    clean = pd.DataFrame(block.T, index=frame.index, columns=list(_FLOAT_FIELDS), copy=False)
    for loc, spec in enumerate(REGISTRY):
        if spec.name in others:
            clean.insert(loc, spec.name, pd.Series(others[spec.name], index=clean.index,
                                                   dtype="category" if spec.kind == "enum" else object))
    arrays = {}
    for spec in REGISTRY:
        if spec.name in _FLOAT_ROW:
            arrays[spec.name] = block[_FLOAT_ROW[spec.name]]
        elif spec.kind == "enum":
            arrays[spec.name] = np.asarray(clean[spec.name].cat.codes, dtype=np.int16)
        else:
            arrays[spec.name] = clean[spec.name].to_numpy(dtype=object)
    return clean, _assemble(problems, frame.index, first_line), arrays


# --- cells -----------------------------------------------------------------------------------------


@dataclass
class _Floats:
    """The float block being built, and where each cell's raw text can be found for messages."""

    block: np.ndarray  # (field, row) float64
    bad: np.ndarray  # (field, row) cells that did not parse
    stack_of: np.ndarray  # (field,) stack of a string column, -1 for numeric columns (raw text = the number)
    slot_of: np.ndarray  # (field,) the column's row in its stack's codes
    stacks: list = field(default_factory=list)  # the raw text of each stack, columns end to end


def _coerce_floats(columns: dict, n: int) -> tuple[np.ndarray, list]:
    """Parse every numeric and bool field into one float64 block; return it with its cell errors."""
    k = len(_FLOAT_FIELDS)
    floats = _Floats(np.empty((k, n)), np.zeros((k, n), dtype=bool), np.full(k, -1), np.full(k, -1))
    text_rows = {False: [], True: []}  # string columns, split into numbers and booleans
    for row, name in enumerate(_FLOAT_FIELDS):
        column = columns.get(name)
        if column is None:
            floats.block[row] = np.nan
            continue
        if not _is_numeric(column.dtype):
            text_rows[bool(_IS_BOOL[row])].append(row)
            continue
        values = floats.block[row]
        if isinstance(column.dtype, np.dtype):
            np.copyto(values, column.to_numpy(), casting="unsafe")
        else:
            values[:] = column.to_numpy(dtype="float64", na_value=np.nan)
        with np.errstate(invalid="ignore"):
            floats.bad[row] = (values != 0) & (values != 1) & ~np.isnan(values) if _IS_BOOL[row] \
                else np.isinf(values)
    for is_bool, rows in text_rows.items():
        size = max(1, _STACK_CELLS // max(n, 1))
        for start in range(0, len(rows), size):
            _parse_stack(floats, [columns[_FLOAT_FIELDS[row]] for row in rows[start:start + size]],
                         np.array(rows[start:start + size]), is_bool)
    problems = []
    if floats.bad.any():
        rows, positions = np.nonzero(floats.bad)
        problems += _block_errors(floats, rows, positions, None)
        floats.block[rows, positions] = np.nan
    for rule in ("integer", "min", "max"):  # one rule per cell: a failing cell is blanked before the next
        rows, positions = _bound_failures(floats.block, rule)
        problems += _block_errors(floats, rows, positions, rule)
        floats.block[rows, positions] = np.nan
    return floats.block, problems


def _parse_stack(floats: _Floats, columns: list, rows: np.ndarray, is_bool: bool) -> None:
    """Parse string columns stacked end to end and fill their block rows."""
    stacked = pd.concat(columns, ignore_index=True) if len(columns) > 1 else columns[0]
    text, values, bad, percent = parse_floats(stacked, is_bool)
    if percent.any():  # "12%" is only a number in a pct field
        bad |= percent & ~np.repeat(_IS_PCT[rows], len(text) // len(rows))
    floats.block[rows] = values.reshape(len(rows), -1)
    floats.bad[rows] = bad.reshape(len(rows), -1)
    floats.stack_of[rows] = len(floats.stacks)
    floats.slot_of[rows] = np.arange(len(rows))
    floats.stacks.append(text)


def _bound_failures(block: np.ndarray, rule: str) -> tuple[np.ndarray, np.ndarray]:
    """(field rows, positions) of cells breaking the integer, min or max rule of their field."""
    fields = {"integer": _INTEGER_ROWS, "min": np.flatnonzero(np.isfinite(_LO)),
              "max": np.flatnonzero(np.isfinite(_HI))}[rule]
    scratch = np.empty(block.shape[1])
    rows, positions = [np.empty(0, dtype=np.intp)], [np.empty(0, dtype=np.intp)]
    for row in fields:  # row by row: whole-block temporaries would cost gigabytes for a million firms
        values = block[row]
        with np.errstate(invalid="ignore"):
            if rule == "integer":
                np.subtract(values, np.floor(values, out=scratch), out=scratch)
                failed = np.flatnonzero(scratch > 0)
            else:
                failed = np.flatnonzero(values < _LO[row] if rule == "min" else values > _HI[row])
        if len(failed):
            rows.append(np.full(len(failed), row))
            positions.append(failed)
    return np.concatenate(rows), np.concatenate(positions)


def _block_errors(floats: _Floats, rows: np.ndarray, positions: np.ndarray, rule: str | None) -> list:
    """Error rows for the given cells (rule None: "bool" or "number" by field)."""
    if not len(rows):
        return []
    raw = np.empty(len(rows), dtype=object)
    stack = floats.stack_of[rows]
    numeric = stack < 0
    raw[numeric] = _format_numbers(floats.block[rows[numeric], positions[numeric]])
    for index in np.unique(stack[~numeric]):
        chosen = stack == index
        cells = floats.slot_of[rows[chosen]] * floats.block.shape[1] + positions[chosen]
        raw[chosen] = floats.stacks[index].iloc[cells].to_numpy(dtype=object)
    rules = np.where(_IS_BOOL[rows], "bool", "number") if rule is None else np.full(len(rows), rule)
    zh = np.empty(len(rows), dtype=object)
    en = np.empty(len(rows), dtype=object)
    for name in np.unique(rules):
        head_zh, head_en = _heads(str(name))
        chosen = rules == name
        zh[chosen], en[chosen] = head_zh[rows[chosen]], head_en[rows[chosen]]
    return [error_frame(positions, _FLOAT_NAMES[rows], rules, raw, zh, en)]


@functools.cache
def _heads(rule: str) -> tuple[np.ndarray, np.ndarray]:
    """Message starts ("label（name）rule text，收到 '") of every float field for one rule."""
    heads = [head(spec, rule) if _applies(spec, rule) else ("", "") for spec in _FLOAT_SPECS]
    return np.array([zh for zh, _ in heads], dtype=object), np.array([en for _, en in heads], dtype=object)


def _applies(spec: FieldSpec, rule: str) -> bool:
    """Whether a rule can fire for a field."""
    return {"min": spec.lo is not None, "max": spec.hi is not None}.get(rule, True)


def _coerce_other(spec: FieldSpec, column: pd.Series | None, n: int):
    """Values for an enum (Categorical) or text (object array) field, with enum problems."""
    if column is None:
        if spec.kind == "enum":
            return pd.Categorical.from_codes(np.full(n, -1), categories=list(spec.choices)), []
        return np.full(n, None, dtype=object), []
    if spec.kind == "text":
        positions, raw = non_text_cells(column)  # a JSON list or object is not text
        found = [error_frame(positions, spec.name, "text", raw, *head(spec, "text"))] if len(positions) else []
        return parse_text(column), found
    values, positions, raw = parse_enum(spec, column)
    if not len(positions):
        return values, []
    return values, [error_frame(positions, spec.name, "enum", raw, *head(spec, "enum"))]


def _format_numbers(values: np.ndarray) -> np.ndarray:
    """Numbers as text, whole numbers without a trailing '.0'."""
    text = pd.Series(values, dtype="float64").astype(str).to_numpy(dtype=object)
    with np.errstate(invalid="ignore"):
        whole = np.isfinite(values) & (np.abs(values) < 1e15) & (values == np.round(values))
    text[whole] = values[whole].astype(np.int64).astype(str).astype(object)
    return text


# --- errors ----------------------------------------------------------------------------------------


def _cross_errors(block: np.ndarray) -> list:
    """Rows breaking a cross rule (both sides known); both cells become unknown afterwards."""
    problems, blank = [], []
    for rule in CROSS_RULES:
        lhs, rhs = block[_FLOAT_ROW[rule.lhs]], block[_FLOAT_ROW[rule.rhs]]
        mask = lhs > rhs
        if not mask.any():
            continue
        positions = np.flatnonzero(mask)
        value = _format_numbers(lhs[positions]) + " > " + _format_numbers(rhs[positions])
        problems.append(pd.DataFrame({
            "pos": positions, "field": rule.lhs, "rule": rule.id, "value": value,
            "message_zh": rule.message_zh + "：" + value, "message_en": rule.message_en + ": " + value,
        }))
        blank += [(rule.lhs, positions), (rule.rhs, positions)]
    for name, positions in blank:
        block[_FLOAT_ROW[name], positions] = np.nan
    return problems


def _assemble(problems: list, index: pd.Index, first_line: int) -> pd.DataFrame:
    """Concatenate error pieces, add index labels and line numbers, sort by row then registry order."""
    if not problems:
        return _no_errors().copy()
    errors = pd.concat(problems, ignore_index=True)
    order = {spec.name: position for position, spec in enumerate(REGISTRY)}
    errors["order"] = errors["field"].map(order)
    errors = errors.sort_values(["pos", "order"], kind="stable", ignore_index=True)
    positions = errors["pos"].to_numpy(dtype=np.int64)
    errors["index"] = index.take(positions).to_numpy(dtype=object)
    errors["row"] = positions + first_line
    return errors.loc[:, list(ERROR_COLUMNS)]


@functools.cache
def _no_errors() -> pd.DataFrame:
    empty = {column: pd.Series(dtype=object) for column in ERROR_COLUMNS}
    empty["row"] = pd.Series(dtype=np.int64)
    return pd.DataFrame(empty)
