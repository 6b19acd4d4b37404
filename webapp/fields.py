"""The field registry: every input field's name, kind, unit, zh/en label and help, bounds and cross rules."""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass

KINDS = ("text", "enum", "bool", "money", "number", "count", "pct")
NUMERIC_KINDS = frozenset({"money", "number", "count", "pct"})

# Sources named in help texts, so a user knows which document to copy a figure from.
_AUDIT_ZH = "取自经审计的财务报表（审计报告）。"
_AUDIT_EN = "Take it from the audited financial statements."
_CNIPA_ZH = "以国家知识产权局（CNIPA）数据为准。"
_CNIPA_EN = "As recorded by CNIPA (China National Intellectual Property Administration)."
_PLATFORM_ZH = "以优质中小企业梯度培育平台（zjtx.miit.gov.cn）记录为准。"
_PLATFORM_EN = "As recorded on MIIT's SME cultivation platform (zjtx.miit.gov.cn)."
_CERT_ZH = "以有效期内的证书或公布名单为准。"
_CERT_EN = "Counts only if the certificate or published list is still valid."
_SELF_ZH = "自我声明项，需提供证明材料。"
_SELF_EN = "Self-declared: keep the evidence at hand."
_T_ZH = "t 为上年度（最近一个完整会计年度）。"
_T_EN = "Year t is the last completed fiscal year."


@dataclass(frozen=True)
class FieldSpec:
    """One input field: what it means, how it is entered and which values are valid."""

    name: str
    kind: str
    group: str
    unit_zh: str
    unit_en: str
    label_zh: str
    label_en: str
    help_zh: str
    help_en: str
    lo: float | None = None
    hi: float | None = None
    integer: bool = False
    choices: tuple[str, ...] = ()
    choice_labels_zh: tuple[str, ...] = ()
    choice_labels_en: tuple[str, ...] = ()
    # On the quick check whatever the rule tables read (the firm's name, its province). The quick check's other
    # fields are the rule inputs derived from the tables: webapp.engine.rules.quick.quick_fields.
    quick: bool = False
    self_declared: bool = False


@dataclass(frozen=True)
class CrossRule:
    """A consistency rule between two fields of one profile: ``lhs op rhs``."""

    id: str
    lhs: str
    op: str
    rhs: str
    message_zh: str
    message_en: str


GROUPS: tuple[tuple[str, str, str], ...] = (
    ("identity", "企业基本信息与所属领域", "Identity and field of business"),
    ("finance", "财务", "Finance"),
    ("people", "人员", "People"),
    ("organisation", "组织、质量与市场", "Organisation, quality and market"),
    ("ip", "知识产权", "Intellectual property"),
    ("titles", "资质、荣誉与平台", "Titles, honours and platform"),
    ("hnte", "高新技术企业认定", "High-tech enterprise (HNTE) recognition"),
)

_UNITS = {
    "": ("", ""),
    "wan": ("万元", "10k CNY"),
    "pct": ("%", "%"),
    "persons": ("人", "persons"),
    "items": ("项", "items"),
    "patents": ("件", "items"),
    "years": ("年", "years"),
    "points": ("分", "points"),
    "level": ("级", "level"),
    "offices": ("个", "offices"),
    "times": ("次", "citations"),
}


# Plausibility ceilings: a value beyond them is a typo (a wrong unit, extra zeros), not a firm.
# 1e8 万元 is 1 万亿 CNY (one trillion): more than any SME, little giant or single champion reports as
# revenue, assets or R&D; net profit and net assets get the same bound on both sides.
MONEY_MAX = 1e8
# A million staff, patents, IP rights, standards, citations or a market rank of a million: no SME gets near.
COUNT_MAX = 1e6


def _f(name, kind, group, unit, label_zh, label_en, help_zh, help_en, **extra):
    """Build a FieldSpec with the kind's default bounds (money 0 to MONEY_MAX, counts 0 to COUNT_MAX, pct 0-100)."""
    defaults = {}
    if kind == "money":
        defaults.update(lo=0.0, hi=MONEY_MAX)
    if kind == "count":
        defaults.update(lo=0.0, hi=COUNT_MAX, integer=True)
    if kind == "pct":
        defaults.update(lo=0.0, hi=100.0)
    defaults.update(extra)
    unit_zh, unit_en = _UNITS[unit]
    return FieldSpec(name, kind, group, unit_zh, unit_en, label_zh, label_en, help_zh, help_en, **defaults)


def _enum(name, group, label_zh, label_en, help_zh, help_en, options, **extra):
    """Build an enum FieldSpec from (code, zh label, en label) triples, ordered low to high."""
    codes, zh, en = (tuple(part) for part in zip(*options, strict=True))
    return _f(name, "enum", group, "", label_zh, label_en, help_zh, help_en,
              choices=codes, choice_labels_zh=zh, choice_labels_en=en, **extra)


def _money_years(stem, group, zh, en, help_zh, help_en):
    """Three money fields for years t, t-1, t-2 (``stem``, ``stem_prev``, ``stem_prev2``)."""
    years = (("", "上年度", "year t"), ("_prev", "t-1 年", "year t-1"), ("_prev2", "t-2 年", "year t-2"))
    return tuple(
        _f(stem + suffix, "money", group, "wan", f"{yzh}{zh}", f"{en}, {yen}",
           f"{yzh}{help_zh}。{_T_ZH}{_AUDIT_ZH}", f"{help_en}, {yen}. {_T_EN} {_AUDIT_EN}")
        for suffix, yzh, yen in years
    )


