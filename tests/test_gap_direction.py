"""Gaps say which way: a ceiling is exceeded (超出), a floor is short (还差), a choice is required."""

from __future__ import annotations

import io
import json
import re

import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from tests.factories import make_profile
from tests.web.helpers import add_client, register, save_assessment
from webapp.cli import main
from webapp.engine.assess import assess

# Over the tech-SME revenue ceiling (T2: revenue <= 20000) by 6000, everything else in order.
BIG = dict(revenue=26000.0, revenue_prev=20000.0, revenue_prev2=15000.0, main_revenue=24000.0,
           main_revenue_prev=18000.0, main_revenue_prev2=14000.0, total_assets=15000.0,
           rd_expense=1600.0, rd_expense_prev=1000.0, rd_expense_prev2=800.0)
# Short of the 3% R&D ratio (200 / 8000 = 2.5%), with no clean record and no R&D institution.
SHORT = dict(rd_expense=200.0, clean_record=False, rd_institution="none")


def _items(result: dict, tier: str, crit: str) -> list[dict]:
    for c in result["tiers"][tier]["criteria"]:
        if c["id"] == crit:
            return (c.get("gap") or {}).get("items", [])
    raise AssertionError(f"{tier} {crit} not found")


def _result(profile: dict, rules: str = "SME-2022") -> dict:
    return assess(pd.DataFrame([profile], dtype=object), rules=rules, cohorts=False, model=False).to_dict(0)


def test_ceiling_is_above_max_with_a_positive_distance():
    """Revenue over the T2 ceiling: direction above_max, distance 6000 (non-negative)."""
    items = _items(_result(make_profile(**BIG)), "tech_sme", "T2")
    rev = [i for i in items if i.get("metric") == "revenue"]
    assert len(rev) == 1
    assert rev[0]["direction"] == "above_max" and rev[0]["distance"] == pytest.approx(6000.0)


def test_floor_is_below_min_and_choices_are_not_equal():
    """An R&D ratio under its floor is below_min; enum and yes/no conditions are not_equal."""
    result = _result(make_profile(**SHORT))
    rd = [i for i in _items(result, "innovative_sme", "I2") if i.get("metric") == "rd_ratio"][0]
    assert rd["direction"] == "below_min" and rd["distance"] == pytest.approx(0.005)
    assert [i["direction"] for i in _items(result, "tech_sme", "T3")] == ["not_equal"]
    assert {i["direction"] for i in _items(result, "innovative_sme", "I-D3")} == {"not_equal"}
    for tier in result["tiers"].values():
        for c in tier["criteria"]:
            for item in (c.get("gap") or {}).get("items", []):
                assert item.get("direction") in ("below_min", "above_max", "not_equal"), item
                assert item.get("distance") is None or item["distance"] >= 0


def _cli_text(tmp_path, lang: str, **overrides) -> str:
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(make_profile(**overrides), ensure_ascii=False), encoding="utf-8")
    res = CliRunner().invoke(main, ["assess", str(path), "--rules", "SME-2022", "--format", "text",
                                    "--lang", lang])
    assert res.exit_code == 0, res.output
    return res.stdout


def _line(text: str, needle: str) -> str:
    lines = [ln for ln in text.splitlines() if needle in ln]
    assert lines, f"{needle!r} not in output"
    return lines[0]


def test_text_output_says_which_way(tmp_path):
    """The CLI text output says 超出 / exceeds by for the ceiling and never 还差 for it."""
    zh = _cli_text(tmp_path, "zh", **BIG)
    line = _line(zh, "上年度营业收入 26,000")
    assert "超出 6,000" in line and "还差" not in line
    en = _cli_text(tmp_path, "en", **BIG)
    line = _line(en, "CNY 260 million, required ≤ CNY 200 million")
    assert "exceeds by CNY 60 million" in line and "short by" not in line


def test_text_output_gives_percentage_points(tmp_path):
    """A ratio shortfall reads in percentage points, with 还差 / short by."""
    zh = _cli_text(tmp_path, "zh", **SHORT)
    assert re.search(r"2\.5%，要求 ≥ 3%（还差 0\.5 个百分点", zh)
    en = _cli_text(tmp_path, "en", **SHORT)
    assert re.search(r"2\.5%, required ≥ 3% \(short by 0\.5 percentage points", en)


def test_one_point_is_singular_in_text_and_on_the_page(tmp_path, client):
    """An R&D ratio one point short (2% of revenue against 3%) reads "1 percentage point" in the CLI text and
    on the result page alike (one wording, from advice.format)."""
    one = dict(SHORT, rd_expense=160.0)
    en = _cli_text(tmp_path, "en", **one)
    assert re.search(r"2%, required ≥ 3% \(short by 1 percentage point[;)]", en)
    from tests.web.helpers import form_data
    client.get("/lang/en")
    client.post("/assess", data=form_data(make_profile(**one), rules="SME-2022"))
    spans = re.findall(r'<span class="gap-distance gap-(\w+)">([^<]*)</span>', client.get("/assess/result").text)
    assert ("below_min", "short by 1 percentage point") in spans


