"""Cell text to numbers, booleans, enum codes and clean text: the parsers behind validate_profiles.

Empty or whitespace-only text, missing cells and words such as "NA" or "未知" mean *unknown*. The texts "NaN",
"inf" and "Infinity" are not numbers a firm can have: like "abc" they are refused (rule ``number``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from webapp.fields import FieldSpec, header_key

# Words that mean "unknown" in a cell, besides empty or whitespace-only text. Not "nan": a NaN is refused
# like "inf", whether typed or written by a program (json.dumps writes NaN for float("nan")).
_NULL_TOKENS = ("none", "null", "na", "n/a", "#n/a", "未知", "不详")
_BOOL_WORDS = {
    "true": 1.0, "false": 0.0, "t": 1.0, "f": 0.0, "yes": 1.0, "no": 0.0, "y": 1.0, "n": 0.0,
    "1": 1.0, "0": 0.0, "1.0": 1.0, "0.0": 0.0, "是": 1.0, "否": 0.0, "有": 1.0, "无": 0.0,
}
# Full-width digits and punctuation, odd spaces and the minus sign, as typed with a Chinese IME.
_NUMBER_CHARS = str.maketrans(
    {**{chr(0xFF10 + i): str(i) for i in range(10)}, "．": ".", "，": ",", "％": "%", "－": "-", "＋": "+",
     "−": "-", "Ｅ": "e", "ｅ": "e", "\u3000": " ", "\u00a0": " ", "\u2009": " ", "\u202f": " "}
)
# Explicit classes, not \s or \d, so pandas can hand the patterns to arrow's RE2.
_SEPARATOR = r"[, ]"
_GROUPED = r"[+-]?[0-9]{1,3}(?:[, ][0-9]{3})+(?:\.[0-9]*)?"
_PLAIN_NUMBER = r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"


def parse_floats(column: pd.Series, is_bool: bool) -> tuple[pd.Series, np.ndarray, np.ndarray, np.ndarray]:
    """Parse cells as numbers, or as yes/no words for a bool field.

    Parameters
    ----------
    column : pandas.Series
        Cells of any dtype (``str(value)`` is parsed for non-strings); the columns of several fields may be
        stacked end to end. Text numbers may use thousands separators ("1,234.5", "1 234"), full-width digits
        and a trailing "%"; booleans accept true/false, 是/否, yes/no, y/n, 1/0, 有/无.
    is_bool : bool
        Parse yes/no words instead of numbers.

    Returns
    -------
    text : pandas.Series
        The cells as str, by position (index reset), for error messages.
    values : numpy.ndarray
        float64; NaN where a cell is unknown or does not parse.
    bad : numpy.ndarray
        bool; cells that are neither unknown nor parsable.
    percent : numpy.ndarray
        bool; number cells that ended with "%" (the caller decides whether the field allows it).
    """
    text, missing = _as_text(column)
    if is_bool or _repetitive(text):  # parse each distinct text once
        codes, uniques = _factorize(text, missing)
        values, bad, percent = (np.append(part, fill)[codes] for part, fill in
                                zip(_parse_texts(uniques, is_bool), (np.nan, False, False), strict=True))
    else:  # mostly distinct (money): hashing would cost more than parsing every cell
        values, bad, percent = _parse_texts(text, is_bool)
        values[missing], bad[missing], percent[missing] = np.nan, False, False
    return text, values, bad, percent


def parse_text(column: pd.Series) -> np.ndarray:
    """Parse cells of a text field.

    Parameters
    ----------
    column : pandas.Series
        Cells of any dtype.

    Returns
    -------
    numpy.ndarray
        object; the stripped str of each cell, None where it is missing or blank.
    """
    codes, uniques = _factorize(*_as_text(column))
    table = uniques.str.strip()
    table = np.append(table.where(table != "").to_numpy(dtype=object, na_value=None), None)
    return table[codes]


def non_text_cells(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the lists and objects (as JSON gives them) in a text field's cells, and their type names.

    Only an object column can hold one; string columns (CSV, XLSX) are not scanned.
    """
    if column.dtype != object:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=object)
    values = column.tolist()
    positions = np.flatnonzero([isinstance(value, list | dict | tuple | set) for value in values])
    return positions, np.array([type(values[i]).__name__ for i in positions], dtype=object)


