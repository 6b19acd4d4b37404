"""The simulated population: parameters with sources, reproducibility, valid profiles, dependence, pass rates."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from webapp import paths
from webapp.engine.io.inputs import validate_profiles
from webapp.engine.readiness.population.draw import UNDRAWN_GROUPS
from webapp.engine.readiness.population.params import STRATA, PopulationParamsError, load_population_params
from webapp.engine.readiness.population.simulate import TIERS, simulate_population
from webapp.fields import REGISTRY
from webapp.model_cli import population as population_command


@pytest.fixture(scope="session")
def pop():
    """A small simulated population (4,000 firms, fixed seed)."""
    return simulate_population(4000, seed=17, rules="SME-2026")


def test_every_parameter_states_a_source_or_an_assumption():
    """The loader records a source or an assumption for every stratum, quantity, constant and target."""
    params = load_population_params()
    assert set(STRATA) <= set(params.shares)
    assert {params.strata[s]["profile"] for s in params.shares} == set(STRATA)
    assert abs(sum(params.shares.values()) - 1) < 1e-9
    for key, doc in params.documented.items():
        assert doc.get("source") or doc.get("assumption"), key
    assert {f"quantities.{q}" for q in params.quantities} <= set(params.documented)
    assert len(params.targets) >= 3


def test_an_undocumented_parameter_is_refused(tmp_path):
    """An entry without source or assumption fails with the file and the entry named."""
    folder = tmp_path / "population"
    shutil.copytree(paths.resolve().population, folder)
    text = (folder / "population.toml").read_text(encoding="utf-8")
    start = text.index("[quantities.asset_ratio]")
    block = text[start:text.index("[quantities.debt_ratio]")]
    (folder / "population.toml").write_text(text.replace(block, block.replace('assumption = "total assets / '
                                                                              'revenue"', "")), encoding="utf-8")
    with pytest.raises(PopulationParamsError, match=r"population.toml: \[quantities.asset_ratio\]"):
        load_population_params(folder)


def test_same_seed_same_population_other_seed_other(pop):
    """The population is reproducible from its seed, and the seed matters."""
    again = simulate_population(4000, seed=17, rules="SME-2026")
    assert again.info["sha256"] == pop.info["sha256"]
    pd.testing.assert_frame_equal(again.profiles, pop.profiles)
    other = simulate_population(4000, seed=18, rules="SME-2026")
    assert other.info["sha256"] != pop.info["sha256"]


def test_profiles_are_valid_and_complete(pop):
    """Every drawn profile passes the engine's validation, with every field it models known (award rank if
    awarded) and the groups it does not model (the HNTE inputs) unknown."""
    frame = pop.to_frame()
    clean, errors = validate_profiles(frame[[s.name for s in REGISTRY]])
    assert errors.empty, errors.head().to_dict("records")
    undrawn = [s.name for s in REGISTRY if s.group in UNDRAWN_GROUPS]
    assert undrawn and clean[undrawn].isna().all().all()
    unknown = clean.drop(columns=["award_rank", *undrawn]).isna().sum()
    assert unknown.sum() == 0, unknown[unknown > 0]
    awarded = clean["award_level"].astype(str) != "none"
    assert clean.loc[awarded, "award_rank"].notna().all()
    assert set(frame["stratum"]) == set(load_population_params().shares)
    assert set(pop.labels.columns) == {f"{t}_certified" for t in TIERS}


def test_strata_follow_the_design(pop):
    """Rows per stratum follow the stated shares and add up."""
    params = load_population_params()
    counts = pop.info["strata"]
    assert sum(counts.values()) == 4000
    for stratum, share in params.shares.items():
        assert abs(counts[stratum] - 4000 * share) <= 1


def test_realistic_dependence(pop):
    """R&D and staff scale with revenue, patents with staff and age, growth persists, higher tiers are bigger."""
    p = pop.profiles

    def corr(a, b):
        return np.corrcoef(a, b)[0, 1]

    log = np.log1p
    assert corr(log(p["revenue"]), log(p["rd_expense"])) > 0.7
    assert corr(log(p["employees"]), log(p["rd_staff"])) > 0.7
    assert corr(log(p["employees"]), log(p["patent_applications"])) > 0.3
    assert corr(log(p["years_in_niche"]), log(p["patent_applications"])) > 0.2
    g1 = p["revenue"] / p["revenue_prev"] - 1
    g0 = p["revenue_prev"] / p["revenue_prev2"] - 1
    assert corr(g1, g0) > 0.25
    means = p.groupby(pop.stratum)["patent_applications"].mean()
    assert means["none"] < means["innovative"] < means["srdi_sme"] < means["little_giant"] < means["single_champion"]
    assert means["srdi_sme"] < means["srdi_rising"]  # applicants for little giant look like little giants
    assert (p["valid_inventions"] <= p["invention_grants"]).all()
    assert (p["invention_grants"] <= p["invention_applications"]).all()


def test_holders_mostly_meet_their_tier(pop):
    """Title holders were certified: all but the drift share meet their tier's rules (re-review)."""
    lg = pop.info["calibration"]
    review = next(c for c in lg if c["tier"] == "little_giant" and c["group"] == "review")
    assert review["rules_met_share"] >= 0.88
    assert (pop.profiles.loc[pop.stratum == "little_giant", "title_little_giant"] == 1).all()


