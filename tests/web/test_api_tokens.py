"""API tokens: created, named, listed and revoked in the browser and with `giantstep token`; shown once,
stored as a hash, last use recorded; the bearer check and the per-token rate-limit key."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from tests.web.helpers import register
from webapp.web import tokens
from webapp.web.db import db
from webapp.web.models import ApiToken, User


def _create(client, name="平台对接") -> str:
    response = client.post("/account/tokens", data={"name": name})
    assert response.status_code == 200
    return re.search(r'id="token-secret">(gs_[A-Za-z0-9_-]+)<', response.text).group(1)


def test_browser_creates_lists_and_revokes(client, app):
    """A consultant names a token; its secret is shown once, only a hash is stored; revoking marks it."""
    assert client.get("/account/tokens").status_code == 302  # log in first
    register(client)
    secret = _create(client)
    assert len(secret) > 40
    with app.app_context():
        stored = db.session.scalars(db.select(ApiToken)).all()
        assert len(stored) == 1 and stored[0].name == "平台对接"
        assert stored[0].token_hash == tokens.digest(secret) and secret not in (stored[0].prefix, stored[0].token_hash)
        token_id = stored[0].id
    page = client.get("/account/tokens").text
    assert "平台对接" in page and secret[:10] in page and secret not in page  # listed, never shown again
    response = client.post(f"/account/tokens/{token_id}/revoke")
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(ApiToken, token_id).revoked_at is not None


def test_another_accounts_token_cannot_be_revoked(client, app):
    """Revoking a token of another account is a 404 and changes nothing."""
    register(client, email="a@example.com")
    _create(client)
    client.post("/auth/logout")
    register(client, email="b@example.com")
    with app.app_context():
        token_id = db.session.scalars(db.select(ApiToken)).one().id
    assert client.post(f"/account/tokens/{token_id}/revoke").status_code == 404
    with app.app_context():
        assert db.session.get(ApiToken, token_id).revoked_at is None


def test_a_too_long_name_is_refused(client):
    register(client)
    response = client.post("/account/tokens", data={"name": "x" * 101})
    assert response.status_code == 400 and "token-secret" not in response.text


def test_bearer_check_and_rate_limit_key(app):
    """A valid token is found by its hash and keys the rate limit; a revoked or made-up one is not."""
    with app.app_context():
        user = User(email="c@example.com", name="c")
        user.set_password("correct horse 1")
        db.session.add(user)
        db.session.commit()
        token, secret = tokens.create_token(user, "")
        assert token.name.startswith("token ")  # a dated default name
    cases = {secret: f"token:{token.id}", secret + "x": "addr:127.0.0.1", "gs_nope": "addr:127.0.0.1"}
    for sent, key in cases.items():
        with app.test_request_context(headers={"Authorization": f"Bearer {sent}"}):
            assert tokens.rate_limit_key() == key
    with app.app_context():
        tokens.revoke_token(db.session.get(User, token.owner_id), token.id)
    with app.test_request_context(headers={"Authorization": f"Bearer {secret}"}):
        assert tokens.current_token() is None


@pytest.fixture
def installation(tmp_path, monkeypatch, app_config):
    """An instance folder as `giantstep serve` and `giantstep token` both find it, with one account."""
    from webapp.web import create_app
    from webapp.web.db import upgrade_database

    instance = tmp_path / "inst"
    monkeypatch.setenv("GIANTSTEP_INSTANCE_DIR", str(instance))
    monkeypatch.setenv("FLASK_SECRET_KEY", "cli-test")
    app = create_app({**app_config, "SQLALCHEMY_DATABASE_URI": None}, instance_path=str(instance))
    upgrade_database(app)
    register(app.test_client(), email="cli@example.com")
    yield app
    with app.app_context():
        db.engine.dispose()


def test_command_line_creates_lists_and_revokes(installation):
    """`giantstep token create` prints a working secret once; `list` shows it; `revoke` ends it."""
    from webapp.cli import main

    runner = CliRunner()
    created = runner.invoke(main, ["token", "create", "--email", "CLI@example.com", "--name", "nightly"])
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip()
    assert secret.startswith("gs_") and "\n" not in secret
    listed = runner.invoke(main, ["token", "list", "--email", "cli@example.com"])
    assert listed.exit_code == 0 and "nightly" in listed.stdout and "active" in listed.stdout
    token_id = int(listed.stdout.split()[0])
    with installation.test_request_context(headers={"Authorization": f"Bearer {secret}"}):
        assert tokens.current_token().id == token_id
    revoked = runner.invoke(main, ["token", "revoke", "--email", "cli@example.com", str(token_id)])
    assert revoked.exit_code == 0 and "revoked 1" in revoked.stderr
    assert "revoked" in runner.invoke(main, ["token", "list", "--email", "cli@example.com"]).stdout
    with installation.test_request_context(headers={"Authorization": f"Bearer {secret}"}):
        assert tokens.current_token() is None


@pytest.mark.parametrize(("args", "message"), [
    (["create", "--email", "nobody@example.com"], "no account with the e-mail"),
    (["revoke", "--email", "cli@example.com"], "give token ids"),
    (["revoke", "--email", "cli@example.com", "999"], "token 999: not a token of cli@example.com"),
])
def test_command_line_problems_are_one_line(installation, args, message):
    """Mistakes exit with status 2 and one line, never a traceback."""
    from webapp.cli import main

    result = CliRunner().invoke(main, ["token", *args])
    assert result.exit_code == 2 and message in result.stderr and "Traceback" not in result.output
