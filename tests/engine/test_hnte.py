"""The HNTE rule set (高新技术企业, 国科发火〔2016〕32号 第十一条 and 工作指引 195号), from hand-computed cases.

Expected values are worked out by hand from the official text, not read from the rule table under test:
H5 bands by the last year's sales — at most 5000万 (inclusive): 5%; above 5000万 up to 2亿 (inclusive): 4%;
above 2亿: 3% — over the three-year R&D / three-year sales, with at least 60% of R&D spent in China; the growth
rate of the innovation score is 1/2 x (Y2/Y1 + Y3/Y2) - 1 (Y3/Y2 - 1 when Y1 is 0; 0 points when Y2 is 0 or
the rate is not above 0), scored A >= 35% 9-10, B >= 25% 7-8, C >= 15% 5-6, D >= 5% 3-4, E > 0 1-2.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from tests.factories import make_profile
from webapp.cli import main
from webapp.engine.assess import assess


def three_years(revenue_t: float, ratio: float, *, prev=(0.8, 0.6), domestic: float = 100.0) -> dict:
    """Revenue t, t-1, t-2 (t-1 and t-2 as shares of t) and R&D spread so that the three-year ratio is ``ratio``."""
    revenues = (revenue_t, revenue_t * prev[0], revenue_t * prev[1])
    rd = [r * ratio for r in revenues]  # the same ratio each year gives exactly ``ratio`` over the three
    return {"revenue": revenues[0], "revenue_prev": revenues[1], "revenue_prev2": revenues[2],
            "main_revenue": revenues[0], "main_revenue_prev": revenues[1], "main_revenue_prev2": revenues[2],
            "rd_expense": rd[0], "rd_expense_prev": rd[1], "rd_expense_prev2": rd[2],
            "rd_domestic_share_pct": domestic}


def hnte(profile: dict, rules: str = "SME-2026") -> dict:
    """The ``tiers.hnte`` block of the engine's result for one profile."""
    result = assess(pd.DataFrame([profile], dtype=object), rules=rules, cohorts=False, model=False)
    assert result.errors.empty, result.errors.to_dict("records")
    return result.to_dict(0)["tiers"]["hnte"]


def criterion(tier: dict, cid: str) -> dict:
    """One criterion of a tier block."""
    return next(c for c in tier["criteria"] if c["id"] == cid)


@pytest.mark.parametrize(("revenue_t", "ratio", "expected"), [
    (5000, 0.05, "met"),          # 5000万 is in the 5% band (含)
    (5000, 0.0499, "not_met"),
    (5000.01, 0.04, "met"),       # just above 5000万: the 4% band
    (5000.01, 0.0399, "not_met"),
    (20000, 0.04, "met"),         # 2亿 is in the 4% band (含)
    (20000, 0.0399, "not_met"),
    (20000.01, 0.03, "met"),      # above 2亿: 3%
    (20000.01, 0.0299, "not_met"),
    (1200, 0.05, "met"),
    (80000, 0.031, "met"),
])
def test_h5_bands_at_their_edges(revenue_t, ratio, expected):
    """H5 is judged by the band of the last year's sales, edges inclusive in the lower-sales band."""
    tier = hnte(make_profile(**three_years(revenue_t, ratio)))
    assert criterion(tier, "H5")["status"] == expected
    assert criterion(tier, "H5")["value"] == pytest.approx(ratio)


def test_h5_needs_sixty_percent_of_rd_in_china():
    """At 59.9% domestic R&D, H5 fails however high the ratio; at 60% it passes."""
    assert criterion(hnte(make_profile(**three_years(8000, 0.08, domestic=59.9))), "H5")["status"] == "not_met"
    assert criterion(hnte(make_profile(**three_years(8000, 0.08, domestic=60))), "H5")["status"] == "met"


@pytest.mark.parametrize("rules", ["SME-2022", "SME-2026"])
def test_too_little_rd_fails_the_tier_whatever_else_is_unknown(rules):
    """Three years of sales and R&D at 2%, every other input unknown: H5 and so HNTE are not met."""
    figures = three_years(3000, 0.02)
    profile = {k: figures[k] for k in ("revenue", "revenue_prev", "revenue_prev2",
                                       "rd_expense", "rd_expense_prev", "rd_expense_prev2")}
    tier = hnte(profile, rules)
    assert criterion(tier, "H5")["status"] == "not_met"
    assert tier["status"] == "not_met"


