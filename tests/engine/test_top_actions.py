"""top_actions and readiness for a whole assessment at once equal the same worked out firm by firm."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from tests.factories import make_profiles
from webapp.engine.advice.advise import assessment_top_actions, top_actions
from webapp.engine.assess import assess
from webapp.engine.readiness.model import readiness_json

AS_OF = dt.date(2026, 5, 20)


def _frame() -> pd.DataFrame:
    frame = make_profiles(10, seed=12).astype(object)
    rng = np.random.default_rng(3)
    for i in range(1, 10, 2):  # sparse firms: a third to a half of their fields unknown
        drop = rng.choice(frame.columns[3:], size=int(rng.integers(20, 50)), replace=False)
        frame.loc[i, drop] = None
    frame.loc[4, "rd_expense"] = round(float(frame.loc[4, "revenue"]) * 0.01, 1)
    frame.loc[6, "revenue"] = "not a number"  # an invalid row: no actions
    return frame


@pytest.mark.parametrize("rules", ["SME-2022", "SME-2026"])
def test_whole_assessment_equals_firm_by_firm(rules):
    frame = _frame()
    whole = assess(frame, rules=rules, as_of=AS_OF)
    titles = assessment_top_actions(whole, n=3, lang="en")
    assert titles[6] == "" and sum(bool(t) for t in titles) == len(frame) - 1
    for i in range(len(frame)):
        if i == 6:
            continue
        one = assess(frame.iloc[[i]], rules=rules, as_of=AS_OF)
        result = one.to_dict(0, benchmarks=False)
        assert top_actions([result], n=3, lang="en", profiles=[one.profiles.iloc[0].to_dict()],
                           rule_book=one.rule_book) == [titles[i]], i
        # readiness of the firm alone (its own model call) and within the block of the whole frame
        assert whole.readiness(i) == result["readiness"]
        assert readiness_json(one.model, one.profiles, rules=rules) == result["readiness"]


def test_readiness_drivers_are_found():
    """The block computation finds drivers (not only probabilities) for firms short of the next tier."""
    whole = assess(_frame(), rules="SME-2026", as_of=AS_OF)
    drivers = [d for i in range(len(whole.profiles)) if i != 6
               for tier, block in whole.readiness(i).items() if tier != "_model" for d in block["drivers"]]
    assert len(drivers) >= 10
    assert all(d["delta"] >= 0.005 for d in drivers)
