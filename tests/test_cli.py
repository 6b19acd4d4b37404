"""The giantstep command line: exit codes, JSON contract, errors on stderr, batch with bad rows."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from tests.factories import make_profile
from webapp.cli import main


@pytest.fixture
def runner():
    """A click runner that keeps stderr apart from stdout."""
    return CliRunner()


@pytest.fixture
def profile_file(tmp_path):
    """Write a profile as JSON and return its path."""
    def write(**overrides):
        path = tmp_path / "profile.json"
        path.write_text(json.dumps(make_profile(**overrides), ensure_ascii=False), encoding="utf-8")
        return str(path)
    return write


def test_assess_json_contract(runner, profile_file):
    """assess prints one JSON document with rules, tier and every tier's criteria."""
    res = runner.invoke(main, ["assess", profile_file(), "--rules", "SME-2026", "--format", "json"])
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["rules"] == {"sme": "SME-2026", "tech": "TECH-2017", "champion": "CHAMPION-2023",
                            "hnte": "HNTE-2016"}
    assert set(doc["tiers"]) == {"innovative_sme", "tech_sme", "srdi_sme", "little_giant", "single_champion",
                                 "hnte"}
    assert doc["tier"] == "srdi_sme"
    first = doc["tiers"]["innovative_sme"]["criteria"][0]
    assert {"id", "status", "value", "self_declared"} <= set(first)


def test_assess_text_is_readable(runner, profile_file):
    """The text format names the tier in the chosen language."""
    res = runner.invoke(main, ["assess", profile_file(), "--rules", "SME-2022", "--format", "text", "--lang", "en"])
    assert res.exit_code == 0
    assert "Tier: SRDI SME" in res.stdout


@pytest.mark.parametrize(("overrides", "field", "rule"), [
    ({"revenue": "abc"}, "revenue", "number"),
    ({"sme_industry": "mining"}, "sme_industry", "enum"),
    ({"niche_share_pct": 130}, "niche_share_pct", "max"),
    ({"rd_staff": 400, "employees": 300}, "rd_staff", "rd_staff"),
    ({"class1_ip_self": 20, "class1_ip": 10}, "class1_ip_self", "class1_ip_self"),
    ({"employees": -3}, "employees", "min"),
    ({"patent_applications": 2.5}, "patent_applications", "integer"),
])
def test_assess_bad_input_exits_2_naming_the_field(runner, profile_file, overrides, field, rule):
    """Invalid input: exit 2, one stderr line per problem naming field and rule, no traceback."""
    res = runner.invoke(main, ["assess", profile_file(**overrides)])
    assert res.exit_code == 2
    assert res.stdout == ""
    assert any(line.startswith(field) and rule in line for line in res.stderr.splitlines()), res.stderr
    assert "Traceback" not in res.stderr


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", ""])
def test_assess_malformed_file_exits_2(runner, tmp_path, content):
    """A file that is not one JSON object is a clear error, not a crash."""
    path = tmp_path / "p.json"
    path.write_text(content, encoding="utf-8")
    res = runner.invoke(main, ["assess", str(path)])
    assert res.exit_code == 2 and "p.json" in res.stderr


def test_assess_missing_file_exits_2(runner, tmp_path):
    """A missing file names itself."""
    res = runner.invoke(main, ["assess", str(tmp_path / "nope.json")])
    assert res.exit_code == 2 and "nope.json" in res.stderr


def test_unknown_key_is_warned_not_dropped_silently(runner, profile_file, tmp_path):
    """A key that is not a field is reported on stderr and in the result's warnings."""
    path = tmp_path / "p.json"
    path.write_text(json.dumps({**make_profile(), "rd_expence": 5}), encoding="utf-8")
    res = runner.invoke(main, ["assess", str(path)])
    assert res.exit_code == 0 and "rd_expence" in res.stderr
    assert json.loads(res.stdout)["warnings"]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