def test_a_complete_strong_firm_is_met_and_the_score_is_a_range():
    """Expert grades make the score a range; a firm whose lowest score is above 70 is met."""
    profile = make_profile(**three_years(8000, 0.07), tech_level="a", core_support="a", class1_ip=3,
                           ip_self_developed=True, standards_participation=True, tech_transfers_3y=15, class1_ip_self=3,
                           class1_ip_high_value=1, class1_ip_applied=3,
                           rdm_system=6, rdm_institution=6, rdm_transfer=4, rdm_talent=4,
                           net_assets=5000, net_assets_prev=4000, net_assets_prev2=3000)
    tier = hnte(profile)
    # IP: 7-8 + 7-8 + 7-8 (Class I) + 1-6 (in-house) + 1-2 (standards), capped at 30 -> 23-30.
    assert (criterion(tier, "H7-IP")["points_min"], criterion(tier, "H7-IP")["points_max"]) == (23, 30)
    # Transfers: 15 over three years is 5 a year -> A, 25-30. Management: 6 + 6 + 4 + 4 = 20.
    assert (criterion(tier, "H7-T")["points_min"], criterion(tier, "H7-T")["points_max"]) == (25, 30)
    assert criterion(tier, "H7-M")["points"] == 20
    # Net assets 3000 -> 4000 -> 5000: 1/2 (4/3 + 5/4) - 1 = 29.2% -> B 7-8; sales 0.6 -> 0.8 -> 1.0 of 8000:
    # 1/2 (0.8/0.6 + 1/0.8) - 1 = 29.2% -> B 7-8. Growth 14-16.
    assert (criterion(tier, "H7-G")["points_min"], criterion(tier, "H7-G")["points_max"]) == (14, 16)
    assert (tier["score_min"], tier["score_max"]) == (82, 96)
    assert criterion(tier, "H7")["status"] == "met" and tier["status"] == "met"


def test_a_score_that_can_reach_70_but_not_71_fails():
    """Above 70 (不含70分): a score range topping out at exactly 70 is not met."""
    profile = make_profile(tech_level="e", core_support="e", class1_ip=0, class2_ip=0, ip_self_developed=False,
                           standards_participation=False, tech_transfers_3y=15,
                           rdm_system=6, rdm_institution=6, rdm_transfer=4, rdm_talent=4,
                           net_assets=5000, net_assets_prev=4000, net_assets_prev2=3000,
                           class1_ip_self=0, class1_ip_high_value=0, class1_ip_applied=0,
                           **three_years(8000, 0.07))
    tier = hnte(profile)
    # IP 0; transfers 25-30; management 20; growth 14-16: 59-66 at most 66 -> not met.
    assert (tier["score_min"], tier["score_max"]) == (59, 66)
    assert criterion(tier, "H7")["status"] == "not_met"


@pytest.mark.parametrize(("sales", "points"), [
    ((4000, 5000, 6500), (7, 8)),   # 1/2 (1.25 + 1.3) - 1 = 27.5% -> B
    ((0, 5000, 6000), (5, 6)),      # zero first year: 6000/5000 - 1 = 20% -> C
    ((4000, 0, 6000), (0, 0)),      # zero second year: 0 points
    ((6000, 5000, 4500), (0, 0)),   # 1/2 (0.833 + 0.9) - 1 = -13.3%: negative, 0 points
    ((5000, 5000, 5000), (0, 0)),   # exactly 0: not above 0 -> F
    ((5000, 5100, 5150), (1, 2)),   # 1/2 (1.02 + 1.0098) - 1 = 1.5% -> E
])
def test_growth_formula_and_its_special_cases(sales, points):
    """Sales growth points by the 工作指引 formula; net assets with a zero second year add 0."""
    y1, y2, y3 = sales
    profile = make_profile(revenue=y3, revenue_prev=y2, revenue_prev2=y1, main_revenue=y3 * 0.9,
                           main_revenue_prev=y2 * 0.9, main_revenue_prev2=y1 * 0.9,
                           net_assets=3000, net_assets_prev=0, net_assets_prev2=2000)
    g = criterion(hnte(profile), "H7-G")
    assert (g["points_min"], g["points_max"]) == points


def test_cli_json_reports_hnte_beside_the_ladder(tmp_path):
    """``giantstep assess --format json`` has tiers.hnte with H1-H8 and rules.hnte; the ladder's tier ignores it."""
    path = tmp_path / "firm.json"
    path.write_text(json.dumps(make_profile(**three_years(8000, 0.07))), encoding="utf-8")
    res = CliRunner().invoke(main, ["assess", str(path), "--format", "json", "--as-of", "2026-11-20"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["rules"]["hnte"] == "HNTE-2016"
    ids = {c["id"] for c in doc["tiers"]["hnte"]["criteria"]}
    assert {f"H{i}" for i in range(1, 9)} <= ids
    assert doc["tier"] != "hnte" and doc["next_tier"] != "hnte"
