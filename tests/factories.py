"""Test builders: realistic, valid firm profiles (one dict or a random frame), with overrides."""

from __future__ import annotations

import numpy as np
import pandas as pd

from webapp.fields import FIELDS, REGISTRY

# A solid Zhejiang machinery firm that holds the provincial SRDI title; every field is known.
_PROFILE = {
    "firm_name": "宁波示例精密传动有限公司", "province": "浙江", "city": "宁波",
    "sme_industry": "industrial", "sector": "cnc_robotics", "strategic_emerging": True,
    "industrial_foundation": True, "chain_breakthrough": False, "years_in_niche": 8.0,
    "years_in_field": 12.0, "new_product": False,
    "revenue": 8000.0, "revenue_prev": 7000.0, "revenue_prev2": 6000.0,
    "main_revenue": 7600.0, "main_revenue_prev": 6600.0, "main_revenue_prev2": 5600.0,
    "net_profit": 800.0, "total_assets": 9000.0, "total_costs": 7000.0, "debt_ratio_pct": 45.0,
    "equity_financing_2y": 0.0, "equity_financing_3y": 0.0,
    "rd_expense": 600.0, "rd_expense_prev": 520.0, "rd_expense_prev2": 450.0,
    "employees": 300, "rd_staff": 60,
    "rd_institution": "provincial", "digital_level": 3, "core_business_it": True, "quality_award": False,
    "quality_certified": True, "own_brand": True, "standards_count": 3, "standards_led": 1,
    "local_points": 10.0, "niche_share_pct": 12.0, "niche_share_intl_pct": 3.0, "niche_rank_domestic": 3,
    "niche_share_high": True, "global_rank": 15,
    "patent_applications": 60, "invention_applications": 25, "invention_grants": 12, "valid_inventions": 11,
    "valid_utility_models": 30, "valid_designs": 5, "software_copyrights": 4, "pct_applications": 2,
    "overseas_markets": 1, "citations": 40, "licenses_out": 0,
    "applications_last": 10, "applications_prev": 9, "applications_prev2": 8,
    "class1_ip": 10, "class1_ip_self": 9, "class1_ip_high_value": 1, "class1_ip_applied": 6, "class2_ip": 20,
    "hnte": True, "tech_innovation_demo": False, "ip_advantage": False, "award_level": "provincial",
    "award_rank": 2, "makers_china": "none", "platform_score": 62.0, "platform_score_prev": 58.0,
    "title_innovative": True, "title_tech_sme": True, "title_srdi": True, "title_little_giant": False,
    "clean_record": True,
    "years_registered": 12.0, "sci_staff": 70, "tech_field": "advanced_manufacturing",
    "hitech_revenue_share_pct": 75.0, "rd_domestic_share_pct": 95.0,
    "net_assets": 5000.0, "net_assets_prev": 4200.0, "net_assets_prev2": 3600.0, "tech_transfers_3y": 10,
    "tech_level": "b", "core_support": "b", "ip_self_developed": True, "standards_participation": True,
    "rdm_system": 5, "rdm_institution": 5, "rdm_transfer": 3, "rdm_talent": 3,
}

_PLACES = (("浙江", "宁波"), ("浙江", "杭州"), ("广东", "深圳"), ("江苏", "苏州"), ("北京", "北京"),
           ("上海", "上海"), ("山东", "青岛"), ("湖北", "武汉"))


def _check_names(overrides: dict) -> None:
    """Reject overrides that are not registry fields (catches typos in tests)."""
    unknown = sorted(set(overrides) - set(FIELDS))
    if unknown:
        raise TypeError(f"not registry fields: {unknown}")


def make_profile(**overrides) -> dict:
    """One complete, valid profile of canonical fields; ``name=None`` makes a field unknown."""
    _check_names(overrides)
    return {**_PROFILE, **overrides}


