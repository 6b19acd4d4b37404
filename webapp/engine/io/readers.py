"""Streaming readers of CSV, XLSX and Parquet tables: the file's headers first, then its rows in chunks.

Each reader checks what it can before reading a row: the CSV's encoding (UTF-8 with or without BOM, else
GB18030, which covers the GBK of a CSV saved by Chinese Excel), the XLSX sheet's declared size and
compression ratio (a sheet that claims millions of cells is refused before any is read, and rows are read in
openpyxl's streaming mode), the Parquet schema (nested and duration columns are refused). Chunks are Arrow
tables of the file's own columns: text for CSV and XLSX (as ``pandas.read_csv(dtype=str)`` and
``read_excel(dtype=str)`` would give it, "" for an empty cell), the file's types for Parquet.
"""

from __future__ import annotations

import codecs
import io
import os
import zipfile
from collections.abc import Iterator

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from webapp.engine.io.formats import TableError

CHUNK_ROWS = 25_000
MAX_COLUMNS = 2_000  # a profiles sheet has about 100; a file claiming more is refused before reading it
XLSX_MAX_ROWS = 1_048_576
XLSX_MAX_RATIO = 100  # uncompressed / compressed size of a sheet past which (and past 50 MB) it is refused
XLSX_RATIO_FROM = 50_000_000
_UTF8_BOM, _GB18030_BOM = b"\xef\xbb\xbf", b"\x84\x31\x95\x33"
_HEAD_BYTES = 1 << 20


def open_table(source, *, fmt: str) -> TableReader:
    """A reader of ``source`` (a path or a seekable binary stream) in format ``fmt`` (".csv", ".xlsx",
    ".parquet"). Use it as a context manager; :class:`TableError` names what makes the file unreadable."""
    kind = {".csv": CsvReader, ".xlsx": XlsxReader, ".parquet": ParquetReader}[fmt]
    stream, own = _binary(source)
    try:
        return kind(stream, own)
    except BaseException:
        if own:
            stream.close()
        raise


class TableReader:
    """Headers (``columns``), the row count when the format knows it (``rows_total``) and chunks of rows."""

    columns: list[str]
    rows_total: int | None = None

    def __init__(self, stream, own: bool):
        self._stream, self._own = stream, own
        position = stream.tell()
        self.size_bytes = stream.seek(0, os.SEEK_END) - position
        stream.seek(position)

    def batches(self, rows: int = CHUNK_ROWS) -> Iterator[pa.Table]:
        """Chunks of about ``rows`` rows (never more), in file order."""
        buffer, size = [], 0
        for batch in self._record_batches(rows):
            while batch.num_rows:
                take = batch.slice(0, rows - size)
                buffer.append(take)
                size += take.num_rows
                batch = batch.slice(take.num_rows)
                if size == rows:
                    yield pa.Table.from_batches(buffer)
                    buffer, size = [], 0
        if size:
            yield pa.Table.from_batches(buffer)

    def empty(self) -> pa.Table:
        """A table of no rows with the reader's schema."""
        return self.schema().empty_table()

    def schema(self) -> pa.Schema:
        """Every column as text (CSV, XLSX)."""
        return pa.schema([pa.field(c, pa.string()) for c in self.columns])

    def to_pandas(self, table: pa.Table) -> pd.DataFrame:
        """A chunk as pandas: text columns as object str."""
        return pd.DataFrame({name: table.column(i).to_numpy(zero_copy_only=False).astype(object)
                             for i, name in enumerate(table.column_names)}, columns=table.column_names)

    def count_rows(self) -> int:
        """The number of data rows (reads the file once more unless the format says it)."""
        if self.rows_total is None:
            raise NotImplementedError
        return self.rows_total

    def _record_batches(self, rows: int) -> Iterator[pa.RecordBatch]:
        raise NotImplementedError

    def close(self) -> None:
        if self._own:
            self._stream.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class CsvReader(TableReader):
    """CSV in UTF-8 (BOM or not) or GB18030/GBK; quoted cells may hold line breaks and commas."""

    def __init__(self, stream, own):
        super().__init__(stream, own)
        self._start = stream.tell()
        head = stream.read(_HEAD_BYTES)
        self.encoding, self._skip = _csv_encoding(head)
        # The headers come from the bytes already read: Arrow's reader reads ahead in a background thread, and
        # a reader left behind must not move the shared stream under the next one.
        headers = self._open(pa.BufferReader(head[self._skip:]), names_only=True)
        self.columns = _unique_blank_names(headers.schema.names)

    def _open(self, source=None, *, names_only: bool = False, include=None):
        if source is None:
            self._stream.seek(self._start + self._skip)
            source = self._stream
        read = pacsv.ReadOptions(encoding=self.encoding, block_size=1 << (16 if names_only else 21), use_threads=True)
        parse = pacsv.ParseOptions(newlines_in_values=True)
        types = {} if names_only else {name: pa.string() for name in self._raw_names}
        convert = pacsv.ConvertOptions(column_types=types, strings_can_be_null=False,
                                       quoted_strings_can_be_null=False, include_columns=include)
        try:
            reader = pacsv.open_csv(source, read_options=read, parse_options=parse, convert_options=convert)
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            raise _csv_problem(exc) from None
        if names_only:
            self._raw_names = reader.schema.names
        return reader

    def _record_batches(self, rows):
        reader = self._open()
        names = self.columns
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                return
            except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
                raise _csv_problem(exc) from None
            yield pa.RecordBatch.from_arrays(batch.columns, names=names)

    def count_rows(self) -> int:
        if self.rows_total is None:
            reader = self._open(include=[self._raw_names[0]])
            total = 0
            try:
                for batch in reader:
                    total += batch.num_rows
            except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
                raise _csv_problem(exc) from None
            self.rows_total = total
        return self.rows_total


