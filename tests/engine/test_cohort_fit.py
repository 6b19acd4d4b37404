"""Tests for webapp.engine.cohorts.fit: the published figures are reproduced, and the fit is reproducible."""

import json
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from webapp import paths
from webapp.engine.cohorts.distributions import FAMILIES
from webapp.engine.cohorts.fit import POOL_FROM, REFERENCE, _target, fit_all, fit_summary, read_inputs
from webapp.engine.cohorts.metrics import METRICS

DATA_DIR = paths.resolve().cohorts
AGGREGATES = DATA_DIR / "aggregates.csv"
N_LG = 12192


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """A fresh fit of the committed aggregates, written to a temporary file."""
    out = tmp_path_factory.mktemp("fit") / "fitted.json"
    return fit_all(AGGREGATES, out), out


@pytest.fixture(scope="module")
def rows():
    """The committed aggregates, values as printed."""
    return read_inputs(AGGREGATES)[0]


def _dist(result, cid, metric):
    entry = result["cohorts"][cid]["metrics"][metric]
    return FAMILIES[entry["family"]](**entry["params"])


def test_committed_fit_is_what_the_command_produces(fitted):
    result, out = fitted
    committed = DATA_DIR / "fitted.json"
    assert out.read_bytes() == committed.read_bytes(), "data/cohorts/fitted.json is stale: refit"
    assert result == json.loads(committed.read_text(encoding="utf-8"))


def test_fit_is_deterministic(fitted):
    assert fit_all(AGGREGATES) == fitted[0]


@pytest.mark.parametrize(("lo", "hi", "published"), [(0, 0, 0.767), (1, 9, 0.197), (10, 99, 0.035),
                                                      (100, np.inf, 0.002)])
def test_pct_bucket_shares(fitted, lo, hi, published):
    share = _dist(fitted[0], REFERENCE, "pct_applications").share_between(lo, hi)
    assert abs(share - published) < 0.001  # well inside the 1-point bound


@pytest.mark.parametrize(("lo", "hi", "firms"), [(0, 0, N_LG - 3294), (1, 5, 2790), (6, 10, 368),
                                                 (11, np.inf, 136)])
def test_overseas_bucket_shares(fitted, lo, hi, firms):
    share = _dist(fitted[0], REFERENCE, "overseas_markets").share_between(lo, hi)
    assert abs(share - firms / N_LG) < 0.005  # inside the 1-point bound, traded against the mean


def _half_unit(row) -> float:
    """Half a unit in the last printed digit, per firm for totals."""
    unit = 0.5 * 10.0 ** Decimal(row["value"]).as_tuple().exponent
    return unit / N_LG if row["statistic"] == "total" else unit


def _central_rows(rows: pd.DataFrame) -> list[dict]:
    """Every fitted mean-like figure: (cohort, metric, statistic, value)."""
    mask = (rows.use == "fit") & rows.statistic.isin(["mean", "typical", "total", "ratio_of_totals",
                                                      "cagr_of_mean"])
    return rows[mask].to_dict("records")


@pytest.mark.parametrize("row", _central_rows(read_inputs(AGGREGATES)[0]),
                         ids=lambda r: f"{r['cohort']}/{r['metric']}/{r['statistic']}")
def test_fitted_central_values_match_the_published_ones(fitted, row):
    """Means, totals, pooled ratios and growth of the mean, each to its printed precision."""
    meta = read_inputs(AGGREGATES)[1]
    dist = _dist(fitted[0], row["cohort"], row["metric"])
    published = float(row["value"])
    if row["statistic"] == "total":
        published /= float(meta.loc[row["cohort"], "n_firms"])
    value = {"ratio_of_totals": getattr(dist, "pooled_ratio", None),
             "cagr_of_mean": getattr(dist, "cagr_of_mean", None)}.get(row["statistic"], dist.mean)()
    tolerance = _half_unit(row) if (row["cohort"], row["metric"]) == (REFERENCE, "overseas_markets") \
        else max(1e-4 * abs(published), 1e-9)
    assert value == pytest.approx(published, abs=tolerance)


def test_every_published_figure_sits_beside_its_fitted_value(fitted, rows):
    for cid, cohort in fitted[0]["cohorts"].items():
        for metric, entry in cohort["metrics"].items():
            mine = rows[(rows.cohort == cid) & (rows.metric == metric)]
            assert len(entry["diagnostics"]) == len(mine)
            used = [d for d in entry["diagnostics"] if d["used_in_fit"]]
            assert len(used) == len(entry["fitted_to"]) >= 1
            assert all(d["fitted"] is not None and d["published"] is not None for d in used)
            assert all(abs(d.get("diff_pp", 0.0)) < 1.0 for d in used)


