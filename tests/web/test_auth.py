"""Blueprint "auth": register, log in (rate-limited), log out; passwords only as hashes."""

from __future__ import annotations

import pytest

from tests.web.helpers import login, logout, register
from webapp.web.db import db
from webapp.web.models import User


def test_register_logs_in_and_hashes_the_password(client, app):
    """Registering creates the account with a hashed password and opens the clients page."""
    response = register(client)
    assert response.status_code == 302 and response.headers["Location"] == "/clients"
    assert client.get("/clients").status_code == 200
    with app.app_context():
        user = db.session.scalar(db.select(User))
        assert user.password_hash != "correct horse 1" and user.check_password("correct horse 1")


def test_register_twice_is_refused(client):
    """One account per e-mail (case-insensitive)."""
    register(client)
    logout(client)
    response = register(client, email="A@Example.com")
    assert response.status_code == 400 and "该邮箱已注册" in response.text


def test_register_validation(client):
    """Short passwords and mismatched confirmation are reported beside the fields."""
    response = client.post("/auth/register", data={"name": "x", "email": "bad", "password": "short",
                                                   "confirm": "other"})
    assert response.status_code == 400
    assert "请输入有效的邮箱地址" in response.text and "两次输入的密码不一致" in response.text


def test_login_logout(client):
    """Log in with the right password, log out with a POST."""
    register(client)
    logout(client)
    assert client.get("/clients").status_code == 302
    assert login(client, password="wrong password").status_code == 400
    response = login(client)
    assert response.status_code == 302
    assert client.get("/clients").status_code == 200
    assert client.get("/auth/logout").status_code == 405
    logout(client)
    assert client.get("/clients").headers["Location"].startswith("/auth/login")


def test_login_next_is_local_only(client):
    """The ?next= target after login must be a path on this site."""
    register(client)
    logout(client)
    response = client.post("/auth/login", data={"email": "a@example.com", "password": "correct horse 1",
                                                "next": "https://evil.example/"})
    assert response.headers["Location"] == "/clients"
    logout(client)
    response = client.post("/auth/login", data={"email": "a@example.com", "password": "correct horse 1",
                                                "next": "/assess?full=1"})
    assert response.headers["Location"] == "/assess?full=1"


def test_login_is_rate_limited(client):
    """Repeated failed logins from one address get 429, whichever accounts they try."""
    codes = [login(client, email=f"u{i}@example.com", password="nope").status_code for i in range(11)]
    assert codes[:10] == [400] * 10 and codes[10] == 429


def test_login_is_rate_limited_per_account(app):
    """Failed logins on one account are limited whatever the address (LOGIN_ACCOUNT_RATE_LIMIT, 5 a minute);
    other accounts and the right password after a success are unaffected."""
    register(app.test_client())
    codes = [login(app.test_client(), password="wrong password").status_code for _ in range(4)]
    codes += [app.test_client().post("/auth/login", data={"email": " A@example.com ", "password": "nope"},
                                     environ_base={"REMOTE_ADDR": f"10.0.0.{i}"}).status_code for i in range(2)]
    assert codes == [400] * 5 + [429]
    assert login(app.test_client(), email="b@example.com", password="nope").status_code == 400


def test_successful_logins_do_not_count_against_the_account(app):
    """Only failures use up the per-account limit."""
    register(app.test_client())
    assert [login(app.test_client()).status_code for _ in range(7)] == [302] * 7


def test_logout_ends_the_session_on_the_server(client, app):
    """A session cookie copied before logout no longer opens the account afterwards."""
    register(client)
    stolen = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    assert client.get("/clients").status_code == 200
    logout(client)
    replay = app.test_client()
    replay.set_cookie(app.config["SESSION_COOKIE_NAME"], stolen)
    assert replay.get("/clients").status_code == 302


def test_log_out_everywhere(app):
    """"Log out everywhere" ends the account's sessions on every browser; other accounts keep theirs."""
    laptop, phone, other = app.test_client(), app.test_client(), app.test_client()
    register(laptop)
    login(phone)
    register(other, email="b@example.com")
    assert laptop.get("/clients").status_code == phone.get("/clients").status_code == 200
    response = phone.post("/auth/logout-everywhere")
    assert response.status_code == 302
    assert laptop.get("/clients").status_code == phone.get("/clients").status_code == 302
    assert other.get("/clients").status_code == 200
    assert "2" in phone.get("/").text  # the flash says how many sessions ended
    login(laptop)
    assert laptop.get("/clients").status_code == 200


def test_sessions_expire_after_their_lifetime(app_config, tmp_path):
    """A login lasts PERMANENT_SESSION_LIFETIME (12 hours by default), enforced on the server."""
    import datetime as dt

    from webapp.web import create_app
    from webapp.web.sessions import LoginSession

    assert create_app(app_config, instance_path=str(tmp_path / "d")).permanent_session_lifetime \
        == dt.timedelta(hours=12)
    app = create_app({**app_config, "PERMANENT_SESSION_LIFETIME": 3600}, instance_path=str(tmp_path / "e"))
    with app.app_context():
        db.create_all()
    client = app.test_client()
    register(client)
    assert "Expires=" in client.post("/auth/login", data={"email": "a@example.com",
                                                         "password": "correct horse 1"}).headers["Set-Cookie"]
    with app.app_context():
        row = db.session.scalar(db.select(LoginSession).order_by(LoginSession.id.desc()))
        assert dt.timedelta(minutes=59) < row.expires_at - row.created_at <= dt.timedelta(hours=1)
        db.session.execute(db.update(LoginSession).values(expires_at=dt.datetime(2000, 1, 1)))
        db.session.commit()
    assert client.get("/clients").status_code == 302


def test_sessions_are_stored_as_hashes(client, app):
    """The database holds the SHA-256 of a session token, never the token in the cookie."""
    from webapp.web.sessions import LoginSession

    register(client)
    with app.app_context():
        stored = db.session.scalar(db.select(LoginSession.token_hash))
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    assert len(stored) == 64 and stored not in cookie


@pytest.mark.parametrize(("password", "says"), [
    ("password", "至少 10 个字符"),
    (" " * 12, "至少 10 个字符"),
    ("1234567890", "最常见"),
    ("Password123", "最常见"),
    ("qwertyuiop", "最常见"),
    ("aaaaaaaaaaaa", "最常见"),
    ("a@example.com", "不能是您的邮箱"),
    ("A@EXAMPLE.COM", "不能是您的邮箱"),
    ("consultant", "不能是您的邮箱"),
])
def test_password_policy(client, password, says):
    """At least 10 characters, not only spaces, not the e-mail (or its part before @), not a common password."""
    response = register(client, email="consultant@example.com" if password == "consultant" else "a@example.com",
                        password=password)
    assert response.status_code == 400 and says in response.text
    assert client.get("/clients").status_code == 302


def test_password_policy_in_english(client):
    """The messages follow the page language."""
    client.get("/lang/en")
    response = register(client, password="password")
    assert response.status_code == 400 and "at least 10 characters" in response.text


def test_a_good_password_is_accepted(client):
    """A long, uncommon passphrase passes."""
    assert register(client, password="墨水 river 7 lantern").status_code == 302
