"""Batch assessment of a table of any size: read in chunks, judge each chunk, write the input with results beside it.

Entry point for the command line and the web jobs: :func:`run_batch`. The per-chunk function
:func:`assess_chunk` is the one both engines run: the local engine (chunks streamed through a process pool,
in order, memory bounded whatever the row count) and the Dask engine (:mod:`webapp.engine.batch_dask`,
``map_partitions`` on a cluster).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from webapp import paths
from webapp.engine import defaults
from webapp.engine.assess import assess
from webapp.engine.io import tables as io_tables
from webapp.engine.io.tables import check_headers, field_positions, mode_column, open_table, table_format

TOP_ACTIONS_AUTO_ROWS = 10_000
CHUNK_ROWS = 25_000
POOL_MIN_ROWS = 100_000  # below this, starting worker processes costs more than it saves
POOL_MIN_BYTES = 40_000_000  # a CSV of unknown row count this large has about 100,000 rows
_MODE_WORDS = {"new": "new", "新申请": "new", "新申报": "new", "申报": "new", "review": "review", "复核": "review"}


class BatchCancelled(Exception):
    """The run was cancelled (``cancelled()`` answered True); nothing was written."""


@dataclass
class BatchSummary:
    """What a batch run did, for the command line and the web page."""

    rows: int
    rows_with_errors: int
    tiers: dict[str, int]
    rules: dict[str, str]
    output: str
    near_misses: tuple[tuple[str, str], ...] = ()  # (header, the field it looks like) of unmatched headers

    def text(self, lang: str = "zh") -> str:
        """One-paragraph summary in ``lang``, then one warning line per header that looks like a misspelt
        field name."""
        counts = ", ".join(f"{k}: {v}" for k, v in self.tiers.items())
        zh = lang == "zh"
        notes = "".join(f"\n警告：列 '{h}' 不是 GiantStep 字段，已原样保留（是否应为 {f}？）" if zh else
                        f"\nwarning: column '{h}' is not a GiantStep field, kept as it is (did you mean {f}?)"
                        for h, f in self.near_misses)
        if zh:
            return (f"共 {self.rows} 行，其中 {self.rows_with_errors} 行输入有误（见 errors 列）；"
                    f"层级分布：{counts}；规则：{', '.join(self.rules.values())}；已写入 {self.output}{notes}")
        return (f"{self.rows} rows, {self.rows_with_errors} with input errors (see the errors column); "
                f"tiers: {counts}; rules: {', '.join(self.rules.values())}; wrote {self.output}{notes}")


@dataclass(frozen=True)
class BatchOptions:
    """What every chunk is judged with (picklable: it travels to worker processes and Dask workers)."""

    rules: str | None
    as_of: dt.date
    mode: str = "new"
    lang: str = "zh"
    cohort_ids: tuple[str, ...] = ()
    top_actions: bool = False
    where: paths.Paths = field(default_factory=paths.resolve)


def run_batch(source, output, *, rules: str | None = None, as_of: dt.date | None = None, mode: str = "new",
              lang: str = "zh", cohort_ids=(), top_actions: str = "auto", engine: str = "local",
              scheduler: str | None = None, workers: int | None = None, chunk_rows: int = CHUNK_ROWS,
              progress: Callable[[int, int | None], None] | None = None,
              cancelled: Callable[[], bool] | None = None, fmt: str | None = None) -> BatchSummary:
    """Assess every row of ``source`` and write ``output``: the input's columns in place, results added.

    Parameters
    ----------
    source : str, pathlib.Path or seekable binary stream
        A .csv (UTF-8 or GB18030/GBK), .xlsx (first sheet) or .parquet table with canonical, zh or en
        headers; a ``mode`` column (new/review) sets the mode of its row.
    output : str or pathlib.Path
        .csv, .xlsx or .parquet; it appears only when complete (written beside it, then renamed).
    rules, as_of : see :func:`webapp.engine.assess.assess`.
    mode : {"new", "review"}
        Mode of rows without a ``mode`` cell.
    lang : {"zh", "en"}
        Language of the ``errors`` and ``top_actions`` cells.
    cohort_ids : sequence of str
        Cohorts whose percentiles to add as ``pct_<cohort>_<metric>`` columns.
    top_actions : {"auto", "yes", "no"}
        Add ``top_actions`` (three best next actions a firm); ``auto`` up to 10,000 rows.
    engine : {"local", "dask"}
        ``local`` streams chunks through a process pool on this machine; ``dask`` runs the same
        per-chunk function on a Dask cluster (``scheduler`` address, or a local cluster when None).
    workers : int, optional
        Worker processes of the local engine. Default: every core for files of 100,000 rows or more, this
        process alone below; a number given is used whenever the file has more than one chunk.
    chunk_rows : int
        Rows per chunk.
    progress : callable, optional
        ``progress(rows_done, rows_total)`` after each chunk written (``rows_total`` None if unknown).
    cancelled : callable, optional
        Asked between chunks; True stops the run, removes the partial output and raises
        :class:`BatchCancelled`.
    fmt : str, optional
        Format of ``source`` when it is a stream without a usable name (".csv", ".xlsx", ".parquet").

    Returns
    -------
    BatchSummary

    Raises
    ------
    TableError
        The file cannot be read as a table (encoding, size, headers, column types); each problem in zh/en.
    ValueError
        An unknown rule set, mode, cohort or output type.
    BatchCancelled
        ``cancelled()`` answered True.
    """
    if mode not in _MODE_WORDS.values():
        raise ValueError(f"unknown mode {mode!r}; choose new or review")
    table_format(output)
    where = paths.resolve()
    book = defaults.load(defaults.rule_book, where)
    ruleset = book.select(rules, as_of or dt.date.today())
    cohort_set = defaults.load(defaults.cohorts, where)
    unknown = [c for c in cohort_ids if c not in cohort_set.ids]
    if unknown:
        raise ValueError(f"unknown cohort(s) {', '.join(unknown)}")
    options = BatchOptions(rules=rules, as_of=as_of or dt.date.today(), mode=mode, lang=lang,
                           cohort_ids=tuple(cohort_ids), where=where)
    run = _Run(options, top_actions, progress, cancelled)
    if engine == "dask":
        from webapp.engine.batch_dask import run_dask

        run_dask(source, output, run, assess_chunk=assess_chunk, scheduler=scheduler)
    elif engine == "local":
        _run_local(source, output, run, fmt=fmt, workers=workers, chunk_rows=chunk_rows)
    else:
        raise ValueError(f"unknown engine {engine!r}; choose local or dask")
    return BatchSummary(rows=run.rows, rows_with_errors=run.rows_with_errors, tiers=dict(sorted(run.tiers.items())),
                        rules=ruleset.versions(), output=str(output), near_misses=tuple(run.near_misses))


class _Run:
    """A run's options, callbacks and running totals."""

    def __init__(self, options: BatchOptions, top_actions: str, progress, cancelled):
        self.options, self.top_actions = options, top_actions
        self.progress, self.cancelled = progress, cancelled
        self.rows = self.rows_with_errors = 0
        self.rows_total: int | None = None
        self.tiers: dict[str, int] = {}
        self.near_misses: list[tuple[str, str]] = []

    def decide(self, rows_total: int | None) -> BatchOptions:
        """Options with top_actions settled (``auto``: on when the whole file has at most 10,000 rows)."""
        on = self.top_actions == "yes" or (self.top_actions == "auto" and rows_total is not None
                                           and rows_total <= TOP_ACTIONS_AUTO_ROWS)
        self.options = BatchOptions(**{**self.options.__dict__, "top_actions": on})
        return self.options

    def check(self) -> None:
        if self.cancelled is not None and self.cancelled():
            raise BatchCancelled("cancelled")

    def done(self, table: pa.Table) -> None:
        """Count a written chunk and report progress."""
        errors = table.column("errors")
        ok = pc.equal(errors, "")
        self.rows += table.num_rows
        self.rows_with_errors += table.num_rows - pc.sum(ok).as_py() if table.num_rows else 0
        counts = pc.value_counts(pc.drop_null(pc.filter(table.column("tier"), ok)))
        for item in counts.to_pylist():
            self.tiers[item["values"]] = self.tiers.get(item["values"], 0) + item["counts"]
        if self.progress is not None:
            self.progress(self.rows, self.rows_total)