def _counts_years(stem, zh, en):
    """Three patent-application counts for years t, t-1, t-2."""
    years = (("_last", "上年度", "year t"), ("_prev", "t-1 年", "year t-1"), ("_prev2", "t-2 年", "year t-2"))
    return tuple(
        _f(stem + suffix, "count", "ip", "patents", f"{yzh}{zh}", f"{en}, {yen}",
           f"当年提交的各类专利申请件数（{yzh}）。{_T_ZH}{_CNIPA_ZH}",
           f"Patent applications of all types filed in {yen}. {_T_EN} {_CNIPA_EN}")
        for suffix, yzh, yen in years
    )


_IDENTITY = (
    _f("firm_name", "text", "identity", "", "企业名称", "Company name",
       "与营业执照一致的企业全称。", "The full registered name, as on the business licence.", quick=True),
    _f("province", "text", "identity", "", "所在省份", "Province",
       "省级行政区简称，如 广东、北京、浙江；决定适用哪个省的特色化指标和申报通知。",
       "Province-level region, short Chinese name (广东, 北京, 浙江 …); it selects the provincial rules.",
       quick=True),
    _f("city", "text", "identity", "", "所在城市", "City",
       "地级市，如 深圳、宁波。", "Prefecture-level city (深圳, 宁波 …)."),
    _enum("sme_industry", "identity", "行业类别（中小企业划型）", "Industry class (SME size test)",
          "按《中小企业划型标准规定》（工信部联企业〔2011〕300号）确定的行业，用于判断是否属于中小企业，"
          "如工业：从业人员1000人以下或营业收入40000万元以下。",
          "Industry class of the SME size test (工信部联企业〔2011〕300号); e.g. industrial firms are SMEs "
          "with fewer than 1,000 staff or revenue below 40,000 (10k CNY).",
          (("industrial", "工业", "Industrial"),
           ("software_it", "软件和信息技术服务业", "Software and IT services"),
           ("wholesale", "批发业", "Wholesale"),
           ("retail", "零售业", "Retail"),
           ("construction", "建筑业", "Construction"),
           ("other", "其他行业", "Other"))),
    _enum("sector", "identity", "主导产品所属领域", "Key field of the leading product",
          "主导产品所属的制造强国战略重点产业领域（小巨人申报通知：「符合制造强国战略十大重点产业领域」）；"
          "不属于其中任何一个时选“其他领域”。",
          "The priority manufacturing field of the leading product (the ten key industries of the "
          "manufacturing-power strategy); choose Other if none applies.",
          (("next_gen_it", "新一代信息技术", "Next-generation IT"),
           ("cnc_robotics", "高档数控机床和机器人", "High-end CNC machine tools and robotics"),
           ("aerospace", "航空航天装备", "Aerospace equipment"),
           ("marine", "海洋工程装备及高技术船舶", "Marine engineering equipment and high-tech ships"),
           ("rail", "先进轨道交通装备", "Advanced rail transport equipment"),
           ("nev", "节能与新能源汽车", "Energy-saving and new-energy vehicles"),
           ("power_equipment", "电力装备", "Power equipment"),
           ("agri_machinery", "农机装备", "Agricultural machinery"),
           ("new_materials", "新材料", "New materials"),
           ("biomed", "生物医药及高性能医疗器械", "Biomedicine and high-performance medical devices"),
           ("other", "其他领域", "Other"))),
    _f("strategic_emerging", "bool", "identity", "", "属于战略性新兴产业", "Strategic emerging industry",
       "主导产品属于《战略性新兴产业分类》（63号文附件1：「主导产品所属领域情况：A.属于《战略性新兴产业分类》」）。",
       "The leading product is in the Strategic Emerging Industries catalogue (《战略性新兴产业分类》)."),
    _f("industrial_foundation", "bool", "identity", "", "属于工业“六基”或服务重点龙头企业",
       "Industrial foundation (six basics) or serves a chain leader",
       "63号文附件2：「属于工业\"六基\"领域、中华老字号名录或企业主导产品服务关键产业链重点龙头企业」，"
       "即核心基础零部件（元器件）、关键基础材料、先进基础工艺、关键软件、产业技术基础等。" + _SELF_ZH,
       "The leading product is a core basic component, key basic material, advanced basic process, key "
       "software or industrial technology base (工业“六基”), or serves a key chain leader. " + _SELF_EN,
       self_declared=True),
    _f("chain_breakthrough", "bool", "identity", "", "补短板、锻长板、填空白成效", "Key-chain breakthrough",
       "63号文附件2：「在产业链供应链关键环节及关键领域\"补短板\"\"锻长板\"\"填空白\"取得实际成效」。"
       + _SELF_ZH,
       "The firm has demonstrably filled a gap or strengthened a key link of a key industrial chain "
       "(补短板、锻长板、填空白). " + _SELF_EN,
       self_declared=True),
    _f("years_in_niche", "number", "identity", "years", "从事特定细分市场年限", "Years in the niche market",
       "截至上年末，企业从事特定细分市场的时间（63号文附件3：「截至上年末，企业从事特定细分市场时间达到3年以上」）。",
       "Years the firm has served its specific niche market, to the end of year t.",
       lo=0.0, hi=200.0),
    _f("years_in_field", "number", "identity", "years", "从事相关领域年限（单项冠军）",
       "Years in the product's field (single champion)",
       "单项冠军申请产品所属领域的从业年限（认定标准：「从事相关领域时间达到10年及以上，属于新产品的应达到5年及以上」）。",
       "Years in the field of the champion product (single-champion standard: 10 years, 5 for a new "
       "product).",
       lo=0.0, hi=200.0),
    _f("new_product", "bool", "identity", "", "冠军产品属于新产品", "Champion product is a new product",
       "申请单项冠军的产品属于新产品，适用较短的从业年限要求。",
       "The champion product is a new product, so the shorter years-in-field rule applies."),
)

