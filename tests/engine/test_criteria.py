"""Every bracket of every scored criterion and every one-field threshold, both sides of each edge.

The edges and points are typed here from the official text (quoted per criterion from
/work/shared/reference/criteria.md, the project's reference copy), never read from the rule tables under test.
The tables are read only to check that every bracket and one-field threshold they define has a typed
expectation here.
"""

from __future__ import annotations

import ast

import pandas as pd
import pytest

from tests.factories import make_profile
from webapp import fields
from webapp.engine import defaults
from webapp.engine.assess import assess

# How to put a metric at a value through the input fields (test machinery, not rules). For a criterion scored
# as the better of two measures (S22-11, T-S2) the other measure is held at 0 points.
SETTERS = {
    "rd_ratio": lambda v: {"revenue": 10000.0, "rd_expense": v * 10000, "total_costs": 1e8},
    "rd_ratio_small": lambda v: {"revenue": 900.0, "main_revenue": 800.0, "rd_expense": v * 900},  # R&D < 100万
    "rd_expense": lambda v: {"rd_expense": v, "revenue": 1e6},                                     # ratio < 0.1%
    "rd_cost_ratio": lambda v: {"total_costs": 10000.0, "rd_expense": v * 10000, "revenue": 1e8},
    "main_share": lambda v: {"revenue": 10000.0, "main_revenue": v * 10000},
    "main_growth": lambda v: {"main_revenue_prev": 1000.0, "main_revenue": (1 + v) * 1000, "revenue": 1e6},
    "main_growth_avg2": lambda v: {"main_revenue_prev2": 1000.0, "main_revenue_prev": (1 + v) * 1000,
                                   "main_revenue": (1 + v) ** 2 * 1000, "revenue": 1e6, "revenue_prev": 1e6},
    "net_margin": lambda v: {"revenue": 10000.0, "net_profit": v * 10000},
    "rd_staff_share": lambda v: {"employees": 1000, "rd_staff": round(v * 1000)},
    "debt_ratio_pct": lambda v: {"debt_ratio_pct": v},
    "digital_level": lambda v: {"digital_level": v},
}


def _ladder(cid, metric, rows, setter=None):
    """(criterion, metric, setter, edge, points on the edge, a value just outside, points there) per edge."""
    return [(cid, metric, setter or metric, *row) for row in rows]


