"""The single-firm benchmarks (benchmarks_json, dimensions_json) give the figures of the batch path (benchmark,
dimension_scores) for the same firm, whatever form the firm comes in and whatever is unknown or zero."""

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from tests.factories import make_profiles
from webapp.engine.assess import assess
from webapp.engine.cohorts.benchmark import benchmark, benchmarks_json
from webapp.engine.cohorts.dimensions import DIMENSIONS, dimension_coverage, dimension_scores, dimensions_json
from webapp.engine.cohorts.geography import cohorts_for
from webapp.engine.cohorts.metrics import METRICS, metric_row, metric_values
from webapp.engine.cohorts.store import import_cohort, load_cohorts

PLACES = [("广东", "深圳"), ("北京", "北京"), ("浙江", "宁波"), ("江苏", "苏州"), ("上海", None), ("四川", "成都"),
          (None, None), ("广东省", "深圳市"), (None, "重庆")]


@pytest.fixture(scope="module")
def cohorts(tmp_path_factory):
    """The built-in cohorts plus an imported (empirical) one."""
    where = tmp_path_factory.mktemp("cohorts")
    import_cohort(make_profiles(200, seed=8), "client_book", where, as_of="2025-12-31")
    return load_cohorts(extra_dir=where)


@pytest.fixture(scope="module")
def firms():
    """Generated firms with unknown, zero and text values in the metric inputs, in many places."""
    frame = make_profiles(70, seed=21)
    rng = np.random.default_rng(4)
    for col in ("patent_applications", "invention_applications", "invention_grants", "valid_inventions",
                "employees", "applications_last", "applications_prev2", "rd_expense", "revenue", "citations",
                "pct_applications"):
        frame[col] = frame[col].astype(object)
        frame.loc[rng.random(len(frame)) < 0.15, col] = None
        frame.loc[rng.random(len(frame)) < 0.1, col] = 0
    pick = rng.integers(0, len(PLACES), len(frame))
    frame["province"] = [PLACES[k][0] for k in pick]
    frame["city"] = [PLACES[k][1] for k in pick]
    return frame


def _expected(frame: pd.DataFrame, cohorts, ids) -> list[dict]:
    """benchmarks_json's contract built from the batch path, firm by firm."""
    result = benchmark(frame, cohorts, ids)
    out = []
    for i in range(len(frame)):
        firm = {}
        for cid in ids:
            cohort, pct = cohorts[cid], result.percentiles[cid].iloc[i]
            firm[cid] = {}
            for m in cohort.metrics:
                published, statistic = cohort.published_mean(m)
                value, percentile = result.values[m].iloc[i], pct[m]
                firm[cid][m] = {"value": None if np.isnan(value) else float(value),
                                "percentile": None if np.isnan(percentile) else float(percentile),
                                "cohort_mean": _sig(published), "cohort_median": _sig(cohort.median(m)),
                                "cohort_mean_statistic": statistic, "firm_mean": _sig(cohort.mean(m)),
                                "basis": cohort.basis_for(m)}
        out.append(firm)
    return out


def _sig(x):
    return None if np.isnan(x) else float(f"{x:.6g}")


def _assert_same(got: dict, want: dict):
    assert list(got) == list(want)
    for cid in want:
        assert list(got[cid]) == list(want[cid]), cid
        for m, item in want[cid].items():
            mine = got[cid][m]
            assert list(mine) == list(item)
            assert {k: v for k, v in mine.items() if k != "percentile"} == \
                {k: v for k, v in item.items() if k != "percentile"}, (cid, m)
            if item["percentile"] is None:
                assert mine["percentile"] is None, (cid, m)
            else:
                assert mine["percentile"] == pytest.approx(item["percentile"], rel=1e-12, abs=1e-12), (cid, m)


def test_one_firm_gets_the_batch_figures_against_every_cohort(firms, cohorts):
    ids = list(cohorts.ids)
    want = _expected(firms, cohorts, ids)
    for i in range(len(firms)):
        _assert_same(benchmarks_json(firms.iloc[i].to_dict(), cohorts, ids), want[i])
        _assert_same(benchmarks_json(firms.iloc[i], cohorts, ids), want[i])


def test_one_firm_of_an_assessed_frame_against_its_own_cohorts(firms, cohorts):
    """The typed, validated frame to_dict passes, each firm against the cohorts of its place."""
    clean = assess(firms, as_of=dt.date(2026, 5, 20), cohorts=cohorts, model=False).profiles
    for i in range(len(clean)):
        ids = cohorts_for(clean["province"].iat[i], clean["city"].iat[i], available=cohorts.ids)
        assert list(benchmarks_json(clean.iloc[[i]], cohorts)) == ids
        _assert_same(benchmarks_json(clean.iloc[[i]], cohorts), _expected(clean.iloc[[i]], cohorts, ids)[0])


