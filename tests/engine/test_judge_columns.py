"""The judge reads the validator's column arrays (no pandas lookup per field) and gets, bit for bit, what it
gets reading the clean frame; a firm judged alone (the one-row fast path) gets what it gets in a batch."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from tests.factories import make_profiles
from webapp.engine import defaults
from webapp.engine.io.inputs import validate_columns
from webapp.engine.rules.criteria import Judge


def _profiles(n: int):
    frame = make_profiles(n, seed=17).astype(object)
    rng = np.random.default_rng(17)
    return frame.mask(rng.random(frame.shape) < 0.2)  # unknown cells everywhere, enums and titles included


def _arrays(judge: Judge, rows=slice(None)) -> dict:
    out = {}
    for cid, res in judge.criteria.items():
        for key in ("status", "points_lo", "points_hi", "route", "via"):
            if getattr(res, key) is not None:
                out[f"{cid}.{key}"] = np.asarray(getattr(res, key))[rows]
    for tid, res in judge.tiers.items():
        out[f"{tid}.status"] = res.status[rows]
        for key in ("score_lo", "score_hi"):
            if getattr(res, key) is not None:
                out[f"{tid}.{key}"] = getattr(res, key)[rows]
        out.update({f"{tid}.route{pos}": route[rows] for pos, route in res.route.items()})
    return out


def _assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


@pytest.mark.parametrize("rules", ["SME-2022", "SME-2026"])
@pytest.mark.parametrize("review", [False, True])
def test_columns_and_frame_judge_alike(rules, review):
    ruleset = defaults.load(defaults.rule_book).select(rules, dt.date(2026, 5, 20))
    clean, errors, columns = validate_columns(_profiles(200))
    assert len(errors) == 0
    with_columns = Judge(clean, ruleset, review=review, columns=columns).run()
    from_frame = Judge(clean, ruleset, review=review).run()
    _assert_same(_arrays(with_columns), _arrays(from_frame))
    statuses = np.concatenate([res.status for res in from_frame.criteria.values()])
    assert {-1, 0, 1} <= set(statuses.tolist())  # the firms reach every status
    for i in (0, 3, 57, 199):  # each alone, as a web request is judged
        one, one_errors, one_columns = validate_columns(_profiles(200).iloc[[i]])
        assert len(one_errors) == 0
        _assert_same(_arrays(Judge(one, ruleset, review=review, columns=one_columns).run()),
                     _arrays(from_frame, slice(i, i + 1)))