_FINANCE = (
    *_money_years("revenue", "finance", "营业收入", "Operating revenue",
                  "利润表“营业收入”，即营业收入总额",
                  "Operating revenue (营业收入) from the income statement"),
    *_money_years("main_revenue", "finance", "主营业务收入", "Main-business revenue",
                  "主营业务收入总额，不含其他业务收入；63号文以「主营业务收入总额占营业收入总额比重」考察专业化",
                  "Main-business revenue (主营业务收入), excluding other operating income"),
    _f("net_profit", "money", "finance", "wan", "上年度净利润", "Net profit, year t",
       "利润表“净利润”，亏损填负数。" + _T_ZH + _AUDIT_ZH,
       "Net profit from the income statement; enter a loss as a negative number. " + _T_EN + " " + _AUDIT_EN,
       lo=-MONEY_MAX),
    _f("total_assets", "money", "finance", "wan", "上年末资产总额", "Total assets, end of year t",
       "资产负债表“资产总计”（上年末）。" + _AUDIT_ZH, "Total assets at the end of year t. " + _AUDIT_EN),
    _f("total_costs", "money", "finance", "wan", "上年度成本费用支出总额", "Total costs and expenses, year t",
       "成本费用支出总额（营业成本、税金及附加和各项期间费用之和），用于科技型中小企业评价中研发费用占比的计算。"
       + _AUDIT_ZH,
       "Total costs and expenses (成本费用支出总额) in year t, used by the tech-SME R&D intensity measure. "
       + _AUDIT_EN),
    _f("debt_ratio_pct", "pct", "finance", "pct", "上年末资产负债率", "Debt-to-asset ratio, end of year t",
       "负债总额 ÷ 资产总额 × 100，按上年末资产负债表计算。" + _AUDIT_ZH,
       "Total liabilities / total assets x 100, at the end of year t. " + _AUDIT_EN),
    _f("equity_financing_2y", "money", "finance", "wan",
       "近两年新增股权融资", "New equity financing, 2 years",
       "近2年（t-1 年和上年度）「新增股权融资总额（合格机构投资者的实缴额）」，没有则填 0。",
       "New equity paid in by qualified institutional investors over years t-1 and t; enter 0 if none."),
    _f("equity_financing_3y", "money", "finance", "wan",
       "近三年新增股权融资", "New equity financing, 3 years",
       "近三年（t-2 年至上年度）「新增股权融资总额（合格机构投资者的实缴额）」，没有则填 0。",
       "New equity paid in by qualified institutional investors over years t-2 to t; enter 0 if none."),
    *_money_years("rd_expense", "finance", "研发费用", "R&D expense",
                  "研发费用总额：利润表“研发费用”及研发费用辅助账归集的金额",
                  "R&D expense (研发费用): the income-statement item, as collected in the R&D sub-ledger"),
)

_PEOPLE = (
    _f("employees", "count", "people", "persons", "职工总数", "Total staff",
       "上年末职工总数，以参加社会保险的人数为准。",
       "Total staff at the end of year t, counted as insured employees."),
    _f("rd_staff", "count", "people", "persons", "研发人员数", "R&D staff",
       "从事研发和相关技术创新活动的科技人员人数（可含累计实际工作满6个月的兼职人员）。",
       "Staff engaged in R&D and related innovation (S&T staff)."),
)

