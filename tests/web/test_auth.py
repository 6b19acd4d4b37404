"""Blueprint "auth": register, log in (rate-limited), log out; passwords only as hashes."""

from __future__ import annotations

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
    """Repeated failed logins from one address get 429."""
    codes = [login(client, password="nope").status_code for _ in range(11)]
    assert codes[:10] == [400] * 10 and codes[10] == 429