def test_pass_rates_match_the_targets(pop):
    """Each target group's pass rate is solved to its published or assumed rate (within sampling noise)."""
    for c in pop.info["calibration"]:
        assert c["members"] > 0, c
        noise = 3 * np.sqrt(c["target"] * (1 - c["target"]) / c["members"]) + 0.01
        assert abs(c["achieved"] - c["target"]) <= noise, c
    published = {(c["tier"], c["group"]): c["target"] for c in pop.info["calibration"]}
    assert published[("little_giant", "new")] == 0.23
    assert published[("little_giant", "review")] == 0.87
    assert published[("little_giant", "review_legacy")] == 0.60


def test_holders_keep_the_cohort_means(pop):
    """Selected holders stay near the published cohort means of the cohort-sourced quantities."""
    rows = pop.info["cohort_check"]
    assert {r["stratum"] for r in rows} == {"innovative", "srdi_sme", "little_giant", "single_champion"}
    heavy_tailed = {"pct_applications", "overseas_markets", "licenses_out", "citations"}  # noisy means at n=600
    for r in rows:
        rel = 1.0 if r["quantity"] in heavy_tailed else 0.25
        assert r["simulated_mean"] == pytest.approx(r["cohort_mean"], rel=rel), r


@pytest.mark.parametrize(("quantity", "published"), [
    ("patent_applications", 115), ("valid_inventions", 20),   # PatSnap2023 §2.3.1 chart 2.3
    ("citations", 234.08),                                     # PatSnap2023 §2.3.3 chart 2.7
    ("employees", 240),                                        # PatSnap2023 §3.1 chart 3.2
])
def test_simulated_little_giants_near_the_published_means(pop, quantity, published):
    """The simulated little giants' own column mean is within 25% of the published mean (typed from
    data/cohorts/aggregates.csv), computed here from the profiles rather than read from the population's report."""
    mean = pop.profiles.loc[pop.stratum == "little_giant", quantity].astype(float).mean()
    assert mean == pytest.approx(published, rel=0.25)


@pytest.mark.slow
def test_population_command_writes_a_reproducible_file(tmp_path):
    """``giantstep population`` writes the profiles, stratum and outcomes, and says how it was calibrated."""
    out = tmp_path / "pop.csv"
    result = CliRunner().invoke(population_command, ["--rows", "600", "--seed", "5", "--rules", "SME-2022",
                                                     "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "little_giant" in result.output and "target 0.23" in result.output
    assert f"giantstep batch {out} -o OUT --rules SME-2022" in result.output   # the rules the outcomes are under
    frame = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert len(frame) == 600
    assert {"stratum", "mode", "little_giant_certified", "revenue", "sector"} <= set(frame.columns)
    clean, errors = validate_profiles(frame)
    assert errors.empty
    again = tmp_path / "again.csv"
    CliRunner().invoke(population_command, ["--rows", "600", "--seed", "5", "--rules", "SME-2022", "-o", str(again)])
    assert out.read_bytes() == again.read_bytes()


def test_mode_column_says_who_re_reviews(pop):
    """``mode`` is review for the holders of their own stratum's title and new for the others (no title, or
    a rising firm applying for the next one), so ``giantstep batch`` can run the file as it was drawn."""
    frame = pop.to_frame()
    assert set(frame["mode"]) == {"new", "review"}
    review = set(frame.loc[frame["mode"] == "review", "stratum"])
    assert review == {"innovative", "srdi_sme", "little_giant", "single_champion"}
    assert set(frame.loc[frame["mode"] == "new", "stratum"]) == set(pop.stratum) - review


def test_every_population_of_a_parameter_set_shares_its_fitted_marginals():
    """The holder marginals are fitted on a pilot of the parameter files' own seed and size, whatever the
    population's seed and size: another seed draws other firms from the same distribution."""
    from webapp.engine.readiness.population.simulate import fitted_params
    from webapp.engine.rules.rulebook import load_rule_book

    params, ruleset = load_population_params(), load_rule_book().select("SME-2026")
    one = fitted_params(params, ruleset)
    assert fitted_params(params, ruleset) is one   # computed once per parameter files and rule tables
    assert one.quantities["patent_applications"].params != params.quantities["patent_applications"].params
