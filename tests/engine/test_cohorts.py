"""Tests for webapp.engine.cohorts: percentiles, metrics, cohorts of a firm, imports, dimensions."""

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from webapp.engine.cohorts.benchmark import benchmark, benchmarks_json, percentile_of
from webapp.engine.cohorts.dimensions import DIMENSIONS, dimension_coverage, dimension_scores, dimensions_json
from webapp.engine.cohorts.geography import cohort_membership, cohorts_for
from webapp.engine.cohorts.metrics import METRICS, derive_metrics
from webapp.engine.cohorts.store import import_cohort, load_cohorts

REQUIRED_IDS = ("little_giant", "little_giant_batch1", "star_market", "bse", "region_jjj", "region_yrd",
                "region_gba", "city_beijing", "city_shenzhen", "city_shanghai", "city_ningbo",
                "city_chongqing", "province_jiangsu", "province_beijing", "tier_innovative_sme",
                "tier_srdi_sme", "tier_single_champion")
N_LG = 12192

# Fitted parameters (mu, sigma, pi) of two little-giant count metrics, typed from data/cohorts/fitted.json. The
# family (data/cohorts/README.md): X = 0 with probability pi, else floor(Y), Y ~ lognormal(mu, sigma).
# pct_applications was fitted to the published shares of chart 2.8 (76.7% none, 19.7% 1-9, 3.5% 10-99);
# patent_applications to the published mean of 115 with the pooled spread (pi = 0).
LG_PCT_APPLICATIONS = (-0.54596246, 1.827403746, 0.3905944274)
LG_PATENT_APPLICATIONS = (3.818929982, 1.364068055, 0.0)


def _zi_dlognorm_percentile(value: float, mu: float, sigma: float, pi: float) -> float:
    """100 * (P(X < v) + P(X = v) / 2) for the zero-inflated discretised lognormal, with scipy.stats."""
    y = stats.lognorm(s=sigma, scale=math.exp(mu))

    def at_most(k: int) -> float:   # P(X <= k) = pi + (1 - pi) P(Y < k + 1)
        return 0.0 if k < 0 else pi + (1 - pi) * y.cdf(k + 1)

    if float(value).is_integer():
        k = int(value)
        return 100 * (at_most(k - 1) + 0.5 * (at_most(k) - at_most(k - 1)))
    return 100 * at_most(math.floor(value))


@pytest.fixture(scope="module")
def cohort_set():
    """The committed cohorts."""
    return load_cohorts()


@pytest.fixture(scope="module")
def lg(cohort_set):
    """All five batches of little giants."""
    return cohort_set["little_giant"]


def test_builtin_cohorts_are_all_there(cohort_set):
    assert set(REQUIRED_IDS) <= set(cohort_set.ids)
    assert cohort_set["little_giant"].metrics == METRICS


def test_pct_zero_sits_at_half_the_published_zero_share(lg):
    assert percentile_of(np.array([0.0]), lg, "pct_applications")[0] == pytest.approx(76.7 / 2, abs=0.1)


@pytest.mark.parametrize(("edge", "share_below"), [(1, 76.7), (10, 76.7 + 19.7), (100, 76.7 + 19.7 + 3.5)])
def test_pct_bucket_edges_follow_the_published_shares(lg, edge, share_below):
    """The share below each bucket edge is the published one (chart 2.8); the percentile at the edge is the
    mid-rank of the fitted family, computed here with scipy.stats from the parameters typed above."""
    assert 100 * lg.cdf("pct_applications", [edge - 1])[0] == pytest.approx(share_below, abs=0.1)
    expected = _zi_dlognorm_percentile(edge, *LG_PCT_APPLICATIONS)
    assert percentile_of([edge], lg, "pct_applications")[0] == pytest.approx(expected, abs=1e-9)


def test_typed_pct_parameters_meet_the_published_shares():
    """The parameters typed above reproduce chart 2.8's shares, so the scipy expectations rest on them."""
    assert _zi_dlognorm_percentile(0.5, *LG_PCT_APPLICATIONS) == pytest.approx(76.7, abs=0.1)   # P(X = 0)
    assert _zi_dlognorm_percentile(9.5, *LG_PCT_APPLICATIONS) == pytest.approx(76.7 + 19.7, abs=0.1)
    assert _zi_dlognorm_percentile(99.5, *LG_PCT_APPLICATIONS) == pytest.approx(76.7 + 19.7 + 3.5, abs=0.1)


