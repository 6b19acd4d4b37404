"""The consultant's brief on HNTE and the HNTE route action, on real engine results."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.factories import make_profile
from webapp.engine.advice.data import load_advice_data
from webapp.engine.assess import assess

# Grades and transfers that put the innovation score clearly above 70 (74-88): HNTE met.
STRONG = {"tech_level": "a", "core_support": "a", "tech_transfers_3y": 15}
ROUTES = ("hnte_route", "hnte_route_open")


def result_of(**overrides) -> dict:
    """The engine's result with advice for one profile (no cohorts or model, to stay fast)."""
    profile = make_profile(**overrides)
    assessment = assess(pd.DataFrame([profile], dtype=object), cohorts=False, model=False)
    assert assessment.errors.empty, assessment.errors.to_dict("records")
    return assessment.to_dict(0, advice=True)


def route_actions(result: dict) -> list[dict]:
    """The HNTE route actions of a result's advice."""
    return [a for a in result["advice"]["actions"] if a["kind"] in ROUTES]


def test_met_and_not_held_recommends_hnte_as_the_route_with_lead_time_and_validity():
    """A firm meeting HNTE without the certificate is told it opens I-D2 and T-D, when, and for how long."""
    result = result_of(hnte=False, **STRONG)
    brief = result["advice"]["hnte"]
    assert brief["status"] == "met" and brief["held"] is False and brief["within_reach"]
    assert [(o["tier"], o["criterion"]) for o in brief["opens"]] == [("innovative_sme", "I-D2"), ("tech_sme", "T-D")]
    assert "您的数据满足高企认定条件" in brief["message_zh"] and "有效期3年" in brief["message_zh"]
    assert "I-D2" in brief["message_en"] and "T-D" in brief["message_en"] and "above 70" in brief["message_en"]
    [action] = route_actions(result)
    data = load_advice_data()
    assert action["kind"] == "hnte_route" and action["tier"] == "hnte"
    assert action["lead_time_months"] == data.value("title_lead_hnte")
    assert data.constants["title_lead_hnte"].status in ("assumption", "verified", "secondary", "recalled")
    assert "最快" in action["detail_zh"] and "有效期三年" in action["detail_zh"]
    assert "I-D2" in action["detail_en"] and "T-D" in action["detail_en"] and "fastest" in action["title_en"]
    assert action["source"].startswith("国科发火〔2016〕32号") and "criteria.md" not in action["source"]


def test_a_firm_already_holding_the_certificate_gets_no_route_action():
    """Holding a valid certificate: the brief says so, and no action asks for HNTE again."""
    result = result_of(hnte=True, **STRONG)
    brief = result["advice"]["hnte"]
    assert brief["held"] is True and not brief["within_reach"]
    assert "您已持有有效的高企证书" in brief["message_zh"] and "apply again" in brief["message_en"]
    assert route_actions(result) == []


def test_an_undecided_score_with_one_open_condition_is_within_reach():
    """The default grades give a score range across the pass mark: unknown, H7 open, still recommended."""
    result = result_of(hnte=False)
    brief = result["advice"]["hnte"]
    assert brief["status"] == "unknown" and brief["open"] == ["H7"] and brief["straddles"]
    assert "跨过合格线" in brief["message_zh"] and "spans the pass mark" in brief["message_en"]
    [action] = route_actions(result)
    assert action["kind"] == "hnte_route_open" and "H7" in action["detail_zh"]


def test_missing_inputs_are_named_in_the_message():
    """Unknown for lack of inputs: the message names the inputs to add, once each."""
    brief = result_of(hnte=None, years_registered=None, tech_field=None)["advice"]["hnte"]
    assert brief["status"] == "unknown" and brief["held"] is None
    assert brief["missing"][:2] == ["years_registered", "tech_field"]
    assert brief["message_zh"].count("注册成立年限") == 1 and "Add these inputs" in brief["message_en"]


@pytest.mark.parametrize(("overrides", "failing"), [
    ({"sci_staff": 10, "hitech_revenue_share_pct": 40.0}, ["H4", "H6"]),
    ({"tech_transfers_3y": 0, "tech_level": "d", "core_support": "d", "rdm_system": 1, "rdm_institution": 1,
      "rdm_transfer": 0, "rdm_talent": 0}, ["H7"]),
])
def test_failing_conditions_are_listed_and_no_route_is_recommended(overrides, failing):
    """Not met: the message lists the failing conditions (and the score when H7 fails); no route action."""
    result = result_of(hnte=False, **overrides)
    brief = result["advice"]["hnte"]
    assert brief["status"] == "not_met" and brief["failing"] == failing
    assert all(cid in brief["message_zh"] for cid in failing)
    assert ("未超过合格线" in brief["message_zh"]) == ("H7" in failing)
    assert route_actions(result) == []


def test_a_quick_check_gets_a_short_message_and_no_route():
    """Most HNTE inputs unknown: the open conditions by id, the first inputs to add with the count, and the
    score range blamed on the missing inputs rather than on the experts; too far to recommend."""
    full = make_profile()
    quick = {k: full[k] for k in ("firm_name", "province", "sector", "revenue", "revenue_prev", "rd_expense",
                                  "rd_expense_prev", "employees", "rd_staff", "patent_applications",
                                  "invention_applications", "class1_ip")}
    assessment = assess(pd.DataFrame([quick], dtype=object), cohorts=False, model=False)
    result = assessment.to_dict(0, advice=True)
    brief = result["advice"]["hnte"]
    assert brief["status"] == "unknown" and len(brief["open"]) > 3 and brief["score_missing"]
    assert "待定的条件：" + "、".join(brief["open"]) + "。" in brief["message_zh"]
    assert f"等 {len(brief['missing'])} 项数据" in brief["message_zh"] and "专家" not in brief["message_zh"]
    assert "the missing inputs decide" in brief["message_en"]
    assert not brief["within_reach"] and route_actions(result) == []