_ORGANISATION = (
    _enum("rd_institution", "organisation", "研发机构级别", "Level of the R&D institution",
          "经认定的企业研发机构的最高级别。63号文附件3：「自建或与高等院校、科研机构联合建立研发机构，设立技术研究院、"
          "企业技术中心、企业工程中心、院士专家工作站、博士后工作站等」。",
          "Highest recognition level of the firm's own or jointly built R&D institution (technology "
          "centre, engineering centre, academician or post-doctoral workstation …).",
          (("none", "未建立研发机构", "No R&D institution"),
           ("below_city", "市级以下", "Below city level"),
           ("city", "市级", "City level"),
           ("provincial", "省级（省部级）", "Provincial or ministerial"),
           ("national", "国家级", "National"))),
    _f("digital_level", "count", "organisation", "level", "数字化水平等级", "Digital maturity level",
       "按《中小企业数字化水平评测指标（2022年版）》评测的等级，一级至四级。",
       "SME digital maturity level (1-4) from the official SME digitalisation assessment.",
       lo=1.0, hi=4.0),
    _f("core_business_it", "bool", "organisation", "", "核心业务采用信息系统", "Core business runs on IT",
       "63号文附件3：「在研发设计、生产制造、供应链管理等环节，至少1项核心业务采用信息系统支撑」。",
       "At least one core business (R&D design, production, supply chain) runs on information systems."),
    _f("quality_award", "bool", "organisation", "",
       "获得省级以上质量奖", "Provincial or higher quality award",
       "63号文附件2：「获得省级以上质量奖荣誉」。", "Holds a provincial-or-higher quality award."),
    _f("quality_certified", "bool", "organisation", "",
       "管理体系或产品认证", "Management-system or product certificate",
       "63号文附件3：「取得相关管理体系认证，或产品通过发达国家和地区产品认证（国际标准协会行业认证）」，"
       "如 ISO 9001。",
       "Holds an ISO 9001-type management-system certificate, or product certification in a developed "
       "market."),
    _f("own_brand", "bool", "organisation", "", "拥有自主品牌", "Own brand",
       "63号文附件3：「拥有直接面向市场并具有竞争优势的自主品牌」。",
       "Owns a market-facing, competitive brand."),
    _f("standards_count", "count", "organisation", "items", "参与制修订标准数", "Standards drafted",
       "企业主导或参与制定、修订的标准数量（63号文附件2：「参与制修订标准」）。",
       "Standards the firm led or took part in drafting."),
    _f("standards_led", "count", "organisation", "items",
       "近五年主导制定标准数", "Standards led, last 5 years",
       "近五年企业主导制定的国际标准、国家标准或行业标准数量（科技型中小企业直通条件：「企业近五年内主导制定过国际标准、"
       "国家标准或行业标准」）。",
       "International, national or industry standards the firm led in the last 5 years."),
    _f("local_points", "number", "organisation", "points",
       "地方特色指标得分", "Provincial characteristic points",
       "63号文附件2：「地方特色指标。由省级中小企业主管部门结合本地产业状况和中小企业发展实际自主设定1—3个指标进行评价"
       "（15分）」，按本省申报通知自评，0-15分。",
       "Points the province awards under its own characteristic indicators (SME-2022 SRDI score, 0-15).",
       lo=0.0, hi=15.0),
    _f("niche_share_pct", "pct", "organisation", "pct", "国内细分市场占有率", "Domestic niche market share",
       "主导产品在全国细分市场的占有率（63号文附件3：「主导产品在全国细分市场占有率达到10%以上」），"
       "需有行业协会或第三方数据佐证。",
       "National share of the leading product's niche market, backed by industry or third-party data."),
    _f("niche_share_intl_pct", "pct", "organisation", "pct",
       "国际细分市场占有率", "International niche market share",
       "主导产品在国际细分市场的占有率（2026年标准：「主导产品在国内或国际细分市场占有率达到10%以上」）。",
       "International share of the leading product's niche market."),
    _f("niche_rank_domestic", "count", "organisation", "", "国内细分市场排名", "Domestic niche market rank",
       "主导产品在国内细分市场的排名，第1名填 1（2026年标准：「或国内前三名」）。",
       "Domestic rank of the leading product in its niche market; 1 is the leader.", lo=1.0),
    _f("niche_share_high", "bool", "organisation", "",
       "市场占有率较为靠前且有知名度", "Relatively high share, well known",
       "2026年标准：「主导产品在国内或国际细分市场占有率较为靠前，且享有一定知名度、影响力」。" + _SELF_ZH,
       "The leading product's share is relatively high and the product well known (qualitative). " + _SELF_EN,
       self_declared=True),
    _f("global_rank", "count", "organisation", "", "全球市场占有率排名", "Global market-share rank",
       "单项冠军申请产品的全球市场占有率排名，第1名填 1（认定标准：「市场占有率位居全球前3位」）。",
       "Global market-share rank of the champion product; 1 is the leader.", lo=1.0),
)

_IP_I_ZH = (
    "「所称\"Ⅰ类知识产权\"包括发明专利（含国防专利）、植物新品种、国家级农作物品种、国家新药、"
    "国家一级中药保护品种、集成电路布图设计专有权（均不包含转让未满1年的知识产权）」"
)
_IP_I_EN = (
    "Class I IP: invention patents (incl. defence patents), plant varieties, national crop varieties, "
    "national new drugs, first-grade protected TCM varieties and IC layout designs, excluding IP "
    "transferred in less than 1 year ago"
)

