"""Migrations: a fresh database is built by Alembic, and the models match the latest migration."""

from __future__ import annotations

import sqlalchemy as sa

from webapp.web import create_app
from webapp.web.db import MIGRATIONS_DIR, db, upgrade_database


def test_upgrade_builds_the_schema_and_models_match(tmp_path, app_config):
    """`upgrade` on an empty SQLite file creates every table; autogenerate finds nothing left to do."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    config = {**app_config, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'fresh.sqlite'}"}
    app = create_app(config, instance_path=str(tmp_path))
    upgrade_database(app)
    with app.app_context():
        tables = set(sa.inspect(db.engine).get_table_names())
        assert {"users", "clients", "titles", "assessments", "alembic_version"} <= tables
        with db.engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
        db.engine.dispose()
    assert diff == []
    assert MIGRATIONS_DIR.endswith("webapp/web/migrations")


def test_init_db_command(tmp_path, app_config):
    """`flask init-db` brings a new database to the latest migration."""
    config = {**app_config, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'cli.sqlite'}"}
    app = create_app(config, instance_path=str(tmp_path))
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0 and "up to date" in result.output
    with app.app_context():
        assert "assessments" in sa.inspect(db.engine).get_table_names()
        db.engine.dispose()