def _run_local(source, output, run: _Run, *, fmt, workers, chunk_rows) -> None:
    from webapp.engine.io.writers import TableWriter

    with open_table(source, fmt=fmt) as reader:
        check_headers(reader.columns)
        run.near_misses = io_tables.near_miss_headers(reader.columns)
        if run.progress is not None:
            run.rows_total = reader.count_rows()
        chunks = reader.batches(chunk_rows)
        asked, workers = workers is not None, workers or os.cpu_count() or 1
        head, rest = _peek(chunks, TOP_ACTIONS_AUTO_ROWS + 1)
        known = reader.rows_total if reader.rows_total is not None else \
            (sum(t.num_rows for t in head) if rest is None else None)
        options = run.decide(known)
        tables = head if rest is None else _chain(head, rest)
        big = (known or 0) >= POOL_MIN_ROWS or (known is None and reader.size_bytes >= POOL_MIN_BYTES)
        with TableWriter(output) as writer:
            if workers > 1 and len(head) + (rest is not None) > 1 and (big or asked):
                results = _pooled(tables, options, workers, run)
            else:
                results = _serial(tables, options, run)
            for table in results:
                writer.write(table)
                run.done(table)
            if not writer.rows and not run.rows:
                writer.write(assess_chunk(reader.empty(), options))


