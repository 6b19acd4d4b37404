"""Advice: actions from the gaps, ranked; a roadmap at the firm's own growth; themes; the batch column."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import string

import pandas as pd
import pytest

from tests.factories import make_profile
from webapp import paths
from webapp.engine import defaults
from webapp.engine.advice.advise import advise, themes_for, top_actions
from webapp.engine.advice.data import AdviceDataError, load_advice_data
from webapp.engine.advice.roadmap import Projection, growth_rates
from webapp.engine.assess import assess

AS_OF = dt.date(2026, 11, 26)
ACTION_KEYS = {"id", "tier", "criterion", "title_zh", "title_en", "detail_zh", "detail_en", "amount", "unit",
               "lead_time_months", "eta", "score", "source"}


def result_of(profile: dict, **kw) -> dict:
    """The contract dict of one profile, judged on AS_OF (SME-2026)."""
    out = assess(pd.DataFrame([profile], dtype=object), as_of=AS_OF, **kw).to_dict(0)
    for key in ("benchmarks", "dimensions", "readiness"):
        out.pop(key, None)
    return out


@pytest.fixture(scope="module")
def srdi():
    """An SRDI firm 450万 of R&D short of the little-giant rule G26-3 (the shipped example)."""
    profile = make_profile(rd_expense=400.0, rd_expense_prev=350.0, rd_expense_prev2=300.0, class1_ip_applied=4,
                           platform_score=65.0, title_little_giant=False)
    return profile, result_of(profile)


def test_next_tier_gap_becomes_the_first_action_in_the_firms_units(srdi):
    profile, result = srdi
    assert result["tier"] == "srdi_sme" and result["next_tier"] == "little_giant"
    advice = advise(result, profile)
    first = advice["actions"][0]
    assert first["tier"] == "little_giant" and first["criterion"] == "G26-3"
    assert first["amount"] == pytest.approx(450.0) and first["unit"] == "wan"
    assert first["eta"] == "2027-05-31"            # this year's audited figures count from end of May
    assert "450 万元" in first["title_zh"] and "CNY 4.5 million" in first["title_en"]
    json.dumps(advice)                                 # JSON-ready


def test_actions_are_complete_ranked_and_fully_formatted(srdi):
    advice = advise(srdi[1], srdi[0])
    scores = [a["score"] for a in advice["actions"]]
    assert scores == sorted(scores, reverse=True)
    for a in advice["actions"]:
        assert ACTION_KEYS <= set(a)
        for key in ("title_zh", "title_en", "detail_zh", "detail_en"):
            assert a[key] and "{" not in a[key] and "None" not in a[key], (a["id"], key)


def test_roadmap_dates_thresholds_at_own_growth(srdi):
    profile, result = srdi
    advice = advise(result, profile)
    entry = next(e for e in advice["roadmap"] if e["criterion"] == "G26-3")
    # R&D grows 15.5% a year from 400: the two-year sum passes 1,200 with fiscal 2029's figures
    assert entry["fiscal_year"] == 2029 and entry["eta_growth"] == "2030-05-31"
    assert entry["eta_action"] == "2027-05-31" and entry["eta"] == "2027-05-31"
    milestone = advice["milestones"][0]
    assert milestone["tier"] == "little_giant" and milestone["earliest"] == "2027-05-31"
    assert milestone["title"] == "2028-05-31" and milestone["complete"]


def test_without_a_profile_nothing_depends_on_growth(srdi):
    advice = advise(srdi[1])
    assert advice["growth"] == {}
    assert all(e["eta_growth"] is None for e in advice["roadmap"])


def test_readiness_drivers_boost_and_add_actions(srdi):
    profile, result = srdi
    base = {a["id"]: a["score"] for a in advise(result, profile)["actions"]}
    result = dict(result, readiness={"little_giant": {"probability": 0.4, "drivers": [
        {"field": "rd_expense", "current": 400, "target": 850, "delta": 0.2},
        {"field": "pct_applications", "current": 2, "target": 6, "delta": 0.1}]}})
    actions = {a["id"]: a for a in advise(result, profile)["actions"]}
    rd = next(a for a in actions.values() if a["criterion"] == "G26-3")
    assert rd["score"] > base[rd["id"]] and rd["driver"] == "rd_expense"
    pct = next(a for a in actions.values() if a["driver"] == "pct_applications")
    assert pct["kind"] == "global_filing" and pct["amount"] == 4
    # a driver no rule gap stands behind is a model suggestion, never an empty-named rule requirement
    assert pct["title_zh"].startswith("模型提示") and pct["title_en"].startswith("Model suggests")
    assert "不是认定条件" in pct["detail_zh"] and "not a rule requirement" in pct["detail_en"]
    assert not any(mark in pct["detail_zh"] for mark in ("「」", "（）", "要求"))
    assert "6" in pct["detail_zh"] and "2" in pct["detail_zh"]


def test_missing_inputs_say_which_document(srdi):
    profile = {k: v for k, v in srdi[0].items() if k not in ("clean_record", "total_assets")}
    advice = advise(result_of(profile), profile)
    gather = [a for a in advice["actions"] if a["kind"] == "gather"]
    assert gather and any("clean_record" in a["fields"] for a in gather)
    docs = {d for a in gather for d in a["documents_en"]}
    assert "audited financial statements" in docs or "valid certificates or published lists" in docs


def test_weak_firm_plans_the_first_rung_and_its_alternative():
    profile = make_profile(rd_expense=15.0, rd_expense_prev=12.0, rd_expense_prev2=10.0, revenue=900.0,
                           revenue_prev=820.0, revenue_prev2=760.0, main_revenue=830.0, main_revenue_prev=760.0,
                           main_revenue_prev2=700.0, hnte=False, rd_institution="none", award_level="none",
                           class1_ip=0, class1_ip_self=0, class1_ip_high_value=0, class1_ip_applied=0,
                           class2_ip=3, title_innovative=False, title_tech_sme=False, title_srdi=False,
                           equity_financing_3y=0.0, standards_led=0, tech_innovation_demo=False, ip_advantage=False)
    result = result_of(profile)
    assert result["tier"] == "none"
    advice = advise(result, profile)
    assert set(advice["targets"]) >= {"innovative_sme", "tech_sme", "srdi_sme"}
    assert {m["tier"] for m in advice["milestones"]} == set(advice["targets"])


def test_a_firm_at_the_top_is_told_to_keep_its_title():
    result = result_of(make_profile())
    result = dict(result, tier="single_champion", next_tier=None)
    advice = advise(result)
    assert [a["kind"] for a in advice["actions"]] == ["renew"]


def test_themes_rank_the_weakest_dimension_first():
    result = {"tiers": {}, "dimensions": {"little_giant": {"scale": 80, "quality": {"score": 60},
                                                             "influence": 40, "globalisation": 10}},
              "benchmarks": {"little_giant": {"pct_applications": {"value": 0, "percentile": 38.4,
                                                                   "cohort_mean": 1.65}}}}
    themes = themes_for(result)
    assert [t["id"] for t in themes] == ["global_filing", "ip_assets", "ip_protection", "rd_intensity"]
    assert "38" in themes[0]["finding_en"] and themes[0]["rank"] == 1
    plain = themes_for({"tiers": {}})
    assert [t["finding_zh"] for t in plain] == [None] * 4 and plain[0]["id"] == "rd_intensity"


def test_top_actions_for_a_batch(srdi):
    column = top_actions([srdi[1], None], n=2, lang="en", profiles=[srdi[0], None])
    assert len(column) == 2 and column[1] == ""
    assert column[0].startswith("Raise R&D spending by CNY 4.5 million") and column[0].count("; ") <= 1


def test_growth_rates_and_projection():
    rates = growth_rates({"revenue": 121.0, "revenue_prev": 110.0, "revenue_prev2": 100.0,
                          "rd_expense": 10.0, "rd_expense_prev": 5.0}, cap=0.5)
    assert rates["revenue"]["rate"] == pytest.approx(0.1) and rates["revenue"]["years"] == 2
    assert rates["rd_expense"]["rate"] == 0.5 and rates["rd_expense"]["capped"]
    assert rates["applications"]["rate"] is None
    profile = {"revenue": 121.0, "revenue_prev": 110.0, "revenue_prev2": 100.0, "rd_expense": 3.0,
               "rd_expense_prev": 3.0, "rd_expense_prev2": 3.0, "years_in_niche": 1.0}
    proj = Projection(profile, load_advice_data(), defaults.rule_book().metrics)
    assert proj.first_year("revenue", ">=", 146.0) == 2              # 121 * 1.1 ** 2 = 146.41
    assert proj.first_year("years_in_niche", ">=", 3) == 2
    assert proj.first_year("rd_ratio", ">=", 0.03) is None           # flat R&D, growing revenue


def test_every_text_has_only_known_placeholders():
    data = load_advice_data()
    known = {"criterion", "criterion_name", "tier_name", "label", "value", "threshold", "distance", "amount",
             "target", "fields", "documents", "months", "title_name", "eligible", "op"}
    for name, kind in data.kinds.items():
        for key in ("title_zh", "title_en", "detail_zh", "detail_en"):
            used = {f for _, f, _, _ in string.Formatter().parse(kind[key]) if f}
            assert used <= known, (name, key, used - known)
    for const in data.constants.values():
        assert const.source_zh and const.source_en and const.status


def test_a_broken_data_file_names_the_entry(tmp_path):
    folder = tmp_path / "advice"
    shutil.copytree(paths.resolve().advice, folder)
    text = (folder / "planning.toml").read_text(encoding="utf-8")
    (folder / "planning.toml").write_text(text.replace('status = "assumption"', 'status = "guess"', 1),
                                          encoding="utf-8")
    with pytest.raises(AdviceDataError, match=r"planning.toml: constants\.\w+: status"):
        load_advice_data(str(folder))
