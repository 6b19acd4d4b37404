"""The PDF's HNTE page, read back with pdftotext from real engine results, in Chinese and English."""

from __future__ import annotations

import re
import shutil
import subprocess

import pandas as pd
import pytest

from tests.factories import make_profile
from webapp.engine.assess import assess
from webapp.reports.pdf import render_pdf

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs pdftotext (poppler-utils)")

# Grades and transfers that put the innovation score above 70 (74-88): HNTE met.
STRONG = {"tech_level": "a", "core_support": "a", "tech_transfers_3y": 15}
TITLE = {"zh": "高新技术企业认定", "en": "High and New Technology Enterprise (HNTE)"}
CRITERIA_HEADING = {"zh": "逐项评价", "en": "Criterion by criterion"}


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def pdf_pages(result: dict, lang: str, tmp_path) -> list[str]:
    """The report of ``result`` as the whitespace-free text of each page."""
    path = tmp_path / f"report-{lang}.pdf"
    with open(path, "wb") as fh:
        render_pdf(result, fh, lang=lang, invariant=True)
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    return [_flat(page) for page in text.split("\f")]


def result_of(**overrides) -> dict:
    """The engine's result with advice (no cohorts or model, to stay fast)."""
    frame = pd.DataFrame([make_profile(**overrides)], dtype=object)
    return assess(frame, cohorts=False, model=False).to_dict(0, advice=True)


@pytest.fixture(scope="module")
def met_result() -> dict:
    """A firm whose figures meet HNTE and which does not hold the certificate yet."""
    return result_of(hnte=False, **STRONG)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_hnte_page_follows_the_ladder_criteria_with_status_score_table_and_message(met_result, lang,
                                                                                      tmp_path):
    """One page of its own after the ladder's criteria: status, score vs pass mark, H1-H8, the message."""
    pages = pdf_pages(met_result, lang, tmp_path)
    title = _flat(TITLE[lang])
    start = next(i for i, p in enumerate(pages) if title in p and "H7-IP" in p)
    criteria = next(i for i, p in enumerate(pages) if _flat(CRITERIA_HEADING[lang]) in p)
    assert criteria < start
    ladder_pages = "".join(pages[criteria:start])
    assert "H7-IP" not in ladder_pages and _flat("注册成立一年以上") not in ladder_pages
    page = "".join(pages[start:start + 2])
    brief = met_result["advice"]["hnte"]
    assert _flat(brief[f"message_{lang}"]) in page
    for cid in ("H1", "H2", "H3", "H4", "H5", "H6", "H7-IP", "H7-T", "H7-M", "H7-G", "H7", "H8"):
        assert cid in page
    assert "74–88" in page
    assert ("70分以上" in page and "符合" in page) if lang == "zh" else ("above70" in page and "met" in page)
    h4 = "国科发火〔2016〕32号 第十一条（四）" if lang == "zh" else "MOST Torch [2016] No. 32, Article 11 (4)"
    assert _flat(h4) in page  # the official citation of H4
    assert "Reprints" not in page and "criteria.md" not in page and "bestb2b" not in page  # no notes


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_certificate_holder_reads_that_it_holds_one(lang, tmp_path):
    """Holding a valid certificate: the page's message says so."""
    result = result_of(hnte=True, **STRONG)
    text = "".join(pdf_pages(result, lang, tmp_path))
    assert _flat({"zh": "您已持有有效的高企证书", "en": "You hold a valid HNTE certificate"}[lang]) in text