_IP = (
    _f("patent_applications", "count", "ip", "patents", "累计专利申请量", "Patent applications, cumulative",
       "企业累计提交的各类专利（发明、实用新型、外观设计）申请件数。" + _CNIPA_ZH,
       "Cumulative patent applications of all types. " + _CNIPA_EN),
    _f("invention_applications", "count", "ip", "patents",
       "累计发明专利申请量", "Invention applications, cumulative",
       "累计发明专利申请件数（含已授权、审查中和已驳回的）。" + _CNIPA_ZH,
       "Cumulative invention-patent applications (granted, pending or rejected). " + _CNIPA_EN),
    _f("invention_grants", "count", "ip", "patents", "累计发明专利授权量", "Invention grants, cumulative",
       "累计获得授权的发明专利件数。" + _CNIPA_ZH,
       "Cumulative granted invention patents. " + _CNIPA_EN),
    _f("valid_inventions", "count", "ip", "patents", "有效发明专利数", "Valid invention patents",
       "目前仍有效（按时缴纳年费）的发明专利件数。" + _CNIPA_ZH,
       "Invention patents currently in force. " + _CNIPA_EN),
    _f("valid_utility_models", "count", "ip", "patents", "有效实用新型专利数", "Valid utility models",
       "目前仍有效的实用新型专利件数。" + _CNIPA_ZH,
       "Utility-model patents currently in force. " + _CNIPA_EN),
    _f("valid_designs", "count", "ip", "patents", "有效外观设计专利数", "Valid design patents",
       "目前仍有效的外观设计专利件数。" + _CNIPA_ZH, "Design patents currently in force. " + _CNIPA_EN),
    _f("software_copyrights", "count", "ip", "items", "软件著作权数", "Software copyrights",
       "已登记的计算机软件著作权数量，以中国版权保护中心登记证书为准。",
       "Registered software copyrights (Copyright Protection Center of China certificates)."),
    _f("pct_applications", "count", "ip", "patents", "累计 PCT 国际申请量", "PCT applications, cumulative",
       "累计提交的 PCT 国际专利申请件数。" + _CNIPA_ZH, "Cumulative PCT applications. " + _CNIPA_EN),
    _f("overseas_markets", "count", "ip", "offices", "海外专利布局国家/地区数", "Patent offices abroad",
       "企业已提交专利申请的境外国家、地区或专利局（如 USPTO、EPO）的个数。",
       "Patent offices abroad (e.g. USPTO, EPO) the firm has filed in."),
    _f("citations", "count", "ip", "times", "专利被引次数", "Forward citations",
       "企业专利被其他专利引用的累计次数（可从专利检索数据库获取）。",
       "Forward citations received by the firm's patents (from a patent database)."),
    _f("licenses_out", "count", "ip", "items", "专利对外许可数", "Outbound patent licences",
       "企业作为许可方签订的专利实施许可数量（以国家知识产权局备案为准）。",
       "Outbound patent licences (as registered with CNIPA)."),
    *_counts_years("applications", "专利申请量", "Patent applications"),
    _f("class1_ip", "count", "ip", "items", "Ⅰ类知识产权数（与主导产品相关）", "Class I IP (leading product)",
       f"与主导产品相关的有效Ⅰ类知识产权数量。{_IP_I_ZH}（优质中小企业梯度培育说明）。{_CNIPA_ZH}",
       f"Valid Class I IP related to the leading product. {_IP_I_EN}. {_CNIPA_EN}"),
    _f("class1_ip_self", "count", "ip", "items", "其中：自主研发的Ⅰ类知识产权", "of which self-developed",
       "上述Ⅰ类知识产权中，由企业自主研发、作为原始申请人取得（非受让）的数量。",
       "Of the Class I IP, those the firm developed itself and filed as original applicant (not acquired)."),
    _f("class1_ip_high_value", "count", "ip", "items", "其中：Ⅰ类高价值知识产权", "of which high-value",
       "「所称\"Ⅰ类高价值知识产权\"须符合以下条件之一：1.在海外有同族专利权的发明专利或在海外取得收入的其他Ⅰ类知识产权，"
       "其中专利限G20成员、新加坡以及欧洲专利局经实质审查后获得授权的发明专利。2.维持年限超过10年的Ⅰ类知识产权。"
       "3.实现较高质押融资金额的Ⅰ类知识产权。4.获得国家科学技术奖或中国专利奖的Ⅰ类知识产权。」",
       "High-value Class I IP: a foreign family member granted in a G20 member, Singapore or the EPO (or "
       "income abroad); maintained over 10 years; pledge-financed for a substantial amount; or won a "
       "National S&T Award or the China Patent Award."),
    _f("class1_ip_applied", "count", "ip", "items",
       "其中：已应用并产生效益的Ⅰ类知识产权", "of which applied in products",
       "63号文附件3：「与主导产品相关的Ⅰ类知识产权，且实际应用并已产生经济效益」；2026年标准另要求"
       "「不含转入的Ⅰ类知识产权，企业应在权利人排名前三」。",
       "Of the Class I IP, those applied in products and producing economic benefit (SME-2026: not "
       "transferred in, and the firm among the first three right-holders)."),
    _f("class2_ip", "count", "ip", "items",
       "Ⅱ类知识产权数（与主导产品相关）", "Class II IP (leading product)",
       "「所称\"Ⅱ类知识产权\"包括与主导产品相关的软件著作权（不含商标）、授权后维持超过2年的实用新型专利或外观设计专利"
       "（均不包含转让未满1年的知识产权）」。",
       "Valid Class II IP related to the leading product: software copyrights, and utility models or designs "
       "maintained more than 2 years after grant (excluding IP transferred in less than 1 year ago)."),
)

