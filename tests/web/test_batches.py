"""Batch jobs in the browser: upload, the job run through the queue, the JSON, files, summary, 404s, cancel,
delete, restart recovery, upload limit; one test runs a real Huey consumer on the SQLite queue."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pandas as pd
import pytest

from tests.factories import make_profiles
from tests.web.helpers import login, logout, register

BAD_ROWS = (4, 17, 41)  # 0-based rows whose revenue cell is not a number


def firms_csv(n: int = 12, bad=(), seed: int = 3) -> bytes:
    """``n`` generated firms as a CSV with canonical headers; rows in ``bad`` get a revenue of "abc"."""
    frame = make_profiles(n, seed=seed).astype(object)
    frame["firm_name"] = [f"测试企业{i + 1:02d}/有限公司" for i in range(n)]
    for i in bad:
        frame.loc[i, "revenue"] = "abc"
    return frame.to_csv(index=False).encode("utf-8")


@pytest.fixture
def app_config(app_config):
    """Jobs run inside the request that queues them (Huey immediate mode)."""
    return {**app_config, "JOB_QUEUE_IMMEDIATE": True}


def upload(client, data: bytes, name="firms.csv", headers=None, **options):
    return client.post("/batches", data={"file": (io.BytesIO(data), name), **options},
                       content_type="multipart/form-data", headers=headers)


def fetch(client, url: str) -> bytes:
    """The body of a download (the file response closed)."""
    with client.get(url) as response:
        assert response.status_code == 200, url
        return response.data


def job_id_of(response) -> str:
    assert response.status_code == 303, response.text
    return response.headers["Location"].rsplit("/", 1)[1]


def test_a_job_runs_through_the_queue_to_done(client):
    register(client)
    job = job_id_of(upload(client, firms_csv(12, bad=(4,)), lang="en"))
    doc = client.get(f"/batches/{job}.json").get_json()
    assert doc["status"] == "done", doc
    assert (doc["rows_total"], doc["rows_done"], doc["rows_failed"]) == (12, 12, 1)
    assert set(doc) >= {"id", "status", "rows_total", "rows_done", "rows_failed", "created_at", "finished_at",
                        "error", "downloads"}
    assert doc["error"] is None and doc["finished_at"].endswith("Z")
    assert set(doc["downloads"]) == {"csv", "xlsx", "parquet", "reports"}

    results = pd.read_csv(io.BytesIO(fetch(client, doc["downloads"]["csv"])), dtype=str, keep_default_na=False)
    assert len(results) == 12 and list(results.columns[:3]) == ["firm_name", "province", "city"]
    assert (results["errors"] != "").tolist() == [i == 4 for i in range(12)]
    assert "revenue" in results.loc[4, "errors"]
    assert results.loc[0, "tier"] != "" and results.loc[4, "tier"] == ""
    xlsx = pd.read_excel(io.BytesIO(fetch(client, doc["downloads"]["xlsx"])), dtype=str)
    parquet = pd.read_parquet(io.BytesIO(fetch(client, doc["downloads"]["parquet"])))
    assert len(xlsx) == len(parquet) == 12
    assert parquet["tier"].tolist() == results["tier"].replace("", None).tolist()

    archive = zipfile.ZipFile(io.BytesIO(fetch(client, doc["downloads"]["reports"])))
    names = archive.namelist()
    assert len(names) == 11 and "00005-测试企业05_有限公司.pdf" not in names
    assert names[0] == "00001-测试企业01_有限公司.pdf"
    assert archive.read(names[0]).startswith(b"%PDF")

    page = client.get(f"/batches/{job}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for anchor in ('id="portfolio"', 'id="by-tier"', 'id="readiness-spread"', 'id="closest"', 'id="results-table"'):
        assert anchor in html
    errors = client.get(f"/batches/{job}?status=error").get_data(as_text=True)
    assert 'data-row="5"' in errors and 'data-row="1"' not in errors


def test_summary_counts_the_engine_results(app, client):
    register(client)
    job = job_id_of(upload(client, firms_csv(10)))
    results = pd.read_parquet(io.BytesIO(fetch(client, f"/batches/{job}/results.parquet")))
    with app.app_context():
        from webapp.web.db import db
        from webapp.web.models import BatchJob

        summary = db.session.get(BatchJob, job).summary
    assert summary["valid"] == 10 and summary["errors"] == 0
    assert summary["by_tier"] == results["tier"].value_counts().to_dict()
    assert summary["by_likely"] == results["likely_tier"].value_counts().to_dict()
    readiness = [c["readiness"] for c in summary["closest"]]
    assert readiness == sorted(readiness, reverse=True) and len(readiness) == min(10, 20)
    for entry in summary["closest"]:
        column = f"{entry['next_tier']}_readiness"
        assert results.loc[entry["row"] - 1, column] == pytest.approx(entry["readiness"], abs=1e-6)
    assert {m["metric"] for m in summary["cohort"]["metrics"]}


def test_re_review_dates_from_granted_columns(client):
    register(client)
    frame = make_profiles(3, seed=1)
    frame["little_giant_granted"] = [(dt.date.today() - dt.timedelta(days=3 * 365 - 30)).isoformat(), "", "2015"]
    job = job_id_of(upload(client, frame.to_csv(index=False).encode()))
    html = client.get(f"/batches/{job}").get_data(as_text=True)
    assert 'id="re-reviews"' in html
    assert "2018-01-01" in html  # granted 2015 (a bare year), re-review three years on: long overdue


def test_another_account_gets_404_everywhere(client):
    register(client)
    job = job_id_of(upload(client, firms_csv(3)))
    logout(client)
    register(client, email="b@example.com")
    for path in (f"/batches/{job}", f"/batches/{job}.json", f"/batches/{job}/results.csv",
                 f"/batches/{job}/results.xlsx", f"/batches/{job}/results.parquet", f"/batches/{job}/reports.zip"):
        assert client.get(path).status_code == 404, path
    for action in ("cancel", "delete"):
        assert client.post(f"/batches/{job}/{action}").status_code == 404
    assert job not in client.get("/batches").get_data(as_text=True)
    logout(client)
    login(client)
    assert client.get(f"/batches/{job}.json").get_json()["status"] == "done"


def test_signed_out_is_sent_to_login(client):
    assert client.get("/batches").status_code == 302


def test_bad_uploads_are_refused_naming_the_field(client):
    register(client)
    response = upload(client, b"a,b\n1,2\n", name="firms.txt")
    assert response.status_code == 400 and "file [type]" in response.get_data(as_text=True)
    response = upload(client, firms_csv(2), rules="SME-1999", as_of="31/12/2025")
    text = response.get_data(as_text=True)
    assert response.status_code == 400 and "rules [choice]" in text and "as_of [date]" in text
    assert client.get("/batches").get_data(as_text=True).count('class="job-status') == 0


def test_unreadable_table_fails_with_its_reason(client):
    register(client)
    job = job_id_of(upload(client, b"\x00\x01garbage", name="firms.xlsx"))
    doc = client.get(f"/batches/{job}.json", headers={"Accept-Language": "en"}).get_json()
    assert doc["status"] == "failed" and doc["error"]
    assert all(v is None for v in doc["downloads"].values())
    assert client.get(f"/batches/{job}/results.csv").status_code == 404


def test_upload_limit_is_configurable(app, client):
    app.config["BATCH_MAX_UPLOAD"] = 2_000
    register(client)
    assert upload(client, firms_csv(12), headers={"Accept": "application/json"}).status_code == 413
    assert upload(client, firms_csv(12)).status_code == 413
    app.config["BATCH_MAX_UPLOAD"] = 50 * 1024 * 1024
    assert upload(client, firms_csv(12)).status_code == 303


def test_delete_removes_the_job_and_its_files(app, client):
    from webapp.web.job_runner import job_folder

    register(client)
    job = job_id_of(upload(client, firms_csv(3)))
    with app.app_context():
        folder = job_folder(job)
    assert (folder / "results.csv").exists()
    assert client.post(f"/batches/{job}/delete").status_code == 303
    assert not folder.exists()
    assert client.get(f"/batches/{job}.json").status_code == 404


def test_template_download(client):
    register(client)
    assert fetch(client, "/batches/template.xlsx")[:2] == b"PK"
    assert "firm_name" in fetch(client, "/batches/template.csv").decode("utf-8-sig")


def test_mode_column_rows_as_the_engine_reads_them(client):
    register(client)
    frame = make_profiles(4, seed=2)
    frame["mode"] = ["review", "复核", "bogus", ""]
    job = job_id_of(upload(client, frame.to_csv(index=False).encode(), lang="en"))
    doc = client.get(f"/batches/{job}.json").get_json()
    assert doc["status"] == "done" and doc["rows_failed"] == 1
    results = pd.read_parquet(io.BytesIO(fetch(client, doc["downloads"]["parquet"])))
    assert (results["errors"] != "").tolist() == [False, False, True, False]
    assert len(zipfile.ZipFile(io.BytesIO(fetch(client, doc["downloads"]["reports"]))).namelist()) == 3
    errors = client.get(f"/batches/{job}?status=error").get_data(as_text=True)
    assert 'data-row="3"' in errors and "bogus" in errors