def test_batch_mixed_rows(runner, tmp_path, suffix):
    """Bad rows keep their place with an errors cell; good rows get results; exit 0."""
    rows = [make_profile(firm_name="好企业A"), make_profile(firm_name="坏企业", revenue="十万"),
            make_profile(firm_name="好企业B", years_in_niche=1)]
    src = tmp_path / "in.csv"
    pd.DataFrame(rows).to_csv(src, index=False, encoding="utf-8-sig")
    out = tmp_path / f"out{suffix}"
    res = runner.invoke(main, ["batch", str(src), "-o", str(out), "--rules", "SME-2026", "--lang", "en"])
    assert res.exit_code == 0, res.stderr
    got = {".csv": pd.read_csv, ".xlsx": pd.read_excel, ".parquet": pd.read_parquet}[suffix](out)
    assert list(got["firm_name"]) == ["好企业A", "坏企业", "好企业B"]
    assert got.loc[0, "tier"] == "srdi_sme" and got.loc[2, "srdi_sme_status"] == "not_met"
    assert pd.isna(got.loc[1, "tier"]) and "revenue" in got.loc[1, "errors"]
    for tier in ("innovative_sme", "tech_sme", "srdi_sme", "little_giant", "single_champion"):
        assert {f"{tier}_status", f"{tier}_score_min", f"{tier}_score_max"} <= set(got.columns)


def test_batch_reads_chinese_headers(runner, tmp_path):
    """Batch accepts the template's zh headers."""
    from webapp import fields

    row = make_profile()
    src = tmp_path / "zh.csv"
    pd.DataFrame([{fields.label(k, "zh"): v for k, v in row.items()}]).to_csv(src, index=False)
    out = tmp_path / "out.csv"
    res = runner.invoke(main, ["batch", str(src), "-o", str(out), "--rules", "SME-2022"])
    assert res.exit_code == 0, res.stderr
    got = pd.read_csv(out)
    assert got.loc[0, "tier"] == "srdi_sme"
    assert fields.label("revenue", "zh") in got.columns   # the input's own headers are kept


def test_batch_unreadable_file_exits_2(runner, tmp_path):
    """A file that cannot be read is an input problem."""
    res = runner.invoke(main, ["batch", str(tmp_path / "none.csv"), "-o", str(tmp_path / "o.csv")])
    assert res.exit_code == 2 and "none.csv" in res.stderr


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_template_round_trips_through_batch(runner, tmp_path, suffix):
    """The template's example row assesses cleanly."""
    tpl = tmp_path / f"t{suffix}"
    assert runner.invoke(main, ["template", "-o", str(tpl)]).exit_code == 0
    out = tmp_path / "o.csv"
    res = runner.invoke(main, ["batch", str(tpl), "-o", str(out)])
    assert res.exit_code == 0, res.stderr
    got = pd.read_csv(out)
    assert len(got) == 1 and pd.isna(got.loc[0, "errors"])


def test_assess_carries_benchmarks_and_dimensions(runner, profile_file):
    """The JSON always has little_giant benchmarks, the firm's own region, and four dimension scores."""
    res = runner.invoke(main, ["assess", profile_file(province="广东", city="深圳"), "--rules", "SME-2026"])
    doc = json.loads(res.stdout)
    assert {"little_giant", "region_gba", "city_shenzhen"} <= set(doc["benchmarks"])
    pct = doc["benchmarks"]["little_giant"]["pct_applications"]
    assert 0 <= pct["percentile"] <= 100 and pct["basis"]["kind"] == "fitted"
    assert set(doc["dimensions"]["little_giant"]) == {"scale", "quality", "influence", "globalisation"}