@pytest.mark.parametrize(("edge", "firms_below"), [(0, 0), (1, N_LG - 3294), (6, N_LG - 368 - 136),
                                                   (11, N_LG - 136)])
def test_overseas_bucket_edges_follow_the_published_counts(lg, edge, firms_below):
    below = lg.cdf("overseas_markets", [edge - 1])[0] if edge else 0.0
    assert 100 * below == pytest.approx(100 * firms_below / N_LG, abs=0.5)


@pytest.mark.parametrize(("metric", "mean"), [("patent_applications", 115), ("valid_inventions", 20),
                                              ("citations", 234.08), ("licenses_out", 0.43),
                                              ("pct_applications", 1.65), ("employees", 240),
                                              ("rd_ratio", 0.07)])
def test_little_giant_means_are_the_published_means(lg, metric, mean):
    assert lg.mean(metric) == pytest.approx(mean, rel=1e-4)


def test_pooled_ratios_are_the_published_figures(lg):
    assert lg.distribution("invention_share").pooled_ratio() == pytest.approx(0.454, abs=1e-6)
    assert lg.distribution("invention_density").pooled_ratio() == pytest.approx(78.9, rel=1e-6)
    assert lg.distribution("application_cagr").cagr_of_mean() == pytest.approx(0.156, abs=1e-6)


def test_unknown_values_stay_unknown_and_shape_is_kept(lg):
    values = pd.Series([np.nan, 3.0, np.nan], index=[7, 8, 9])
    out = percentile_of(values, lg, "citations")
    assert out.shape == (3,) and out.dtype == np.float64
    assert np.isnan(out[[0, 2]]).all() and 0 < out[1] < 100


def test_counts_split_ties_in_half(lg):
    """At a whole count half the firms with exactly that count are below; between counts none are tied.
    Expected: scipy.stats on the parameters typed above, P(X <= k) = Phi((ln(k + 1) - mu) / sigma) with pi = 0."""
    mu, sigma, _ = LG_PATENT_APPLICATIONS
    below_3 = stats.norm.cdf((math.log(3) - mu) / sigma)          # P(X <= 2)
    up_to_3 = stats.norm.cdf((math.log(4) - mu) / sigma)          # P(X <= 3)
    pct = percentile_of([3.0, 3.5], lg, "patent_applications")
    assert pct[0] == pytest.approx(100 * (below_3 + up_to_3) / 2, rel=1e-9)
    assert pct[1] == pytest.approx(100 * up_to_3, rel=1e-9)


def test_missing_metric_names_what_the_cohort_has(cohort_set):
    with pytest.raises(KeyError, match="has no figures for 'citations'"):
        cohort_set["star_market"].mean("citations")
    with pytest.raises(KeyError, match="unknown cohort"):
        cohort_set["nowhere"]


_values = st.floats(min_value=-10.0, max_value=1e7, allow_nan=False) | st.integers(0, 5000).map(float) \
    | st.floats(min_value=-1.5, max_value=1.5, allow_nan=False) | st.sampled_from([np.inf, -np.inf, 0.0, 1.0])


@settings(max_examples=300, deadline=None)
@given(cid=st.sampled_from(REQUIRED_IDS), data=st.data(), a=_values, b=_values)
def test_percentile_is_monotone_and_within_0_100(cohort_set, cid, data, a, b):
    cohort = cohort_set[cid]
    metric = data.draw(st.sampled_from(cohort.metrics), label="metric")   # only metrics the cohort has
    lo, hi = sorted((a, b))
    p_lo, p_hi = percentile_of(np.array([lo, hi]), cohort, metric)
    assert 0.0 <= p_lo <= p_hi <= 100.0


