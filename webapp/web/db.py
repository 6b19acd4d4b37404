"""SQLAlchemy setup for accounts, clients and saved assessments (SQLite in instance/ by default)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from flask.cli import with_appcontext

from webapp.web.extensions import db, migrate

MIGRATIONS_DIR = str(Path(__file__).resolve().parent / "migrations")


def database_uri(app: Flask) -> str:
    """The configured database URL, or an SQLite file in the instance folder."""
    uri = app.config.get("SQLALCHEMY_DATABASE_URI") or app.config.get("DATABASE_URL")
    if uri:
        return uri
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)  # first run: the embedded database lives here
    return f"sqlite:///{Path(app.instance_path) / 'giantstep.sqlite'}"


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
    from webapp.web import models  # noqa: F401  (register the tables on the metadata)

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)
    app.cli.add_command(init_db_command)