def test_cohort_import_then_use_everywhere(runner, tmp_path, monkeypatch):
    """An imported cohort is listed, usable in assess --cohort and in batch --cohorts."""
    monkeypatch.setenv("GIANTSTEP_INSTANCE_DIR", str(tmp_path / "inst"))
    rows = [make_profile(firm_name=f"F{i}", rd_expense=100 + 50 * i) for i in range(20)]
    src = tmp_path / "portfolio.csv"
    pd.DataFrame(rows).to_csv(src, index=False)
    res = runner.invoke(main, ["cohorts", "import", str(src), "--name", "my_portfolio"])
    assert res.exit_code == 0, res.stderr
    assert "my_portfolio" in runner.invoke(main, ["cohorts", "list"]).stdout
    one = _write(tmp_path, make_profile(rd_expense=600))
    res = runner.invoke(main, ["assess", str(one), "--cohort", "my_portfolio"])
    got = json.loads(res.stdout)["benchmarks"]["my_portfolio"]["rd_ratio"]
    # Mid-rank against the 20 rows: R&D 600 sits above 10 rows (100..550) and equals one.
    assert got["percentile"] == pytest.approx((10 + 0.5) / 20 * 100)
    out = tmp_path / "out.csv"
    res = runner.invoke(main, ["batch", str(src), "-o", str(out), "--cohorts", "little_giant,my_portfolio"])
    assert res.exit_code == 0
    assert "pct_my_portfolio_rd_ratio" in pd.read_csv(out).columns
    assessed = runner.invoke(main, ["assess", str(_write(tmp_path, make_profile())), "--cohort", "nope"])
    assert assessed.exit_code == 2 and "nope" in assessed.stderr


def _write(tmp_path, profile):
    path = tmp_path / "one.json"
    path.write_text(json.dumps(profile, ensure_ascii=False), encoding="utf-8")
    return path


def test_assess_writes_pdf_and_advice(runner, profile_file, tmp_path):
    """--pdf writes a report; the JSON carries advice with actions in the firm's units."""
    pdf = tmp_path / "r.pdf"
    res = runner.invoke(main, ["assess", profile_file(), "--rules", "SME-2026", "--pdf", str(pdf), "--lang", "en"])
    assert res.exit_code == 0, res.stderr
    assert pdf.read_bytes()[:5] == b"%PDF-"
    advice = json.loads(res.stdout)["advice"]
    assert advice["next_tier"] == "little_giant" and advice["actions"]
    assert any(a["criterion"] == "G26-3" and a["unit"] == "wan" for a in advice["actions"])


def test_batch_top_actions_column(runner, tmp_path):
    """Small batches get a top_actions cell per valid firm, empty for invalid rows."""
    src = tmp_path / "in.csv"
    pd.DataFrame([make_profile(), make_profile(revenue="x")]).to_csv(src, index=False)
    out = tmp_path / "out.csv"
    assert runner.invoke(main, ["batch", str(src), "-o", str(out), "--rules", "SME-2026"]).exit_code == 0
    got = pd.read_csv(out)
    assert isinstance(got.loc[0, "top_actions"], str) and got.loc[0, "top_actions"]
    assert pd.isna(got.loc[1, "top_actions"])


def test_assess_readiness_for_full_and_sparse_profiles(runner, profile_file, tmp_path):
    """Every tier gets a probability, even for a sparse profile, and the model says what it rests on."""
    full = json.loads(runner.invoke(main, ["assess", profile_file()]).stdout)["readiness"]
    sparse_path = tmp_path / "sparse.json"
    sparse_path.write_text(json.dumps({"revenue": 3000, "rd_expense": 120}), encoding="utf-8")
    sparse = json.loads(runner.invoke(main, ["assess", str(sparse_path)]).stdout)["readiness"]
    for result in (full, sparse):
        assert result["_model"]["trained_on"] == "simulated population"
        for tier in ("innovative_sme", "tech_sme", "srdi_sme", "little_giant", "single_champion"):
            assert 0 <= result[tier]["probability"] <= 1
            assert all({"field", "current", "target", "delta"} <= set(d) for d in result[tier]["drivers"])


def test_batch_readiness_columns(runner, tmp_path):
    """Batch adds <tier>_readiness, empty for an invalid row."""
    src = tmp_path / "in.csv"
    pd.DataFrame([make_profile(), make_profile(employees="many")]).to_csv(src, index=False)
    out = tmp_path / "out.csv"
    assert runner.invoke(main, ["batch", str(src), "-o", str(out), "--top-actions", "no"]).exit_code == 0
    got = pd.read_csv(out)
    assert 0 <= got.loc[0, "little_giant_readiness"] <= 1 and pd.isna(got.loc[1, "little_giant_readiness"])


