"""The headline says the likely tier and what is left to confirm: text output and PDF (read back with
pdftotext), from the quick fields of a real SRDI firm."""

from __future__ import annotations

import shutil
import subprocess

import pandas as pd
import pytest

from tests.factories import make_profile
from webapp.engine.advice.advise import advise
from webapp.engine.assess import assess
from webapp.engine.rules.rulebook import load_rule_book
from webapp.reports.pdf import render_pdf
from webapp.reports.text import render_text


@pytest.fixture(scope="module")
def quick_result() -> tuple[dict, dict]:
    quick = {k: v for k, v in make_profile().items() if k in set(load_rule_book().quick_fields)}
    result = assess(pd.DataFrame([quick], dtype=object), rules="SME-2026", cohorts=False).to_dict(0)
    result["advice"] = advise(result, quick)
    return quick, result


def test_quick_result_is_conditional(quick_result):
    _, result = quick_result
    assert result["tier"] == "none" and result["likely_tier"] == "srdi_sme"
    assert {c["id"] for c in result["to_confirm"] if c["tier"] == "srdi_sme"} == {"E3", "S26-7"}


@pytest.mark.parametrize("lang, head", [("zh", "可能层级：专精特新中小企业（待确认：E3, S26-7）"),
                                        ("en", "Likely tier: SRDI SME (provincial) (to confirm: E3, S26-7)")])
def test_text_headline(quick_result, lang, head):
    """The likely line names the likely tier and only its own open criteria (the next tier's are listed in
    the to-confirm block below)."""
    lines = render_text(quick_result[1], lang=lang).splitlines()
    assert head in lines[:5]


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs pdftotext (poppler-utils)")
@pytest.mark.parametrize("lang, words", [
    ("zh", ("可能层级（待确认）", "专精特新中小企业（待确认：E3 无违法违规与失信记录（自我声明）", "尚待确认",
            "可能在此")),
    ("en", ("Likely tier (to confirm)", "SRDI SME (provincial) (to confirm: E3 Clean record (declaration)",
            "left to confirm", "likely here")),
])
def test_pdf_cover_and_summary_say_the_likely_tier(quick_result, lang, words, tmp_path):
    pdf = tmp_path / "r.pdf"
    with open(pdf, "wb") as fh:
        render_pdf(quick_result[1], fh, lang=lang)
    pages = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True,
                           check=True).stdout.split("\f")
    first_two = " ".join(" ".join(p.split()) for p in pages[:2])
    flat = first_two.replace(" ", "") if lang == "zh" else first_two
    for word in words:
        assert (word.replace(" ", "") if lang == "zh" else word) in flat, word