def test_metric_row_is_metric_values_for_any_cell(firms):
    """Numbers, text numbers, text, None, NaN, zero and negatives, and ratio metrics given directly."""
    cells = [None, np.nan, 0, 0.0, -3, 2.5, "7", "x", True, np.float64(4.0), np.int64(9), 10**30]
    rng = np.random.default_rng(9)
    names = ("patent_applications", "invention_applications", "invention_grants", "valid_inventions",
             "employees", "applications_last", "applications_prev2", "rd_expense", "revenue",
             "invention_share", "grant_rate", "rd_ratio", "application_cagr")
    rows = [{n: cells[k] for n, k in zip(names, rng.integers(0, len(cells), len(names)), strict=True)}
            for _ in range(100)]
    rows += [firms.iloc[i].to_dict() for i in range(len(firms))]
    for row in rows:
        want = metric_values(pd.DataFrame([row])).iloc[0]
        got = metric_row(row)
        assert list(got) == list(METRICS)
        for m in METRICS:
            assert (math.isnan(got[m]) and math.isnan(want[m])) or got[m] == want[m], (row, m)


def test_dimensions_json_scores_are_dimension_scores(firms, cohorts):
    ids = list(cohorts.ids)
    for i in range(0, len(firms), 3):
        bench = benchmarks_json(firms.iloc[i].to_dict(), cohorts, ids)
        dims = dimensions_json(bench)
        for cid in ids:
            pct = {m: [np.nan if v["percentile"] is None else v["percentile"]] for m, v in bench[cid].items()}
            scores, cover = dimension_scores(pct), dimension_coverage(pct)
            assert list(dims[cid]) == list(DIMENSIONS)
            for dim, spec in DIMENSIONS.items():
                item = dims[cid][dim]
                assert item["n_metrics"] == int(cover[dim][0])
                assert item["metrics"] == [m for m in spec["metrics"] if m in bench[cid]]
                if np.isnan(scores[dim][0]):
                    assert item["score"] is None
                else:
                    assert item["score"] == pytest.approx(float(scores[dim][0]), rel=1e-12)


def test_results_are_fresh_dicts(cohorts):
    """Changing one answer (as the pages and advice may) leaves the cached cohort figures alone."""
    first = benchmarks_json({"pct_applications": 2}, cohorts, ["little_giant"])
    first["little_giant"]["pct_applications"]["basis"]["as_of"] = "changed"
    first["little_giant"]["pct_applications"]["cohort_mean"] = -1
    again = benchmarks_json({"pct_applications": 2}, cohorts, ["little_giant"])
    assert again["little_giant"]["pct_applications"]["basis"]["as_of"] == "2023-07-31"
    assert again["little_giant"]["pct_applications"]["cohort_mean"] == pytest.approx(1.65, rel=1e-4)


def test_result_reads_the_judges_arrays_as_the_frame_says(firms, cohorts):
    """to_dict reads the firm's cells from the validator's arrays: the same benchmarks, cohorts and name as
    reading the clean frame's row."""
    result = assess(firms, as_of=dt.date(2026, 5, 20), cohorts=cohorts, model=False)
    assert "revenue" in result.judge.env.columns
    for i in range(0, len(firms), 5):
        out = result.to_dict(i)
        row = result.profiles.iloc[[i]]
        ids = cohorts_for(row["province"].iat[0], row["city"].iat[0], available=cohorts.ids)
        assert list(out["benchmarks"])[:len(ids)] == ids
        assert out["benchmarks"] == benchmarks_json(row, cohorts, list(out["benchmarks"]))
        name = row["firm_name"].iat[0]
        assert out["firm_name"] == (None if name is None or name != name else name)


def test_stacked_percentiles_are_each_distributions_own(cohorts):
    """percentiles_of stacks one family's distributions into one pass: every value is the float each
    distribution gives alone, bit for bit, at zero, negatives, whole and fractional values and extremes."""
    from webapp.engine.cohorts.distributions import percentiles_of

    rng = np.random.default_rng(12)
    values = [0.0, -0.5, -1.0, 1.0, 2.0, 0.3, 1e-9, 1e9, 0.999999, 3.5,
              *rng.lognormal(0, 2, 40), *rng.uniform(-1, 1, 20)]
    pairs = [(cohorts[cid].distribution(m), float(x)) for cid in cohorts.ids for m in cohorts[cid].metrics
             if m in METRICS for x in values]
    found = percentiles_of(pairs)
    alone = [float(dist.percentile(np.array([x]))[0]) for dist, x in pairs]
    assert len({type(d) for d, _ in pairs}) >= 4
    assert np.array_equal(np.array(found), np.array(alone), equal_nan=True)
    assert [math.copysign(1, v) for v in found] == [math.copysign(1, v) for v in alone]