_TITLES = (
    _f("hnte", "bool", "titles", "", "高新技术企业", "High and New Technology Enterprise",
       "持有有效期内的高新技术企业证书（国科发火〔2016〕32号，有效期三年）。" + _CERT_ZH,
       "Holds a valid High and New Technology Enterprise certificate (valid 3 years). " + _CERT_EN),
    _f("tech_innovation_demo", "bool", "titles", "",
       "国家级技术创新示范企业", "National tech-innovation demonstration",
       "被认定为国家级技术创新示范企业（有效期内）。" + _CERT_ZH,
       "A national technology-innovation demonstration enterprise. " + _CERT_EN),
    _f("ip_advantage", "bool", "titles", "",
       "知识产权优势/示范企业", "IP-advantage or IP-demonstration enterprise",
       "被认定为国家知识产权优势企业或示范企业（有效期内）。" + _CERT_ZH,
       "An IP-advantage or IP-demonstration enterprise. " + _CERT_EN),
    _enum("award_level", "titles", "近三年最高科技奖励", "Best S&T award, last 3 years",
          "近三年获得的最高级别科技奖励。「国家级科技奖励包括国家科学技术进步奖、国家自然科学奖、国家技术发明奖，以及国防科技奖」。",
          "The best science and technology award of the last 3 years (national: State S&T Progress, Natural "
          "Science or Technological Invention awards, or the defence S&T award).",
          (("none", "无", "No award"),
           ("provincial", "省级（省部级）", "Provincial or ministerial"),
           ("national", "国家级", "National"))),
    _f("award_rank", "count", "titles", "", "获奖单位排名", "Rank among award winners",
       "该奖项中企业在获奖单位中的排名，第一完成单位填 1。",
       "The firm's rank among the award-winning units; 1 is first.",
       lo=1.0),
    _enum("makers_china", "titles", "“创客中国”大赛最好名次", "Best “Makers China” placing",
          "近三年「\"创客中国\"中小企业创新创业大赛」企业组全国最好名次。",
          "Best national placing in the “创客中国” SME innovation competition, enterprise group, "
          "last 3 years.",
          (("none", "未进入全国500强", "Not in national top 500"),
           ("top500", "全国500强", "National top 500"),
           ("top50", "全国50强", "National top 50"))),
    _f("platform_score", "number", "titles", "points",
       "本年度专精特新发展评价得分", "SRDI development score, this year",
       "「中小企业专精特新发展评价得分」，由平台按《中小企业专精特新发展评价指标体系》自动计算（0-100分）。"
       + _PLATFORM_ZH,
       "The 专精特新 development evaluation score computed by the platform (0-100), this year. "
       + _PLATFORM_EN,
       lo=0.0, hi=100.0),
    _f("platform_score_prev", "number", "titles", "points", "上年度专精特新发展评价得分",
       "SRDI development score, last year",
       "上一年度平台计算的「中小企业专精特新发展评价得分」（0-100分）。" + _PLATFORM_ZH,
       "The platform's 专精特新 development evaluation score of last year (0-100). " + _PLATFORM_EN,
       lo=0.0, hi=100.0),
    _f("title_innovative", "bool", "titles", "", "创新型中小企业称号", "Innovative SME title",
       "持有有效期内的创新型中小企业（2026年起：科技和创新型中小企业）称号。" + _PLATFORM_ZH,
       "Holds a valid innovative SME (科技和创新型) title. " + _PLATFORM_EN),
    _f("title_tech_sme", "bool", "titles", "",
       "科技型中小企业（本年度入库）", "Tech-based SME, registered this year",
       "本年度已通过科技型中小企业评价并入库（《科技型中小企业评价办法》）。",
       "Registered as a technology-based SME (科技型中小企业) this year."),
    _f("title_srdi", "bool", "titles", "", "专精特新中小企业称号", "Provincial SRDI SME title",
       "持有有效期内的省级专精特新中小企业称号。" + _PLATFORM_ZH,
       "Holds a valid provincial 专精特新 SME title. " + _PLATFORM_EN),
    _f("title_little_giant", "bool", "titles", "", "专精特新“小巨人”称号", "Little giant title",
       "持有有效期内的国家级专精特新“小巨人”企业称号。" + _PLATFORM_ZH,
       "Holds a valid national 专精特新 little giant title. " + _PLATFORM_EN),
    _f("clean_record", "bool", "titles", "", "无违法违规记录", "Clean record",
       "「企业未被列入经营异常名录或严重失信主体名单，提供的产品（服务）不属于国家禁止、限制或淘汰类，同时近三年未发生重大安全"
       "（含网络安全、数据安全）、质量、环境污染等事故以及偷漏税等违法违规行为」。" + _SELF_ZH,
       "Not on abnormal-operation or dishonesty lists; no major safety, quality, environmental or tax "
       "violation in 3 years; product not prohibited. " + _SELF_EN,
       self_declared=True),
)

_HNTE_ZH = "用于高新技术企业认定评估（国科发火〔2016〕32号及其工作指引国科发火〔2016〕195号）。"
_HNTE_EN = "Used for the High and New Technology Enterprise assessment (国科发火〔2016〕32号 and its guidelines 195号)."
_EXPERT = (("e", "E 较弱（0分）", "E weak (0 points)"), ("d", "D 一般（1-2分）", "D fair (1-2 points)"),
           ("c", "C 中等（3-4分）", "C moderate (3-4 points)"), ("b", "B 较强（5-6分）", "B strong (5-6 points)"),
           ("a", "A 很强（7-8分）", "A very strong (7-8 points)"))


