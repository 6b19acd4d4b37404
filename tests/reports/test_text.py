"""The plain-text output: the ladder's tiers, then HNTE in a block of its own with the consultant's message."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tests.factories import make_profile
from webapp.cli import main

HEADING = {"zh": "== 与梯度培育阶梯并行的资质（不是阶梯的一级） ==",
           "en": "== Qualification beside the ladder (not one of its rungs) =="}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_text_output_shows_hnte_after_the_ladder_with_its_message(lang, tmp_path):
    """``giantstep assess --format text``: HNTE after every ladder tier, headed as a qualification beside it."""
    path = tmp_path / "firm.json"
    path.write_text(json.dumps(make_profile(hnte=False)), encoding="utf-8")
    runner = CliRunner()
    text = runner.invoke(main, ["assess", str(path), "--format", "text", "--lang", lang]).output
    result = json.loads(runner.invoke(main, ["assess", str(path), "--lang", lang]).output)
    block = text.split(HEADING[lang], 1)[1]
    before = text.split(HEADING[lang], 1)[0]
    assert "H7-IP" in block and "H7-IP" not in before
    assert all(result["tiers"][t][f"name_{lang}"] in before for t in result["tiers"] if t != "hnte")
    assert result["advice"]["hnte"][f"message_{lang}"] in block
    assert ("合格线：70分以上（不含70分）" if lang == "zh" else "pass mark: above 70") in block
    assert ("有效期3年" if lang == "zh" else "valid 3 years") in block