def _peek(chunks: Iterator[pa.Table], rows: int) -> tuple[list[pa.Table], Iterator[pa.Table] | None]:
    """The first chunks holding at least ``rows`` rows, and the iterator of the rest (None if exhausted)."""
    head, seen = [], 0
    for table in chunks:
        head.append(table)
        seen += table.num_rows
        if seen >= rows:
            return head, chunks
    return head, None


def _chain(head, rest):
    yield from head
    yield from rest


def _serial(tables, options: BatchOptions, run: _Run):
    line = 2
    for table in tables:
        run.check()
        yield assess_chunk(table, options, first_line=line)
        line += table.num_rows


def _pooled(tables, options: BatchOptions, workers: int, run: _Run):
    """Chunks judged by a process pool, yielded in input order; at most one chunk a worker (and one) in flight."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["webapp.engine.batch"])
    pending, line = [], 2
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_load_defaults,
                             initargs=(options.where,)) as pool:
        try:
            for table in tables:
                run.check()
                pending.append(pool.submit(assess_chunk, table, options, first_line=line))
                line += table.num_rows
                if len(pending) > workers:
                    yield pending.pop(0).result()
            while pending:
                run.check()
                yield pending.pop(0).result()
        finally:
            for future in pending:
                future.cancel()


def _load_defaults(where: paths.Paths) -> None:
    """Worker start: load the rule book, cohorts and model once."""
    defaults.load_all(where)


def assess_chunk(table: pa.Table, options: BatchOptions, *, first_line: int = 2) -> pa.Table:
    """Judge one chunk: the input's columns unchanged, then the result columns (the function both engines run).

    Parameters
    ----------
    table : pyarrow.Table
        Rows as read (the file's own headers; text cells for CSV and XLSX, the file's types for Parquet).
    options : BatchOptions
    first_line : int
        Line number of the chunk's first row (2 for the first chunk of a file with one header row).

    Returns
    -------
    pyarrow.Table
        ``table``'s columns, then ``tier``, ``likely_tier``, ``<tier>_status``, ``<tier>_score_min``,
        ``<tier>_score_max``, ``<tier>_readiness``, the ``pct_<cohort>_<metric>`` asked for, ``top_actions`` if
        on, and ``errors`` (text; "" for a row without input error). Text results are strings, numbers float64.
    """
    raw = _canonical(table)
    n = len(raw)
    row_modes, bad = _row_modes(table, options.mode)
    results = []
    for mode in ("new", "review"):
        chosen = np.flatnonzero(row_modes == mode)
        if len(chosen) == n:
            results = [_assess_rows(raw, options, mode, first_line)]
            break
        if len(chosen):
            part = _assess_rows(raw.iloc[chosen].reset_index(drop=True), options, mode, first_line)
            results.append(part.set_axis(chosen))
    out = pd.concat(results).sort_index() if len(results) > 1 else results[0]
    if bad.any():
        _blank_bad_modes(out, bad, table, options.lang)
    columns = [_result_array(out[name]) for name in out.columns]
    return pa.Table.from_arrays(table.columns + columns, names=table.column_names + list(out.columns))


def _canonical(table: pa.Table) -> pd.DataFrame:
    """The chunk's recognised columns, renamed to canonical fields, as pandas."""
    positions = field_positions(tuple(table.column_names))
    frame = table.select(list(positions)).to_pandas() if positions else pd.DataFrame(index=range(table.num_rows))
    frame.columns = list(positions.values())
    return frame