def test_spread_origin_is_recorded(fitted):
    result = fitted[0]
    pooled = result["reference"]["pooled_sigma"]
    sigmas = [result["cohorts"][REFERENCE]["metrics"][m]["params"]["sigma"] for m in POOL_FROM]
    assert pooled == pytest.approx(np.mean(sigmas), rel=1e-9)
    for cohort in result["cohorts"].values():
        for entry in cohort["metrics"].values():
            disp = entry["dispersion"]
            if len(entry["fitted_to"]) == 1:
                assert disp["origin"] == "borrowed" and disp["from"] and disp["note"]
            assert disp["origin"] in ("published", "assumed", "borrowed")
    lg = result["cohorts"][REFERENCE]["metrics"]
    assert lg["pct_applications"]["dispersion"]["origin"] == "published"
    assert lg["citations"]["dispersion"]["from"] == [f"{REFERENCE}/{m}" for m in POOL_FROM]
    gba = result["cohorts"]["region_gba"]["metrics"]["pct_applications"]["params"]
    assert gba["pi"] == lg["pct_applications"]["params"]["pi"]
    champion = result["cohorts"]["tier_single_champion"]["metrics"]["pct_applications"]["params"]
    assert champion["pi"] == 0.0 and champion["sigma"] == lg["pct_applications"]["params"]["sigma"]


def test_every_cohort_lists_only_metrics_with_figures(fitted, rows):
    for cid, cohort in fitted[0]["cohorts"].items():
        with_rows = set(rows[(rows.cohort == cid) & (rows.use == "fit")].metric)
        assert set(cohort["metrics"]) == with_rows & set(METRICS)
    assert list(fitted[0]["cohorts"][REFERENCE]["metrics"]) == list(METRICS)


def test_assumptions_are_marked_and_explained(fitted, rows):
    assumed = rows[rows.is_assumption == "1"]
    assert (assumed.note.str.len() > 20).all()
    for cid in ("tier_srdi_sme", "tier_innovative_sme"):
        assert all(e["assumption"] for e in fitted[0]["cohorts"][cid]["metrics"].values())
    assert fitted[0]["cohorts"]["tier_single_champion"]["metrics"]["patent_applications"]["assumption"]
    assert not fitted[0]["cohorts"]["tier_single_champion"]["metrics"]["citations"]["assumption"]


def test_aggregates_file_is_well_formed(rows):
    meta = read_inputs(AGGREGATES)[1]
    assert not rows.duplicated(["cohort", "metric", "statistic"]).any()
    assert set(rows.is_assumption) == {"0", "1"} and set(rows.use) == {"fit", "context"}
    assert set(rows.cohort) - {"*"} <= set(meta.index)
    pd.to_numeric(rows.value)  # every value is a number
    assert (rows[rows.cohort != "*"].as_of != "").all() and (rows.source != "").all()
    fit_rows = rows[(rows.use == "fit") & (rows.cohort != "*")]
    assert all(_target(r, 1.0) is not None for r in fit_rows.to_dict("records"))


def _edited(tmp_path, drop):
    """A copy of the inputs without the rows ``drop`` selects."""
    rows, _ = read_inputs(AGGREGATES)
    rows[~drop(rows)].to_csv(tmp_path / "aggregates.csv", index=False)
    (tmp_path / "cohorts.csv").write_bytes((DATA_DIR / "cohorts.csv").read_bytes())
    (tmp_path / "publications.toml").write_bytes((DATA_DIR / "publications.toml").read_bytes())
    return tmp_path / "aggregates.csv"


def test_fit_refuses_a_source_clients_could_not_read(tmp_path):
    """A source with no publication entry (a bare web address) stops the fit naming it."""
    path = _edited(tmp_path, lambda r: r.metric == "nothing")
    rows = pd.read_csv(path, dtype=str, keep_default_na=False)
    rows.loc[rows.source.str.startswith("PatSnap2023"), "source"] = "somemirror.com/page.html"
    rows.to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"publications\.toml: no entry matches the source 'somemirror\.com"):
        fit_all(path)


def test_fit_needs_the_reference_spreads(tmp_path):
    path = _edited(tmp_path, lambda r: (r.metric == "overseas_markets") & (r.statistic != "mean"))
    with pytest.raises(ValueError, match="published distributions"):
        fit_all(path)


def test_fit_names_a_missing_borrowing_assumption(tmp_path):
    path = _edited(tmp_path, lambda r: r.statistic == "assume:two_year_log_corr")
    with pytest.raises(ValueError, match="assume:two_year_log_corr"):
        fit_all(path)


def test_summary_mentions_the_worst_misfits(fitted):
    text = fit_summary(fitted[0])
    assert "distributions" in text and "pp" in text
