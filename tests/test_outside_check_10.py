"""Issue 10's outside check, kept as tests: what a client reads in the text output and the PDF is in the
reader's language (planning constants' sources, choices, yes/no), and a ceiling exceeded by one yuan reads
as exceeded by one yuan, not by "0 万元"."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess

import pandas as pd
import pytest
from click.testing import CliRunner

from tests.factories import make_profile
from tests.web.helpers import form_data
from webapp import paths
from webapp.cli import main
from webapp.engine import defaults
from webapp.engine.advice.data import AdviceDataError, load_advice_data
from webapp.engine.assess import assess
from webapp.engine.batch import run_batch
from webapp.reports.pdf import render_pdf
from webapp.reports.text import render_text

CJK = re.compile(r"[\u4e00-\u9fff]")
ENGLISH_PROSE = re.compile(r"[A-Za-z]+(?:[ ,;:'-]+[A-Za-z]+){3,}")  # four English words in a row
NEEDS_PDFTOTEXT = pytest.mark.skipif(shutil.which("pdftotext") is None,
                                     reason="pdftotext (poppler-utils) is not installed")


def _result(profile: dict, rules: str = "SME-2026") -> dict:
    return assess(pd.DataFrame([profile], dtype=object), rules=rules).to_dict(0, advice=True)


def _pdf_text(result: dict, lang: str, tmp_path) -> str:
    buffer = io.BytesIO()
    render_pdf(result, buffer, lang=lang, rule_book=defaults.load(defaults.rule_book))
    pdf = tmp_path / f"r-{lang}.pdf"
    pdf.write_bytes(buffer.getvalue())
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout


# ------------------------------------------------------------------ planning constants in both languages


def test_every_planning_constant_has_its_source_in_both_languages():
    """source_zh is Chinese prose (no English sentence in it), source_en carries no Chinese prose (document
    numbers such as 工信厅企业函〔2026〕117号 aside)."""
    constants = load_advice_data().constants
    assert len(constants) >= 20
    for name, c in constants.items():
        assert CJK.search(c.source_zh) and not ENGLISH_PROSE.search(c.source_zh), (name, c.source_zh)
        english = re.sub(r"[\u4e00-\u9fff]+〔\d{4}〕\d+号|〔\d{4}〕|[\u4e00-\u9fff]*\d+号", "", c.source_en)
        assert not CJK.search(english), (name, c.source_en)


@pytest.mark.parametrize("key", ["source_zh", "source_en"])
def test_the_loader_refuses_a_constant_without_a_source_in_either_language(tmp_path, key):
    folder = tmp_path / "advice"
    shutil.copytree(paths.resolve().advice, folder)
    planning = folder / "planning.toml"
    text = planning.read_text(encoding="utf-8")
    cut = re.sub(rf"(?m)^{key} = .*\n", "", text, count=1)
    assert cut != text
    planning.write_text(cut, encoding="utf-8")
    with pytest.raises(AdviceDataError, match=rf"planning.toml: constants\.figures_available_month: missing {key}"):
        load_advice_data(str(folder))


@NEEDS_PDFTOTEXT
def test_the_chinese_pdf_shows_the_planning_constants_in_chinese(tmp_path):
    """The zh method appendix lists each constant with its Chinese source and unit (个月, not "month")."""
    text = _pdf_text(_result(make_profile()), "zh", tmp_path)
    flat = re.sub(r"\s+", "", text)
    assert "规划常数取值核实程度来源" in flat
    assert "规划取舍" in flat and "Planning choice" not in text
    assert "24个月" in flat and " month" not in text
    assert "5月" in flat  # figures_available_month is a month of the year
    english = _pdf_text(_result(make_profile()), "en", tmp_path)
    assert "Planning choice" in english and "24 months" in english


# ------------------------------------------------------------------ a firm over the tech-SME size ceiling

# 640 staff, revenue 2.6亿 and assets one yuan over 2亿: every part of T2 fails, the last by one yuan.
_OVER = dict(employees=640, revenue=26000.0, revenue_prev=24000.0, revenue_prev2=22500.0, main_revenue=24500.0,
             main_revenue_prev=22600.0, main_revenue_prev2=21000.0, total_assets=20000.0001, rd_expense=700.0,
             rd_expense_prev=640.0, rd_staff=70, rd_institution="city", hnte=False)
T2_LINES = {
    "zh": ["职工总数 640 人，要求 ≤ 500 人（超出 140 人）",
           "上年度营业收入 26,000 万元，要求 ≤ 20,000 万元（超出 6,000 万元）",
           "上年末资产总额 20,000.0001 万元，要求 ≤ 20,000 万元（超出 1 元）"],
    "en": ["Total staff: 640 persons, required ≤ 500 persons (exceeds by 140 persons)",
           "Operating revenue, year t: CNY 260 million, required ≤ CNY 200 million (exceeds by CNY 60 million)",
           "Total assets, end of year t: CNY 200,000,001, required ≤ CNY 200,000,000 (exceeds by CNY 1)"],
}


@pytest.fixture(scope="module")
def over() -> dict:
    return _result(make_profile(**_OVER))


def test_the_t2_gap_exceeds_the_ceiling_by_one_yuan_in_json(over):
    t2 = next(c for c in over["tiers"]["tech_sme"]["criteria"] if c["id"] == "T2")
    items = {i["metric"]: i for i in t2["gap"]["items"]}
    assert {i["direction"] for i in items.values()} == {"above_max"}
    assert t2["status"] == "not_met" and items["total_assets"]["distance"] == pytest.approx(0.0001)
    assert over["next_tier"] != "tech_sme" and over["likely_tier"] != "tech_sme"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_text_output_reads_each_t2_part_from_the_figure_to_the_ceiling(over, lang):
    text = render_text(over, lang=lang)
    for line in T2_LINES[lang]:
        assert line in text, line
    assert "0.00 万元" not in text and "<=" not in text and ">=" not in text


@NEEDS_PDFTOTEXT
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_pdf_reads_the_t2_gap_the_same_way(over, lang, tmp_path):
    flat = re.sub(r"\s+", "", _pdf_text(over, lang, tmp_path))
    for line in T2_LINES[lang]:
        assert re.sub(r"\s+", "", line) in flat, line
    assert "超出0万元" not in flat and "exceedsbyCNY0" not in flat


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_result_page_shows_one_yuan_over_to_the_yuan(client, lang):
    client.get(f"/lang/{lang}?next=/")
    response = client.post("/assess", data=form_data(make_profile(**_OVER), rules="SME-2026"),
                           follow_redirects=True)
    page = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.text))
    if lang == "zh":
        assert "20,000.0001 万元" in page and "超出 1 元" in page and "超出 0 万元" not in page
    else:
        assert "20,000.0001 (10k CNY)" in page and "exceeds by CNY 1" in page


# ------------------------------------------------------------------ choices and yes/no in the reader's words


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_text_and_pdf_name_choices_and_yes_no_by_their_labels(over, lang, tmp_path):
    """No enum code (city, provincial, none) or Python word (True, False, None) in a gap, a model suggestion
    or an action; the R&D institution reads 市级 / City level."""
    text = render_text(over, lang=lang)
    pdf = _pdf_text(over, lang, tmp_path)
    python = r"\b(?:True|False|None(?! of these))\b"
    codes = re.compile(python + (r"|(?<![\w-])(?:city|provincial|national|below_city|none)(?![\w-])" if lang == "zh"
                                 else r"|\bbelow_city\b|= city\b"))
    for where, body in (("text", text), ("pdf", pdf)):
        lines = [line for line in body.splitlines() if codes.search(line) and not _field_code_line(line)]
        assert lines == [], (where, lines[:5])
    assert ("研发机构级别为市级，要求为省级（省部级）、国家级" if lang == "zh" else
            "Level of the R&D institution: City level, required: one of Provincial or ministerial, National") in text


def _field_code_line(line: str) -> bool:
    """The glossary lists each field's canonical name (city, hnte …) for people filling a batch file."""
    return bool(re.fullmatch(r"\s*[a-z][a-z0-9_]*\s*", line)) or "city pages" in line


