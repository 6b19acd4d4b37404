"""likely_tier, conditional tiers and to_confirm in the result contract (spec/assessment.md, "Likely tier")."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.factories import make_profile
from webapp.engine.assess import assess
from webapp.reports.text import render_text

RULES = ("SME-2022", "SME-2026")


def _result(rules: str, **overrides) -> dict:
    frame = pd.DataFrame([make_profile(**overrides)], dtype=object)
    return assess(frame, rules=rules, cohorts=False, model=False).to_dict(0)


@pytest.mark.parametrize("rules", RULES)
def test_full_profile_likely_tier_is_tier(rules):
    out = _result(rules)
    assert out["likely_tier"] == out["tier"] != "none"
    assert not any(t["conditional"] for t in out["tiers"].values())
    for t in out["tiers"].values():
        assert isinstance(t["conditional"], bool)


@pytest.mark.parametrize("rules", RULES)
def test_unknown_declaration_makes_tiers_conditional(rules):
    full = _result(rules)
    out = _result(rules, clean_record=None)
    assert out["tier"] == "none"  # existing keys unchanged: nothing is met without the declaration
    assert out["likely_tier"] == full["tier"]
    tier = out["tiers"][full["tier"]]
    assert tier["status"] == "unknown" and tier["conditional"]
    for tid, t in out["tiers"].items():
        if t["status"] != "unknown":
            assert not t["conditional"], tid
    confirm = [c for c in out["to_confirm"] if c["tier"] == full["tier"]]
    assert confirm and all(c["self_declared"] and "clean_record" in c["missing"] for c in confirm)
    assert {"tier", "id", "name_zh", "name_en", "missing", "self_declared", "manual_review"} <= set(confirm[0])


@pytest.mark.parametrize("rules", RULES)
def test_missing_figure_is_not_conditional(rules):
    out = _result(rules, revenue=None)
    srdi = out["tiers"]["srdi_sme"]
    assert srdi["status"] == "unknown" and not srdi["conditional"]
    assert out["likely_tier"] == out["tier"] == "innovative_sme"
    assert any(c["tier"] == "srdi_sme" and "revenue" in c["missing"] for c in out["to_confirm"])


def test_frame_has_likely_tier_column():
    frame = pd.DataFrame([make_profile(), make_profile(clean_record=None), make_profile(revenue=None)], dtype=object)
    a = assess(frame, rules="SME-2026", cohorts=False, model=False)
    got = a.frame()["likely_tier"].tolist()
    assert got == [a.to_dict(i)["likely_tier"] for i in range(3)]


@pytest.mark.parametrize("lang, word", [("zh", "可能层级："), ("en", "Likely tier: ")])
def test_text_has_likely_line(lang, word):
    out = _result("SME-2026", clean_record=None)
    lines = render_text(out, lang=lang).splitlines()
    likely = [ln for ln in lines if ln.startswith(word)]
    assert len(likely) == 1 and "E3" in likely[0]
