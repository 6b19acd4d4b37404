"""Report fixtures: assessment dicts exactly as the engine produces them for test profiles, with every optional
part (benchmarks, dimensions, cohort names, readiness with its model card, advice) or without them."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from tests.factories import make_profile
from webapp.engine.assess import assess
from webapp.reports.examples import STRONG

AS_OF = dt.date(2026, 11, 20)
QUICK = ("firm_name", "province", "sector", "revenue", "revenue_prev", "rd_expense", "rd_expense_prev",
         "employees", "rd_staff", "patent_applications", "invention_applications", "class1_ip")


def result_of(profile: dict, **options) -> dict:
    """The result contract of one profile judged on AS_OF, as ``assess(...).to_dict(0, advice=True)`` gives it;
    ``options`` go to :func:`assess` (``cohorts=False, model=False`` leave benchmarks and readiness out)."""
    return assess(pd.DataFrame([profile], dtype=object), as_of=AS_OF, **options).to_dict(0, advice=True)


@pytest.fixture(scope="session")
def full_result() -> dict:
    """The factory's SRDI firm with every optional part; readiness names drivers for the little-giant step."""
    return result_of(make_profile())


@pytest.fixture(scope="session")
def champion_step_result() -> dict:
    """The example little giant (webapp/reports/examples.py): benchmarks against five cohorts, among them the
    single-champion portrait of its next step, drawn beside little giants on the radar."""
    return result_of(STRONG)


@pytest.fixture(scope="session")
def bare_result() -> dict:
    """The factory firm judged without cohorts or a readiness model: no benchmarks, dimensions or readiness."""
    return result_of(make_profile(), cohorts=False, model=False)


@pytest.fixture(scope="session")
def sparse_result() -> dict:
    """A quick check: only a dozen quick fields are known."""
    full = make_profile()
    return result_of({k: full[k] for k in QUICK})


@pytest.fixture(scope="session")
def nasty_result() -> dict:
    """User text that must be escaped: markup and ampersands in a very long firm name."""
    name = "<b>Evil</b> & Co. 深圳市" + "超长名称" * 20 + "有限公司 <font name='x'>"
    return result_of(make_profile(firm_name=name))