def test_every_percentile_says_what_it_rests_on(cohort_set):
    for cid in cohort_set.ids:
        cohort = cohort_set[cid]
        assert cohort.basis["kind"] == "fitted" and cohort.basis["source_en"]
        for m in cohort.metrics:
            basis = cohort.basis_for(m)
            assert basis["kind"] == "fitted" and basis["as_of"] and basis["sources_zh"] and basis["sources_en"]
            assert basis["source_zh"] and basis["source_en"]
            assert basis["dispersion"] in ("published", "assumed", "borrowed")
    srdi = cohort_set["tier_srdi_sme"]
    assert all(srdi.basis_for(m)["assumption"] for m in srdi.metrics)


def test_derive_metrics_formulas_and_unknowns():
    frame = pd.DataFrame({
        "patent_applications": [100, 0, None], "invention_applications": [40, 0, 5],
        "invention_grants": [10, 0, 2], "valid_inventions": [12, 3, "7"], "employees": [240, 0, 70],
        "applications_last": [25, 0, 10], "applications_prev2": [16, 4, 0], "rd_expense": [700, 1, 5],
        "revenue": [10000, 0, -1], "citations": [5, None, 0],
    }, index=["a", "b", "c"])
    out = derive_metrics(frame)
    assert list(out.columns) == list(METRICS) and (out.dtypes == "float64").all()
    assert list(out.index) == ["a", "b", "c"]
    a = out.loc["a"]
    assert (a.invention_share, a.grant_rate, a.rd_ratio) == pytest.approx((0.4, 0.25, 0.07))
    assert a.invention_density == pytest.approx(50.0) and a.application_cagr == pytest.approx(0.25)
    b, c = out.loc["b"], out.loc["c"]
    assert np.isnan([b.invention_share, b.grant_rate, b.invention_density, b.rd_ratio, b.citations]).all()
    assert b.application_cagr == -1.0
    assert np.isnan([c.patent_applications, c.invention_share, c.application_cagr, c.rd_ratio]).all()
    assert c.invention_density == pytest.approx(100.0)
    assert np.isnan(out.pct_applications).all() and np.isnan(out.overseas_markets).all()


@pytest.mark.parametrize(("province", "city", "expected"), [
    ("广东", "深圳", ["region_gba", "province_guangdong", "city_shenzhen"]),
    ("广东省", "深圳市", ["region_gba", "province_guangdong", "city_shenzhen"]),
    (None, "深圳", ["region_gba", "province_guangdong", "city_shenzhen"]),
    ("广东", "汕头", ["province_guangdong"]),
    ("北京", None, ["region_jjj", "province_beijing", "city_beijing"]),
    ("北京市", "北京", ["region_jjj", "province_beijing", "city_beijing"]),
    ("浙江", "宁波", ["region_yrd", "city_ningbo"]),
    ("江苏", "苏州", ["region_yrd", "province_jiangsu"]),
    ("上海", "上海", ["region_yrd", "city_shanghai"]),
    ("安徽", "合肥", ["region_yrd"]),
    ("重庆", "", ["city_chongqing"]),
    ("天津", None, ["region_jjj"]),
    ("河北", "石家庄", ["region_jjj"]),
    ("四川", "成都", []),
    (None, None, []),
    ("江苏", "深圳", ["region_yrd", "province_jiangsu"]),
])
def test_cohorts_for_picks_the_firms_own_cohorts(province, city, expected):
    assert cohorts_for(province, city) == ["little_giant", *expected]


def test_cohorts_for_keeps_only_available_ids():
    assert cohorts_for("广东", "深圳", available=("little_giant", "city_shenzhen")) == \
        ["little_giant", "city_shenzhen"]


def test_membership_matches_cohorts_for_row_by_row():
    places = pd.DataFrame({"province": ["广东", "北京", None, "四川", "广东"],
                           "city": ["深圳", None, "宁波", "成都", "深圳"]})
    members = cohort_membership(places)
    for i, row in places.iterrows():
        own = cohorts_for(row.province, row.city)
        assert sorted(members.columns[members.loc[i]]) == sorted(own)


def _direct_percentile(rows: np.ndarray, value: float) -> float:
    """The mid-rank rule computed straight from the rows."""
    rows = rows[~np.isnan(rows)]
    return 100 * ((rows < value).mean() + 0.5 * (rows == value).mean())


