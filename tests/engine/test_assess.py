"""Semantics of spec/assessment.md on whole profiles: scores, ranges, Kleene routes, prerequisites, versions."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from tests.factories import make_profile
from webapp.engine.assess import assess


def run(rules="SME-2022", mode="new", **overrides) -> dict:
    frame = pd.DataFrame([make_profile(**overrides)], dtype=object)
    result = assess(frame, rules=rules, mode=mode, cohorts=False, model=False)
    assert result.errors.empty, result.errors.to_dict("records")
    return result.to_dict(0)


def crit(result: dict, cid: str) -> dict:
    for tier in result["tiers"].values():
        for c in tier["criteria"]:
            if c["id"] == cid:
                return c
    raise KeyError(cid)


def test_hand_computed_profile_sme_2022():
    """The factory profile, scored by hand from criteria.md."""
    r = run("SME-2022")
    inn, srdi, tech = r["tiers"]["innovative_sme"], r["tiers"]["srdi_sme"], r["tiers"]["tech_sme"]
    assert (inn["score_min"], inn["score_max"], inn["status"]) == (100, 100, "met")
    expected = {"S22-1": 5, "S22-2": 10, "S22-3": 4, "S22-4": 3, "S22-5": 5, "S22-6": 5, "S22-7": 10,
                "S22-8": 5, "S22-9": 10, "S22-10": 10, "S22-11": 10, "S22-12": 5, "S22-13": 8}
    assert {cid: crit(r, cid)["points"] for cid in expected} == expected
    assert (srdi["score_min"], srdi["status"]) == (90, "met")
    assert (tech["score_min"], tech["status"]) == (92, "met")
    assert crit(r, "G22-4a")["status"] == "met"          # 8000万 revenue: 6% band, 7.43% and 7.5%
    assert crit(r, "G22-5")["status"] == "not_met"      # no chain breakthrough
    assert r["tiers"]["little_giant"]["status"] == "not_met"
    assert r["tier"] == "srdi_sme" and r["next_tier"] == "little_giant"


def test_hand_computed_profile_sme_2026():
    """Same firm under 2号: little giant fails only on two-year R&D of 1120万 < 1200万."""
    r = run("SME-2026")
    lg = r["tiers"]["little_giant"]
    failing = [c["id"] for c in lg["criteria"] if c["status"] == "not_met"]
    assert failing == ["G26-3"]
    gap = crit(r, "G26-3")["gap"]["items"][0]
    assert gap["metric"] == "rd_2y" and gap["distance"] == pytest.approx(80)
    assert gap["lever"] == {"field": "rd_expense", "amount": pytest.approx(80, abs=1e-3), "unit": "wan"}
    assert r["tiers"]["srdi_sme"]["score_min"] is None  # 2026: no points table
    assert r["tier"] == "srdi_sme"


def test_unknown_indicator_contributes_its_range():
    """An unknown I5 contributes 5 to 10; the tier is decided on the range."""
    r = run("SME-2022", strategic_emerging=None)
    inn = r["tiers"]["innovative_sme"]
    assert (inn["score_min"], inn["score_max"]) == (95, 100)
    assert crit(r, "I5")["status"] == "unknown"
    assert (crit(r, "I5")["points_min"], crit(r, "I5")["points_max"]) == (5, 10)
    assert inn["status"] == "met"


def test_best_of_with_one_measure_unknown():
    """T-S2 counts from the known measure's points up to 50."""
    r = run("SME-2022", revenue=20000, rd_expense=700, total_costs=None)   # 3.5% -> 20 points
    c = crit(r, "T-S2")
    assert (c["points_min"], c["points_max"], c["status"]) == (20, 50, "unknown")


def test_any_of_routes_are_kleene_and_named():
    """S26-2: met by the equity route whatever the revenue; unknown when neither decides."""
    assert crit(run("SME-2026", revenue=None, equity_financing_2y=2500), "S26-2")["route"] == "equity"
    assert crit(run("SME-2026", revenue=None, equity_financing_2y=2500), "S26-2")["status"] == "met"
    assert crit(run("SME-2026", revenue=None, equity_financing_2y=None), "S26-2")["status"] == "unknown"
    r = run("SME-2026", revenue=1000, revenue_prev=900, main_revenue=900, main_revenue_prev=800, equity_financing_2y=0)
    assert crit(r, "S26-2")["status"] == "not_met"


@pytest.mark.parametrize(("employees", "revenue", "expected"), [
    (100, 500, "met"),          # every industry class passes
    (250, 50000, "unknown"),    # wholesale would fail (>= 200 staff and >= 4亿)
    (2000, 90000, "not_met"),   # no class passes... construction needs assets too
])
def test_unknown_industry_judged_over_every_class(employees, revenue, expected):
    """E2 with an unknown sme_industry passes only when every class would pass."""
    r = run("SME-2022", sme_industry=None, employees=employees, rd_staff=50, revenue=revenue,
            main_revenue=revenue * 0.9, total_assets=90000)
    assert crit(r, "E2")["status"] == expected


def test_prerequisite_held_or_eligible():
    """S26-1 and G26-1 say whether the lower title is held or found eligible here."""
    held = run("SME-2026")
    assert crit(held, "S26-1")["via"] == "held" and crit(held, "G26-1")["via"] == "held"
    elig = run("SME-2026", title_innovative=False, title_tech_sme=None, title_srdi=False)
    assert crit(elig, "S26-1")["via"] == "eligible"
    assert crit(elig, "G26-1")["status"] == "met" and crit(elig, "G26-1")["via"] == "eligible"
    none = run("SME-2026", title_innovative=False, title_tech_sme=False, title_srdi=False, years_in_niche=1)
    assert crit(none, "S26-1")["status"] == "not_met"


