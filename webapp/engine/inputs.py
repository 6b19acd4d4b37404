"""Coerce and validate firm profiles against the field registry: one vectorised path for all inputs."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from webapp.fields import CROSS_RULES, FIELDS, NUMERIC_KINDS, REGISTRY, FieldSpec, header_aliases, header_key

ERROR_COLUMNS = ("index", "row", "field", "rule", "value", "message_zh", "message_en")

# Words that mean "unknown" in a cell, besides empty or whitespace-only text.
_NULL_TOKENS = ("nan", "none", "null", "na", "n/a", "#n/a", "未知", "不详")
_BOOL_WORDS = {
    "true": 1.0, "false": 0.0, "t": 1.0, "f": 0.0, "yes": 1.0, "no": 0.0, "y": 1.0, "n": 0.0,
    "1": 1.0, "0": 0.0, "1.0": 1.0, "0.0": 0.0, "是": 1.0, "否": 0.0, "有": 1.0, "无": 0.0,
}
# Full-width digits and punctuation, odd spaces and the minus sign, as typed with a Chinese IME.
_NUMBER_CHARS = str.maketrans(
    {**{chr(0xFF10 + i): str(i) for i in range(10)}, "．": ".", "，": ",", "％": "%", "－": "-", "＋": "+",
     "−": "-", "Ｅ": "e", "ｅ": "e", "\u3000": " ", "\u00a0": " ", "\u2009": " ", "\u202f": " "}
)
_SEPARATOR = r"[,\s]"
_GROUPED = r"[+-]?\d{1,3}(?:[,\s]\d{3})+(?:\.\d*)?"
_TRAILING_NAME = re.compile(r"\[\s*([A-Za-z0-9_]+)\s*\]\s*$")
_MAX_VALUE_CHARS = 100


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
        The same data with recognised columns renamed. A second column for a field already
        seen is dropped (the first one wins); unknown columns are kept as they are.
    unrecognised : list
        Headers that were not mapped: unknown ones and dropped duplicates, in column order.
    """
    aliases = header_aliases()
    labels, keep, seen, unrecognised = [], [], set(), []
    for position, column in enumerate(frame.columns):
        name = _resolve_header(column, aliases)
        if name is not None and name in seen:
            unrecognised.append(column)
            continue
        if name is None:
            unrecognised.append(column)
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
    if name is None:
        match = _TRAILING_NAME.search(text)
        if match and match.group(1).lower() in FIELDS:
            name = match.group(1).lower()
    return name


def profiles_from_records(records: list[dict]) -> pd.DataFrame:
    """Turn JSON objects (one per firm) into a profiles frame, values kept exactly as given.

    Parameters
    ----------
    records : list of dict
        One mapping per firm, keyed by canonical field names.

    Returns
    -------
    pandas.DataFrame
        One row per record, object dtype, ready for :func:`validate_profiles`.
    """
    records = list(records)
    if not records:
        return pd.DataFrame(index=pd.RangeIndex(0))
    return pd.DataFrame(records, dtype=object)


