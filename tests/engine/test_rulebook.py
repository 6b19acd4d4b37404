"""Loading and checking rule tables: every table loads, a broken one names its file and row."""

from __future__ import annotations

import shutil

import pytest

from webapp import paths
from webapp.engine.rules.rulebook import RuleTableError, load_rule_book


def test_shipped_tables_load_with_versions():
    """The four rule sets of spec/assessment.md load, each with its version."""
    book = load_rule_book()
    assert {"SME-2022", "SME-2026", "TECH-2017", "CHAMPION-2023"} <= set(book.tables)
    for table in book.tables.values():
        assert table.version
        for crit in table.criteria.values():
            assert crit.source and crit.verification in ("verified", "verified-wording", "secondary", "unverified")


def test_verification_marks_follow_criteria_md():
    """Unverified and secondary marks of criteria.md survive into the tables."""
    book = load_rule_book()
    assert book.tables["SME-2022"].criteria["S22-12"].verification == "unverified"
    assert book.tables["SME-2022"].criteria["G22-5"].verification == "unverified"
    assert book.tables["SME-2026"].criteria["S26-8"].verification == "secondary"
    assert book.tables["CHAMPION-2023"].criteria["C-2"].verification == "secondary"


@pytest.mark.parametrize(("old", "new", "message"), [
    ('kind = "hard"', 'kind = "mandatory"', r"SME-2022.toml: criteria\[\d+\] \(S22-H1\): unknown kind"),
    ('test = "years_in_niche >= 2"', 'test = "years_in_nich >= 2"', r"S22-H1.*unknown name 'years_in_nich'"),
    ("brackets = [[0.80, 5], [0.70, 3], [0.60, 1]]", "brackets = [[0.70, 5], [0.80, 3]]", r"S22-1.*falling"),
    ('verification = "verified"', 'verification = "maybe"', r"unknown verification"),
])
def test_broken_table_names_file_and_row(tmp_path, old, new, message):
    """A malformed row fails on load with the file name, the row and the problem."""
    rules = tmp_path / "rules"
    shutil.copytree(paths.resolve().rules, rules)
    path = rules / "SME-2022.toml"
    text = path.read_text(encoding="utf-8")
    start = text.index('id = "S22-H1"') if "S22-1" not in message else text.index('id = "S22-1"')
    pos = text.index(old, start)
    path.write_text(text[:pos] + new + text[pos + len(old):], encoding="utf-8")
    with pytest.raises(RuleTableError, match=message):
        load_rule_book(rules)


def test_rule_set_by_date():
    """Without --rules the SME version in force on the date is used."""
    import datetime as dt

    book = load_rule_book()
    assert book.select(None, dt.date(2026, 3, 31)).sme.id == "SME-2022"
    assert book.select(None, dt.date(2026, 4, 1)).sme.id == "SME-2026"
    with pytest.raises(ValueError, match="unknown SME rule set"):
        book.select("SME-2030")


def test_every_form_the_loader_accepts_has_an_evaluator():
    """The loader accepts the registered forms, and each of them has its own evaluator."""
    from webapp.engine.rules.forms import FORMS, RULE_FORMS, CriterionForm

    assert set(RULE_FORMS) == set(FORMS)
    assert all(type(form).evaluate is not CriterionForm.evaluate for form in FORMS.values())