def test_both_versions_on_the_same_profile():
    """Two years in the niche: enough for SRDI under 63号, not under 2号."""
    r22 = run("SME-2022", years_in_niche=2)
    r26 = run("SME-2026", years_in_niche=2)
    assert r22["tiers"]["srdi_sme"]["status"] == "met"
    assert crit(r26, "S26-1")["status"] == "not_met"
    assert r26["tiers"]["srdi_sme"]["status"] == "not_met"
    assert r22["rules"]["sme"] == "SME-2022" and r26["rules"]["sme"] == "SME-2026"


def test_rules_chosen_by_date():
    """Without rules, the date decides; the result names the versions."""
    frame = pd.DataFrame([make_profile()], dtype=object)
    assert assess(frame, as_of=dt.date(2026, 3, 31)).to_dict(0)["rules"] == {
        "sme": "SME-2022", "tech": "TECH-2017", "champion": "CHAMPION-2023", "hnte": "HNTE-2016"}
    assert assess(frame, as_of=dt.date(2026, 4, 1)).to_dict(0)["rules"]["sme"] == "SME-2026"


def test_review_mode_skips_cagr_and_accepts_last_years_score():
    """复核: G26-2 skips the CAGR; S26-8 and G26-7 accept either of the last two years."""
    flat = dict(revenue=8000, revenue_prev=8000, revenue_prev2=8000, rd_expense=700, rd_expense_prev=600,
                platform_score=55, platform_score_prev=61)
    new, review = run("SME-2026", **flat), run("SME-2026", mode="review", **flat)
    assert crit(new, "G26-2")["status"] == "not_met" and crit(review, "G26-2")["status"] == "met"
    assert crit(new, "G26-7")["status"] == "not_met" and crit(review, "G26-7")["status"] == "met"
    assert review["tiers"]["little_giant"]["status"] == "met"


def test_sub_minimums_of_the_innovative_score():
    """I-PASS: 60 points are not enough with innovation under 20 and no direct route."""
    r = run("SME-2022", class1_ip=0, class1_ip_self=0, class1_ip_high_value=0, class1_ip_applied=0, class2_ip=0,
            rd_expense=100, revenue=8000, hnte=False, tech_innovation_demo=False, ip_advantage=False,
            award_level="none", rd_institution="city", equity_financing_3y=0)
    inn = r["tiers"]["innovative_sme"]
    assert inn["score_min"] == 65   # I1..I6: 0 + 5 + 20 + 10 + 10 + 20; innovation 5 < 20
    assert crit(r, "I-PASS")["status"] == "not_met"


def test_tech_sme_is_a_rung_only_under_2026():
    """A firm meeting only the tech-SME tier is placed there under SME-2026, nowhere under SME-2022."""
    weak = dict(main_revenue=3000, main_revenue_prev=3000, revenue=8000, revenue_prev=8000, strategic_emerging=False,
                class1_ip=0, class1_ip_self=0, class1_ip_high_value=0, class1_ip_applied=0, debt_ratio_pct=80,
                hnte=False, award_level="none", rd_institution="none", equity_financing_3y=0)
    r22, r26 = run("SME-2022", **weak), run("SME-2026", **weak)
    assert r22["tiers"]["innovative_sme"]["status"] == "not_met"
    assert r22["tiers"]["tech_sme"]["status"] == "met"
    assert r22["tier"] == "none" and r26["tier"] == "tech_sme"


def test_revenue_band_edge_goes_to_the_higher_band():
    """G22-4a: exactly 5000万 revenue is in the 5000万-1亿 band (6% each year)."""
    r = run("SME-2022", revenue=5000, main_revenue=4800, rd_expense=300, revenue_prev=5000, main_revenue_prev=4700,
            rd_expense_prev=300, net_profit=400, total_assets=6000)
    assert crit(r, "G22-4a")["status"] == "met"


def test_sparse_profile_is_unknown_not_failed():
    """A near-empty profile gives unknowns with missing inputs named, never a silent fail."""
    result = assess(pd.DataFrame([{"revenue": 5000}], dtype=object), rules="SME-2026").to_dict(0)
    assert result["tier"] == "none"
    assert result["tiers"]["innovative_sme"]["status"] == "unknown"
    assert "rd_expense" in crit(result, "S26-5")["gap"]["missing"]


def test_unknown_middle_year_keeps_the_exact_growth_range():
    """With t-1 unknown, the two-year average growth is at least sqrt(t / t-2) - 1 (here 16.5%)."""
    r = run("SME-2022", main_revenue_prev=None, revenue_prev=None)
    assert crit(r, "S22-2")["status"] == "met" and crit(r, "S22-2")["points"] == 10
    assert crit(r, "G22-1")["status"] == "met"


def test_known_growth_values_are_unchanged_by_the_bound():
    """The bound never changes a known average growth."""
    r = run("SME-2022", main_revenue_prev2=5000, main_revenue_prev=9000, revenue_prev=9500, main_revenue=7600)
    assert r["derived"]["main_growth_avg2"] == pytest.approx(((9000 / 5000 - 1) + (7600 / 9000 - 1)) / 2)
