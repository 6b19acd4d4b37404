"""The Dask engine: the same per-chunk function over a LocalCluster gives the local engine's output, cell for cell."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.factories import make_profile, make_profiles
from webapp.engine import batch_dask
from webapp.engine.batch import run_batch
from webapp.engine.io.tables import TableError

distributed = pytest.importorskip("distributed")
AS_OF = dt.date(2026, 6, 1)


@pytest.fixture(scope="module")
def scheduler():
    """An in-process cluster: one worker, two threads (fast to start, no child processes)."""
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=":0") as cluster:
        yield cluster.scheduler_address


@pytest.fixture
def firms() -> pd.DataFrame:
    frame = make_profiles(300, seed=5).astype(object)
    frame.loc[[3, 150], "revenue"] = "abc"
    frame.loc[10, "firm_name"] = "第一行\n第二行，\"引号\""
    frame.loc[11, "firm_name"] = "=1+1"
    frame.insert(0, "mode", ["review" if i % 4 == 0 else "" for i in range(300)])
    return frame


def _same(local, other) -> None:
    pd.testing.assert_frame_equal(pd.read_csv(local, dtype=str, keep_default_na=False),
                                  pd.read_csv(other, dtype=str, keep_default_na=False))


def test_dask_csv_equals_local(scheduler, firms, tmp_path, monkeypatch):
    """A CSV split into byte ranges (one cell holds a line break) gives the local engine's output."""
    src = tmp_path / "in.csv"
    firms.to_csv(src, index=False, encoding="utf-8-sig")
    monkeypatch.setattr(batch_dask, "PARTITION_BYTES", 20_000)  # about seven partitions
    assert len(batch_dask._csv_parts(str(src), _reader(src))) >= 5
    kwargs = {"rules": "SME-2026", "as_of": AS_OF, "cohort_ids": ["little_giant"], "lang": "en", "top_actions": "no"}
    local = run_batch(src, tmp_path / "local.csv", **kwargs)
    remote = run_batch(src, tmp_path / "dask.csv", engine="dask", scheduler=scheduler, **kwargs)
    _same(tmp_path / "local.csv", tmp_path / "dask.csv")
    assert (remote.rows, remote.rows_with_errors, remote.tiers) == (local.rows, local.rows_with_errors, local.tiers)
    assert remote.rows == 300 and remote.rows_with_errors == 2


def test_dask_parquet_equals_local(scheduler, tmp_path):
    """A Parquet file of several row groups, typed columns with nulls, gives the local engine's output."""
    frame = make_profiles(200, seed=8)
    frame.loc[[4, 9], "employees"] = None
    src = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), src, row_group_size=60)
    run_batch(src, tmp_path / "local.csv", as_of=AS_OF, top_actions="no")
    run_batch(src, tmp_path / "dask.csv", as_of=AS_OF, top_actions="no", engine="dask", scheduler=scheduler)
    _same(tmp_path / "local.csv", tmp_path / "dask.csv")


def test_dask_refuses_xlsx(scheduler, tmp_path):
    src = tmp_path / "in.xlsx"
    pd.DataFrame([make_profile()]).to_excel(src, index=False)
    with pytest.raises(TableError, match="save the sheet as CSV"):
        run_batch(src, tmp_path / "out.csv", as_of=AS_OF, engine="dask", scheduler=scheduler)


def _reader(path):
    from webapp.engine.io.tables import open_table

    with open_table(path) as reader:
        return reader
