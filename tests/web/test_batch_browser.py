"""Batch jobs in Chromium: upload 60 firms with 3 bad revenue cells, watch the bar move, follow the JSON to done,
then the results (60 rows, errors exactly on the bad ones), 57 PDFs in the ZIP and a 404 for another account."""

from __future__ import annotations

import io
import re
import time
import zipfile

import pandas as pd
import pytest

from tests.web.live import app_in_thread
from tests.web.test_batches import BAD_ROWS, firms_csv

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def jobs_server(tmp_path_factory):
    """The real app (CSRF on, SQLite queue) served from a thread, with consumer threads running its jobs."""
    with app_in_thread(tmp_path_factory.mktemp("jobs-instance"), {"SECRET_KEY": "browser-jobs", "JOB_HEARTBEAT": 1},
                       job_consumer=True) as base:
        yield base


def _register(page, base, email):
    page.goto(base + "/auth/register")
    for name, value in {"name": "孵化器甲", "email": email, "password": "correct horse 1",
                        "confirm": "correct horse 1"}.items():
        page.fill(f"[name={name}]", value)
    page.click("form button[type=submit].primary")
    page.wait_for_url(re.compile(r"/clients$"))


def test_sixty_firms_through_the_browser(page, browser, jobs_server, tmp_path, screenshots):
    source = tmp_path / "园区企业.csv"
    source.write_bytes(firms_csv(60, bad=BAD_ROWS, seed=11))
    _register(page, jobs_server, "park@example.com")
    page.goto(jobs_server + "/batches")
    assert page.locator("a[href$='/batches/template.xlsx']").count() == 1
    page.set_input_files("#batch-file", str(source))
    page.click("form.batch-form button[type=submit]")
    page.wait_for_url(re.compile(r"/batches/[0-9a-f]{16}$"))
    job = page.url.rsplit("/", 1)[1]

    seen = set()
    deadline = time.monotonic() + 600
    while True:  # the bar moves on the page itself while the JSON is followed
        doc = page.request.get(f"{jobs_server}/batches/{job}.json").json()
        if page.locator("#job-bar").count():
            seen.add(page.locator("#job-bar").evaluate("bar => bar.value"))
        if doc["status"] in ("done", "failed", "cancelled"):
            break
        assert time.monotonic() < deadline, doc
        time.sleep(0.5)
    assert doc["status"] == "done", doc
    assert (doc["rows_total"], doc["rows_done"], doc["rows_failed"]) == (60, 60, 3)
    assert len({v for v in seen if 0 < v < 1}) >= 2, seen  # at least two partial values shown without a reload

    page.wait_for_selector("#portfolio", timeout=30_000)  # the script reloads the page once the job is done
    page.screenshot(path=str(screenshots / "batch-job.png"), full_page=True)
    assert page.locator("#results-table tbody tr").count() == 60
    error_rows = page.locator("#results-table tbody tr.row-error")
    assert [int(r) for r in error_rows.evaluate_all("rows => rows.map(r => r.dataset.row)")] == \
        [i + 1 for i in BAD_ROWS]
    assert all("revenue" in t or "营业收入" in t for t in error_rows.locator(".row-errors").all_inner_texts())

    results = pd.read_csv(io.BytesIO(page.request.get(jobs_server + doc["downloads"]["csv"]).body()),
                          dtype=str, keep_default_na=False)
    assert len(results) == 60
    assert [i for i, e in enumerate(results["errors"]) if e] == list(BAD_ROWS)
    with page.expect_download() as info:
        page.click("a[href$='/reports.zip']")
    with zipfile.ZipFile(info.value.path()) as archive:
        names = archive.namelist()
    assert len(names) == 57 and all(n.endswith(".pdf") for n in names)
    assert not any(n.startswith(f"{i + 1:05d}-") for i in BAD_ROWS for n in names)

    other = browser.new_context()
    try:
        intruder = other.new_page()
        _register(intruder, jobs_server, "other@example.com")
        for path in (f"/batches/{job}", f"/batches/{job}.json", f"/batches/{job}/results.csv",
                     f"/batches/{job}/reports.zip"):
            assert intruder.request.get(jobs_server + path).status == 404, path
    finally:
        other.close()
    assert page.console_errors == []
