"""Properties: more R&D, IP, R&D staff or years in the niche never lower a tier's status or score."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import make_profile
from webapp.engine.assess import assess

RANK = {"not_met": 0, "unknown": 1, "met": 2}
RAISES = {
    "rd_expense": st.floats(0, 5000), "rd_expense_prev": st.floats(0, 5000),
    "class1_ip": st.integers(0, 30), "class1_ip_applied": st.integers(0, 5),
    "class1_ip_high_value": st.integers(0, 3), "class1_ip_self": st.integers(0, 5),
    "class2_ip": st.integers(0, 30), "rd_staff": st.integers(0, 200), "years_in_niche": st.floats(0, 15),
}

profiles = st.fixed_dictionaries({
    "revenue": st.one_of(st.none(), st.floats(100, 50000)),
    "rd_expense": st.one_of(st.none(), st.floats(0, 3000)),
    "rd_expense_prev": st.one_of(st.none(), st.floats(0, 3000)),
    "employees": st.integers(200, 900),
    "rd_staff": st.one_of(st.none(), st.integers(0, 150)),
    "class1_ip": st.one_of(st.none(), st.integers(0, 20)),
    "class1_ip_applied": st.one_of(st.none(), st.integers(0, 5)),
    "years_in_niche": st.one_of(st.none(), st.floats(0, 20)),
    "total_costs": st.one_of(st.none(), st.floats(100, 50000)),
    "platform_score": st.one_of(st.none(), st.floats(0, 100)),
    "strategic_emerging": st.one_of(st.none(), st.booleans()),
})


def _base(base: dict) -> dict:
    """The factory profile with ``base`` applied, kept consistent with the cross-field rules."""
    profile = make_profile(**base)
    profile["revenue_prev"] = profile["revenue"]
    for key in ("main_revenue", "main_revenue_prev"):
        profile[key] = None
    for sub in ("class1_ip_self", "class1_ip_high_value", "class1_ip_applied"):
        if profile["class1_ip"] is not None and profile.get(sub) is not None:
            profile[sub] = min(profile[sub], profile["class1_ip"])
    return profile


def _judge(profiles: list[dict], rules: str) -> list[dict]:
    """The tiers of each profile, judged in one batch (as fast as judging one)."""
    result = assess(pd.DataFrame(profiles, dtype=object), rules=rules, cohorts=False, model=False)
    assert result.errors.empty, result.errors.to_dict("records")
    return [result.to_dict(i, gaps=False)["tiers"] for i in range(len(profiles))]


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(base=profiles, field=st.sampled_from(sorted(RAISES)), data=st.data(),
       rules=st.sampled_from(["SME-2022", "SME-2026"]))
def test_raising_an_input_never_lowers_status_or_score(base, field, data, rules):
    """Holding the rest fixed, a larger value of a more-is-better input never hurts any tier."""
    profile = _base(base)
    current = profile.get(field)
    low = data.draw(RAISES[field]) if current is None else current
    high = low + data.draw(RAISES[field])
    if field == "rd_staff":
        high = min(high, profile["employees"])
        low = min(low, high)
    if field.startswith("class1_ip_"):  # a sub-count needs a total at least as large in both profiles
        profile["class1_ip"] = max(profile["class1_ip"] or 0, high)
    floor_total = low if field == "class1_ip" else profile["class1_ip"]
    for sub in ("class1_ip_self", "class1_ip_high_value", "class1_ip_applied"):
        if sub != field and profile.get(sub) is not None and floor_total is not None:
            profile[sub] = min(profile[sub], floor_total)
    before, after = _judge([{**profile, field: low}, {**profile, field: high}], rules)
    for tid in before:
        assert RANK[after[tid]["status"]] >= RANK[before[tid]["status"]], (tid, field, low, high)
        if before[tid]["score_min"] is not None:
            assert after[tid]["score_min"] >= before[tid]["score_min"] - 1e-9, (tid, field)
            assert after[tid]["score_max"] >= before[tid]["score_max"] - 1e-9, (tid, field)


@settings(max_examples=40, deadline=None)
@given(base=profiles)
def test_score_range_brackets_the_known_value(base):
    """score_min <= score_max, and filling in an unknown value (either way) narrows the range, never leaves it."""
    fills = [{"strategic_emerging": True}, {"strategic_emerging": False}] if base["strategic_emerging"] is None else []
    tiers, *filled = _judge([_base(base)] + [_base({**base, **fill}) for fill in fills], "SME-2022")
    for t in tiers.values():
        if t["score_min"] is not None:
            assert t["score_min"] <= t["score_max"]
    lo, hi = tiers["innovative_sme"]["score_min"], tiers["innovative_sme"]["score_max"]
    for known in filled:
        assert lo <= known["innovative_sme"]["score_min"] <= known["innovative_sme"]["score_max"] <= hi
        assert np.isfinite(lo)