# ------------------------------------------------------------------ misspelt keys


@pytest.mark.parametrize(("lang", "expected"), [
    ("zh", "警告：rd_expence：不是 GiantStep 字段，已忽略（是否应为 rd_expense？）"),
    ("en", "warning: rd_expence: not a GiantStep field, ignored (did you mean rd_expense?)")])
def test_the_cli_warns_of_a_misspelt_key_in_the_users_language_and_names_the_field(tmp_path, lang, expected):
    path = tmp_path / "firm.json"
    path.write_text(json.dumps({"revenue": 1000, "rd_expence": 50, "zzz": 1}), encoding="utf-8")
    result = CliRunner().invoke(main, ["assess", str(path), "--lang", lang, "--format", "json"])
    assert result.exit_code == 0
    assert expected in result.stderr
    zzz = [line for line in result.stderr.splitlines() if "zzz" in line]  # like no field: no suggestion
    assert len(zzz) == 1 and zzz[0].endswith("已忽略" if lang == "zh" else "ignored")


def test_a_batch_warns_of_a_header_that_looks_like_a_misspelt_field(tmp_path):
    source, out = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text("firm_name,revenue,rd_expence,notes\nA,1000,50,x\n", encoding="utf-8")
    summary = run_batch(source, out, rules="SME-2026")
    assert summary.near_misses == (("rd_expence", "rd_expense"),)  # "notes" is the user's own column
    assert "警告：列 'rd_expence' 不是 GiantStep 字段，已原样保留（是否应为 rd_expense？）" in summary.text("zh")
    assert "did you mean rd_expense?" in summary.text("en") and "notes" not in summary.text("en")