# (edge, points on the edge, just outside, points just outside). Shared end points go to the higher bracket
# (criteria.md §0.3, 以上/以下 inclusive); "just outside" is the smallest step the inputs can express.
BRACKETS = [
    # 63号 附件1 指标2：上年度研发费用总额占营业收入总额比重 A.5%以上（20分）B.3%-5%（15分）C.2%-3%（10分）
    # D.1%-2%（5分）E.1%以下（0分）
    *_ladder("I2", "rd_ratio", [(0.05, 20, 0.0499, 15), (0.03, 15, 0.0299, 10), (0.02, 10, 0.0199, 5),
                                (0.01, 5, 0.0099, 0)]),
    # 63号 附件1 指标3：上年度主营业务收入增长率 A.15%以上（20分）B.10%-15%（15分）C.5%-10%（10分）
    # D.0%-5%（5分）E.0%以下（0分）
    *_ladder("I3", "main_growth", [(0.15, 20, 0.1499, 15), (0.10, 15, 0.0999, 10), (0.05, 10, 0.0499, 5),
                                   (0.0, 5, -0.0001, 0)]),
    # 63号 附件1 指标4：上年度资产负债率 A.55%以下（10分）B.55%-75%（5分）C.75%以上（0分）
    *_ladder("I4", "debt_ratio_pct", [(55, 10, 55.01, 5), (75, 5, 75.01, 0)]),
    # 63号 附件1 指标6：上年度主营业务收入总额占营业收入总额比重 A.70%以上（20分）B.60%-70%（15分）
    # C.55%-60%（10分）D.50%-55%（5分）E.50%以下（0分）
    *_ladder("I6", "main_share", [(0.70, 20, 0.6999, 15), (0.60, 15, 0.5999, 10), (0.55, 10, 0.5499, 5),
                                  (0.50, 5, 0.4999, 0)]),
    # 63号 附件2 指标1：上年度主营业务收入总额占营业收入总额比重 A.80%以上（5分）B.70%-80%（3分）
    # C.60%-70%（1分）D.60%以下（0分）
    *_ladder("S22-1", "main_share", [(0.80, 5, 0.7999, 3), (0.70, 3, 0.6999, 1), (0.60, 1, 0.5999, 0)]),
    # 63号 附件2 指标2：近2年主营业务收入平均增长率 A.10%以上（10分）B.8%-10%（8分）C.6%-8%（6分）
    # D.4%-6%（4分）E.0%-4%（2分）F.0%以下（0分）
    *_ladder("S22-2", "main_growth_avg2", [(0.10, 10, 0.0999, 8), (0.08, 8, 0.0799, 6), (0.06, 6, 0.0599, 4),
                                           (0.04, 4, 0.0399, 2), (0.0, 2, -0.0001, 0)]),
    # 63号 附件2 指标5：数字化水平 A.三级以上（5分）B.二级（3分）C.一级（0分）
    *_ladder("S22-5", "digital_level", [(3, 5, 2, 3), (2, 3, 1, 0)]),
    # 63号 附件2 指标7：上年度净利润率 A.10%以上（10分）B.8%-10%（8分）C.6%-8%（6分）D.4%-6%（4分）
    # E.2%-4%（2分）F.2%以下（0分）
    *_ladder("S22-7", "net_margin", [(0.10, 10, 0.0999, 8), (0.08, 8, 0.0799, 6), (0.06, 6, 0.0599, 4),
                                     (0.04, 4, 0.0399, 2), (0.02, 2, 0.0199, 0)]),
    # 63号 附件2 指标8：上年度资产负债率 A.50%以下（5分）B.50%-60%（3分）C.60%-70%（1分）D.70%以上（0分）
    *_ladder("S22-8", "debt_ratio_pct", [(50, 5, 50.01, 3), (60, 3, 60.01, 1), (70, 1, 70.01, 0)]),
    # 63号 附件2 指标11：上年度研发费用投入 A.研发费用总额500万元以上或研发费用总额占营业收入总额比重在10%以上
    # （10分）B.400-500万元或8%-10%（8分）C.300-400万元或6%-8%（6分）D.200-300万元或4%-6%（4分）
    # E.100-200万元或3%-4%（2分）[F.不属于以上情况（0分）]: the better of amount and ratio
    *_ladder("S22-11", "rd_expense", [(500, 10, 499.99, 8), (400, 8, 399.99, 6), (300, 6, 299.99, 4),
                                      (200, 4, 199.99, 2), (100, 2, 99.99, 0)]),
    *_ladder("S22-11", "rd_ratio", [(0.10, 10, 0.0999, 8), (0.08, 8, 0.0799, 6), (0.06, 6, 0.0599, 4),
                                    (0.04, 4, 0.0399, 2), (0.03, 2, 0.0299, 0)], setter="rd_ratio_small"),
    # 63号 附件2 指标12：上年度研发人员占比 A.20%以上（5分）B.10%-20%（3分）C.5%-10%（1分）D.5%以下（0分）
    *_ladder("S22-12", "rd_staff_share", [(0.20, 5, 0.199, 3), (0.10, 3, 0.099, 1), (0.05, 1, 0.049, 0)]),
    # 国科发政〔2017〕115号 附件 指标1：科技人员数占企业职工总数的比例 A.30%（含）以上（20分）
    # B.25%（含）-30%（16分）C.20%（含）-25%（12分）D.15%（含）-20%（8分）E.10%（含）-15%（4分）F.10%以下（0分）
    *_ladder("T-S1", "rd_staff_share", [(0.30, 20, 0.299, 16), (0.25, 16, 0.249, 12), (0.20, 12, 0.199, 8),
                                        (0.15, 8, 0.149, 4), (0.10, 4, 0.099, 0)]),
    # 国科发政〔2017〕115号 附件 指标2（选其一）：（1）研发费用总额占销售收入总额的比例 A.6%（含）以上（50分）
    # B.5%（含）-6%（40分）C.4%（含）-5%（30分）D.3%（含）-4%（20分）E.2%（含）-3%（10分）F.2%以下（0分）
    # （2）研发费用总额占成本费用支出总额的比例 A.30%（含）以上（50分）B.25%（含）-30%（40分）
    # C.20%（含）-25%（30分）D.15%（含）-20%（20分）E.10%（含）-15%（10分）F.10%以下（0分）
    *_ladder("T-S2", "rd_ratio", [(0.06, 50, 0.0599, 40), (0.05, 40, 0.0499, 30), (0.04, 30, 0.0399, 20),
                                  (0.03, 20, 0.0299, 10), (0.02, 10, 0.0199, 0)]),
    *_ladder("T-S2", "rd_cost_ratio", [(0.30, 50, 0.2999, 40), (0.25, 40, 0.2499, 30), (0.20, 30, 0.1999, 20),
                                       (0.15, 20, 0.1499, 10), (0.10, 10, 0.0999, 0)]),
]


