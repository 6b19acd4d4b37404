"""The engine, reports, field registry and CLI import no web framework."""

import subprocess
import sys

FORBIDDEN = ("flask", "werkzeug", "wtforms", "sqlalchemy", "flask_wtf", "flask_babel", "flask_login")


def test_engine_and_reports_import_no_web_framework():
    """engine/ and reports/ must stay importable without the web stack."""
    code = (
        "import importlib, pkgutil, sys\n"
        "import webapp.fields, webapp.cli, webapp.engine as e, webapp.reports as r\n"
        "for pkg in (e, r):\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        importlib.import_module(m.name)\n"
        f"bad = sorted({{n.split('.')[0] for n in sys.modules}} & set({FORBIDDEN!r}))\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