def make_profiles(n: int, seed: int = 0, **overrides) -> pd.DataFrame:
    """``n`` random, valid profiles (every bound and cross rule holds); overrides are scalars or arrays."""
    _check_names(overrides)
    rng = np.random.default_rng(seed)

    def uniform(lo, hi, size=n):
        return rng.uniform(lo, hi, size)

    def money(values):
        return np.round(values, 1)

    data: dict[str, object] = {}
    place = rng.integers(0, len(_PLACES), n)
    data["firm_name"] = ("企业" + pd.Series(np.arange(n)).astype(str)).to_numpy(dtype=object)
    data["province"] = np.array([p for p, _ in _PLACES], dtype=object)[place]
    data["city"] = np.array([c for _, c in _PLACES], dtype=object)[place]
    for spec in REGISTRY:
        if spec.kind == "enum":
            data[spec.name] = np.array(spec.choices, dtype=object)[rng.integers(0, len(spec.choices), n)]
        elif spec.kind == "bool":
            data[spec.name] = rng.random(n) < 0.5
    data["years_in_niche"] = np.round(uniform(0, 30), 1)
    data["years_in_field"] = np.round(data["years_in_niche"] + uniform(0, 10), 1)

    revenue = money(rng.lognormal(np.log(8000), 1.0, n))
    growth = uniform(-0.1, 0.4, (2, n))
    revenues = (revenue, money(revenue / (1 + growth[0])), money(revenue / (1 + growth[0]) / (1 + growth[1])))
    for suffix, rev in zip(("", "_prev", "_prev2"), revenues, strict=True):
        data["revenue" + suffix] = rev
        data["main_revenue" + suffix] = np.minimum(money(rev * uniform(0.5, 1.0)), rev)
        data["rd_expense" + suffix] = money(rev * uniform(0.005, 0.12))
    data["net_profit"] = money(revenue * uniform(-0.1, 0.2))
    data["total_assets"] = money(revenue * uniform(0.6, 2.0))
    data["total_costs"] = money(revenue * uniform(0.7, 1.05))
    data["debt_ratio_pct"] = np.round(uniform(5, 95), 1)
    data["equity_financing_2y"] = money(np.where(rng.random(n) < 0.2, rng.lognormal(np.log(3000), 1, n), 0.0))
    extra = np.where(rng.random(n) < 0.1, 500.0, 0.0)
    data["equity_financing_3y"] = money(data["equity_financing_2y"] + extra)

    employees = rng.integers(10, 1500, n)
    data["employees"] = employees
    data["rd_staff"] = np.floor(employees * uniform(0.03, 0.6)).astype(np.int64)
    data["digital_level"] = rng.integers(1, 5, n)
    for name, mean in (("standards_count", 3), ("standards_led", 1), ("valid_utility_models", 25),
                       ("valid_designs", 5), ("software_copyrights", 6), ("pct_applications", 1),
                       ("overseas_markets", 1), ("citations", 30), ("licenses_out", 0.3),
                       ("applications_last", 8), ("applications_prev", 7), ("applications_prev2", 6),
                       ("class2_ip", 20)):
        data[name] = rng.poisson(mean, n)
    data["local_points"] = np.round(uniform(0, 15), 1)
    data["niche_share_pct"] = np.round(uniform(0, 40), 1)
    data["niche_share_intl_pct"] = np.round(uniform(0, 10), 1)
    for name in ("niche_rank_domestic", "global_rank", "award_rank"):
        data[name] = rng.integers(1, 30, n)

    patents = rng.poisson(50, n)
    data["patent_applications"] = patents
    data["invention_applications"] = rng.binomial(patents, 0.4)
    data["invention_grants"] = rng.binomial(data["invention_applications"], 0.5)
    data["valid_inventions"] = rng.binomial(data["invention_grants"], 0.9)
    class1 = data["valid_inventions"] + rng.poisson(0.5, n)
    data["class1_ip"] = class1
    for name, share in (("class1_ip_self", 0.8), ("class1_ip_high_value", 0.1), ("class1_ip_applied", 0.6)):
        data[name] = rng.binomial(class1, share)
    data["years_registered"] = np.round(uniform(0, 30), 1)
    data["sci_staff"] = np.floor(employees * uniform(0.03, 0.6)).astype(np.int64)
    for name in ("hitech_revenue_share_pct", "rd_domestic_share_pct"):
        data[name] = np.round(uniform(0, 100), 1)
    equity = money(revenue * uniform(0.2, 1.0))
    data["net_assets"], data["net_assets_prev"], data["net_assets_prev2"] = \
        equity, money(equity / uniform(0.9, 1.4)), money(equity / uniform(0.9, 1.4) / uniform(0.9, 1.4))
    data["tech_transfers_3y"] = rng.poisson(8, n)
    for name, hi in (("rdm_system", 6), ("rdm_institution", 6), ("rdm_transfer", 4), ("rdm_talent", 4)):
        data[name] = rng.integers(0, hi + 1, n)
    data["platform_score"] = np.round(uniform(20, 95), 1)
    data["platform_score_prev"] = np.round(uniform(20, 95), 1)

    frame = pd.DataFrame({spec.name: data[spec.name] for spec in REGISTRY})
    for name, value in overrides.items():
        frame[name] = value
    return frame


# One table of invalid cells, shared by the engine, form, API and batch tests: (field, raw cell, rule).
INVALID_CELLS = (
    ("revenue", "abc", "number"),
    ("revenue", "12%", "number"),
    ("revenue", "1,2", "number"),
    ("revenue", "inf", "number"),
    ("revenue", "-inf", "number"),
    ("revenue", "Infinity", "number"),
    ("revenue", "NaN", "number"),
    ("revenue", "nan", "number"),
    ("employees", "NaN", "number"),
    ("rd_expense", "1e30", "max"),
    ("revenue", "100000001", "max"),
    ("net_profit", "-100000001", "min"),
    ("net_assets", "1e9", "max"),
    ("employees", "1000001", "max"),
    ("class1_ip", "2000000", "max"),
    ("citations", "1e7", "max"),
    ("revenue", "-5", "min"),
    ("rd_expense", "-0.1", "min"),
    ("debt_ratio_pct", "120", "max"),
    ("debt_ratio_pct", "-1%", "min"),
    ("niche_share_pct", "100.5", "max"),
    ("employees", "12.5", "integer"),
    ("class1_ip", "-1", "min"),
    ("digital_level", "5", "max"),
    ("digital_level", "0", "min"),
    ("global_rank", "0", "min"),
    ("award_rank", "1.5", "integer"),
    ("years_in_niche", "-1", "min"),
    ("years_in_niche", "201", "max"),
    ("platform_score", "100.5", "max"),
    ("local_points", "16", "max"),
    ("sector", "spaceships", "enum"),
    ("rd_institution", "district", "enum"),
    ("makers_china", "top5000", "enum"),
    ("hnte", "maybe", "bool"),
    ("clean_record", "2", "bool"),
)