# ------------------------------------------------------------------ the same refusal everywhere

BAD = [("rd_expense", "1e30", "max", "不能大于 100,000,000 万元", "must be at most 100,000,000"),
       ("revenue", "NaN", "number", "应为数字", "expected a number"),
       ("revenue", "Infinity", "number", "应为数字", "expected a number"),
       ("employees", "-5", "min", "不能小于 0 人", "must be at least 0")]


@pytest.mark.parametrize(("field", "cell", "rule", "zh", "en"), BAD)
def test_bad_values_are_refused_alike_by_cli_api_form_and_batch(client, tmp_path, field, cell, rule, zh, en):
    """R&D of 1e30, NaN and Infinity (as text), a negative count: refused naming the field and rule."""
    profile = {"revenue": 1000, "rd_expense": 50, field: cell}
    path = tmp_path / "firm.json"
    path.write_text(json.dumps(profile), encoding="utf-8")
    for lang, words in (("zh", zh), ("en", en)):
        result = CliRunner().invoke(main, ["assess", str(path), "--lang", lang])
        assert result.exit_code == 2 and f"{field} [{rule}]:" in result.stderr and words in result.stderr
    body = client.post("/api/v1/assess", json={"profile": profile}).get_json()["error"]["errors"]
    assert [(e["field"], e["rule"]) for e in body] == [(field, rule)]
    assert zh in body[0]["message_zh"] and en in body[0]["message_en"]
    page = client.post("/assess", data=form_data({**make_profile(), field: cell}))
    assert page.status_code == 400 and zh in page.text
    source = tmp_path / "in.csv"
    row = {"revenue": "1000", "rd_expense": "50", "employees": "10", field: cell}
    source.write_text("firm_name,revenue,rd_expense,employees\nA,1000,50,10\n"
                      f"B,{row['revenue']},{row['rd_expense']},{row['employees']}\n", encoding="utf-8")
    for lang, words in (("zh", zh), ("en", en)):
        run_batch(source, tmp_path / f"out-{lang}.csv", rules="SME-2026", lang=lang)
        errors = pd.read_csv(tmp_path / f"out-{lang}.csv", keep_default_na=False)["errors"].tolist()
        assert errors[0] == "" and errors[1].startswith(f"{field}: ") and words in errors[1]


# ------------------------------------------------------------------ what the client sees on the summary page