def parse_enum(spec: FieldSpec, column: pd.Series) -> tuple[pd.Categorical, np.ndarray, np.ndarray]:
    """Parse cells of an enum field, given as the code or its zh/en label.

    Parameters
    ----------
    spec : webapp.fields.FieldSpec
        An enum field.
    column : pandas.Series
        Cells of any dtype; matched to choices by :func:`webapp.fields.header_key`.

    Returns
    -------
    values : pandas.Categorical
        Categories ``spec.choices``; missing where a cell is unknown or matches no choice.
    positions : numpy.ndarray
        Positions of the cells that match no choice (and are not unknown).
    raw : numpy.ndarray
        object; the text of those cells.
    """
    codes, uniques = _factorize(*_as_text(column))
    lookup = {header_key(text): position for position, texts in enumerate(
        zip(spec.choices, spec.choice_labels_zh, spec.choice_labels_en, strict=True)) for text in texts}
    keys = uniques.map(header_key, na_action="ignore")
    found = keys.map(lookup).to_numpy(dtype="float64", na_value=np.nan)
    bad_unique = np.isnan(found) & ~_is_null(uniques.str.strip())
    value_codes = np.append(np.nan_to_num(found, nan=-1).astype(np.int64), -1)[codes]
    bad = np.append(bad_unique, False)[codes]
    values = pd.Categorical.from_codes(value_codes, categories=list(spec.choices))
    positions = np.flatnonzero(bad)
    raw = uniques.iloc[codes[positions]].to_numpy(dtype=object)
    return values, positions, raw


def _repetitive(text: pd.Series) -> bool:
    """Whether a sample of the cells holds few distinct values (counts, codes), so hashing pays."""
    sample = text.iloc[:: max(1, len(text) // 5000)]
    return len(sample) < 50 or pd.unique(sample).size < 0.2 * len(sample)


def _parse_texts(texts: pd.Series, is_bool: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Values (NaN = unknown or bad), parse failures and "ends with %" for cell texts."""
    keys = _translate(texts).str.strip()
    null = _is_null(keys)
    if is_bool:
        percent = np.zeros(len(keys), dtype=bool)
        values = keys.str.lower().map(_BOOL_WORDS).to_numpy(dtype="float64", na_value=np.nan, copy=True)
    else:
        percent = keys.str.endswith("%").to_numpy(dtype=bool, na_value=False) & ~null
        values = _parse_numbers(keys.str.removesuffix("%").str.rstrip() if percent.any() else keys, null)
    bad = (np.isnan(values) | np.isinf(values)) & ~null
    values[null | bad] = np.nan
    return values, bad, percent


def _parse_numbers(keys: pd.Series, null: np.ndarray) -> np.ndarray:
    """Parse stripped cell texts ("1,234.5", "1 234", "1e3"); NaN when unknown or not a plain number."""
    separated = keys.str.contains(",", regex=False) | keys.str.contains(" ", regex=False)
    separated = separated.to_numpy(dtype=bool, na_value=False)
    if separated.any():  # thousands separators are removed only when they group digits by three
        grouped = keys[separated]
        keys = keys.copy()
        ungrouped = grouped.str.replace(_SEPARATOR, "", regex=True)
        keys[separated] = ungrouped.where(grouped.str.fullmatch(_GROUPED))
    text = pa.array(keys)
    text = (text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text).cast(pa.large_string())
    text = pc.if_else(pa.array(null), pa.scalar(None, pa.large_string()), text)
    try:  # clean data: one arrow cast, ~30x faster than pd.to_numeric
        parsed = pc.cast(text, pa.float64())
    except pa.ArrowInvalid:  # some cell is not a number: keep only plain decimal notation
        plain = pc.match_substring_regex(text, _PLAIN_NUMBER)
        parsed = pc.cast(pc.if_else(plain, text, pa.scalar(None, pa.large_string())), pa.float64())
    return parsed.to_numpy(zero_copy_only=False, writable=True)


def _as_text(column: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Cells as an arrow-backed str Series (str(value) for non-strings), and the missing mask."""
    missing = column.isna().to_numpy(dtype=bool)
    if isinstance(column.dtype, pd.StringDtype) and column.dtype.storage == "pyarrow":
        return column.reset_index(drop=True), missing
    try:
        text = column.astype(object).astype("str")
    except Exception:  # an object whose __str__ fails
        text = pd.Series([_safe_str(value) for value in column.tolist()], dtype="str")
    return text.reset_index(drop=True), missing


def _factorize(text: pd.Series, missing: np.ndarray) -> tuple[np.ndarray, pd.Series]:
    """Codes (-1 = missing) and distinct texts, so a lookup runs once per distinct value."""
    codes, uniques = pd.factorize(text, use_na_sentinel=True)
    return np.where(missing, -1, codes), pd.Series(uniques, dtype="str")


def _translate(uniques: pd.Series) -> pd.Series:
    """Full-width digits and punctuation to ASCII, only where a text has non-ASCII characters."""
    wide = ~uniques.str.isascii().to_numpy(dtype=bool, na_value=True)
    if not wide.any():
        return uniques
    uniques = uniques.copy()
    uniques[wide] = uniques[wide].str.translate(_NUMBER_CHARS)
    return uniques


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
    """Stripped texts that mean unknown: missing, empty or a null word."""
    null = keys.eq("") | keys.str.lower().isin(_NULL_TOKENS)
    return null.to_numpy(dtype=bool, na_value=True) | keys.isna().to_numpy(dtype=bool)
