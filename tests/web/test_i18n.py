"""Languages: zh by default, en on request, remembered; catalogues complete; numbers formatted."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from webapp.web.i18n import fmt_number, fmt_value, safe_next

CATALOG = Path(__file__).resolve().parents[2] / "webapp" / "web" / "translations" / "zh" / "LC_MESSAGES"


def test_switch_language_and_remember_it(client):
    """Switching to English sets a cookie; later pages stay English; back to Chinese the same way."""
    response = client.get("/lang/en?next=/assess")
    assert response.status_code == 302 and response.headers["Location"] == "/assess"
    assert "giantstep_lang=en" in response.headers["Set-Cookie"]
    html = client.get("/").text
    assert 'lang="en"' in html and "Quick check" in html
    client.get("/lang/zh")
    assert "快速自测" in client.get("/").text


def test_unknown_language_and_foreign_next_are_ignored(client):
    """Only zh and en; the return path stays on this site."""
    response = client.get("/lang/fr?next=https://evil.example/")
    assert response.headers["Location"] == "/" and "Set-Cookie" not in response.headers


def test_catalogue_complete_and_compiled():
    """Every message has a Chinese translation and the committed .mo matches the .po."""
    with open(CATALOG / "messages.po", "rb") as fh:
        po = read_po(fh)
    with open(CATALOG / "messages.mo", "rb") as fh:
        mo = read_mo(fh)
    missing = [m.id for m in po if m.id and (not all(m.string) if m.pluralizable else not m.string) or m.fuzzy]
    assert not missing
    assert {_key(m.id): _key(m.string) for m in po if m.id} == {_key(m.id): _key(m.string) for m in mo if m.id}


def _key(text):
    return text if isinstance(text, str) else tuple(text)


def test_templates_use_only_catalogued_messages():
    """Re-extracting the sources finds no message missing from the catalogue."""
    from babel.messages.extract import extract_from_dir

    root = Path(__file__).resolve().parents[2]
    method_map = [("webapp/web/**.py", "python"), ("webapp/web/templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
    found = {msg[2] if isinstance(msg[2], str) else msg[2][0]
             for msg in extract_from_dir(root, method_map=method_map, keywords=keywords)}
    with open(CATALOG / "messages.po", "rb") as fh:
        known = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}
    assert found - known == set()


@pytest.mark.parametrize(("value", "unit", "lang", "text"), [
    (8000, "wan", "zh", "8,000 万元"), (12345.5, "wan", "en", "12,345.5 (10k CNY)"), (0.05, "ratio", "zh", "5%"),
    (45, "pct", "en", "45%"), (True, "bool", "zh", "是"), (None, "wan", "zh", "未知"),
    (1234567, None, "en", "1,234,567"),
])
def test_number_formatting(value, unit, lang, text):
    """Money in 万元 with separators, ratios as percent, unknown as a word."""
    assert fmt_value(value, unit, lang) == text


def test_fmt_number_trims():
    """No trailing zeros, no negative zero."""
    assert fmt_number(1000.0) == "1,000" and fmt_number(-0.0001) == "0" and fmt_number(2.345, 1) == "2.3"


@pytest.mark.parametrize(("target", "ok"), [("/clients", True), ("//evil.example", False),
                                            ("https://evil.example", False), ("/\\evil", False), (None, False)])
def test_safe_next(app, target, ok):
    """Only same-site paths are followed."""
    with app.test_request_context():
        assert (safe_next(target) == target) is ok
