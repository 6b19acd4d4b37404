"""likely_tier, conditional tiers and to_confirm in the result contract (spec/assessment.md, "Likely tier")."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.factories import make_profile
from webapp.engine.advice.advise import advise
from webapp.engine.assess import assess
from webapp.engine.rules.rulebook import load_rule_book
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


# -------------------------------------------------------------------------------------------- next tier

OUTGROWN_TECH = dict(revenue=26000, revenue_prev=24000, revenue_prev2=22000, main_revenue=25000,
                     main_revenue_prev=23000, main_revenue_prev2=21000, total_assets=30000, title_innovative=False,
                     title_tech_sme=False, title_srdi=False, hnte=False, award_level="none", rd_institution="none",
                     rd_expense=200, rd_expense_prev=180, class1_ip=0, class1_ip_self=0, class1_ip_high_value=0,
                     class1_ip_applied=0, class2_ip=0)


def test_fixed_requirements_are_flagged_in_the_tables():
    """Which requirements the firm cannot change is data: registration and the size tests."""
    book = load_rule_book()
    rs = book.select("SME-2026")
    assert {c for c, crit in rs.criteria.items() if crit.fixed} == {"E2", "T1", "T2"}


@pytest.mark.parametrize("rules", RULES)
def test_next_tier_is_never_one_the_firm_has_outgrown(rules):
    """A firm over the tech-SME ceilings (an SME still) that fails the innovative-SME score is aimed at
    innovative SME, and the advice never offers the tech-SME title nor its size ceiling."""
    out = _result(rules, **OUTGROWN_TECH)
    assert out["tiers"]["tech_sme"]["status"] == "not_met"
    assert next(c for c in out["tiers"]["tech_sme"]["criteria"] if c["id"] == "T2")["status"] == "not_met"
    assert out["likely_tier"] == "none" and out["next_tier"] == "innovative_sme"
    advice = advise(out, make_profile(**OUTGROWN_TECH))
    assert "tech_sme" not in advice["targets"]
    assert not [a for a in advice["actions"] if a["tier"] == "tech_sme" or a.get("criterion") == "T2"]


def test_not_an_sme_is_aimed_at_single_champion():
    """A firm that fails the SME size test (E2) is ruled out of every SME rung: its next tier is the
    single champion, not the first rung."""
    big = dict(employees=1500, revenue=50000, revenue_prev=45000, revenue_prev2=40000, main_revenue=48000,
               main_revenue_prev=43000, main_revenue_prev2=38000, total_assets=60000)
    for rules in RULES:
        out = _result(rules, **big)
        assert {out["tiers"][t]["status"] for t in ("innovative_sme", "srdi_sme", "little_giant")} == {"not_met"}
        assert out["next_tier"] == "single_champion"


@pytest.mark.parametrize("rules", RULES)
def test_next_tier_is_above_the_likely_tier(rules):
    """Without the declaration nothing is met, yet the next tier is the one above the likely tier, and
    to_confirm covers the likely and the next tier."""
    out = _result(rules, clean_record=None)
    assert out["tier"] == "none" and out["likely_tier"] == "srdi_sme" and out["next_tier"] == "little_giant"
    assert {c["tier"] for c in out["to_confirm"]} == {"srdi_sme", "little_giant"}


def test_level_one_prefers_innovative_sme():
    """At level 1 (SME-2026) a firm failing both, ruled out of neither, is aimed at innovative SME (the main
    ladder's rung, tech SME standing in only where innovative SME is ruled out)."""
    frame = pd.DataFrame([make_profile(**{**OUTGROWN_TECH, "revenue": 900, "revenue_prev": 800,
                                          "revenue_prev2": 700, "main_revenue": 850, "main_revenue_prev": 750,
                                          "main_revenue_prev2": 650, "total_assets": 1000, "rd_expense": 5,
                                          "rd_expense_prev": 5, "rd_staff": 1, "standards_led": 0})], dtype=object)
    out = assess(frame, rules="SME-2026", cohorts=False, model=False).to_dict(0)
    assert out["tiers"]["innovative_sme"]["status"] == out["tiers"]["tech_sme"]["status"] == "not_met"
    assert out["next_tier"] == "innovative_sme"
