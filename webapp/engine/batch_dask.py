"""The Dask engine of ``giantstep batch --engine dask``: the local engine's per-chunk function on a cluster.

The input is checked here as for the local engine (encoding, headers, Parquet column types), then split into
partitions that the workers read themselves: a CSV by byte ranges that end on a line break outside quotes
(so a cell holding a line break keeps its row), a Parquet file by row groups. Each partition is judged by
:func:`webapp.engine.batch.assess_chunk` through ``map_partitions``; the results come back in order and are
written here by the same writer as the local engine's, so the output is the same file, renamed when complete.
Partitions travel as pandas frames of Arrow types (``pandas.ArrowDtype``), so every cell keeps its exact type.

Workers must see the input at the same path (shared storage) and have GiantStep installed with the same data,
rule and model folders.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections import deque
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from webapp.engine.io.tables import TableError, check_headers, open_table, table_format

PARTITION_BYTES = 16_000_000
_SCAN_BYTES = 1 << 24


def run_dask(source, output, run, *, assess_chunk, scheduler: str | None) -> None:
    """Judge ``source`` with ``assess_chunk(table, options)`` (:func:`webapp.engine.batch.assess_chunk`) on a
    Dask cluster (``scheduler`` address, or a local cluster) and write ``output``; ``run`` is the run's state
    (options, callbacks, totals) kept by :func:`webapp.engine.batch.run_batch`."""
    import dask
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    from webapp.engine.io.writers import TableWriter

    kind = table_format(source)
    if kind == ".xlsx" or not isinstance(source, str | os.PathLike):
        raise TableError([("dask_input", "--engine dask 只读取文件路径上的 .csv 或 .parquet：请先另存为 CSV",
                           "--engine dask reads .csv or .parquet files by path: save the sheet as CSV first")])
    path = str(Path(source).resolve())
    with open_table(path) as reader:
        check_headers(reader.columns)
        schema = reader.schema()
        options = run.decide(reader.count_rows())
        run.rows_total = reader.rows_total
        parts = _csv_parts(path, reader) if kind == ".csv" else _parquet_parts(path)
    reading = _read_csv_part if kind == ".csv" else _read_parquet_part
    meta_in = _as_pandas(schema.empty_table())
    meta_out = _as_pandas(assess_chunk(schema.empty_table(), options))
    if not parts:  # headers only
        with TableWriter(output) as writer:
            writer.write(assess_chunk(schema.empty_table(), options))
        return
    with dask.config.set({"dataframe.convert-string": False}):
        frame = dd.from_map(reading, parts, meta=meta_in, enforce_metadata=False)
        judged = frame.map_partitions(_assess_partition, options, assess_chunk, meta=meta_out,
                                      enforce_metadata=False)
        pieces = judged.to_delayed()
    with contextlib.ExitStack() as stack:
        if scheduler is None:
            stack.enter_context(_quiet("distributed"))  # a local cluster's shutdown chatter is not news
            scheduler = stack.enter_context(LocalCluster(n_workers=os.cpu_count() or 1, threads_per_worker=1,
                                                         dashboard_address=":0"))
        client = stack.enter_context(Client(scheduler))
        writer = stack.enter_context(TableWriter(output))
        window = 2 * max(1, len(client.scheduler_info()["workers"]))
        pending = deque()
        for piece in pieces:
            run.check()
            pending.append(client.compute(piece))
            if len(pending) >= window:
                _write(pending.popleft(), writer, run)
        while pending:
            run.check()
            _write(pending.popleft(), writer, run)


@contextlib.contextmanager
def _quiet(name: str):
    """Only errors from the logger ``name`` while inside."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _write(future, writer, run) -> None:
    table = pa.Table.from_pandas(future.result(), preserve_index=False)
    future.release()
    writer.write(table)
    run.done(table)


def _assess_partition(frame: pd.DataFrame, options, assess_chunk) -> pd.DataFrame:
    """The per-chunk function on a pandas partition (Arrow types in and out)."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    return _as_pandas(assess_chunk(table, options))


def _as_pandas(table: pa.Table) -> pd.DataFrame:
    return table.to_pandas(types_mapper=pd.ArrowDtype)


def _csv_parts(path: str, reader) -> list[tuple]:
    """(path, start, end, encoding, names) byte ranges of about PARTITION_BYTES, each ending on a record end."""
    ends = _record_ends(path, PARTITION_BYTES)
    return [(path, start + 1, end + 1, reader.encoding, tuple(reader.columns))
            for start, end in zip(ends, ends[1:]) if end > start]


def _record_ends(path: str, every: int) -> list[int]:
    """Offsets of line feeds outside quotes: the header's end, then the first one ``every`` bytes past the
    previous, then the file's last byte. Quotes and line feeds are single bytes in UTF-8 and GB18030 alike."""
    size = os.path.getsize(path)
    ends, target, parity, offset = [], 0, False, 0
    with open(path, "rb") as fh:
        while offset < size:
            block = np.frombuffer(fh.read(_SCAN_BYTES), dtype=np.uint8)
            inside = np.bitwise_xor.accumulate(block == ord('"')) ^ parity
            breaks = np.flatnonzero((block == ord("\n")) & ~inside) + offset
            i = np.searchsorted(breaks, target)
            while i < len(breaks):
                ends.append(int(breaks[i]))
                target = breaks[i] + every
                i = np.searchsorted(breaks, target)
            parity = bool(inside[-1])
            offset += len(block)
    if not ends or ends[-1] != size - 1:
        ends.append(size - 1)
    return ends


def _read_csv_part(part: tuple) -> pd.DataFrame:
    path, start, end, encoding, names = part
    with open(path, "rb") as fh:
        fh.seek(start)
        data = fh.read(end - start)
    read = pacsv.ReadOptions(encoding=encoding, column_names=list(names))
    convert = pacsv.ConvertOptions(column_types={name: pa.string() for name in names}, strings_can_be_null=False,
                                   quoted_strings_can_be_null=False)
    table = pacsv.read_csv(pa.BufferReader(data), read_options=read,
                           parse_options=pacsv.ParseOptions(newlines_in_values=True), convert_options=convert)
    return _as_pandas(table)


def _parquet_parts(path: str) -> list[tuple]:
    groups = pq.ParquetFile(path).metadata.num_row_groups
    return [(path, group) for group in range(groups)] or [(path, None)]


def _read_parquet_part(part: tuple) -> pd.DataFrame:
    path, group = part
    source = pq.ParquetFile(path)
    table = source.read_row_group(group) if group is not None else source.schema_arrow.empty_table()
    return _as_pandas(table)
