"""The streaming batch engine: chunks and worker processes change nothing, per-row mode, atomic output, cancel."""

from __future__ import annotations

import datetime as dt
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from tests.factories import make_profile, make_profiles
from webapp.engine.batch import BatchCancelled, run_batch
from webapp.engine.io.readers import open_table

ROOT = Path(__file__).resolve().parents[2]
AS_OF = dt.date(2026, 6, 1)


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


@pytest.fixture(scope="module")
def mixed_csv(tmp_path_factory) -> Path:
    """600 generated firms, a few with bad cells and blanks."""
    frame = make_profiles(600, seed=11).astype(object)
    frame.loc[[5, 250, 599], "revenue"] = "十万"
    frame.loc[[7, 300], "rd_expense"] = ""
    path = tmp_path_factory.mktemp("stream") / "in.csv"
    frame.to_csv(path, index=False, encoding="utf-8-sig")
    return path


@pytest.mark.parametrize("pool", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_chunks_and_workers_give_the_same_output(mixed_csv, tmp_path, pool):
    """One chunk in this process, and small chunks in this process or over two worker processes, write the
    same cells; the summary counts the same rows and tiers."""
    runs = {}
    chunked = {"workers": 2, "chunk_rows": 150} if pool else {"workers": 1, "chunk_rows": 100}
    for name, kwargs in {"whole": {"workers": 1}, "chunked": chunked}.items():
        out = tmp_path / f"{name}.csv"
        summary = run_batch(mixed_csv, out, rules="SME-2026", as_of=AS_OF, top_actions="no",
                            cohort_ids=["little_giant"], **kwargs)
        runs[name] = (summary, _read(out))
    whole, frame = runs["whole"]
    assert whole.rows == 600 and whole.rows_with_errors == 3 and sum(whole.tiers.values()) == 597
    assert frame.loc[[5, 250, 599], "tier"].eq("").all() and frame.loc[5, "errors"].startswith("revenue")
    summary, other = runs["chunked"]
    pd.testing.assert_frame_equal(frame, other)
    assert (summary.rows, summary.rows_with_errors, summary.tiers) == (whole.rows, whole.rows_with_errors,
                                                                       whole.tiers)


def test_mode_column_sets_each_rows_mode(tmp_path):
    """A mode column (new/review, or 复核) decides each row; --mode is the default for blank cells; an invalid
    mode is an error of that row only."""
    # platform score 45 this year, 55 last year: SRDI holds on re-review only
    base = pd.DataFrame([make_profile(firm_name=f"企业{i}", platform_score=45.0, platform_score_prev=55.0,
                                      employees=100 + i) for i in range(40)])
    src, new_out, review_out, mixed_out = (tmp_path / f"{n}.csv" for n in ("in", "new", "review", "mixed"))
    base.to_csv(src, index=False)
    run_batch(src, new_out, rules="SME-2026", as_of=AS_OF, mode="new", top_actions="no")
    run_batch(src, review_out, rules="SME-2026", as_of=AS_OF, mode="review", top_actions="no")
    new, review = _read(new_out), _read(review_out)
    assert (new["srdi_sme_status"] == "not_met").all() and (review["srdi_sme_status"] == "met").all()
    modes = ["review" if i % 3 == 0 else ("复核" if i % 3 == 1 else "") for i in range(40)]
    modes[39] = "sometimes"
    base.assign(mode=modes).to_csv(src, index=False)
    summary = run_batch(src, mixed_out, rules="SME-2026", as_of=AS_OF, mode="new", top_actions="no")
    mixed = _read(mixed_out)
    for i in range(39):
        expected = new if i % 3 == 2 else review
        pd.testing.assert_series_equal(mixed.loc[i, new.columns], expected.loc[i], check_names=False)
    assert mixed.loc[39, "tier"] == "" and "mode" in mixed.loc[39, "errors"] and "sometimes" in mixed.loc[39, "errors"]
    assert summary.rows_with_errors == 1


def test_cancelled_run_leaves_no_file(mixed_csv, tmp_path):
    """cancelled() answering True stops the run between chunks; neither the output nor a partial file stays."""
    calls = []

    def cancelled():
        calls.append(1)
        return len(calls) > 2

    out = tmp_path / "out.csv"
    with pytest.raises(BatchCancelled):
        run_batch(mixed_csv, out, as_of=AS_OF, top_actions="no", workers=1, chunk_rows=100, cancelled=cancelled)
    assert list(tmp_path.iterdir()) == []


def _start(src: Path, out: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "webapp.cli", "batch", str(src), "-o", str(out), "--workers", "1",
                             "--chunk-rows", "10", "--top-actions", "yes", "--as-of", "2026-06-01"],
                            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait_for_partial(folder: Path, proc: subprocess.Popen) -> list[Path]:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and proc.poll() is None:
        partial = [p for p in folder.iterdir() if p.name.endswith(".partial")]
        if partial:
            return partial
        time.sleep(0.1)
    raise AssertionError("the run never started writing")


@pytest.mark.parametrize("sig", [signal.SIGKILL, pytest.param(signal.SIGTERM, marks=pytest.mark.slow)])
def test_killed_run_leaves_no_file_that_looks_finished(mixed_csv, tmp_path, sig):
    """A run killed while writing leaves no OUT; SIGTERM also removes its partial file, SIGKILL leaves only a
    hidden '.partial' file."""
    out = tmp_path / "out.csv"
    proc = _start(mixed_csv, out)
    try:
        _wait_for_partial(tmp_path, proc)
        proc.send_signal(sig)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not out.exists()
    left = [p.name for p in tmp_path.iterdir()]
    assert all(name.startswith(".out.csv.") and name.endswith(".partial") for name in left)
    assert left == [] or sig == signal.SIGKILL


def test_empty_table_writes_headers_only(tmp_path):
    """A file with headers and no rows gives an output with its headers and the result columns."""
    src, out = tmp_path / "in.csv", tmp_path / "out.parquet"
    pd.DataFrame([make_profile()]).iloc[:0].to_csv(src, index=False)
    summary = run_batch(src, out, as_of=AS_OF)
    got = pd.read_parquet(out)
    assert summary.rows == 0 and len(got) == 0 and {"revenue", "tier", "errors"} <= set(got.columns)


class _CountingStream(io.BytesIO):
    """Counts reads from any thread (Arrow's read-ahead reads from its own)."""

    reads = 0

    def read(self, *args):
        self.reads += 1
        return super().read(*args)


def test_csv_headers_leave_the_stream_to_the_row_readers():
    """Reading a CSV's headers leaves no reader behind on the shared stream: a background read-ahead that
    moves it under the next reader made the row count see an empty file."""
    data = make_profiles(300, seed=5).to_csv(index=False).encode("utf-8-sig")
    stream = _CountingStream(data)
    with open_table(stream, fmt=".csv") as reader:
        time.sleep(0.2)  # room for any read-ahead to run
        assert stream.reads == 1  # the head, from which the headers were parsed
        assert len(reader.columns) > 50
        assert reader.count_rows() == 300
        assert sum(batch.num_rows for batch in reader.batches(rows=120)) == 300