@pytest.mark.parametrize(("value", "rule"), [
    (1e30, "max"), ("NaN", "number"), ("nan", "number"), ("Infinity", "number"), ("-inf", "number"),
    (float("nan"), "number"), (float("inf"), "number"), (float("-inf"), "number"),
])
def test_assess_refuses_implausible_nan_and_infinite_values(runner, profile_file, value, rule):
    """R&D of 1e30 is refused (max), not scored; NaN and Infinity, as text or as the bare JSON tokens that
    json.dumps writes for float("nan") and float("inf"), are refused (number), never read as unknown."""
    path = profile_file(rd_expense=value, revenue=1000, main_revenue=900)
    if isinstance(value, float) and not math.isfinite(value):  # written as the bare token NaN or Infinity
        assert any(token in Path(path).read_text(encoding="utf-8") for token in ("NaN", "Infinity"))
    res = runner.invoke(main, ["assess", path, "--lang", "en"])
    assert res.exit_code == 2 and res.stdout == ""
    assert any(line.startswith(f"rd_expense [{rule}]") and "rd_expense" in line.split(":", 1)[1]
               for line in res.stderr.splitlines()), res.stderr


def test_batch_refuses_implausible_nan_and_infinite_cells(runner, tmp_path):
    """In a CSV batch, 1e30, NaN and Infinity cells fill that row's errors cell naming the field and rule; the
    other rows are still assessed, and an empty cell stays unknown."""
    rows = [make_profile(firm_name="A", rd_expense="1e30", revenue=1000, main_revenue=900), make_profile(firm_name="B"),
            make_profile(firm_name="C", revenue="NaN"), make_profile(firm_name="D", employees="Infinity"),
            make_profile(firm_name="E", rd_expense=None)]
    src = tmp_path / "in.csv"
    pd.DataFrame(rows).to_csv(src, index=False, encoding="utf-8-sig")
    out = tmp_path / "out.csv"
    res = runner.invoke(main, ["batch", str(src), "-o", str(out), "--rules", "SME-2026", "--lang", "en"])
    assert res.exit_code == 0, res.stderr
    got = pd.read_csv(out, dtype={"errors": str}, keep_default_na=False)
    assert list(got["firm_name"]) == ["A", "B", "C", "D", "E"]
    assert got.loc[0, "errors"] == ("rd_expense: R&D expense, year t (rd_expense): must be at most 100,000,000 "
                                    "(10k CNY), got '1e30'")
    assert got.loc[2, "errors"].startswith("revenue: ") and "expected a number, got 'NaN'" in got.loc[2, "errors"]
    assert got.loc[3, "errors"].startswith("employees: ") and "got 'Infinity'" in got.loc[3, "errors"]
    assert got.loc[[0, 2, 3], "tier"].eq("").all()
    assert got.loc[[1, 4], "errors"].eq("").all() and got.loc[[1, 4], "tier"].ne("").all()


@pytest.mark.parametrize(("text", "says"), [
    ('{"revenue": ' + "[" * 5000 + "]" * 5000 + "}", "nested too deeply"),
    ('{"revenue": ' + "9" * 5000 + "}", "revenue: an integer of 5000 digits"),
])
def test_assess_deep_json_and_huge_integers_exit_2(runner, tmp_path, text, says):
    """JSON nested 5,000 deep or a 5,000-digit integer: one line naming the problem, exit 2, no traceback."""
    path = tmp_path / "p.json"
    path.write_text(text, encoding="utf-8")
    res = runner.invoke(main, ["assess", str(path)])
    assert res.exit_code == 2 and says in res.stderr and "Traceback" not in res.output + res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_assess_list_in_a_text_field_exits_2_naming_it(runner, profile_file):
    """A list given for a text field is refused naming the field and the rule."""
    res = runner.invoke(main, ["assess", profile_file(province=["浙江", "江苏"]), "--lang", "en"])
    assert res.exit_code == 2 and "province [text]:" in res.stderr
