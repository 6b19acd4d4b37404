"""Report fixtures: assessment dicts with and without the optional keys, built by the engine on test profiles."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from tests.factories import make_profile
from webapp.engine.assess import assess

AS_OF = dt.date(2026, 11, 20)
QUICK = ("firm_name", "province", "sector", "revenue", "revenue_prev", "rd_expense", "rd_expense_prev",
         "employees", "rd_staff", "patent_applications", "invention_applications", "class1_ip")
METRICS = {"patent_applications": (60, 115, 70.0), "valid_inventions": (11, 20, 35.5),
           "invention_share": (0.42, 0.454, 44.0),
           "grant_rate": (0.48, 0.402, 61.0), "pct_applications": (2, 1.65, 81.2), "overseas_markets": (1, 0.8, 78.0),
           "citations": (40, 234.08, 22.4), "licenses_out": (0, 0.43, 33.9), "rd_ratio": (0.075, None, None)}


def result_of(profile: dict) -> dict:
    """The contract dict of one profile, without whatever optional keys the engine adds today."""
    out = assess(pd.DataFrame([profile], dtype=object), as_of=AS_OF).to_dict(0)
    for key in ("benchmarks", "dimensions", "readiness", "cohorts", "advice"):
        out.pop(key, None)
    return out


def _benchmarks() -> dict:
    basis = {"kind": "fitted", "as_of": "2023-07-31", "sources": ["PatSnap2023 §2.3"],
             "source_zh": "智慧芽《2023年专精特新“小巨人”企业科创力报告》", "source_en": "PatSnap 2023 report"}
    cohort = {m: {"value": v, "cohort_mean": mean, "cohort_median": mean, "percentile": p, "basis": basis}
              for m, (v, mean, p) in METRICS.items()}
    portrait = {m: dict(e, percentile=None if e["percentile"] is None else e["percentile"] / 3)
                for m, e in cohort.items()}
    return {"little_giant": cohort, "tier_little_giant_portrait": portrait}


@pytest.fixture(scope="session")
def full_result() -> dict:
    """A solid SRDI firm with benchmarks, dimensions, readiness (and its model card) and cohort names."""
    out = result_of(make_profile())
    out["benchmarks"] = _benchmarks()
    out["dimensions"] = {"little_giant": {"scale": {"score": 52.7}, "quality": {"score": 52.5},
                                          "influence": {"score": 28.1}, "globalisation": 79.6},
                         "tier_little_giant_portrait": {"scale": 17.6, "quality": 17.5, "influence": None,
                                                        "globalisation": 26.5}}
    out["cohorts"] = {"little_giant": {"name_zh": "专精特新“小巨人”企业（五批）", "name_en": "Little giants"},
                      "tier_little_giant_portrait": {"name_zh": "小巨人画像", "name_en": "Little-giant portrait"}}
    out["readiness"] = {
        "little_giant": {"probability": 0.62, "drivers": [
            {"field": "rd_expense", "current": 600, "target": 900, "delta": 0.12},
            {"field": "pct_applications", "current": 2, "target": 5, "delta": 0.05}]},
        "single_champion": {"probability": 0.03, "drivers": []},
        "_model": {"trained_on": "simulated population, 20,000 firms", "metrics": {"roc_auc": 0.87, "brier": 0.11},
                   "card_summary_zh": "在按公开汇总数据校准的模拟人群上训练的校准分类器。",
                   "card_summary_en": "A calibrated classifier trained on a simulated population."},
    }
    return out


@pytest.fixture(scope="session")
def bare_result() -> dict:
    """The same firm with none of the optional keys."""
    return result_of(make_profile())


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
