"""Serve the web app with waitress (several users, threads) after bringing the database up to date."""

from __future__ import annotations

import sys

from webapp.web import create_app
from webapp.web.db import upgrade_database


def serve(host: str = "127.0.0.1", port: int = 5000, *, threads: int = 8, instance_path: str | None = None) -> None:
    """Create the app (secret key and SQLite file in instance/ on first run), migrate, and serve until stopped."""
    import waitress

    app = create_app(instance_path=instance_path)
    upgrade_database(app)
    print(f"GiantStep: http://{host}:{port}/  (instance folder: {app.instance_path}; Ctrl+C to stop)",
          file=sys.stderr, flush=True)
    waitress.serve(app, host=host, port=port, threads=threads, ident="GiantStep")