def validate_profiles(frame: pd.DataFrame, *, first_line: int = 2) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Coerce a frame of profiles to registry dtypes and report every invalid cell and row.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per firm, canonical column names (see :func:`normalise_columns`). Cells may be
        strings (as read with ``dtype=str, keep_default_na=False``), Python scalars or numeric
        dtypes. Empty or whitespace text, None and NaN mean *unknown*. Columns not in the registry
        are ignored; registry fields missing from the frame are all unknown.
    first_line : int, default 2
        Line number of the first data row, for messages (a spreadsheet with one header row: 2).

    Returns
    -------
    clean : pandas.DataFrame
        Same index as ``frame``, one column per registry field in registry order. money, number,
        count and pct are float64 (money in 万元, pct 0-100); bool is float64 1.0/0.0; enum is a
        Categorical with the field's choices as categories; text is object (stripped str or None).
        Unknown and invalid cells are NaN/None. When a cross rule fails, both of its cells are
        set to unknown, because either may be the wrong one.
    errors : pandas.DataFrame
        Columns ``index`` (the input's index label), ``row`` (``first_line`` + position),
        ``field``, ``rule`` (number, integer, min, max, enum, bool or a cross-rule id), ``value``
        (the offending raw value as str), ``message_zh`` and ``message_en``; sorted by row, then
        registry order. At most one cell error per cell.
    """
    n = len(frame)
    positions: dict[str, int] = {}
    for position, column in enumerate(frame.columns):
        if isinstance(column, str) and column in FIELDS:
            positions.setdefault(column, position)
    clean, problems = {}, []
    for spec in REGISTRY:
        column = frame.iloc[:, positions[spec.name]] if spec.name in positions else None
        clean[spec.name], cell_problems = _coerce(spec, column, n)
        problems += [_cell_errors(spec, rule, pos, raw) for rule, pos, raw in cell_problems]
    problems += _cross_errors(clean)
    result = pd.DataFrame(
        {name: (pd.Series(values, index=frame.index, dtype=object) if FIELDS[name].kind == "text"
                else values) for name, values in clean.items()},
        index=frame.index,
    )
    return result, _assemble(problems, frame.index, first_line)


# --- cells -----------------------------------------------------------------------------------------


def _coerce(spec: FieldSpec, column: pd.Series | None, n: int):
    """Parse one column; return (clean values, [(rule, positions, raw strings)])."""
    if spec.kind in NUMERIC_KINDS or spec.kind == "bool":
        values, problems, raw_at = _to_float(spec, column, n)
        if spec.kind == "bool":
            return values, problems
        return values, problems + _bounds(spec, values, raw_at)
    if column is None:
        if spec.kind == "enum":
            return _finish_enum(spec, np.full(n, -1)), []
        return np.full(n, None, dtype=object), []
    codes, uniques = _factorize(column)
    keys = pd.Series(uniques, dtype=object)
    if spec.kind == "text":
        table = np.append(keys.str.strip().to_numpy(dtype=object), "")
        table[table == ""] = None
        return table[codes], []
    lookup = _enum_lookup(spec)
    key = keys.str.normalize("NFKC").str.casefold().str.replace(r"\s+", "", regex=True)
    found = key.map(lookup).fillna(-1).to_numpy(dtype=np.int64)
    bad_unique = (found < 0) & ~_is_null(keys)
    value_codes = np.append(found, -1)[codes]
    bad = np.append(bad_unique, False)[codes]
    return _finish_enum(spec, value_codes), _problem("enum", bad, lambda positions: uniques[codes[positions]])


def _finish_enum(spec: FieldSpec, value_codes: np.ndarray) -> pd.Categorical:
    """Categorical with exactly the field's choices as categories (-1 = unknown)."""
    return pd.Categorical.from_codes(value_codes, categories=pd.Index(spec.choices, dtype=object))


def _to_float(spec: FieldSpec, column: pd.Series | None, n: int):
    """Float64 values for numeric and bool fields, the cells that failed to parse, and a raw-text getter."""
    rule = "bool" if spec.kind == "bool" else "number"
    if column is None:
        return np.full(n, np.nan), [], None
    if _is_numeric(column.dtype):
        values = column.to_numpy(dtype="float64", na_value=np.nan, copy=True)
        if rule == "bool":
            bad = (values != 0) & (values != 1) & ~np.isnan(values)
        else:
            bad = np.isinf(values)
        values[bad] = np.nan

        def raw_at(positions):
            return _raw_numbers(column.iloc[positions].to_numpy(dtype="float64", na_value=np.nan))

        return values, _problem(rule, bad, raw_at), raw_at
    codes, uniques = _factorize(column)

    def raw_at(positions):
        return uniques[codes[positions]]

    keys = pd.Series(uniques, dtype=object).str.translate(_NUMBER_CHARS).str.strip()
    if rule == "bool":
        parsed = keys.str.lower().map(_BOOL_WORDS).astype("float64").to_numpy()
    else:
        parsed = _parse_numbers(keys, percent=spec.kind == "pct")
    bad_unique = np.isnan(parsed) & ~_is_null(keys)
    values = np.append(parsed, np.nan)[codes]
    bad = np.append(bad_unique, False)[codes]
    return values, _problem(rule, bad, raw_at), raw_at


def _parse_numbers(keys: pd.Series, *, percent: bool) -> np.ndarray:
    """Parse distinct cell texts: "1,234.5", "1 234", "１２３", and "12.5%" for pct fields; ±inf -> NaN."""
    if percent:
        keys = keys.str.removesuffix("%").str.rstrip()
    separated = keys.str.contains(_SEPARATOR, regex=True).to_numpy(dtype=bool)
    grouped = keys.str.fullmatch(_GROUPED).to_numpy(dtype=bool)
    keys = keys.where(~separated, keys.str.replace(_SEPARATOR, "", regex=True)).where(~separated | grouped)
    try:
        parsed = pd.to_numeric(keys, errors="coerce").to_numpy(dtype="float64", na_value=np.nan, copy=True)
    except (TypeError, ValueError, OverflowError):  # exotic text pandas cannot coerce: parse one by one
        parsed = np.array([_float_or_nan(text) for text in keys], dtype="float64")
    parsed[np.isinf(parsed)] = np.nan
    return parsed


def _float_or_nan(text) -> float:
    """float(text), or NaN when it is not a number."""
    try:
        return float(text)
    except (TypeError, ValueError, OverflowError):
        return np.nan


def _bounds(spec: FieldSpec, values: np.ndarray, raw_at) -> list:
    """Integer and range problems of parsed numbers; offending cells are set to NaN in place."""
    problems = []
    with np.errstate(invalid="ignore"):
        checks = []
        if spec.integer:
            checks.append(("integer", (values - np.floor(values)) > 0))
        if spec.lo is not None:
            checks.append(("min", values < spec.lo))
        if spec.hi is not None:
            checks.append(("max", values > spec.hi))
    taken = np.zeros(len(values), dtype=bool)
    for rule, mask in checks:
        mask &= ~taken
        if mask.any():
            positions = np.flatnonzero(mask)
            problems.append((rule, positions, raw_at(positions)))
            taken |= mask
    values[taken] = np.nan
    return problems


def _factorize(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes (-1 = missing) and distinct cell texts, so parsing runs once per distinct value."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        uniques = column.cat.categories.astype(str).to_numpy(dtype=object)
        return column.cat.codes.to_numpy(dtype=np.intp), uniques
    missing = column.isna().to_numpy(dtype=bool)
    try:
        text = column.astype(str)
    except Exception:  # an object whose __str__ fails: fall back to a safe repr per cell
        text = pd.Series([_safe_str(value) for value in column.tolist()], dtype=object)
    codes, uniques = pd.factorize(text.to_numpy(dtype=object, na_value=None), use_na_sentinel=True)
    codes = np.where(missing, -1, codes)
    return codes, np.asarray(uniques, dtype=object)


def _safe_str(value) -> str:
    """str(value) that never raises."""
    try:
        return str(value)
    except Exception:
        return f"<{type(value).__name__}>"


def _is_numeric(dtype) -> bool:
    """Real numeric or bool dtypes take the fast path without string parsing."""
    return (pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype)) and not (
        pd.api.types.is_complex_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype)
    )