class XlsxReader(TableReader):
    """The first sheet of a workbook, read in openpyxl's streaming mode after checking its declared size."""

    def __init__(self, stream, own):
        import openpyxl

        super().__init__(stream, own)
        _check_xlsx_zip(stream)
        stream.seek(0)
        try:
            self._book = openpyxl.load_workbook(stream, read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
            raise TableError([("xlsx",
                               f"不是可读取的 .xlsx 工作簿：{exc}", f"not a readable .xlsx workbook: {exc}")]) from None
        self._sheet = self._book.worksheets[0]
        _check_xlsx_size(self._sheet.max_row, self._sheet.max_column)
        self._sheet.reset_dimensions()  # never pad rows to a claimed size
        self._header_row, header = 0, ()
        for number, values in enumerate(self._sheet.iter_rows(values_only=True), start=1):
            if len(values) > MAX_COLUMNS:
                _check_xlsx_size(None, len(values))
            if any(_cell_text(v) for v in values):
                self._header_row, header = number, values
                break
        while header and not _cell_text(header[-1]):
            header = header[:-1]
        self.columns = _unique_blank_names([_cell_text(v) for v in header])

    def _record_batches(self, rows):
        width, pending, buffer = len(self.columns), [], []
        if not width:
            return
        for values in self._sheet.iter_rows(min_row=self._header_row + 1, max_col=width, values_only=True):
            cells = [_cell_text(v) for v in values] + [""] * (width - len(values))
            if not any(cells):
                pending.append(cells)  # kept only if a non-empty row follows (pandas drops trailing ones)
                continue
            buffer += pending + [cells]
            pending = []
            if len(buffer) >= rows:
                yield _rows_batch(buffer, self.columns)
                buffer = []
        if buffer:
            yield _rows_batch(buffer, self.columns)

    def count_rows(self) -> int:
        if self.rows_total is None:
            self.rows_total = sum(batch.num_rows for batch in self._record_batches(CHUNK_ROWS))
        return self.rows_total

    def close(self):
        self._book.close()
        super().close()


class ParquetReader(TableReader):
    """A Parquet file read by row groups; nested and duration columns are refused naming the column."""

    def __init__(self, stream, own):
        super().__init__(stream, own)
        try:
            self._file = pq.ParquetFile(stream)
        except (pa.ArrowInvalid, OSError) as exc:
            raise TableError([("parquet",
                               f"不是可读取的 Parquet 文件：{exc}", f"not a readable Parquet file: {exc}")]) from None
        self._schema = self._file.schema_arrow
        problems = [_parquet_problem(f) for f in self._schema if _parquet_problem(f)]
        if problems:
            raise TableError(problems)
        self.columns = list(self._schema.names)
        self.rows_total = self._file.metadata.num_rows

    def schema(self):
        return self._schema

    def to_pandas(self, table):
        return table.to_pandas()

    def _record_batches(self, rows):
        try:
            yield from self._file.iter_batches(batch_size=rows, use_threads=True)
        except (pa.ArrowInvalid, OSError) as exc:
            raise TableError([("parquet",
                               f"Parquet 文件无法读取：{exc}", f"cannot read the Parquet file: {exc}")]) from None


def _binary(source):
    """(binary stream, whether we opened it)."""
    if isinstance(source, str | os.PathLike):
        try:
            return open(source, "rb"), True
        except OSError as exc:
            raise TableError([("file",
                               f"无法打开文件（{exc.strerror}）", f"cannot open the file ({exc.strerror})")]) from None
    if hasattr(source, "seek"):
        return source, False
    return io.BytesIO(source.read()), True


def _csv_encoding(head: bytes) -> tuple[str, int]:
    """(codec, bytes of BOM to skip): UTF-8 when the start decodes as UTF-8, else GB18030 (a superset of GBK)."""
    if head.startswith(_UTF8_BOM):
        return "utf8", len(_UTF8_BOM)
    if head.startswith(_GB18030_BOM):
        return "gb18030", len(_GB18030_BOM)
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=len(head) < _HEAD_BYTES)
    except UnicodeDecodeError:
        return "gb18030", 0
    return "utf8", 0