def _row_modes(table: pa.Table, default: str) -> tuple[np.ndarray, np.ndarray]:
    """Each row's mode ("new"/"review") and which rows had a mode cell that is neither."""
    n = table.num_rows
    position = mode_column(table.column_names)
    if position is None:
        return np.full(n, default, dtype=object), np.zeros(n, dtype=bool)
    words = pd.Series(table.column(position).to_pandas(), dtype=object).map(
        lambda v: "" if v is None or v != v else str(v).strip().casefold())
    modes = words.map(_MODE_WORDS).to_numpy(dtype=object)
    bad = pd.isna(modes) & (words != "").to_numpy()
    modes[pd.isna(modes)] = default
    return modes, bad


def _assess_rows(raw: pd.DataFrame, options: BatchOptions, mode: str, first_line: int) -> pd.DataFrame:
    """Result columns (pandas, RangeIndex) for canonical rows judged in one mode."""
    book, cohorts, model = (defaults.load(loader, options.where)
                            for loader in (defaults.rule_book, defaults.cohorts, defaults.model))
    result = assess(raw, rules=options.rules, as_of=options.as_of, mode=mode, first_line=first_line,
                    extra_cohorts=options.cohort_ids, rule_book=book, cohorts=cohorts, model=model)
    parts = [result.frame(), result.readiness_frame()]
    if options.cohort_ids:
        parts.append(result.percentile_frame(options.cohort_ids))
    out = pd.concat(parts, axis=1).reset_index(drop=True)
    col = "message_zh" if options.lang == "zh" else "message_en"
    errors = pd.Series("", index=raw.index, dtype=object)
    if len(result.errors):
        joined = (result.errors["field"] + ": " + result.errors[col]).groupby(result.errors["index"]).agg("; ".join)
        errors.loc[joined.index] = joined.to_numpy()
    if options.top_actions:
        out["top_actions"] = _top_actions(result, options.lang)
    out["errors"] = errors.to_numpy()
    return out


def _top_actions(result, lang: str) -> list[str]:
    """The three best next actions of each valid firm, as one text cell."""
    from webapp.engine.advice.advise import assessment_top_actions

    return assessment_top_actions(result, n=3, lang=lang)


def _blank_bad_modes(out: pd.DataFrame, bad: np.ndarray, table: pa.Table, lang: str) -> None:
    """Rows whose mode cell is neither new nor review: no results, and an error naming the cell."""
    cells = table.column(mode_column(table.column_names)).to_pylist()
    for name in out.columns:
        if name != "errors":
            out.loc[bad, name] = np.nan if out[name].dtype.kind == "f" else ("" if name == "top_actions" else None)
    for i in np.flatnonzero(bad):
        zh = f"评估模式（mode）取值无效，可选：new、review（或 新申请、复核），收到 '{cells[i]}'"
        en = f"Assessment mode (mode): expected new or review, got '{cells[i]}'"
        message = "mode: " + (zh if lang == "zh" else en)
        out.loc[i, "errors"] = message if not out.loc[i, "errors"] else f"{message}; {out.loc[i, 'errors']}"


def _result_array(column: pd.Series) -> pa.Array:
    """A result column with a fixed type: text as string, numbers as float64 (NaN as null)."""
    if column.dtype.kind in "fiub":
        return pa.array(column.to_numpy(dtype="float64"), type=pa.float64(), from_pandas=True)
    values = column.to_numpy(dtype=object)
    return pa.array([None if v is None or (isinstance(v, float) and v != v) else str(v) for v in values],
                    type=pa.string())


def assess_table(raw: pd.DataFrame, *, rules: str | None = None, as_of: dt.date | None = None,
                 mode: str = "new", lang: str = "zh", cohort_ids=(), top_actions: str = "auto") -> pd.DataFrame:
    """Assess a raw pandas table (any supported headers) in memory; return it with the result columns.

    The in-memory form of :func:`run_batch` for small tables (a web form's upload preview, tests).
    """
    table = pa.Table.from_pandas(raw.reset_index(drop=True), preserve_index=False)
    on = top_actions == "yes" or (top_actions == "auto" and len(raw) <= TOP_ACTIONS_AUTO_ROWS)
    options = BatchOptions(rules=rules, as_of=as_of or dt.date.today(), mode=mode, lang=lang,
                           cohort_ids=tuple(cohort_ids), top_actions=on)
    return assess_chunk(table, options).to_pandas()

