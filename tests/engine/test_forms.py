"""The registry of criterion forms is complete and closed: every form the shipped tables name is registered,
an unknown form is refused by the loader, and a form added as one registered class is loaded and judged."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import tomllib

import numpy as np
import pandas as pd
import pytest

from tests.factories import make_profile
from webapp import paths
from webapp.engine.assess import assess
from webapp.engine.rules.expressions import status_codes
from webapp.engine.rules.forms import FORMS, RULE_FORMS, CriterionForm, register, unregister
from webapp.engine.rules.parts import Route, compile_in
from webapp.engine.rules.rulebook import RuleTableError, load_rule_book
from webapp.engine.rules.status import MET, NOT_MET, UNKNOWN, CriterionResult

ROW_H1 = 'id = "S22-H1"'


def shipped_rows():
    """(file name, row index, row) of every criterion row in the shipped rule folder, includes too."""
    for path in sorted(paths.resolve().rules.glob("*.toml")):
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
        for i, row in enumerate(doc.get("criteria", [])):
            yield path.name, i, row


def copy_rules(tmp_path, old: str, new: str):
    """A copy of the rule folder with ``old`` replaced by ``new`` in S22-H1's row of SME-2022.toml."""
    rules = tmp_path / "rules"
    shutil.copytree(paths.resolve().rules, rules)
    path = rules / "SME-2022.toml"
    text = path.read_text(encoding="utf-8")
    pos = text.index(old, text.index(ROW_H1))
    path.write_text(text[:pos] + new + text[pos + len(old):], encoding="utf-8")
    return rules


def test_every_shipped_form_is_registered():
    """Each form a shipped table names has a registered class, and every built-in form is used somewhere."""
    named = {row["form"] for _, _, row in shipped_rows()}
    assert named <= set(FORMS)
    assert set(RULE_FORMS) == named
    for name, form in FORMS.items():
        assert isinstance(form, CriterionForm) and form.name == name
        assert type(form).evaluate is not CriterionForm.evaluate, name
    book = load_rule_book()
    for table in book.tables.values():
        for crit in table.criteria.values():
            assert crit.handler is FORMS[crit.form]


def test_unknown_form_is_refused_naming_file_row_and_known_forms(tmp_path):
    """A table naming a form nobody registered does not load; the message says where and what is allowed."""
    rules = copy_rules(tmp_path, 'form = "test"', 'form = "lottery"')
    with pytest.raises(RuleTableError) as err:
        load_rule_book(rules)
    message = str(err.value)
    assert re.match(r"SME-2022\.toml: criteria\[\d+\] \(S22-H1\): unknown form 'lottery'; one of ", message)
    for name in RULE_FORMS:
        assert name in message


def test_a_form_without_its_required_keys_is_refused(tmp_path):
    """The keys a form declares are checked before it parses the row."""
    rules = copy_rules(tmp_path, 'form = "test"', 'form = "prerequisite"')
    with pytest.raises(RuleTableError, match=r"\(S22-H1\): form 'prerequisite' needs titles\+eligible"):
        load_rule_book(rules)


class AtLeastN(CriterionForm):
    """Test-local form: met when at least ``n`` of ``tests`` hold."""

    name = "at_least_n"
    requires = (("tests", "n"),)

    def parse(self, row, names_ok, where):
        """Each test as a route; ``n`` as the pass mark."""
        routes = tuple(Route(id=f"t{j}", name_zh=t, name_en=t, test=compile_in(t, names_ok, where))
                       for j, t in enumerate(row["tests"]))
        return {"routes": routes, "score_at_least": float(row["n"])}

    def evaluate(self, judge, crit, tier):
        """Met with n tests met, not met when n can no longer be reached, else unknown."""
        statuses = np.array([status_codes(judge.env.evaluator.evaluate(r.test)) for r in crit.routes])
        met, open_ = (statuses == MET).sum(axis=0), (statuses == UNKNOWN).sum(axis=0)
        n = crit.score_at_least
        status = np.where(met >= n, MET, np.where(met + open_ >= n, UNKNOWN, NOT_MET)).astype(np.int8)
        return CriterionResult(status)


@pytest.fixture
def at_least_n():
    """AtLeastN registered for one test, then removed again."""
    register(AtLeastN)
    try:
        yield FORMS["at_least_n"]
    finally:
        unregister("at_least_n")
    assert "at_least_n" not in FORMS


def test_a_registered_form_is_loaded_and_judged(tmp_path, at_least_n):
    """One registered class is all a new form needs: the loader accepts it and the judge evaluates it."""
    rules = copy_rules(tmp_path, 'form = "test"\n', 'form = "at_least_n"\n'
                       'tests = ["years_in_niche >= 2", "revenue >= 1000", "revenue >= 100000"]\nn = 2\n')
    book = load_rule_book(rules)
    crit = book.tables["SME-2022"].criteria["S22-H1"]
    assert crit.handler is at_least_n and len(crit.routes) == 3 and crit.score_at_least == 2

    def status(**overrides):
        frame = pd.DataFrame([make_profile(**overrides)], dtype=object)
        done = assess(frame, rules="SME-2022", as_of=dt.date(2025, 6, 1), rule_book=book, cohorts=False, model=False)
        assert done.errors.empty, done.errors.to_dict("records")
        result = done.to_dict(0)
        return next(c for c in result["tiers"]["srdi_sme"]["criteria"] if c["id"] == "S22-H1")["status"]

    assert status(years_in_niche=5, revenue=8000.0) == "met"
    assert status(years_in_niche=1, revenue=8000.0) == "not_met"
    assert status(years_in_niche=None, revenue=8000.0) == "unknown"


def test_an_unregistered_form_is_refused_again(tmp_path):
    """Once a test-local form is unregistered, a table naming it no longer loads."""
    register(AtLeastN)
    unregister("at_least_n")
    rules = copy_rules(tmp_path, 'form = "test"\n', 'form = "at_least_n"\ntests = ["employees >= 10"]\nn = 1\n')
    with pytest.raises(RuleTableError, match="unknown form 'at_least_n'"):
        load_rule_book(rules)


def test_registering_a_taken_name_is_refused():
    """Two classes cannot claim one form name."""
    class Twin(CriterionForm):
        name = "test"

    with pytest.raises(ValueError, match="already registered"):
        register(Twin)
    assert type(FORMS["test"]).__name__ == "Test"
