"""Batch jobs over HTTP with a token: the browser's jobs, queue and files; 401 without a valid token, 404 for
another account's job, JSON errors, a rate limit per token."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from tests.web.helpers import login, register
from tests.web.test_batches import firms_csv
from webapp.web import tokens
from webapp.web.db import db
from webapp.web.models import ApiToken, User


@pytest.fixture
def app_config(app_config):
    """Jobs run inside the request that queues them (Huey immediate mode)."""
    return {**app_config, "JOB_QUEUE_IMMEDIATE": True}


def make_token(app, email: str) -> str:
    """An account (registered through the browser) and a token of it."""
    register(app.test_client(), email=email)
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.email == email))
        return tokens.create_token(user, "test")[1]


def post_batch(client, secret: str | None, data: bytes, name="firms.csv", **options):
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    return client.post("/api/v1/batches", data={"file": (io.BytesIO(data), name), **options},
                       content_type="multipart/form-data", headers=headers)


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def test_a_job_over_http_from_upload_to_results(app, client):
    """202 with Location and the job; the job as the spec says; results with one row per input row."""
    secret = make_token(app, "a@example.com")
    response = post_batch(client, secret, firms_csv(12, bad=(4,)), lang="en")
    assert response.status_code == 202, response.text
    job = response.get_json()
    assert response.headers["Location"] == f"/api/v1/batches/{job['id']}"
    doc = client.get(response.headers["Location"], headers=bearer(secret)).get_json()
    assert doc["status"] == "done" and (doc["rows_total"], doc["rows_done"], doc["rows_failed"]) == (12, 12, 1)
    assert doc["downloads"]["csv"] == f"/api/v1/batches/{job['id']}/results.csv"
    with client.get(doc["downloads"]["csv"], headers=bearer(secret)) as csv:
        assert csv.status_code == 200 and csv.mimetype == "text/csv"
        results = pd.read_csv(io.BytesIO(csv.data))
    assert len(results) == 12 and results["errors"].notna().sum() == 1 and "tier" in results
    for kind in ("xlsx", "parquet", "reports"):
        with client.get(doc["downloads"][kind], headers=bearer(secret)) as download:
            assert download.status_code == 200 and len(download.data) > 100, kind
    with app.app_context():
        assert db.session.scalars(db.select(ApiToken)).one().last_used_at is not None


def test_the_browser_sees_the_same_job(app, client):
    """One implementation: a job posted over HTTP is the account's job in the browser too."""
    secret = make_token(app, "a@example.com")
    job_id = post_batch(client, secret, firms_csv(5)).get_json()["id"]
    login(client, email="a@example.com")
    assert client.get(f"/batches/{job_id}.json").get_json()["id"] == job_id
    assert job_id in client.get("/batches").text


@pytest.mark.parametrize("header", [None, "Bearer gs_not-a-token", "Basic YTpi", "Bearer "])
def test_no_valid_token_is_a_json_401(client, header):
    """No token, a made-up one or another scheme: 401 in the spec's JSON shape, WWW-Authenticate: Bearer."""
    headers = {"Authorization": header} if header else {}
    for response in (client.post("/api/v1/batches", data={}, headers=headers),
                     client.get("/api/v1/batches/abc", headers=headers),
                     client.get("/api/v1/batches/abc/results.csv", headers=headers)):
        assert response.status_code == 401
        error = response.get_json()["error"]
        assert error["status"] == 401 and "token" in error["message"]
        assert response.headers["WWW-Authenticate"].lower().startswith("bearer")


def test_a_revoked_token_is_refused(app, client):
    secret = make_token(app, "a@example.com")
    with app.app_context():
        token = db.session.scalars(db.select(ApiToken)).one()
        tokens.revoke_token(db.session.get(User, token.owner_id), token.id)
    response = post_batch(client, secret, firms_csv(3))
    assert response.status_code == 401 and "revoked" in response.get_json()["error"]["message"]


def test_another_accounts_job_is_404(app, client):
    """Job, results and reports of another account: 404, as for a job that does not exist."""
    mine, theirs = make_token(app, "a@example.com"), make_token(app, "b@example.com")
    job_id = post_batch(client, mine, firms_csv(3)).get_json()["id"]
    for path in ("", "/results.csv", "/results.xlsx", "/results.parquet", "/reports.zip"):
        response = client.get(f"/api/v1/batches/{job_id}{path}", headers=bearer(theirs))
        assert response.status_code == 404 and response.get_json()["error"]["status"] == 404, path
    assert client.get("/api/v1/batches/0000/results.csv", headers=bearer(mine)).status_code == 404


@pytest.mark.parametrize(("data", "name", "options", "field", "rule"), [
    (b"a,b\n1,2\n", "firms.txt", {}, "file", "type"),
    (b"", "firms.csv", {}, "file", "empty"),
    (b"revenue\n1\n", "firms.csv", {"mode": "renew"}, "mode", "choice"),
    (b"revenue\n1\n", "firms.csv", {"rules": "SME-1999"}, "rules", "choice"),
])
def test_bad_uploads_are_400_naming_field_and_rule(app, client, data, name, options, field, rule):
    secret = make_token(app, "a@example.com")
    response = post_batch(client, secret, data, name, **options)
    assert response.status_code == 400
    records = response.get_json()["error"]["errors"]
    assert (records[0]["field"], records[0]["rule"]) == (field, rule) and records[0]["message_zh"]


def test_a_missing_file_is_400(app, client):
    secret = make_token(app, "a@example.com")
    response = client.post("/api/v1/batches", data={"mode": "new"}, headers=bearer(secret))
    assert response.status_code == 400
    assert [(e["field"], e["rule"]) for e in response.get_json()["error"]["errors"]] == [("file", "required")]


def test_rate_limit_per_token(app_config, tmp_path):
    """Each token has its own limit: one token spent does not stop another."""
    from webapp.web import create_app

    app = create_app({**app_config, "API_TOKEN_RATE_LIMIT": "2 per minute"}, instance_path=str(tmp_path / "rl"))
    with app.app_context():
        db.create_all()
    first, second = make_token(app, "a@example.com"), make_token(app, "b@example.com")
    client = app.test_client()
    codes = [client.get("/api/v1/batches/x", headers=bearer(first)).status_code for _ in range(3)]
    assert codes == [404, 404, 429]
    assert client.get("/api/v1/batches/x", headers=bearer(second)).status_code == 404
    assert client.get("/api/v1/batches/x", headers=bearer(first)).get_json()["error"]["status"] == 429
