"""SQLAlchemy setup for accounts, clients and saved assessments (SQLite in instance/ by default)."""

from __future__ import annotations

from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import with_appcontext

from webapp.web.extensions import db, migrate
from webapp.web.instance import create_database_file

MIGRATIONS_DIR = str(Path(__file__).resolve().parent / "migrations")


def database_uri(app: Flask) -> str:
    """The configured database URL, or an SQLite file in the instance folder (created with mode 0600)."""
    uri = app.config.get("SQLALCHEMY_DATABASE_URI") or app.config.get("DATABASE_URL")
    if uri:
        return uri
    return f"sqlite:///{create_database_file(Path(app.instance_path))}"


def _sqlite_pragmas(app: Flask):
    """A connect hook: WAL journal (readers never wait for a writer; a crash mid-write loses nothing committed),
    and a busy timeout so concurrent workers wait for the lock instead of failing. (Foreign keys stay unenforced
    by SQLite: Alembic's batch migrations rebuild tables, which enforcement would turn into cascading deletes.)"""
    journal = str(app.config.get("SQLITE_JOURNAL_MODE") or "WAL").upper()
    busy_ms = int(app.config.get("SQLITE_BUSY_TIMEOUT_MS") or 0)
    if journal not in ("WAL", "DELETE", "TRUNCATE", "PERSIST", "MEMORY", "OFF"):
        raise ValueError(f"SQLITE_JOURNAL_MODE: {journal!r} is not an SQLite journal mode")

    def on_connect(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
            cursor.execute(f"PRAGMA journal_mode = {journal}")
            cursor.execute("PRAGMA synchronous = NORMAL" if journal == "WAL" else "PRAGMA synchronous = FULL")
        finally:
            cursor.close()

    return on_connect


def upgrade_database(app: Flask) -> None:
    """Bring the database schema to the latest migration (creates the SQLite file on first run)."""
    from flask_migrate import upgrade

    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)


@click.command("init-db")
@with_appcontext
def init_db_command():
    """Create or upgrade the database tables to the latest migration."""
    from flask import current_app

    upgrade_database(current_app._get_current_object())
    click.echo("database is up to date")


def init_app(app: Flask) -> None:
    """Bind SQLAlchemy and Flask-Migrate to the app and register ``flask init-db``."""
    app.config["SQLALCHEMY_DATABASE_URI"] = database_uri(app)
    from webapp.web import models, sessions  # noqa: F401  (register the tables on the metadata)

    db.init_app(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        with app.app_context():
            sa.event.listen(db.engine, "connect", _sqlite_pragmas(app))
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)
    app.cli.add_command(init_db_command)