@NEEDS_PDFTOTEXT
def test_the_summary_page_marks_each_level_one_title_and_breaks_names_cleanly(over, tmp_path):
    """The ladder's first rung shows innovative SME met and tech SME failed (T2) with a mark each; a long tier
    name in a tile breaks after 专精特新, never leaving "业" alone; a readiness under 0.5% reads <1%."""
    text = _pdf_text(over, "zh", tmp_path)
    page = text.split("\f")[1]
    assert "√ 创新型中小企业" in page and "× 科技型中小企业 44" in page
    assert not re.search(r"(?m)^\s*业\s*$", page) and "专精特新" in page
    prob = over["readiness"][over["next_tier"]]["probability"]
    assert ("<1%" if prob < 0.005 else f"{prob * 100:.0f}%") in page
    tiny = [t for t, r in over["readiness"].items() if t != "_model" and 0 < r["probability"] < 0.005]
    assert tiny and not re.search(r"(?m)\s0%\s*$", text)  # the readiness bars say <1% too


def test_a_timeline_date_at_the_right_edge_stays_clear_of_its_marker():
    """The last milestone (near the axis end) has its date left of the diamond, not under it."""
    import datetime as dt

    from reportlab.graphics.shapes import Polygon, String
    from reportlab.pdfbase.pdfmetrics import stringWidth

    from webapp.reports import charts

    start, end = dt.date(2026, 11, 30), dt.date(2029, 12, 31)
    items = [{"date": dt.date(2027, 5, 31), "label": "S26-5", "kind": "step"},
             {"date": dt.date(2029, 11, 30), "label": "取得专精特新“小巨人”企业", "kind": "milestone"}]
    drawing = charts.timeline(items, start=start, end=end, width=450)
    diamond = [s for s in drawing.contents if isinstance(s, Polygon)][-1]
    left, right = min(diamond.points[0::2]), max(diamond.points[0::2])
    date = next(s for s in drawing.contents if isinstance(s, String) and s.text == "2029-11-30")
    width = stringWidth(date.text, date.fontName, date.fontSize)
    assert date.x + width <= left or date.x >= right
    assert date.x + width <= 450


@pytest.mark.parametrize("rules", ["SME-2022", "SME-2026"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_criterion_in_the_text_output_carries_its_official_citation(rules, lang):
    """Met or not, each criterion's entry holds its document number and annex/article."""
    book = defaults.load(defaults.rule_book)
    result = _result(make_profile(**_OVER), rules)
    entries, tier = {}, None
    for line in render_text(result, lang=lang).splitlines():
        head = re.match(r"\[[✓✗?]\] .* \(([\w-]+)\): ", line)
        item = re.match(r"  [✓✗?] (\S+) ", line)
        if head:
            tier = head.group(1)
        elif item and tier:
            key = (tier, item.group(1))
            entries[key] = ""
        elif tier and line.startswith("             ") and entries:
            entries[key] += line
    checked = 0
    for t in result["tiers"].values():
        for c in t["criteria"]:
            assert book.tables[t["rules"]].criteria[c["id"]].citation(lang) in entries[(t["rules"], c["id"])], c["id"]
            checked += 1
    assert checked > 50


def test_cohort_sources_read_in_chinese_in_the_chinese_basis():
    """A publication's locator ("§3.3 city pages (national mean)") reads 城市页（全国均值） in zh."""
    fitted = json.loads((paths.resolve().cohorts / "fitted.json").read_text(encoding="utf-8"))
    text = json.dumps(fitted, ensure_ascii=False)
    assert "城市页（全国均值）" in text
    zh = [v for v in re.findall(r'"basis_zh": "([^"]*)"', text) + re.findall(r'"references_zh": \[([^\]]*)\]', text)]
    assert zh and not [s for s in zh if "city pages" in s or "national mean" in s]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_text_output_asks_nothing_to_confirm_for_a_tier_already_met(lang):
    """Innovative SME is met: its unknown direct routes (I-D1 …) are not "left to confirm"; the next tier's
    open criteria are."""
    over = _result({**_OVER, "sme_industry": "industrial", "strategic_emerging": True, "years_in_niche": 6,
                    "debt_ratio_pct": 52.0, "total_costs": 23000.0, "class1_ip": 3, "class1_ip_applied": 2,
                    "class2_ip": 20, "clean_record": True})
    assert over["tier"] == "innovative_sme" and any(c["tier"] == "innovative_sme" for c in over["to_confirm"])
    text = render_text(over, lang=lang)
    head, confirm = text.split("\n\n")[0], text.split("== ")[1]
    assert "I-D1" not in head and "I-D1" not in confirm and "S26-8" in confirm
