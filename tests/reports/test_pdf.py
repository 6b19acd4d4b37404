"""The PDF story and file: content in both languages, escaping, missing sections, fonts, byte stability."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import sys

import pytest
from reportlab.graphics.shapes import Drawing, Group, String
from reportlab.platypus import KeepTogether, Paragraph, Table

from webapp import fields
from webapp.reports.pdf import build_story, render_pdf
from webapp.reports.sections.common import percent
from webapp.reports.styles import FALLBACK_CID, register_fonts


def _texts(items) -> list[str]:
    """Every piece of text in a story: paragraphs, table cells, chart labels, nested containers."""
    out = []
    for item in items:
        if isinstance(item, Paragraph):
            out.append(item.getPlainText())
        elif isinstance(item, str):
            out.append(item)
        elif isinstance(item, Table):
            out += _texts(cell for row in item._cellvalues for cell in row)
        elif isinstance(item, KeepTogether):
            out += _texts(item._content)
        elif isinstance(item, list | tuple):
            out += _texts(item)
        elif isinstance(item, Drawing | Group):
            out += [s.text for s in item.contents if isinstance(s, String)]
            out += _texts(g for g in item.contents if isinstance(g, Group))
    return out


def story_text(result, lang, **kw) -> str:
    """The plain text of the report's story."""
    return "\n".join(_texts(build_story(result, lang, **kw)))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_story_names_the_firm_tiers_and_every_criterion(full_result, lang):
    text = story_text(full_result, lang)
    assert full_result["firm_name"] in text
    for tier in full_result["tiers"].values():
        assert tier[f"name_{lang}"] in text
        for c in tier["criteria"]:
            assert re.search(rf"(^|\s){re.escape(c['id'])}(\s|$)", text), c["id"]
    for version in full_result["rule_versions"].values():
        assert version in text


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("which", ["full_result", "champion_step_result"])
def test_optional_sections_render_when_present(request, which, lang):
    """What the engine adds is shown: every benchmark cohort by name, each tier's probability beside its name,
    the readiness drivers, the model card, and the advice's actions."""
    result = request.getfixturevalue(which)
    text = story_text(result, lang)
    for cid in result["benchmarks"]:
        assert result["cohorts"][cid][f"name_{lang}"] in text, cid
    readiness = {t: v for t, v in result["readiness"].items() if t != "_model"}
    assert readiness and set(readiness) <= set(result["tiers"])
    for tier, entry in readiness.items():
        name = result["tiers"][tier][f"name_{lang}"]
        shown = re.escape(percent(entry["probability"]))  # "<1%" for a small but non-zero probability
        assert re.search(rf"{re.escape(name)}\n(?:[^\n]*\n){{0,2}}{shown}", text), tier
        for driver in entry["drivers"]:
            assert fields.label(driver["field"], lang) in text, (tier, driver["field"])
    assert result["readiness"]["_model"][f"card_summary_{lang}"] in text
    for action in result["advice"]["actions"][:3]:
        assert action[f"title_{lang}"] in text
    assert "This report has no" not in text and "本报告未包含" not in text
    assert "本报告未使用" not in text and "This report uses no" not in text


def test_the_fixtures_exercise_drivers_and_a_second_radar_series(full_result, champion_step_result):
    """Guards the fixtures above: real drivers to render, and a next-tier cohort beside little giants."""
    assert any(v["drivers"] for t, v in full_result["readiness"].items() if t != "_model")
    assert {"little_giant", "tier_single_champion"} <= set(champion_step_result["dimensions"])


@pytest.mark.parametrize("lang,na", [("zh", "本报告未包含"), ("en", "This report has no")])
def test_missing_sections_say_so_and_invent_nothing(bare_result, lang, na):
    text = story_text(bare_result, lang)
    assert text.count(na) >= 2          # benchmarks and readiness
    assert "%" not in text.split(na)[0].splitlines()[-1]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_sparse_quick_check_renders(sparse_result, lang):
    text = story_text(sparse_result, lang)
    assert sparse_result["firm_name"] in text
    assert ("补齐数据" if lang == "zh" else "Fill in") in text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_user_text_is_escaped(nasty_result, lang):
    story = build_story(nasty_result, lang, consultant="A & <i>B</i>", client="<client>")
    text = "\n".join(_texts(story))
    assert "<b>Evil</b> & Co." in text and "A & <i>B</i>" in text and "<client>" in text
    buf = io.BytesIO()
    render_pdf(nasty_result, buf, lang=lang, consultant="A & <i>B</i>", client="<client>")
    assert buf.getvalue().startswith(b"%PDF")


