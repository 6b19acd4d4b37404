"""One configuration path: the folders set by environment or app config are honoured everywhere, and a file that
cannot load stops the start with one line naming it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from tests.factories import make_profile
from webapp import paths
from webapp.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def rules_copy(tmp_path):
    """A copy of the shipped rule tables to edit."""
    folder = tmp_path / "rules"
    shutil.copytree(paths.resolve().rules, folder)
    return folder


@pytest.fixture
def broken_rules(rules_copy):
    """A rules folder whose SME-2026 table is not valid TOML."""
    (rules_copy / "SME-2026.toml").write_text("[table\nid = ", encoding="utf-8")
    return rules_copy


def _rename_little_giant(folder: Path) -> None:
    path = folder / "SME-2026.toml"
    text = path.read_text(encoding="utf-8")
    assert 'name_en = "Little giant' in text
    path.write_text(text.replace('name_en = "Little giant', 'name_en = "Renamed little giant', 1), encoding="utf-8")


def test_resolve_order_is_argument_then_environment_then_repository(tmp_path, monkeypatch):
    """An explicit folder beats GIANTSTEP_*; the rules follow the data folder unless set on their own."""
    monkeypatch.delenv("GIANTSTEP_RULES_DIR", raising=False)
    monkeypatch.setenv("GIANTSTEP_DATA_DIR", str(tmp_path / "env-data"))
    where = paths.resolve()
    assert where.data == tmp_path / "env-data" and where.rules == tmp_path / "env-data" / "rules"
    assert where.cohorts == tmp_path / "env-data" / "cohorts"
    assert paths.resolve(data=tmp_path / "arg").rules == tmp_path / "arg" / "rules"
    monkeypatch.setenv("GIANTSTEP_RULES_DIR", str(tmp_path / "r"))
    assert paths.resolve().rules == tmp_path / "r"
    monkeypatch.delenv("GIANTSTEP_DATA_DIR")
    monkeypatch.delenv("GIANTSTEP_RULES_DIR")
    assert paths.resolve().rules == ROOT / "data" / "rules"


def test_cli_judges_with_the_rules_folder_of_the_environment(rules_copy, tmp_path, monkeypatch):
    """GIANTSTEP_RULES_DIR changes what ``giantstep assess`` judges with."""
    _rename_little_giant(rules_copy)
    profile = tmp_path / "firm.json"
    profile.write_text(json.dumps(make_profile()), encoding="utf-8")
    monkeypatch.setenv("GIANTSTEP_RULES_DIR", str(rules_copy))
    result = CliRunner().invoke(main, ["assess", str(profile), "--rules", "SME-2026", "--as-of", "2026-11-20"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["tiers"]["little_giant"]["name_en"].startswith("Renamed little giant")


def test_flask_app_judges_with_its_own_rules_folder(rules_copy, app_config, tmp_path):
    """An app built with GIANTSTEP_RULES_DIR in its config judges with that folder, not the process default."""
    from webapp.web import create_app, services

    _rename_little_giant(rules_copy)
    app = create_app({**app_config, "GIANTSTEP_RULES_DIR": str(rules_copy)}, instance_path=str(tmp_path / "i"))
    with app.app_context():
        result = services.assess_profile(make_profile(), rules="SME-2026").result
        assert services.get_services().paths.rules == rules_copy
    assert result["tiers"]["little_giant"]["name_en"].startswith("Renamed little giant")


def test_cli_stops_with_one_line_naming_the_file(broken_rules, tmp_path):
    """A rule table that cannot load: exit 2, one line on stderr naming the file, no traceback."""
    profile = tmp_path / "firm.json"
    profile.write_text(json.dumps(make_profile()), encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin", "GIANTSTEP_RULES_DIR": str(broken_rules)}
    done = subprocess.run([sys.executable, "-m", "webapp.cli", "assess", str(profile)], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=120)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1, done.stderr
    assert "SME-2026.toml" in lines[0] and "Traceback" not in done.stderr


def test_serve_stops_with_one_line_naming_the_file(broken_rules, tmp_path):
    """``giantstep serve`` refuses to start on a damaged rule table: exit 2, one line naming the file."""
    env = {"PATH": "/usr/bin:/bin", "GIANTSTEP_RULES_DIR": str(broken_rules),
           "GIANTSTEP_INSTANCE_DIR": str(tmp_path / "instance")}
    done = subprocess.run([sys.executable, "-m", "webapp.cli", "serve", "--port", "5097"], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=120)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1, done.stderr
    assert lines[0].startswith("giantstep cannot start:") and "SME-2026.toml" in lines[0]


def test_app_refuses_a_damaged_cohort_file(app_config, tmp_path):
    """A cohort file that cannot be read stops create_app with StartupError naming it (never a 500 later)."""
    from webapp.engine.defaults import StartupError
    from webapp.web import create_app

    data = tmp_path / "data"
    shutil.copytree(paths.resolve().data, data)
    (data / "cohorts" / "fitted.json").write_text("{", encoding="utf-8")
    with pytest.raises(StartupError, match="fitted.json"):
        create_app({**app_config, "GIANTSTEP_DATA_DIR": str(data), "GIANTSTEP_RULES_DIR": str(paths.resolve().rules)},
                   instance_path=str(tmp_path / "i"))


def test_cohorts_fit_writes_where_cohorts_load(tmp_path, monkeypatch):
    """``giantstep cohorts fit`` writes into the cohorts folder of GIANTSTEP_DATA_DIR, which load_cohorts reads."""
    from webapp.engine.cohorts import fit

    calls = []
    monkeypatch.setattr(fit, "fit_all", lambda src, out: calls.append((src, out)) or {})
    monkeypatch.setattr(fit, "fit_summary", lambda fits: "ok")
    monkeypatch.setenv("GIANTSTEP_DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(main, ["cohorts", "fit"])
    assert result.exit_code == 0, result.output
    cohorts = tmp_path / "data" / "cohorts"
    assert calls == [(cohorts / "aggregates.csv", cohorts / "fitted.json")]
    assert paths.resolve().cohorts == cohorts


def test_imported_cohorts_follow_the_instance_folder(tmp_path, monkeypatch):
    """``cohorts import`` writes into GIANTSTEP_INSTANCE_DIR/cohorts and ``cohorts list`` reads it there."""
    monkeypatch.setenv("GIANTSTEP_INSTANCE_DIR", str(tmp_path / "inst"))
    src = tmp_path / "firms.csv"
    pd.DataFrame([make_profile(firm_name=f"F{i}", rd_expense=100 + i) for i in range(12)]).to_csv(src, index=False)
    runner = CliRunner()
    assert runner.invoke(main, ["cohorts", "import", str(src), "--name", "park"]).exit_code == 0
    assert (tmp_path / "inst" / "cohorts" / "park.json").exists()
    assert "park" in runner.invoke(main, ["cohorts", "list"]).stdout