def test_web_result_says_which_way(client):
    """The result page marks the ceiling 超出 and the floor 还差, in points for ratios."""
    from tests.web.helpers import form_data
    client.post("/assess", data=form_data(make_profile(**BIG), rules="SME-2022"))
    html = client.get("/assess/result").text
    spans = re.findall(r'<span class="gap-distance gap-(\w+)">([^<]*)</span>', html)
    assert ("above_max", "超出 6,000 万元") in spans
    assert all(not text.startswith("还差") for d, text in spans if d == "above_max")
    assert all(text.startswith("还差") for d, text in spans if d == "below_min")
    client.get("/lang/en")
    html = client.get("/assess/result").text
    assert "exceeds by" in html


def test_xlsx_says_which_way(client):
    """The XLSX export writes 超出 for the ceiling, not a bare +distance."""
    register(client)
    aid = save_assessment(client, add_client(client), **BIG)
    book = load_workbook(io.BytesIO(client.get(f"/assessments/{aid}/export.xlsx").data))
    cells = [str(v) for row in book["评估结果"].iter_rows(values_only=True) for v in row if v]
    ceiling = [v for v in cells if "26,000" in v and "≤" in v or "26,000" in v and "<=" in v]
    assert ceiling and all("超出 6,000" in v for v in ceiling)
    assert not any("+6,000" in v for v in cells)


# A new SME-2026 applicant holding the SRDI title whose revenue grew 1.3% a year (CAGR 8000 over 7800 two
# years before): G26-2 fails on the CAGR alone.
SLOW = dict(revenue=8000.0, revenue_prev=7900.0, revenue_prev2=7800.0, main_revenue=7600.0,
            main_revenue_prev=7500.0, main_revenue_prev2=7400.0, rd_expense=700.0, rd_expense_prev=600.0)
# How the assessment mode leaked into a gap: "review 否 要求 = 是", "review达到为 是", "review is no".
FLAG_LEAK = re.compile(r"(?<![-\w])review\s*(否|是|达到|目前|==|=|is\b|no\b|yes\b)", re.IGNORECASE)


def test_new_applicant_is_told_the_cagr_it_fails():
    """G26-2's gap is the two-year revenue CAGR (value, threshold, below_min), never the assessment mode."""
    items = _items(_result(make_profile(**SLOW), rules="SME-2026"), "little_giant", "G26-2")
    assert [i["metric"] for i in items] == ["revenue_cagr2"]
    cagr = items[0]
    assert cagr["direction"] == "below_min" and cagr["threshold"] == 0.05
    assert cagr["value"] == pytest.approx((8000 / 7800) ** 0.5 - 1)
    assert cagr["distance"] == pytest.approx(0.05 - cagr["value"])


def _flag_free(text: str, where: str) -> None:
    leak = FLAG_LEAK.search(text)
    assert leak is None, f"{where}: {text[max(leak.start() - 60, 0):leak.end() + 20]!r}"


def test_cagr_gap_in_text_web_and_pdf(client, tmp_path):
    """Text output, the result page, the advice and the PDF (read back with pdftotext) name the CAGR it fails,
    never an internal flag."""
    import shutil
    import subprocess

    from webapp.engine.advice.advise import advise
    from webapp.reports.pdf import render_pdf

    path = tmp_path / "profile.json"
    path.write_text(json.dumps(make_profile(**SLOW), ensure_ascii=False), encoding="utf-8")
    for lang, words in (("zh", ("近两年营业收入复合增长率 1.27%，要求 ≥ 5%", "还差 3.73 个百分点")),
                        ("en", ("Two-year revenue CAGR: 1.27%, required ≥ 5%", "short by 3.73 percentage points"))):
        res = CliRunner().invoke(main, ["assess", str(path), "--rules", "SME-2026", "--format", "text",
                                        "--lang", lang])
        line = _line(res.stdout, words[0])
        assert words[1] in line
        _flag_free(_line(res.stdout, "G26-2") + line, f"text {lang}")

    from tests.web.helpers import form_data
    client.post("/assess", data=form_data(make_profile(**SLOW), rules="SME-2026"))
    html = client.get("/assess/result").text
    assert "近两年营业收入复合增长率" in html and "还差 3.73 个百分点" in html
    _flag_free(re.sub(r"<[^>]+>", " ", html), "web")

    if shutil.which("pdftotext") is None:
        pytest.skip("needs pdftotext (poppler-utils)")
    profile = make_profile(**SLOW)
    result = assess(pd.DataFrame([profile], dtype=object), rules="SME-2026", cohorts=False).to_dict(0)
    result["advice"] = advise(result, profile)
    growth = next(a for a in result["advice"]["actions"] if a["criterion"] == "G26-2")
    assert "复合增长率" in growth["title_zh"] and "CAGR" in growth["title_en"]
    assert "1.27%" in growth["detail_zh"] and "5%" in growth["detail_zh"]
    for lang in ("zh", "en"):
        pdf = tmp_path / f"r-{lang}.pdf"
        with open(pdf, "wb") as fh:
            render_pdf(result, fh, lang=lang)
        text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True,
                              check=True).stdout
        assert ("复合增长率" if lang == "zh" else "CAGR") in text
        _flag_free(text, f"pdf {lang}")
