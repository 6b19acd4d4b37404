"""The text output's action blocks (to confirm, readiness, top actions) on real results from ``giantstep assess``."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tests.factories import make_profile
from webapp.cli import main
from webapp.reports.text import render_text


def _run(tmp_path, profile: dict, fmt: str) -> str:
    path = tmp_path / "firm.json"
    path.write_text(json.dumps(profile, ensure_ascii=False), encoding="utf-8")
    args = ["assess", str(path), "--format", fmt, "--lang", "en", "--as-of", "2026-11-20"]
    out = CliRunner().invoke(main, args)
    assert out.exit_code == 0, out.output
    return out.stdout


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """(json result, text) for the factory firm and for one whose clean record is unknown."""
    made = {}
    for key, profile in (("full", make_profile()), ("open", make_profile(clean_record=None))):
        tmp = tmp_path_factory.mktemp(key)
        made[key] = json.loads(_run(tmp, profile, "json")), _run(tmp, profile, "text")
    return made


def test_blocks_come_after_the_tier_lines_and_before_the_criteria(runs):
    _, text = runs["open"]
    order = [text.index(h) for h in ("Likely tier:", "== What is left to confirm ==",
                                     "== Readiness (model estimate) ==", "== Top actions ==", "\n[")]
    assert order == sorted(order)


def test_to_confirm_lists_each_entry_or_nothing(runs):
    result, text = runs["open"]
    assert result["to_confirm"]
    for c in result["to_confirm"]:
        assert f"{c['id']} {c['name_en']}" in text
    full, full_text = runs["full"]
    assert ("== What is left to confirm ==" in full_text) == bool(full["to_confirm"])


def test_readiness_shows_percentages_model_summary_and_worded_drivers(runs):
    result, text = runs["full"]
    readiness = result["readiness"]
    assert "== Readiness (model estimate) ==" in text
    probs = {t: r["probability"] for t, r in readiness.items() if t != "_model" and r["probability"] >= 0.01}
    assert probs
    for tid, p in probs.items():
        assert f"{result['tiers'][tid]['name_en']}: {round(100 * p)}%" in text
    assert readiness["_model"]["card_summary_en"] in text
    assert "simulated population" in text
    drivers = [d for t, r in readiness.items() if t != "_model" for d in r["drivers"][:2]]
    assert drivers, "the factory firm should get model suggestions"
    assert text.count("Model suggests: ") == len(drivers)


def test_top_actions_are_the_first_three_ranked(runs):
    result, text = runs["full"]
    actions = result["advice"]["actions"]
    assert "== Top actions ==" in text
    assert f"1. {actions[0]['title_en']}" in text
    block = text.split("== Top actions ==")[1].split("\n[")[0]
    assert block.count("\n  ") == min(3, len(actions))
    if actions[0].get("eta"):
        assert actions[0]["eta"] in block


def test_blocks_are_skipped_when_their_keys_are_absent(runs):
    result, _ = runs["full"]
    bare = {k: v for k, v in result.items() if k not in ("readiness", "advice", "to_confirm")}
    text = render_text(bare, lang="zh")
    for heading in ("待确认事项", "认定准备度", "优先行动"):
        assert heading not in text
    zh = render_text(result, lang="zh")
    assert "认定准备度（模型估计）" in zh and "优先行动" in zh and "模型提示：" in zh