def _is_null(keys: pd.Series) -> np.ndarray:
    """Distinct texts that mean unknown: empty, whitespace or a null word."""
    stripped = keys.str.strip()
    return (stripped.eq("") | stripped.str.lower().isin(_NULL_TOKENS)).to_numpy(dtype=bool)


def _enum_lookup(spec: FieldSpec) -> dict[str, int]:
    """Normalised code, zh label and en label -> category position."""
    lookup = {}
    for position, texts in enumerate(zip(spec.choices, spec.choice_labels_zh, spec.choice_labels_en,
                                         strict=True)):
        for text in texts:
            lookup[header_key(text)] = position
    return lookup


def _problem(rule: str, bad: np.ndarray, raw_at) -> list:
    """One (rule, positions, raw strings) entry when any cell is bad."""
    if not bad.any():
        return []
    positions = np.flatnonzero(bad)
    return [(rule, positions, np.asarray(raw_at(positions), dtype=object))]


def _raw_numbers(values: np.ndarray) -> np.ndarray:
    """Numbers as text, whole numbers without a trailing '.0'."""
    series = pd.Series(values, dtype="float64")
    text = series.astype(str).to_numpy(dtype=object)
    whole = np.isfinite(values) & (np.abs(values) < 1e15) & (values == np.round(values))
    text[whole] = series[whole].astype(np.int64).astype(str).to_numpy(dtype=object)
    return text