def _criterion(result, cid):
    d = result.to_dict(0)
    for tier in d["tiers"].values():
        for c in tier["criteria"]:
            if c["id"] == cid:
                return c
    raise KeyError(cid)


def _cases():
    """(rule set, overrides) of every profile the tests below judge."""
    for _, _, setter, edge, _, outside, _ in BRACKETS:
        yield from (("SME-2022", SETTERS[setter](v)) for v in (edge, outside))
    for table_id, _, field, inside, outside in THRESHOLDS:
        yield from ((table_id, {field: v}) for v in (inside, outside))


@pytest.fixture(scope="module")
def judged():
    """``judged(cid, overrides, rules)``: the reported criterion for the factory profile with ``overrides``.
    All profiles are assessed up front, one batch per rule set (one firm at a time takes ten times longer)."""
    results = {}
    for rules in ("SME-2022", "SME-2026"):
        overrides = [o for r, o in _cases() if r == rules]
        result = assess(pd.DataFrame([make_profile(**o) for o in overrides], dtype=object), rules=rules,
                        cohorts=False, model=False)
        assert result.errors.empty, result.errors.to_dict("records")
        for i, o in enumerate(overrides):
            results[rules, repr(o)] = {c["id"]: c for t in result.to_dict(i, gaps=False, benchmarks=False)
                                       ["tiers"].values() for c in t["criteria"]}

    def lookup(cid: str, overrides: dict, rules: str = "SME-2022") -> dict:
        return results[rules, repr(overrides)][cid]

    return lookup


@pytest.mark.parametrize(("cid", "metric", "setter", "edge", "points", "outside", "lower"), BRACKETS,
                         ids=[f"{cid}-{metric}-{edge:g}" for cid, metric, _, edge, *_ in BRACKETS])
def test_bracket_edges_both_sides(judged, cid, metric, setter, edge, points, outside, lower):
    """On the edge a firm earns the bracket's official points; one step outside it the next bracket's."""
    for value, expected in ((edge, points), (outside, lower)):
        c = judged(cid, SETTERS[setter](value))
        assert (c["points_min"], c["points_max"]) == (expected, expected), (cid, metric, value)


def _table_brackets():
    """(criterion, metric, edge) of every bracket the SME-2022 and SME-2026 rule sets define."""
    found = set()
    for table_id in ("SME-2022", "SME-2026"):
        for crit in defaults.rule_book().select(table_id).criteria.values():
            if crit.form in ("brackets", "best_of"):
                found |= {(crit.id, b.metric.tree.id, float(edge)) for b in crit.options for edge in b.edges}
    return found


def test_every_bracket_of_the_tables_is_typed_here():
    """A bracket added to (or edited in) a rule table needs its official edge and points above."""
    assert _table_brackets() == {(cid, metric, float(edge)) for cid, metric, _, edge, *_ in BRACKETS}


# (rule set, criterion, field, a value that meets it (the edge), the nearest value that does not), typed from
# the official thresholds.
THRESHOLDS = [
    # 63号 附件1 直通（四）近三年新增股权融资总额（合格机构投资者的实缴额）500万元以上
    ("SME-2022", "I-D4", "equity_financing_3y", 500, 499.99),
    ("SME-2026", "I-D4", "equity_financing_3y", 500, 499.99),
    # 63号 附件2（一）从事特定细分市场时间达到2年以上
    ("SME-2022", "S22-H1", "years_in_niche", 2, 1.99),
    # 63号 附件2 直通3. 近两年新增股权融资总额（合格机构投资者的实缴额）6000万元以上
    ("SME-2022", "S22-D3", "equity_financing_2y", 6000, 5999.99),
    # 63号 附件3 四（一）3. 拥有2项以上与主导产品相关的Ⅰ类知识产权，且实际应用并已产生经济效益
    ("SME-2022", "G22-4c", "class1_ip_applied", 2, 1),
    # 2号 附件1：上年末资产负债率不高于80%
    ("SME-2026", "S26-4", "debt_ratio_pct", 80, 80.01),
    # 《制造业单项冠军企业认定管理办法》市场竞争1：申请产品市场占有率位居全球前3位
    ("SME-2022", "C-3", "global_rank", 3, 4),
    ("SME-2026", "C-3", "global_rank", 3, 4),
    # 国科发火〔2016〕32号 第十一条（一）企业申请认定时须注册成立一年以上
    ("SME-2022", "H1", "years_registered", 1, 0.99),
    ("SME-2026", "H1", "years_registered", 1, 0.99),
    # 国科发火〔2016〕32号 第十一条（六）近一年高新技术产品（服务）收入占企业同期总收入的比例不低于60%
    ("SME-2022", "H6", "hitech_revenue_share_pct", 60, 59.99),
    ("SME-2026", "H6", "hitech_revenue_share_pct", 60, 59.99),
]


