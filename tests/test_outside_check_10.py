"""Issue 10's outside check, kept as tests: what a client reads in the text output and the PDF is in the
reader's language (planning constants' sources, choices, yes/no), and a ceiling exceeded by one yuan reads
as exceeded by one yuan, not by "0 万元"."""

from __future__ import annotations

import io
import re
import shutil
import subprocess

import pandas as pd
import pytest

from tests.factories import make_profile
from webapp import paths
from webapp.engine import defaults
from webapp.engine.advice.data import AdviceDataError, load_advice_data
from webapp.engine.assess import assess
from webapp.reports.pdf import render_pdf

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
