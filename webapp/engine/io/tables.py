"""Profile tables on disk: reading and writing .csv, .xlsx and .parquet files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from webapp.engine.io.inputs import normalise_columns

FORMATS = (".csv", ".xlsx", ".parquet")


def table_format(source, fmt: str | None = None) -> str:
    """The table format of a file, from ``fmt`` or the file name's extension.

    Parameters
    ----------
    source : str, pathlib.Path or file-like
        A path, or a stream with a ``filename`` or ``name`` attribute.
    fmt : str, optional
        ".csv", ".xlsx" or ".parquet" (the dot may be left out); overrides the extension.

    Returns
    -------
    str
        ".csv", ".xlsx" or ".parquet".

    Raises
    ------
    ValueError
        If the format is not one of ``FORMATS``.
    """
    name = getattr(source, "filename", None) or getattr(source, "name", None) or source
    suffix = (fmt if fmt is not None else Path(str(name)).suffix).lower()
    suffix = suffix if suffix.startswith(".") else f".{suffix}"
    if suffix not in FORMATS:
        raise ValueError(f"unsupported table format {suffix!r} for {name!s}: use .csv, .xlsx or .parquet")
    return suffix


def read_table(source, *, fmt: str | None = None, normalise: bool = True) -> pd.DataFrame:
    """Read a profiles table and map its headers to canonical names.

    Parameters
    ----------
    source : str, pathlib.Path or binary file-like
        A .csv (UTF-8, with or without BOM), .xlsx (first sheet) or .parquet table.
    fmt : str, optional
        ".csv", ".xlsx" or ".parquet" when ``source`` has no usable file name (an upload stream).
    normalise : bool, default True
        Rename headers to canonical names; False keeps the file's own headers.

    Returns
    -------
    pandas.DataFrame
        CSV and XLSX cells as strings with "" for empty cells (parquet keeps its dtypes), columns
        renamed by :func:`webapp.engine.io.inputs.normalise_columns`. Headers it did not recognise
        are listed in ``frame.attrs["unrecognised_columns"]``.

    Raises
    ------
    ValueError
        If the format is not .csv, .xlsx or .parquet.
    """
    kind = table_format(source, fmt)
    if kind == ".csv":
        frame = pd.read_csv(source, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    elif kind == ".xlsx":
        frame = pd.read_excel(source, sheet_name=0, dtype=str, keep_default_na=False, engine="openpyxl")
        frame = frame.fillna("")
    else:
        frame = pd.read_parquet(source)
    if not normalise:
        return frame
    frame, unrecognised = normalise_columns(frame)
    frame.attrs["unrecognised_columns"] = [str(column) for column in unrecognised]
    return frame


def write_table(frame: pd.DataFrame, target, *, fmt: str | None = None) -> None:
    """Write a frame as .csv (UTF-8 with BOM, so Excel shows Chinese), .xlsx or .parquet, without its index.

    Parameters
    ----------
    frame : pandas.DataFrame
        Any table, e.g. clean profiles or an errors frame.
    target : str, pathlib.Path or binary file-like
        Destination; the extension (or ``fmt``) picks the format.
    fmt : str, optional
        ".csv", ".xlsx" or ".parquet" when ``target`` has no usable file name.

    Raises
    ------
    ValueError
        If the format is not .csv, .xlsx or .parquet.
    """
    kind = table_format(target, fmt)
    if kind == ".csv":
        frame.to_csv(target, index=False, encoding="utf-8-sig")
    elif kind == ".xlsx":
        frame.to_excel(target, index=False, engine="openpyxl")
    else:
        frame.to_parquet(target, index=False)