def _csv_problem(exc: Exception) -> TableError:
    text = " ".join(str(exc).split())[:300]
    if isinstance(exc, UnicodeDecodeError) or "UTF8" in text or "utf-8" in text.lower():
        return TableError([("encoding", f"无法识别文件编码（应为 UTF-8 或 GB18030/GBK）：{text}",
                            f"cannot decode the file (expected UTF-8 or GB18030/GBK): {text}")])
    if "Empty CSV file" in text:
        return TableError([("empty", "文件为空：第一行应为表头", "the file is empty: the first row should be headers")])
    return TableError([("csv", f"CSV 格式错误：{text}", f"malformed CSV: {text}")])


def _unique_blank_names(names) -> list[str]:
    """Headers with blank ones named like pandas does ("Unnamed: 3")."""
    return [str(name).replace("\ufeff", "") if str(name).strip() else f"Unnamed: {i}" for i, name in enumerate(names)]


def _check_xlsx_zip(stream) -> None:
    """Refuse a workbook whose sheets expand far beyond their compressed size (a zip bomb)."""
    try:
        with zipfile.ZipFile(stream) as archive:
            for info in archive.infolist():
                if info.filename.startswith("xl/worksheets/") and info.file_size > XLSX_RATIO_FROM \
                        and info.file_size > XLSX_MAX_RATIO * max(info.compress_size, 1):
                    raise TableError([("xlsx_size",
                                       f"工作表 {info.filename} 解压后 {info.file_size:,} 字节，压缩比异常，拒绝读取",
                                       f"sheet {info.filename} expands to {info.file_size:,} bytes, "
                                       f"{info.file_size // max(info.compress_size, 1):,} times its compressed "
                                       f"size: refused")])
    except zipfile.BadZipFile as exc:
        raise TableError([("xlsx",
                           f"不是可读取的 .xlsx 工作簿：{exc}", f"not a readable .xlsx workbook: {exc}")]) from None


def _check_xlsx_size(rows: int | None, columns: int | None) -> None:
    if (columns or 0) > MAX_COLUMNS or (rows or 0) > XLSX_MAX_ROWS:
        size = f"{columns or '?':,} × {rows or '?':,}" if rows and columns else f"{columns or rows:,}"
        raise TableError([("xlsx_size", f"工作表声明的大小为 {size}（列 × 行），超过上限 {MAX_COLUMNS:,} 列，拒绝读取",
                           f"the sheet declares {size} cells (columns × rows), more than the {MAX_COLUMNS:,} "
                           f"columns a profiles table can have: refused")])


def _cell_text(value) -> str:
    """A cell as ``read_excel(dtype=str)`` shows it: whole floats without ".0", empty for None."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _rows_batch(rows: list[list[str]], names: list[str]) -> pa.RecordBatch:
    columns = list(zip(*rows)) if rows else [()] * len(names)
    return pa.RecordBatch.from_arrays([pa.array(col, type=pa.string()) for col in columns], names=names)


def _parquet_problem(field: pa.Field):
    kind = field.type
    nested = pa.types.is_nested(kind) or (pa.types.is_dictionary(kind) and pa.types.is_nested(kind.value_type))
    if nested or pa.types.is_duration(kind) or pa.types.is_interval(kind):
        what = "nested" if nested else "duration"
        return ("parquet_type", f"列 '{field.name}' 的类型 {kind} 无法读取（嵌套或时长类型）：请改为数字或文本",
                f"column '{field.name}' has a {what} type ({kind}) that cannot be read: use numbers or text")
    return None