def _rdm(name, hi, zh, en, what_zh, what_en):
    """One R&D-management item of the HNTE innovation score, as the firm scores itself (0 to ``hi``)."""
    return _f(name, "number", "hnte", "points", zh, en,
              f"研究开发组织管理水平中「{what_zh}」一项的自评分（0-{hi}分，由专家评定）。{_HNTE_ZH}",
              f"Self-assessed score of the R&D management item \"{what_en}\" (0-{hi}; experts decide). {_HNTE_EN}",
              lo=0.0, hi=float(hi), integer=True, self_declared=True)


_HNTE = (
    _f("years_registered", "number", "hnte", "years", "注册成立年限", "Years since registration",
       f"截至申请认定时企业注册成立的年数（高企认定要求一年以上）。{_HNTE_ZH}",
       f"Years from the firm's registration to the application (HNTE needs more than one). {_HNTE_EN}",
       lo=0.0, hi=200.0),
    _f("sci_staff", "count", "hnte", "persons", "科技人员数", "S&T staff",
       "从事研发和相关技术创新活动的科技人员（全年累计实际工作满183天），与研发人员口径不同。" + _HNTE_ZH,
       "Staff in R&D and related technical innovation (183 days or more in the year); wider than R&D staff. "
       + _HNTE_EN),
    _enum("tech_field", "hnte", "核心技术所属高新技术领域", "High-tech field of the core technology",
          "对主要产品（服务）发挥核心支持作用的技术所属的《国家重点支持的高新技术领域》；不属于其中任何一个时选"
          "“不属于上述领域”。" + _HNTE_ZH,
          "The field of the State-supported high-tech fields (国家重点支持的高新技术领域) of the technology "
          "behind the main products; choose “None of these” if it is in none of them. " + _HNTE_EN,
          (("none", "不属于上述领域", "None of these"),
           ("electronic_info", "电子信息", "Electronic information"),
           ("biomed", "生物与新医药", "Biology and new medicine"),
           ("aerospace", "航空航天", "Aerospace"),
           ("new_materials", "新材料", "New materials"),
           ("hightech_services", "高技术服务", "High-tech services"),
           ("new_energy", "新能源与节能", "New energy and energy saving"),
           ("resources_env", "资源与环境", "Resources and environment"),
           ("advanced_manufacturing", "先进制造与自动化", "Advanced manufacturing and automation"))),
    _f("hitech_revenue_share_pct", "pct", "hnte", "pct", "高新技术产品（服务）收入占比",
       "High-tech product (service) revenue share",
       "近一年高新技术产品（服务）收入占企业同期总收入的比例。" + _HNTE_ZH,
       "Revenue from high-tech products and services as a share of total income, last year. " + _HNTE_EN),
    _f("rd_domestic_share_pct", "pct", "hnte", "pct", "境内研发费用占比（近三年）",
       "Share of R&D spent in China, last 3 years",
       "近三个会计年度在中国境内发生的研究开发费用占全部研究开发费用的比例。" + _HNTE_ZH,
       "R&D expense incurred in mainland China as a share of all R&D expense, last three fiscal years. "
       + _HNTE_EN),
    *(_f(name, "money", "hnte", "wan", f"{yzh}末净资产", f"Net assets, end of {yen}",
         f"{yzh}末净资产（所有者权益）。{_T_ZH}{_AUDIT_ZH}",
         f"Net assets (owners' equity) at the end of {yen}. {_T_EN} {_AUDIT_EN}", lo=-MONEY_MAX)
      for name, yzh, yen in (("net_assets", "上年度", "year t"), ("net_assets_prev", "t-1 年", "year t-1"),
                             ("net_assets_prev2", "t-2 年", "year t-2"))),
    _f("tech_transfers_3y", "count", "hnte", "items", "近三年科技成果转化数", "Technology transfers, last 3 years",
       "近三年科技成果转化为产品、服务、样品、样机等的项数（按年平均数评分）。" + _HNTE_ZH,
       "Research results turned into products, services, samples or prototypes over three years (scored "
       "on the yearly average). " + _HNTE_EN),
    _enum("tech_level", "hnte", "技术的先进程度（专家评定）", "How advanced the technology is (expert-judged)",
          "知识产权评价中「技术的先进程度」的自评档次（A-E，由专家评定）；不确定可留空，按可能得分范围计。" + _HNTE_ZH,
          "Self-assessed grade of \"how advanced the technology is\" (A-E, judged by experts); leave it empty "
          "if unsure and the range it could score is used. " + _HNTE_EN, _EXPERT, self_declared=True),
    _enum("core_support", "hnte", "对主要产品的核心支持作用（专家评定）",
          "Core support of the main products (expert-judged)",
          "知识产权评价中「对主要产品（服务）在技术上发挥核心支持作用」的自评档次（A-E，由专家评定）。" + _HNTE_ZH,
          "Self-assessed grade of \"how far the IP supports the main products technically\" (A-E, judged by "
          "experts). " + _HNTE_EN, _EXPERT, self_declared=True),
    _f("ip_self_developed", "bool", "hnte", "", "知识产权有自主研发取得的", "Some IP developed in-house",
       "核心知识产权中有自主研发取得的（否：仅有受让、受赠、并购等方式取得）。" + _HNTE_ZH,
       "Some of the core IP was developed in-house (no: only acquired by transfer, gift or merger). "
       + _HNTE_EN),
    _f("standards_participation", "bool", "hnte", "", "参与编制国家或行业标准",
       "Took part in national or industry standards",
       "参与编制国家标准、行业标准、检测方法、技术规范（知识产权评价加分项，1-2分）。" + _HNTE_ZH,
       "Took part in drafting a national or industry standard, test method or technical specification (a 1-2 "
       "point bonus of the IP block). " + _HNTE_EN),
    _rdm("rdm_system", 6, "研发组织管理制度与费用核算（自评）", "R&D management system and accounting (self-scored)",
         "研发组织管理制度、研发投入核算体系、研发费用辅助账",
         "R&D management rules, R&D cost accounting and the R&D sub-ledger"),
    _rdm("rdm_institution", 6, "研发机构与产学研合作（自评）", "R&D institution and cooperation (self-scored)",
         "内部研究开发机构、产学研合作", "an internal R&D institution and cooperation with universities"),
    _rdm("rdm_transfer", 4, "成果转化激励与创新平台（自评）", "Transfer incentives and platforms (self-scored)",
         "成果转化组织实施与激励奖励制度、开放式创新创业平台",
         "organisation of and rewards for technology transfer, open innovation platforms"),
    _rdm("rdm_talent", 4, "人才培养与绩效奖励（自评）", "Talent and performance rewards (self-scored)",
         "科技人员培养进修、职工技能培训、优秀人才引进及绩效评价奖励制度",
         "training, recruitment of talent and performance rewards for S&T staff"),
)

