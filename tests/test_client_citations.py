"""Client-facing output cites the official documents (issuing body, number, annex, item) and nothing else:
no research mirror, no address off a government host, no internal file name — in the PDF, the text output,
the JSON result and the web page, under both SME rule sets and in both languages."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from tests.factories import make_profile
from tests.web.helpers import form_data
from webapp.engine import defaults
from webapp.engine.assess import assess
from webapp.engine.rules.citations import load_documents
from webapp.engine.rules.parts import RuleTableError
from webapp.engine.rules.rulebook import load_rule_book
from webapp.reports.pdf import render_pdf
from webapp.reports.text import render_text

RULES_DIR = Path(__file__).resolve().parents[1] / "data" / "rules"
ADDRESS = re.compile(r"(?<![\w@])(?:[a-z0-9-]+\.)+(?:com|cn|net|org|edu|io|info)\b(?:/\S*)?", re.IGNORECASE)
INTERNAL = re.compile(r"criteria\.md|seed-figures|statistics\.md|\b[\w-]+\.(?:md|toml|csv|py)\b|data/(?:rules|cohorts)"
                      r"|third-party rule file|\[secondary\]", re.IGNORECASE)
NUMBERS = {"SME-2022": ("工信部企业〔2022〕63号", "MIIT Enterprise [2022] No. 63"),
           "SME-2026": ("工信部企业〔2026〕2号", "MIIT Enterprise [2026] No. 2")}
AS_OF = {"SME-2022": "2026-03-01", "SME-2026": "2026-11-20"}


def leaks(text: str) -> list[str]:
    """Addresses off government hosts and internal names found in ``text``."""
    hosts = [m.group(0) for m in ADDRESS.finditer(text) if not _government(m.group(0))]
    return hosts + [m.group(0) for m in INTERNAL.finditer(text)]


def _government(address: str) -> bool:
    host = address.split("/", 1)[0].lower()
    return host.endswith(".gov.cn")


def _result(rules: str, profile: dict | None = None) -> dict:
    frame = pd.DataFrame([profile or make_profile()], dtype=object)
    return assess(frame, rules=rules).to_dict(0, advice=True)


def test_every_criterion_carries_an_official_citation():
    """Each criterion of each table cites a document of documents.toml; each table cites its instrument."""
    book = load_rule_book()
    assert book.documents
    for table in book.tables.values():
        assert table.cite, table.id
        for crit in table.criteria.values():
            assert crit.cite, (table.id, crit.id)
            for lang in ("zh", "en"):
                assert crit.citation(lang) and not leaks(crit.citation(lang)), (crit.id, crit.citation(lang))
    assert book.tables["SME-2026"].criteria["G26-2"].citation("zh") == "工信部企业〔2026〕2号附件2"
    assert book.tables["SME-2022"].criteria["S22-H2"].citation("en") == \
        "MIIT Enterprise [2022] No. 63, Annex 2, condition (2)"
    assert book.tables["TECH-2017"].instrument_zh == "《科技型中小企业评价办法》（国科发政〔2017〕115号）"


def test_a_citation_off_a_government_host_or_missing_is_refused(tmp_path):
    """The loader refuses a document address off *.gov.cn, an unknown document and a criterion without cite."""
    rules = tmp_path / "rules"
    shutil.copytree(RULES_DIR, rules)
    docs = rules / "documents.toml"
    original = docs.read_text(encoding="utf-8")
    docs.write_text(original.replace("https://www.gov.cn/zhengce", "https://www.example.com/zhengce"), "utf-8")
    with pytest.raises(RuleTableError, match=r"documents\.sme-2022: url must be on a government host"):
        load_documents(rules)
    docs.write_text(original, "utf-8")
    table = rules / "SME-2026.toml"
    text = table.read_text(encoding="utf-8")
    table.write_text(text.replace('cite = { doc = "sme-2026", annex = 2 }', 'cite = { doc = "sme-2031" }', 1),
                     "utf-8")
    with pytest.raises(RuleTableError, match=r"G26-1.*unknown document 'sme-2031'"):
        load_rule_book(rules)
    table.write_text(text.replace('cite = { doc = "sme-2026", annex = 2 }\n', "", 1), "utf-8")
    with pytest.raises(RuleTableError, match=r"G26-1.*missing cite"):
        load_rule_book(rules)


@pytest.mark.parametrize("rules", ["SME-2022", "SME-2026"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_text_and_json_cite_documents_and_leak_nothing(rules, lang):
    """`--format text` names the documents (with numbers) and the JSON result leaks no mirror or file name."""
    result = _result(rules)
    text = render_text(result, lang=lang)
    assert leaks(text) == []
    number = NUMBERS[rules][0 if lang == "zh" else 1]
    assert number in text and ("115号" if lang == "zh" else "[2017] No. 115") in text
    assert leaks(json.dumps(result, ensure_ascii=False)) == []


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed")
@pytest.mark.parametrize("rules", ["SME-2022", "SME-2026"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_pdf_cites_documents_with_government_addresses_only(rules, lang, tmp_path):
    """The PDF's criteria and method pages cite the documents; every address printed is on *.gov.cn."""
    buffer = io.BytesIO()
    render_pdf(_result(rules), buffer, lang=lang, rule_book=defaults.load(defaults.rule_book))
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(buffer.getvalue())
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    flat = re.sub(r"\s+", "", text)
    assert leaks(text) == [] and leaks(flat.replace("。", ". ")) == []
    assert re.sub(r"\s+", "", NUMBERS[rules][0 if lang == "zh" else 1]) in flat
    assert "gov.cn" in flat


@pytest.mark.parametrize("rules", ["SME-2022", "SME-2026"])
def test_web_result_page_cites_documents(client, rules):
    """The result page shows each criterion's official citation and no mirror or internal name."""
    for lang in ("zh", "en"):
        client.get(f"/lang/{lang}")
        client.post("/assess", data=form_data(rules=rules))
        html = client.get("/assess/result").text
        visible = re.sub(r"<[^>]+>", " ", html)
        assert leaks(visible) == [], lang
        assert NUMBERS[rules][0 if lang == "zh" else 1] in visible