# --- messages --------------------------------------------------------------------------------------


def _bound_text(value: float, unit: str, lang: str) -> str:
    """A bound with its unit: '0 万元', '0 (10k CNY)', '100%'."""
    number = f"{value:g}"
    if not unit or unit == "%":
        return number + unit
    return f"{number} {unit}" if lang == "zh" else f"{number} ({unit})"


def _rule_text(spec: FieldSpec, rule: str) -> tuple[str, str]:
    """What the cell should have been, in zh and en."""
    if rule == "number":
        return "应为数字", "expected a number"
    if rule == "integer":
        return "应为整数", "expected a whole number"
    if rule == "min":
        return (f"不能小于 {_bound_text(spec.lo, spec.unit_zh, 'zh')}",
                f"must be at least {_bound_text(spec.lo, spec.unit_en, 'en')}")
    if rule == "max":
        return (f"不能大于 {_bound_text(spec.hi, spec.unit_zh, 'zh')}",
                f"must be at most {_bound_text(spec.hi, spec.unit_en, 'en')}")
    if rule == "enum":
        codes = ", ".join(spec.choices)
        return (f"取值无效，可选：{codes}（或其中文名称）",
                f"expected one of {codes} (or their labels)")
    return ("应为是/否（可填 true/false、是/否、yes/no、y/n、1/0、有/无）",
            "expected yes/no (true/false, 是/否, yes/no, y/n, 1/0, 有/无)")


def _cell_errors(spec: FieldSpec, rule: str, positions: np.ndarray, raw: np.ndarray) -> pd.DataFrame:
    """Error rows for one field and rule."""
    value = pd.Series(raw, dtype=object).str.slice(0, _MAX_VALUE_CHARS).to_numpy(dtype=object)
    zh, en = _rule_text(spec, rule)
    return pd.DataFrame({
        "pos": positions, "field": spec.name, "rule": rule, "value": value,
        "message_zh": f"{spec.label_zh}（{spec.name}）{zh}，收到 '" + value + "'",
        "message_en": f"{spec.label_en} ({spec.name}): {en}, got '" + value + "'",
    })


def _cross_errors(clean: dict) -> list:
    """Rows breaking a cross rule (both sides known); both cells become unknown afterwards."""
    problems, blank = [], []
    for rule in CROSS_RULES:
        lhs, rhs = clean[rule.lhs], clean[rule.rhs]
        mask = lhs > rhs
        if not mask.any():
            continue
        positions = np.flatnonzero(mask)
        value = _raw_numbers(lhs[positions]) + " > " + _raw_numbers(rhs[positions])
        problems.append(pd.DataFrame({
            "pos": positions, "field": rule.lhs, "rule": rule.id, "value": value,
            "message_zh": rule.message_zh + "：" + value, "message_en": rule.message_en + ": " + value,
        }))
        blank += [(rule.lhs, positions), (rule.rhs, positions)]
    for name, positions in blank:
        clean[name][positions] = np.nan
    return problems


def _assemble(problems: list, index: pd.Index, first_line: int) -> pd.DataFrame:
    """Concatenate error pieces, add index labels and line numbers, sort by row then registry order."""
    if not problems:
        empty = {column: pd.Series(dtype=object) for column in ERROR_COLUMNS}
        empty["row"] = pd.Series(dtype=np.int64)
        return pd.DataFrame(empty)
    errors = pd.concat(problems, ignore_index=True)
    order = {spec.name: position for position, spec in enumerate(REGISTRY)}
    errors["order"] = errors["field"].map(order)
    errors = errors.sort_values(["pos", "order"], kind="stable", ignore_index=True)
    positions = errors["pos"].to_numpy(dtype=np.int64)
    errors["index"] = index.take(positions).to_numpy(dtype=object)
    errors["row"] = positions + first_line
    return errors.loc[:, list(ERROR_COLUMNS)]
