"""Profile tables on disk: reading and writing .csv, .xlsx and .parquet files, whole or in chunks.

The streaming reader (:func:`open_table`, in :mod:`webapp.engine.io.readers`) and writer
(:class:`TableWriter`, in :mod:`webapp.engine.io.writers`) serve batches of any size; :func:`read_table` and
:func:`write_table` are the whole-frame shortcuts built on them. A file that cannot be read as a table
raises :class:`TableError`, whose problems each have a rule and a message in Chinese and English.
"""

from __future__ import annotations

import difflib
import functools

import pandas as pd
import pyarrow as pa

from webapp.engine.io import readers, writers
from webapp.engine.io.formats import FORMATS, TableError, table_format
from webapp.engine.io.inputs import normalise_columns
from webapp.fields import FIELDS, REGISTRY, header_key

__all__ = ["FORMATS", "MODE_HEADERS", "TableError", "check_headers", "field_positions", "mode_column",
           "open_table", "read_table", "table_format", "write_table"]
MODE_HEADERS = ("mode", "模式", "评估模式", "assessment mode")  # the per-row mode column (spec/batch-and-api.md)


def check_headers(columns: list[str]) -> None:
    """Refuse headers a batch cannot use: none recognised, or two columns for one field or with one name.

    Raises
    ------
    TableError
        Rule ``no_known_header`` (listing some expected headers) or ``duplicate_header`` (naming them).
    """
    problems, by_field, by_text = [], {}, {}
    for position, column in enumerate(columns, start=1):
        text = str(column)
        by_text.setdefault(text, []).append(position)
        name = _field_of(text)
        if name is not None:
            by_field.setdefault(name, []).append((position, text))
    for text, positions in by_text.items():
        if len(positions) > 1:
            where = ", ".join(str(p) for p in positions)
            problems.append(("duplicate_header", f"表头 '{text}' 重复出现（第 {where} 列）",
                             f"header '{text}' appears more than once (columns {where})"))
    for name, found in by_field.items():
        texts = {text for _, text in found}
        if len(found) > 1 and len(texts) > 1:
            listed = ", ".join(f"'{text}'" for _, text in found)
            where = ", ".join(str(p) for p, _ in found)
            problems.append(("duplicate_header", f"多列表示同一字段 {name}：{listed}（第 {where} 列）",
                             f"several columns mean the field {name}: {listed} (columns {where})"))
    if not by_field:
        expected = ", ".join(spec.name for spec in REGISTRY[:12])
        examples = ", ".join(f"{spec.label_zh}/{spec.label_en}" for spec in REGISTRY[:4])
        problems.append(("no_known_header",
                         f"未找到可识别的表头：第一行应为字段名，例如 {expected} …，或中英文名称如 {examples}"
                         f"（完整列表见模板 giantstep template）",
                         f"no recognised header: the first row should name fields, e.g. {expected} …, or their "
                         f"labels such as {examples} (see the template: giantstep template)"))
    if problems:
        raise TableError(problems)


def mode_column(columns: list[str]) -> int | None:
    """Position of the per-row ``mode`` column, or None."""
    keys = {header_key(text) for text in MODE_HEADERS}
    found = [i for i, column in enumerate(columns) if header_key(str(column)) in keys]
    return found[0] if found else None


@functools.lru_cache(maxsize=64)
def field_positions(columns: tuple[str, ...]) -> dict[int, str]:
    """Column position -> canonical field, for the recognised headers (the first column of a field wins)."""
    found: dict[int, str] = {}
    for position, text in enumerate(columns):
        name = _field_of(str(text))
        if name is not None and name not in found.values():
            found[position] = name
    return found


@functools.cache
def _field_of(text: str) -> str | None:
    """The field a header names, or None."""
    renamed, unrecognised = normalise_columns(pd.DataFrame(columns=[text]))
    name = None if unrecognised else str(renamed.columns[0])
    return name if name in FIELDS else None


def near_miss_headers(columns) -> list[tuple[str, str]]:
    """Headers that name no field but look like a misspelt field name, each with that field: a column kept as
    it is (other columns are the user's own) whose figures were probably meant for the field."""
    out = []
    for column in columns:
        text = str(column)
        if _field_of(text) is None:
            near = difflib.get_close_matches(text.strip().lower(), FIELDS, n=1, cutoff=0.8)
            if near:
                out.append((text, near[0]))
    return out


def open_table(source, *, fmt: str | None = None):
    """A streaming reader of ``source``; see :func:`webapp.engine.io.readers.open_table`."""
    return readers.open_table(source, fmt=table_format(source, fmt))


def read_table(source, *, fmt: str | None = None, normalise: bool = True) -> pd.DataFrame:
    """Read a profiles table and map its headers to canonical names.

    Parameters
    ----------
    source : str, pathlib.Path or binary file-like
        A .csv (UTF-8 with or without BOM, or GB18030/GBK as saved by Chinese Excel), .xlsx (first sheet,
        read in streaming mode after checking its declared size) or .parquet table.
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
    TableError
        If the format is not .csv, .xlsx or .parquet, or the file cannot be read as a table.
    """
    with open_table(source, fmt=fmt) as reader:
        parts = list(reader.batches())
        table = pa.concat_tables(parts) if parts else reader.empty()
    frame = reader.to_pandas(table)
    if not normalise:
        return frame
    frame, unrecognised = normalise_columns(frame)
    frame.attrs["unrecognised_columns"] = [str(column) for column in unrecognised]
    return frame


def write_table(frame: pd.DataFrame, target, *, fmt: str | None = None) -> None:
    """Write a frame as .csv (UTF-8 with BOM, so Excel shows Chinese), .xlsx or .parquet, without its index.

    The file appears only when complete (see :class:`webapp.engine.io.writers.TableWriter`); text that a
    spreadsheet would run as a formula is neutralised in CSV and XLSX.

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
    TableError
        If the format is not .csv, .xlsx or .parquet.
    """
    kind = table_format(target, fmt)
    with writers.TableWriter(target, fmt=kind) as writer:
        writer.write(writers.frame_to_arrow(frame))