@pytest.mark.parametrize(("table_id", "cid", "field", "inside", "outside"), THRESHOLDS,
                         ids=[f"{t}-{cid}-{field}" for t, cid, field, *_ in THRESHOLDS])
def test_single_threshold_criteria_both_sides(judged, table_id, cid, field, inside, outside):
    """A one-field threshold criterion is met on its (inclusive) official edge and not met just past it."""
    for value, expected in ((inside, "met"), (outside, "not_met")):
        assert judged(cid, {field: value}, table_id)["status"] == expected, (cid, field, value)


def _atoms(expr):
    for node in ast.walk(expr.tree):
        if isinstance(node, ast.Compare) and isinstance(node.left, ast.Name) and len(node.ops) == 1 \
                and isinstance(node.comparators[0], ast.Constant) and node.left.id in fields.FIELDS \
                and isinstance(node.comparators[0].value, int | float):
            yield node.left.id, node.comparators[0].value


def test_every_single_threshold_of_the_tables_is_typed_here():
    """A one-field threshold criterion added to (or edited in) a rule table needs its official edge above."""
    found = {
        (t, c.id, *atom)
        for t in ("SME-2022", "SME-2026")
        for c in defaults.rule_book().select(t).criteria.values()
        if c.form == "test" and c.test is not None and len(c.test.names) == 1 and len(list(_atoms(c.test))) == 1
        for atom in _atoms(c.test)
    }
    assert found == {(t, cid, field, float(edge)) for t, cid, field, edge, _ in THRESHOLDS}


def test_every_listed_criterion_id_is_in_the_tables():
    """Each id that spec/assessment.md lists for a rule set is defined and reported."""
    ids = {
        "SME-2022": ["E2", "E3", "I-PASS", "I-D1", "I-D2", "I-D3", "I-D4", *[f"I{i}" for i in range(1, 7)],
                     *[f"S22-H{i}" for i in range(1, 5)], *[f"S22-D{i}" for i in range(1, 5)],
                     *[f"S22-{i}" for i in range(1, 14)], *[f"G22-{i}" for i in range(1, 7)],
                     "G22-4a", "G22-4b", "G22-4c", "G22-4d"],
        "SME-2026": ["E2", "E3", *[f"S26-{i}" for i in range(1, 9)], *[f"G26-{i}" for i in range(1, 8)]],
    }
    common = ["T1", "T2", "T3", "T4", "T5", "T-S1", "T-S2", "T-S3", "T-D", "C-0", "C-1", "C-2", "C-3", "C-7"]
    for table_id, wanted in ids.items():
        result = assess(pd.DataFrame([make_profile()], dtype=object), rules=table_id, cohorts=False,
                        model=False).to_dict(0)
        reported = {c["id"] for t in result["tiers"].values() for c in t["criteria"]}
        assert set(wanted + common) <= reported


@pytest.mark.parametrize(("total_assets", "status"), [(20000, "met"), (20000.0001, "not_met")])
def test_a_ceiling_fails_one_yuan_over_it(total_assets, status):
    """T2's 2亿 asset ceiling (total_assets <= 20000 万元) holds on the edge and fails one yuan above it:
    comparisons tolerate rounding noise, not 1e-4 万元."""
    profile = make_profile(employees=300, revenue=8000.0, total_assets=total_assets)
    result = assess(pd.DataFrame([profile], dtype=object), rules="SME-2022", cohorts=False, model=False)
    assert result.errors.empty
    assert _criterion(result, "T2")["status"] == status


@pytest.mark.parametrize(("rd", "revenue"), [(300.0, 6000.0), (100.07, 2001.4)])
def test_a_ratio_on_its_threshold_reaches_it(rd, revenue):
    """R&D at exactly 5% of revenue earns the tech-SME 5% bracket (40 points), also when the division of the
    two decimals rounds just below 0.05 (100.07 / 2001.4 = 0.049999999999999996)."""
    profile = make_profile(rd_expense=rd, revenue=revenue, main_revenue=revenue * 0.9, total_costs=None)
    result = assess(pd.DataFrame([profile], dtype=object), rules="SME-2022", cohorts=False, model=False)
    assert result.errors.empty, result.errors.to_dict("records")
    c = _criterion(result, "T-S2")
    assert c["points_min"] >= 40, c