def test_invariant_output_is_byte_stable(full_result):
    first, second = io.BytesIO(), io.BytesIO()
    render_pdf(full_result, first, lang="zh", invariant=True)
    render_pdf(full_result, second, lang="zh", invariant=True)
    assert first.getvalue() == second.getvalue()


@pytest.mark.slow
def test_invariant_output_is_byte_stable_across_processes(tmp_path):
    """Two processes (each with its own hash seed) assess the same firm and write the same PDF bytes."""
    code = ("import sys; from tests.reports.conftest import result_of; from tests.factories import make_profile;"
            "from webapp.reports.pdf import render_pdf;"
            "render_pdf(result_of(make_profile()), open(sys.argv[1], 'wb'), lang='en', invariant=True)")
    runs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path / name)]) for name in ("a.pdf", "b.pdf")]
    assert [run.wait(timeout=300) for run in runs] == [0, 0]   # side by side: one process per core
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes()


def test_cjk_font_is_embedded(full_result, tmp_path):
    fonts = register_fonts()
    path = tmp_path / "r.pdf"
    with open(path, "wb") as fh:
        render_pdf(full_result, fh, lang="zh")
    if not fonts.embedded:
        pytest.skip("no CJK TrueType font on this machine: STSong-Light is used, by design")
    if shutil.which("pdffonts"):
        rows = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
        cjk = [r for r in rows.splitlines() if "TrueType" in r]
        assert cjk and all(re.search(r"\byes\s+yes\s+yes\b", r) for r in cjk)
    else:
        data = path.read_bytes()
        assert b"/FontFile2" in data


def test_a_font_that_is_not_truetype_falls_back_to_stsong(full_result, tmp_path):
    junk = tmp_path / "not-a-font.ttf"
    junk.write_bytes(b"not a font")
    fonts = register_fonts(str(junk))
    assert fonts.cjk == FALLBACK_CID and not fonts.embedded
    buf = io.BytesIO()
    render_pdf(full_result, buf, lang="zh", font=str(junk))
    assert b"STSong-Light" in buf.getvalue()


def test_logo_and_paths(full_result, tmp_path):
    """A logo given as bytes or as a path is the report's one image (the charts are vector drawings); the
    consultant is named; the output may be a file name."""
    from PIL import Image

    logo = tmp_path / "logo.png"
    Image.new("RGB", (120, 40), "navy").save(logo)
    for given in (logo.read_bytes(), str(logo)):
        out = tmp_path / "with-logo.pdf"
        render_pdf(full_result, str(out), lang="en", logo=given, consultant="Example Advisory")
        data = out.read_bytes()
        assert data.startswith(b"%PDF") and data.count(b"/Subtype /Image") == 1
    plain = io.BytesIO()
    render_pdf(full_result, plain, lang="en")
    assert b"/Subtype /Image" not in plain.getvalue()
    assert "Example Advisory" in story_text(full_result, "en", consultant="Example Advisory")


def test_bad_language_and_bad_input_are_refused(full_result):
    with pytest.raises(ValueError, match="language"):
        build_story(full_result, "fr")
    with pytest.raises(ValueError, match="tiers"):
        render_pdf({"tier": "none"}, io.BytesIO())


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_client_edition_leaves_out_the_method_appendix(full_result, lang):
    """The client edition has every section but "Method and sources"; the practice name is on its cover."""
    from webapp.reports.sections.common import WORDS
    from webapp.reports.sections.method import _TEXT

    full = story_text(full_result, lang)
    client = story_text(full_result, lang, edition="client", practice="示例咨询 & Partners <Ltd>")
    method, sources = WORDS[lang]["method"], _TEXT[lang]["criteria_sources"]
    assert method in full and sources in full
    assert method not in client and sources not in client
    assert WORDS[lang]["glossary"] in client and WORDS[lang]["plan"] in client
    assert "示例咨询 & Partners <Ltd>" in client and "示例咨询" not in full
    with pytest.raises(ValueError, match="edition"):
        build_story(full_result, lang, edition="short")