def test_imported_cohort_percentiles_come_from_its_rows(tmp_path, cohort_set):
    from tests.factories import make_profiles

    frame = make_profiles(300, seed=3)
    path = import_cohort(frame, "my_clients", tmp_path, as_of="2025-12-31", source="client book")
    loaded = load_cohorts(extra_dir=tmp_path)
    assert path.name == "my_clients.json" and loaded.ids[-1] == "my_clients"
    mine = loaded["my_clients"]
    assert mine.basis["kind"] == "empirical" and mine.n_firms == 300
    assert mine.basis_for("citations")["n"] == frame["citations"].notna().sum()
    rows = derive_metrics(frame)
    for metric in mine.metrics:
        probes = np.concatenate([rows[metric].dropna().to_numpy()[:20], [-1.0, 0.0, 1e9]])
        got = percentile_of(probes, mine, metric)
        want = [_direct_percentile(rows[metric].to_numpy(), v) for v in probes]
        np.testing.assert_allclose(got, want, atol=1e-9)
        assert mine.mean(metric) == pytest.approx(rows[metric].mean())


def test_imported_cohort_with_ties_and_unknowns(tmp_path):
    frame = pd.DataFrame({"pct_applications": [0, 0, 0, 2, 5, None],
                          "patent_applications": [1, 2, 2, 3, 4, 5]})
    import_cohort(frame, "小样本", tmp_path, as_of="2024-01-01")
    mine = load_cohorts(extra_dir=tmp_path)["小样本"]
    assert percentile_of([0, 2, 3, 6], mine, "pct_applications").tolist() == [30.0, 70.0, 80.0, 100.0]
    assert percentile_of([2], mine, "patent_applications")[0] == pytest.approx(100 * (1 / 6 + 1 / 6))
    assert mine.metrics == ("patent_applications", "pct_applications")


def test_import_rejects_bad_names_and_clashes(tmp_path):
    frame = pd.DataFrame({"citations": [1, 2]})
    with pytest.raises(ValueError, match="cohort name"):
        import_cohort(frame, "../escape", tmp_path)
    import_cohort(frame, "little_giant", tmp_path)
    with pytest.raises(ValueError, match="defined twice"):
        load_cohorts(extra_dir=tmp_path)
    with pytest.raises(ValueError, match="no metric"):
        import_cohort(pd.DataFrame({"firm_name": ["x"]}), "empty", tmp_path)


def _firms() -> pd.DataFrame:
    """Three firms: Shenzhen, Beijing, and one with nothing known."""
    return pd.DataFrame({
        "province": ["广东", "北京", None], "city": ["深圳", "北京", None],
        "patent_applications": [200, 50, None], "invention_applications": [100, 20, None],
        "invention_grants": [40, 5, None], "valid_inventions": [30, 4, None], "employees": [150, 80, None],
        "citations": [500, 10, None], "licenses_out": [1, 0, None], "pct_applications": [3, 0, None],
        "overseas_markets": [2, 0, None], "applications_last": [30, 5, None],
        "applications_prev2": [20, 5, None], "rd_expense": [900, 300, None], "revenue": [9000, 6000, None],
    })


def test_benchmark_frames_for_chosen_cohorts(cohort_set):
    """Percentile frames per chosen cohort. Expected percentiles: the mid-rank of the fitted family with the
    parameters typed above (scipy.stats), and half the published 76.7% share of firms without PCT filings."""
    result = benchmark(_firms(), cohort_set, ["little_giant", "star_market"])
    assert set(result.percentiles) == {"little_giant", "star_market"}
    lg_pct = result.percentiles["little_giant"]
    assert lg_pct.shape == (3, 12) and lg_pct.iloc[2].isna().all()
    # Firm 0 has 3 PCT applications and 200 patent applications, firm 1 no PCT application.
    assert lg_pct.loc[0, "pct_applications"] == pytest.approx(_zi_dlognorm_percentile(3, *LG_PCT_APPLICATIONS))
    assert lg_pct.loc[1, "pct_applications"] == pytest.approx(76.7 / 2, abs=0.1)
    assert lg_pct.loc[0, "patent_applications"] == pytest.approx(
        _zi_dlognorm_percentile(200, *LG_PATENT_APPLICATIONS))
    assert result.percentiles["star_market"]["citations"].isna().all()
    assert list(result.dimensions["little_giant"].columns) == list(DIMENSIONS)
    stats = result.cohort_stats.set_index(["cohort", "metric"])
    assert stats.loc[("little_giant", "patent_applications"), "cohort_mean"] == pytest.approx(115)
    assert stats.loc[("star_market", "valid_inventions"), "basis"]["kind"] == "fitted"


