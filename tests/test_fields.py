"""Tests for the field registry: completeness against spec/fields.md, bounds, labels, aliases, rules.

The spec is read from tests/resources/fields_spec.md, a verbatim copy of the shared spec/fields.md (its first
line says where and when it was copied), so the tests never depend on a folder outside the repository.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from webapp import fields
from webapp.fields import CROSS_RULES, FIELDS, GROUPS, REGISTRY, header_aliases, header_key, label

SPEC = Path(__file__).resolve().parent / "resources" / "fields_spec.md"

# The canonical names of spec/fields.md, in the document's order (checked against the copy of the file).
SPEC_NAMES = (
    "firm_name province city sme_industry sector strategic_emerging industrial_foundation chain_breakthrough "
    "years_in_niche years_in_field new_product "
    "revenue revenue_prev revenue_prev2 main_revenue main_revenue_prev main_revenue_prev2 net_profit "
    "total_assets total_costs debt_ratio_pct equity_financing_2y equity_financing_3y rd_expense "
    "rd_expense_prev rd_expense_prev2 "
    "employees rd_staff "
    "rd_institution digital_level core_business_it quality_award quality_certified own_brand standards_count "
    "standards_led local_points niche_share_pct niche_share_intl_pct niche_rank_domestic niche_share_high "
    "global_rank "
    "patent_applications invention_applications invention_grants valid_inventions valid_utility_models "
    "valid_designs software_copyrights pct_applications overseas_markets citations licenses_out "
    "applications_last applications_prev applications_prev2 class1_ip class1_ip_self class1_ip_high_value "
    "class1_ip_applied class2_ip "
    "hnte tech_innovation_demo ip_advantage award_level award_rank makers_china platform_score "
    "platform_score_prev title_innovative title_tech_sme title_srdi title_little_giant clean_record"
).split()

# fields.md's "type" column -> the registry kinds it allows.
SPEC_TYPES = {"text": {"text"}, "enum": {"enum"}, "bool": {"bool"}, "count": {"count"},
              "number": {"money", "number", "pct"}}


def _spec_rows():
    """(name, type) pairs parsed from the tables of the committed copy of spec/fields.md."""
    rows = []
    for line in SPEC.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and re.fullmatch(r"[a-z0-9_]+(, [a-z0-9_]+)*", cells[0]) and cells[0] != "name":
            rows += [(name, cells[1]) for name in cells[0].split(", ")]
    return rows


def test_spec_copy_says_where_it_comes_from_and_lists_the_names():
    """The committed copy names its origin, and its tables give exactly the names typed above, in order."""
    first = SPEC.read_text(encoding="utf-8").splitlines()[0]
    assert "Copied verbatim from spec/fields.md" in first and "sha256" in first
    assert [name for name, _ in _spec_rows()] == SPEC_NAMES


def test_registry_names_follow_the_spec_order():
    """Every canonical name of fields.md is in the registry, in the document's order (the spec lets the
    registry add fields of its own)."""
    assert [spec.name for spec in REGISTRY if spec.name in set(SPEC_NAMES)] == SPEC_NAMES


def test_registry_matches_spec_file():
    """The registry agrees with the tables of spec/fields.md: every name, in order, with an allowed kind."""
    rows = _spec_rows()
    assert [spec.name for spec in REGISTRY if spec.name in {name for name, _ in rows}] == [n for n, _ in rows]
    for name, kind in rows:
        assert FIELDS[name].kind in SPEC_TYPES[kind], name


def test_fields_index_and_groups():
    """FIELDS indexes the registry; every field belongs to a declared group."""
    assert list(FIELDS) == [spec.name for spec in REGISTRY]
    group_ids = [group for group, _, _ in GROUPS]
    assert group_ids == ["identity", "finance", "people", "organisation", "ip", "titles", "hnte"]
    assert {spec.group for spec in REGISTRY} == set(group_ids)
    order = [group_ids.index(spec.group) for spec in REGISTRY]
    assert order == sorted(order)


@pytest.mark.parametrize("spec", REGISTRY, ids=lambda spec: spec.name)
def test_every_field_is_described(spec):
    """Labels and help exist in both languages; bounds are consistent with the kind."""
    assert spec.kind in fields.KINDS
    assert spec.label_zh and spec.label_en and spec.help_zh and spec.help_en
    assert (spec.unit_zh == "") == (spec.unit_en == "")
    if spec.lo is not None and spec.hi is not None:
        assert spec.lo < spec.hi
    if spec.kind not in fields.NUMERIC_KINDS:
        assert spec.lo is None and spec.hi is None and not spec.integer
    if spec.kind == "enum":
        assert len(spec.choices) == len(spec.choice_labels_zh) == len(spec.choice_labels_en) >= 2
        assert len(set(spec.choices)) == len(spec.choices)
    else:
        assert spec.choices == spec.choice_labels_zh == spec.choice_labels_en == ()


def test_labels_are_unique():
    """No two fields share a zh or an en label (headers must map back to one field)."""
    for attribute in ("label_zh", "label_en"):
        values = [getattr(spec, attribute) for spec in REGISTRY]
        assert len(set(values)) == len(values), attribute


def test_money_and_pct_bounds():
    """Money is 0 to 1e8 万元 (1 万亿 CNY; net profit and net assets, which can be negative, -1e8 to 1e8),
    pct is 0-100."""
    may_be_negative = {"net_profit", "net_assets", "net_assets_prev", "net_assets_prev2"}
    for spec in REGISTRY:
        if spec.kind == "money":
            assert (spec.unit_zh, spec.unit_en) == ("万元", "10k CNY")
            assert (spec.lo, spec.hi) == ((-1e8, 1e8) if spec.name in may_be_negative else (0, 1e8))
        if spec.kind == "pct":
            assert spec.name.endswith("_pct") and (spec.lo, spec.hi, spec.unit_zh) == (0, 100, "%")
    assert {spec.name for spec in REGISTRY if spec.kind == "pct"} == {
        "debt_ratio_pct", "niche_share_pct", "niche_share_intl_pct", "hitech_revenue_share_pct",
        "rd_domestic_share_pct"}


@pytest.mark.parametrize(("name", "kind", "lo", "hi", "integer"), [
    ("employees", "count", 0, 1e6, True),
    ("class1_ip", "count", 0, 1e6, True),
    ("digital_level", "count", 1, 4, True),
    ("global_rank", "count", 1, 1e6, True),
    ("niche_rank_domestic", "count", 1, 1e6, True),
    ("award_rank", "count", 1, 1e6, True),
    ("years_in_niche", "number", 0, 200, False),
    ("years_in_field", "number", 0, 200, False),
    ("platform_score", "number", 0, 100, False),
    ("platform_score_prev", "number", 0, 100, False),
    ("local_points", "number", 0, 15, False),
    ("net_profit", "money", -1e8, 1e8, False),
    ("revenue", "money", 0, 1e8, False),
])
def test_kinds_and_bounds(name, kind, lo, hi, integer):
    """Special bounds from the brief."""
    spec = FIELDS[name]
    assert (spec.kind, spec.lo, spec.hi, spec.integer) == (kind, lo, hi, integer)


def test_counts_are_non_negative_integers():
    """Every count is an integer with a lower bound of at least 0 and an upper bound of at most a million."""
    for spec in REGISTRY:
        if spec.kind == "count":
            assert spec.integer and spec.lo is not None and spec.lo >= 0, spec.name
            assert spec.hi is not None and spec.hi <= 1e6, spec.name


def test_every_amount_and_count_has_a_plausible_ceiling():
    """No numeric field is unbounded: a typo such as R&D of 1e30 is refused, not scored."""
    for spec in REGISTRY:
        if spec.kind in fields.NUMERIC_KINDS:
            assert spec.lo is not None and spec.hi is not None, spec.name
            assert -1e8 <= spec.lo < spec.hi <= 1e8, spec.name


@pytest.mark.parametrize(("name", "choices"), [
    ("sme_industry", ("industrial", "software_it", "wholesale", "retail", "construction", "other")),
    ("sector", ("next_gen_it", "cnc_robotics", "aerospace", "marine", "rail", "nev", "power_equipment",
                "agri_machinery", "new_materials", "biomed", "other")),
    ("rd_institution", ("none", "below_city", "city", "provincial", "national")),
    ("award_level", ("none", "provincial", "national")),
    ("makers_china", ("none", "top500", "top50")),
])
def test_enum_choices(name, choices):
    """Enum codes and their order (ordered enums run from low to high)."""
    assert FIELDS[name].choices == choices


def test_text_and_enum_fields():
    """Exactly the declared text and enum fields."""
    assert [s.name for s in REGISTRY if s.kind == "text"] == ["firm_name", "province", "city"]
    assert [s.name for s in REGISTRY if s.kind == "enum"] == [
        "sme_industry", "sector", "rd_institution", "award_level", "makers_china", "tech_field", "tech_level",
        "core_support"]


def test_quick_check_fields():
    """The registry marks only the identity the quick check always asks for; the rule inputs it asks for are
    derived from the rule tables (tests/engine/test_quick_fields.py)."""
    assert [s.name for s in REGISTRY if s.quick] == ["firm_name", "province"]


def test_self_declared_fields():
    """Qualitative fields that need evidence are flagged."""
    assert {s.name for s in REGISTRY if s.self_declared} >= {
        "niche_share_high", "chain_breakthrough", "industrial_foundation", "clean_record"}
    # Declarations are yes/no, except the HNTE grades and scores that experts award (the firm's own estimate).
    assert all(s.kind == "bool" or s.group == "hnte" for s in REGISTRY if s.self_declared)
    assert {s.name for s in REGISTRY if s.self_declared and s.kind != "bool"} == {
        "tech_level", "core_support", "rdm_system", "rdm_institution", "rdm_transfer", "rdm_talent"}


def test_help_quotes_official_definitions():
    """Help texts quote the criteria where a definition exists."""
    assert "集成电路布图设计专有权" in FIELDS["class1_ip"].help_zh
    assert "维持年限超过10年" in FIELDS["class1_ip_high_value"].help_zh
    assert "软件著作权" in FIELDS["class2_ip"].help_zh
    assert "审计" in FIELDS["rd_expense"].help_zh and "audited" in FIELDS["revenue"].help_en
    assert "国家知识产权局" in FIELDS["valid_inventions"].help_zh
    assert "平台" in FIELDS["platform_score"].help_zh


EXPECTED_CROSS = [
    ("main_revenue", "revenue"), ("main_revenue_prev", "revenue_prev"),
    ("main_revenue_prev2", "revenue_prev2"), ("rd_staff", "employees"), ("sci_staff", "employees"),
    ("invention_grants", "invention_applications"), ("invention_applications", "patent_applications"),
    ("class1_ip_self", "class1_ip"), ("class1_ip_high_value", "class1_ip"),
    ("class1_ip_applied", "class1_ip"),
]


def test_cross_rules():
    """The ten part-of-whole rules, each naming both fields in zh and en."""
    assert [(rule.lhs, rule.rhs) for rule in CROSS_RULES] == EXPECTED_CROSS
    assert len({rule.id for rule in CROSS_RULES}) == len(CROSS_RULES)
    for rule in CROSS_RULES:
        assert rule.op == "<="
        lhs, rhs = FIELDS[rule.lhs], FIELDS[rule.rhs]
        assert lhs.kind in fields.NUMERIC_KINDS and rhs.kind in fields.NUMERIC_KINDS
        assert lhs.label_zh in rule.message_zh and rhs.label_zh in rule.message_zh
        assert lhs.label_en in rule.message_en and rhs.label_en in rule.message_en
        assert rule.lhs in rule.message_en and rule.rhs in rule.message_zh


def test_label():
    """label() picks the language by prefix and rejects others."""
    assert label("revenue", "zh") == FIELDS["revenue"].label_zh
    assert label("revenue", "zh-CN") == FIELDS["revenue"].label_zh
    assert label("revenue", "en_US") == FIELDS["revenue"].label_en
    with pytest.raises(ValueError, match="unsupported language"):
        label("revenue", "fr")
    with pytest.raises(KeyError):
        label("no_such_field", "en")


@pytest.mark.parametrize(("header", "name"), [
    ("revenue", "revenue"),
    ("  REVENUE ", "revenue"),
    ("上年度营业收入", "revenue"),
    ("上年度营业收入（万元）", "revenue"),
    ("上年度营业收入 (万元)", "revenue"),
    ("Operating revenue, year t", "revenue"),
    ("operating revenue, year t (10k cny)", "revenue"),
    ("Operating  Revenue, Year T  (10K CNY)", "revenue"),
    ("职工总数（人）", "employees"),
    ("Total staff (persons)", "employees"),
    ("Ⅰ类知识产权数（与主导产品相关）", "class1_ip"),
    ("上年末资产负债率（%）", "debt_ratio_pct"),
    ("企业名称", "firm_name"),
])
def test_header_aliases(header, name):
    """Canonical names, labels and labels with units map back, whatever the case and spacing."""
    assert header_aliases()[header_key(header)] == name


def test_every_template_header_maps_back():
    """The template's bilingual header of every field is an alias of that field."""
    aliases = header_aliases()
    for spec in REGISTRY:
        assert aliases[header_key(fields.template_header(spec))] == spec.name
        assert aliases[header_key(spec.name)] == spec.name


@pytest.fixture
def alias_table_rebuilt_afterwards():
    """Whatever the test does to the cached alias table, the next test gets a freshly built one."""
    yield
    fields._aliases.cache_clear()


def test_header_aliases_returns_a_copy(alias_table_rebuilt_afterwards):
    """Callers cannot corrupt the cached alias table."""
    header_aliases()["revenue"] = "employees"
    assert header_aliases()["revenue"] == "revenue"


def test_importing_fields_is_light():
    """The registry imports neither Flask nor pandas, so any layer can use it."""
    code = ("import sys, webapp.fields\n"
            "bad = {'flask', 'pandas', 'wtforms'} & set(sys.modules)\n"
            "assert not bad, bad\n")
    subprocess.run([sys.executable, "-c", code], check=True)
