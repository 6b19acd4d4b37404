"""Streaming writers of CSV, XLSX and Parquet tables: chunks in, one file out, which appears only when complete.

A :class:`TableWriter` on a path writes to a hidden file beside it (``.NAME.<pid>.partial``) and renames it
to NAME when closed without error; an error, a cancellation or a signal removes the partial file, and a
process killed outright leaves only that partial file, never one that looks finished. CSV is UTF-8 with a
BOM (so Excel shows Chinese), written by Arrow's CSV writer with numbers formatted as pandas writes them;
XLSX by openpyxl in write-only mode; Parquet by ``pyarrow.parquet.ParquetWriter``. In CSV and XLSX, text a
spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) gets
a leading apostrophe, except numbers such as ``-5`` or ``+1.5e3``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from webapp.engine.io.formats import TableError, table_format

XLSX_MAX_DATA_ROWS = 1_048_575
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?%?$"
_XLSX_ILLEGAL = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"


def partial_path(target: Path) -> Path:
    """The hidden file beside ``target`` that a writer fills before renaming it."""
    return target.with_name(f".{target.name}.{os.getpid()}.partial")


class TableWriter:
    """Write Arrow chunks to ``target`` (path or binary stream) as .csv, .xlsx or .parquet.

    Use as a context manager: leaving it normally commits (renames the partial file to ``target``), leaving
    it by an exception removes the partial file. Every chunk must have the columns of the first, in order.
    """

    def __init__(self, target, *, fmt: str | None = None):
        self.fmt = table_format(target, fmt)
        self.rows = 0
        self._path = Path(target) if isinstance(target, str | os.PathLike) else None
        self._partial = partial_path(self._path) if self._path is not None else None
        self._sink = target if self._path is None else None
        self._writer = self._schema = None
        self._opened = False

    def write(self, table: pa.Table) -> None:
        """Append a chunk."""
        if self.fmt == ".xlsx" and self.rows + table.num_rows > XLSX_MAX_DATA_ROWS:
            raise TableError([("xlsx_rows", f"XLSX 最多容纳 {XLSX_MAX_DATA_ROWS:,} 行数据：请输出 .csv 或 .parquet",
                               f"an XLSX sheet holds at most {XLSX_MAX_DATA_ROWS:,} data rows: "
                               f"write .csv or .parquet instead")])
        if not self._opened:
            self._open(table.schema)
        if self.fmt == ".parquet":
            self._writer.write_table(table.cast(self._schema) if table.schema != self._schema else table)
        elif self.fmt == ".csv":
            self._writer.write_table(_csv_text(table))
        else:
            _xlsx_rows(self._sheet, table)
        self.rows += table.num_rows

    def commit(self) -> None:
        """Finish the file and give it its final name."""
        if not self._opened:
            raise TableError([("empty", "没有可写入的数据", "nothing to write")])
        self._finish()
        if self._partial is not None:
            os.replace(self._partial, self._path)

    def abort(self) -> None:
        """Drop what was written."""
        try:
            self._finish()
        finally:
            if self._partial is not None:
                self._partial.unlink(missing_ok=True)

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if kind is None:
            self.commit()
        else:
            self.abort()

    def _open(self, schema: pa.Schema) -> None:
        self._opened, self._schema = True, schema
        if self._partial is not None:
            self._sink = open(self._partial, "wb")
        if self.fmt == ".parquet":
            self._writer = pq.ParquetWriter(self._sink, schema)
        elif self.fmt == ".csv":
            self._sink.write(b"\xef\xbb\xbf")
            text = pa.schema([pa.field(name, pa.string()) for name in schema.names])
            self._writer = pacsv.CSVWriter(self._sink, text, write_options=pacsv.WriteOptions(quoting_style="needed"))
        else:
            from openpyxl import Workbook

            self._book = Workbook(write_only=True)
            self._sheet = self._book.create_sheet("Sheet1")
            self._sheet.append(list(schema.names))

    def _finish(self) -> None:
        if not self._opened or self._sink is None:
            return
        try:
            if self.fmt == ".xlsx":
                self._book.save(self._sink)
            elif self._writer is not None:
                self._writer.close()
        finally:
            if self._partial is not None:
                self._sink.close()
            self._sink = None


def frame_to_arrow(frame: pd.DataFrame) -> pa.Table:
    """A pandas frame as an Arrow table without its index (object columns of text become strings)."""
    frame = frame.copy(deep=False)
    frame.columns = [str(c) for c in frame.columns]
    for name in frame.columns:  # a text column holding a stray number or bool is written as text
        if frame[name].dtype == object:
            try:
                pa.array(frame[name], from_pandas=True)
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                frame[name] = frame[name].map(lambda v: None if v is None or v != v else str(v))
    return pa.Table.from_pandas(frame, preserve_index=False)


def neutralise(column: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """Text that a spreadsheet would run as a formula, with a leading apostrophe; numbers such as -5 kept."""
    starts = pc.starts_with(column, _FORMULA_STARTS[0])
    for prefix in _FORMULA_STARTS[1:]:  # plain prefix tests: a regex over every cell costs five times more
        starts = pc.or_(starts, pc.starts_with(column, prefix))
    if not pc.any(starts).as_py():
        return column
    risky = pc.and_(starts, pc.invert(pc.match_substring_regex(column, _NUMBER)))
    quote, empty = pa.scalar("'", column.type), pa.scalar("", column.type)  # string or large_string alike
    return pc.if_else(risky, pc.binary_join_element_wise(quote, column, empty), column)


def _csv_text(table: pa.Table) -> pa.Table:
    """Every column as text, numbers as pandas writes them ("45.0", "True"), formulas neutralised."""
    return pa.table([neutralise(_as_text(table.column(i))) for i in range(table.num_columns)],
                    names=table.column_names)


def _as_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return column.cast(pa.string())
    if pa.types.is_dictionary(kind):
        return _as_text(column.cast(kind.value_type))
    if pa.types.is_boolean(kind):
        return pc.if_else(column, "True", "False")
    if pa.types.is_floating(kind):
        column = pc.if_else(pc.is_nan(column), pa.scalar(None, kind), column).combine_chunks()
        text = column.cast(pa.string())
        whole = pc.match_substring_regex(text, r"^-?[0-9]+$")
        text = pc.if_else(whole, pc.binary_join_element_wise(text, ".0", ""), text)
        size = pc.abs(column)
        odd = pc.fill_null(pc.or_(pc.and_(pc.greater(size, 0), pc.less(size, 1e-4)), pc.greater_equal(size, 1e15)),
                           False)
        if pc.any(odd).as_py():  # where Python writes an exponent ("1e-05") or digits ("1e15") and Arrow does not
            values = pc.filter(column, odd).to_numpy(zero_copy_only=False)
            text = pc.replace_with_mask(text, odd, pa.array(values.astype(str).astype(object), type=pa.string()))
        return text
    return column.cast(pa.string())


def _xlsx_rows(sheet, table: pa.Table) -> None:
    """Append a chunk's rows to a write-only sheet: text neutralised and stripped of XML-illegal characters."""
    columns = []
    for i in range(table.num_columns):
        column = table.column(i)
        if pa.types.is_dictionary(column.type):
            column = column.cast(column.type.value_type)
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            column = neutralise(pc.replace_substring_regex(column, _XLSX_ILLEGAL, ""))
            values = column.to_pylist()
        elif pa.types.is_floating(column.type):
            values = [None if v is None or v != v else v for v in column.to_pylist()]
        else:
            values = column.to_pylist()
        columns.append(values)
    for row in zip(*columns):
        sheet.append(row)