def test_benchmark_auto_uses_each_firms_own_cohorts(cohort_set):
    result = benchmark(_firms(), cohort_set, "auto")
    assert {"little_giant", "city_shenzhen", "city_beijing", "region_gba"} <= set(result.percentiles)
    assert result.percentiles["city_shenzhen"]["patent_applications"].notna().tolist() == [True, False, False]
    assert result.percentiles["little_giant"]["patent_applications"].notna().tolist() == [True, True, False]


def test_benchmarks_json_for_one_firm(cohort_set):
    row = _firms().iloc[0].to_dict()
    out = benchmarks_json(row, cohort_set)
    assert list(out) == ["little_giant", "region_gba", "province_guangdong", "city_shenzhen"]
    pct = out["little_giant"]["pct_applications"]
    assert {"value", "percentile", "cohort_mean", "cohort_median", "basis"} <= set(pct)
    density = out["little_giant"]["invention_density"]
    assert density["cohort_mean"] == pytest.approx(78.9, rel=1e-6)   # published as total over total
    assert density["cohort_mean_statistic"] == "ratio_of_totals"
    assert pct["value"] == 3 and pct["cohort_mean"] == pytest.approx(1.65, rel=1e-4)
    assert pct["basis"]["as_of"] == "2023-07-31" and "PatSnap" in pct["basis"]["source_en"]
    assert set(out["city_shenzhen"]) == set(cohort_set["city_shenzhen"].metrics)
    json.dumps(out, allow_nan=False)


def test_benchmarks_json_takes_ready_metrics_and_unknowns(cohort_set):
    out = benchmarks_json({"pct_applications": 0, "invention_share": 0.5}, cohort_set, ["little_giant"])
    assert out["little_giant"]["pct_applications"]["percentile"] == pytest.approx(38.35, abs=0.1)
    assert out["little_giant"]["invention_share"]["value"] == 0.5
    assert out["little_giant"]["citations"]["value"] is None
    assert out["little_giant"]["citations"]["percentile"] is None


def test_dimension_score_is_the_mean_of_available_percentiles():
    pct = {"patent_applications": [10.0, np.nan, np.nan], "valid_inventions": [30.0, 50.0, np.nan],
           "pct_applications": [80.0, 20.0, 0.0]}
    scores = dimension_scores(pct)
    np.testing.assert_allclose(scores["scale"], [20.0, 50.0, np.nan])
    np.testing.assert_allclose(scores["globalisation"], [80.0, 20.0, 0.0])
    assert np.isnan(scores["quality"]).all() and np.isnan(scores["influence"]).all()
    assert dimension_coverage(pct)["scale"].tolist() == [2, 1, 0]
    frame_scores = dimension_scores(pd.DataFrame(pct))
    np.testing.assert_allclose(frame_scores["scale"], scores["scale"])


def test_dimensions_json_from_benchmarks(cohort_set):
    """Dimension scores name their metrics; a score is the mean of its metrics' percentiles (expected: the two
    scale percentiles of the benchmark, the first of them checked against scipy.stats)."""
    dims = dimensions_json(benchmarks_json(_firms().iloc[0].to_dict(), cohort_set))
    assert set(dims["little_giant"]) == set(DIMENSIONS)
    assert dims["city_shenzhen"]["scale"]["n_metrics"] == 1
    assert dims["little_giant"]["quality"]["n_metrics"] == 3
    assert dims["region_gba"]["influence"]["metrics"] == ["citations"]
    # Scale is patent applications (200) and valid inventions (30): the mean of their two percentiles.
    bench = benchmarks_json(_firms().iloc[0].to_dict(), cohort_set)["little_giant"]
    expected = (bench["patent_applications"]["percentile"] + bench["valid_inventions"]["percentile"]) / 2
    assert dims["little_giant"]["scale"]["score"] == pytest.approx(expected)
    assert bench["patent_applications"]["percentile"] == pytest.approx(
        _zi_dlognorm_percentile(200, *LG_PATENT_APPLICATIONS))