REGISTRY: tuple[FieldSpec, ...] = (*_IDENTITY, *_FINANCE, *_PEOPLE, *_ORGANISATION, *_IP, *_TITLES, *_HNTE)
FIELDS: dict[str, FieldSpec] = {spec.name: spec for spec in REGISTRY}


def _cross(lhs: str, rhs: str) -> CrossRule:
    """A part-of-whole rule: ``lhs`` may not exceed ``rhs``."""
    a, b = FIELDS[lhs], FIELDS[rhs]
    return CrossRule(
        id=f"{lhs}_le_{rhs}", lhs=lhs, op="<=", rhs=rhs,
        message_zh=f"{a.label_zh}（{lhs}）不能大于{b.label_zh}（{rhs}）",
        message_en=f"{a.label_en} ({lhs}) cannot exceed {b.label_en} ({rhs})",
    )


CROSS_RULES: tuple[CrossRule, ...] = tuple(_cross(lhs, rhs) for lhs, rhs in (
    ("main_revenue", "revenue"),
    ("main_revenue_prev", "revenue_prev"),
    ("main_revenue_prev2", "revenue_prev2"),
    ("rd_staff", "employees"),
    ("sci_staff", "employees"),
    ("invention_grants", "invention_applications"),
    ("invention_applications", "patent_applications"),
    ("class1_ip_self", "class1_ip"),
    ("class1_ip_high_value", "class1_ip"),
    ("class1_ip_applied", "class1_ip"),
))


def label(name: str, lang: str) -> str:
    """Return the field's label in ``lang`` ("zh…" or "en…", e.g. "zh-CN", "en")."""
    spec = FIELDS[name]
    code = lang.lower()
    if code.startswith("zh"):
        return spec.label_zh
    if code.startswith("en"):
        return spec.label_en
    raise ValueError(f"unsupported language {lang!r}: use 'zh' or 'en'")


def template_header(spec: FieldSpec) -> str:
    """The bilingual template column header: ``zh label（unit） / en label (unit) [canonical_name]``."""
    zh = f"{spec.label_zh}（{spec.unit_zh}）" if spec.unit_zh else spec.label_zh
    en = f"{spec.label_en} ({spec.unit_en})" if spec.unit_en else spec.label_en
    return f"{zh} / {en} [{spec.name}]"


def header_key(text: str) -> str:
    """Normalise a column header for alias lookup: NFKC, case-folded, all whitespace removed."""
    text = unicodedata.normalize("NFKC", str(text).replace("\ufeff", "")).casefold()
    return "".join(text.split())


@functools.cache
def _aliases() -> dict[str, str]:
    """Build the alias table once; a key shared by two fields is a registry bug."""
    table: dict[str, str] = {}
    for spec in REGISTRY:
        names = {spec.name, spec.label_zh, spec.label_en, template_header(spec),
                 f"{spec.label_zh}({spec.name})", f"{spec.label_en}({spec.name})"}
        if spec.unit_zh:
            names.add(f"{spec.label_zh}（{spec.unit_zh}）")
        if spec.unit_en:
            names.add(f"{spec.label_en} ({spec.unit_en})")
        for text in names:
            key = header_key(text)
            if table.setdefault(key, spec.name) != spec.name:
                raise ValueError(f"header alias {text!r} is shared by {table[key]} and {spec.name}")
    return table


def header_aliases() -> dict[str, str]:
    """Map normalised headers (see :func:`header_key`) to canonical names.

    Keys cover the canonical name, the zh and en labels, each label with its unit ("营业收入（万元）",
    "Operating revenue, year t (10k CNY)") and the template header.
    """
    return dict(_aliases())
