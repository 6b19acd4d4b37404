"""Shared pytest fixtures: the web app on a temporary instance folder, its test client and CLI runner."""

from __future__ import annotations

import pytest


def pytest_configure(config):
    """Register the ``browser`` marker (tests that drive Debian's Chromium through the web app) and the ``slow``
    marker (tests that take more than about 5 s on a 2-core machine).

    ``make test`` runs every test. For a quick loop while developing, leave the slow ones out:

        .venv/bin/pytest -m "not slow"
    """
    config.addinivalue_line("markers", "browser: drives a real browser (/usr/bin/chromium) through the web app")
    config.addinivalue_line("markers", "slow: takes more than about 5 s; skip in a quick loop with -m 'not slow'")


@pytest.fixture
def app_config(tmp_path):
    """Test configuration: a temporary SQLite file, CSRF off (turned on by the tests that check it)."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'test.sqlite'}",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": True,
    }


@pytest.fixture
def app(app_config, tmp_path):
    """A GiantStep web app with its tables created, on a temporary instance path."""
    from webapp.web import create_app
    from webapp.web.db import db

    app = create_app(app_config, instance_path=str(tmp_path / "instance"))
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app):
    """A test client of the app."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A CLI runner of the app's ``flask`` commands."""
    return app.test_cli_runner()
