"""Readiness drivers worked out in one call equal each move re-predicted on its own through the batch path."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from tests.factories import make_profiles
from webapp.engine import defaults
from webapp.engine.assess import assess
from webapp.engine.readiness.explain import DRIVER_FIELDS, MIN_DELTA, RATIO_FIELDS, explain
from webapp.engine.readiness.features import HOLDER_TITLES, complete_profiles, raw_directions
from webapp.engine.readiness.moves import SUBCOUNTS, Columns, MovedJudge
from webapp.engine.readiness.population.params import load_population_params
from webapp.engine.readiness.population.simulate import simulate_population
from webapp.engine.readiness.train import P_FLOOR, clip_probability, mask_profiles, openmp_threads
from webapp.engine.rules.criteria import Judge
from webapp.fields import FIELDS

RULES = ("SME-2026", "SME-2022")


@pytest.fixture(scope="module")
def shipped():
    return defaults.load(defaults.model)


@pytest.fixture(scope="module")
def masked():
    """Simulated firms with fields hidden as users leave them (full, quick check, random), per rule set."""
    book = defaults.load(defaults.rule_book)
    out = {}
    for rules in RULES:
        pop = simulate_population(300, seed=4242, rules=rules)
        out[rules] = mask_profiles(pop.profiles, np.random.default_rng(9), load_population_params().masking,
                                   quick=book.quick_fields).iloc[:24].reset_index(drop=True)
    return out


def _target(entry: dict, row: dict, name: str) -> float:
    """The move's target for one firm, worked out on scalars from the rule in explain's docstring."""
    level = entry["value"]
    if "ratio" not in entry:
        return level
    base = row[entry["base"]]
    if base is None or math.isnan(base):
        return level
    raw = entry["ratio"] * base
    scaled = max(math.ceil(raw - 1e-9) if FIELDS[name].integer else float(np.round(raw, 1)), level)
    return min(scaled, base) if name in ("rd_staff", "main_revenue") else scaled


def _value(row: dict, name: str) -> float:
    value = row[name]
    if FIELDS[name].kind == "enum":
        return math.nan if not isinstance(value, str) else float(FIELDS[name].choices.index(value))
    return math.nan if value is None else float(value)


def _brute_force(model, clean: pd.DataFrame, k: int = 3) -> dict:
    """Drivers by moving every candidate field of every firm one copy at a time, predicted by the batch path."""
    records = complete_profiles(clean).to_dict("records")
    directions = raw_directions()
    copies, candidates = [], []
    for tier in model.tiers:
        targets = dict(model.metadata["targets"][tier])
        targets.pop(HOLDER_TITLES.get(tier), None)
        for i, row in enumerate(records):
            for name in DRIVER_FIELDS:
                if name not in targets:
                    continue
                current, target = _value(row, name), _target(targets[name], row, name)
                better = target > current if directions[name] >= 0 else target < current
                if math.isnan(target) or not (math.isnan(current) or better):
                    continue
                copy = dict(row)
                copy[name] = FIELDS[name].choices[int(target)] if FIELDS[name].kind == "enum" else target
                if name in ("class1_ip_applied", "class1_ip_high_value") and not math.isnan(row["class1_ip"]):
                    copy["class1_ip"] = max(row["class1_ip"], target)
                candidates.append((tier, i, name, current, target, len(copies)))
                copies.append(copy)
    frame = complete_profiles(pd.DataFrame(records + copies))
    proba = model.predict_proba(frame)
    out = {t: [[] for _ in records] for t in model.tiers}
    ranked = sorted(candidates, key=lambda c: -(proba[c[0]][len(records) + c[5]] - proba[c[0]][c[1]]))
    for tier, i, name, current, target, at in ranked:  # a stable sort: ties keep field order
        delta = proba[tier][len(records) + at] - proba[tier][i]
        if delta >= MIN_DELTA and len(out[tier][i]) < k:
            out[tier][i].append((name, current, target, round(float(delta), 4)))
    return proba, out


@pytest.mark.parametrize("rules", RULES)
def test_drivers_equal_every_move_re_predicted_alone(shipped, masked, rules):
    model = shipped.under(rules)
    clean = masked[rules]
    proba, expected = _brute_force(model, clean)
    base, drivers = explain(model, clean)
    found = 0
    for tier in model.tiers:
        np.testing.assert_array_equal(base[tier], proba[tier][:len(clean)])
        for i in range(len(clean)):
            got = [(d["field"], d["delta"]) for d in drivers[tier][i]]
            assert got == [(name, delta) for name, _, _, delta in expected[tier][i]], (tier, i)
            for d, (name, current, target, _) in zip(drivers[tier][i], expected[tier][i]):
                spec = FIELDS[name]
                if spec.kind == "enum":
                    assert d["target"] == spec.choices[int(target)]
                else:
                    assert d["target"] == pytest.approx(target) and (d["current"] is None) == math.isnan(current)
            found += len(got)
    assert found > 20, "the firms should have drivers to compare"


@pytest.mark.parametrize("rules", RULES)
def test_one_firm_alone_equals_the_firm_in_a_block(shipped, masked, rules):
    """A firm explained on its own (read row by row) gets what it gets in a block (read column by column)."""
    model = shipped.under(rules)
    clean = masked[rules]
    base, drivers = explain(model, clean)
    for i in range(0, len(clean), 5):
        one_base, one = explain(model, clean.iloc[[i]])
        for tier in model.tiers:
            assert one_base[tier][0] == base[tier][i]
            assert one[tier][0] == drivers[tier][i]


def test_ratio_fields_name_their_base():
    assert set(RATIO_FIELDS) <= set(DRIVER_FIELDS)


@pytest.mark.parametrize("rules", RULES)
def test_probabilities_equal_each_classifiers_predict_proba(shipped, masked, rules):
    """The model's prediction path (gates, each classifier's fast path) gives what scikit-learn's
    ``predict_proba`` of each tier's classifier gives, clipped to the floor and ceiling."""
    model = shipped.under(rules)
    feats = model.features.features(complete_profiles(masked[rules]))
    with openmp_threads():
        fast = model.probabilities(feats, model.tiers)
        for tier in model.tiers:
            clf = model.pipelines[tier]["classifier"]
            gated = model.features.gated(feats, tier) if model.metadata["tiers"][tier].get("gate_not_met") else \
                np.zeros(len(feats), dtype=bool)
            slow = np.where(gated, P_FLOOR, clip_probability(clf.predict_proba(feats)[:, 1]))
            np.testing.assert_array_equal(fast[tier], slow)
            if hasattr(clf, "calibrators_"):  # isotonic maps per level: each score mapped as sklearn maps it
                score, level = clf.estimator.decision_function(feats), clf.level(feats)
                iso = clf.global_.predict(score)
                for k, calibrator in enumerate(clf.calibrators_):
                    if calibrator is not None and (level == k).any():
                        iso[level == k] = calibrator.predict(score[level == k])
                np.testing.assert_array_equal(clf.predict_proba(feats)[:, 1], iso)


@pytest.mark.parametrize("rules", RULES)
def test_drivers_with_the_firms_verdict_equal_judging_everything_again(shipped, masked, rules):
    """Given the firms' own verdict (as an assessment has it), the copies take the criteria no move changes
    from it: the same probabilities and drivers, for a whole block and for firms inside a larger verdict."""
    model = shipped.under(rules)
    clean = complete_profiles(masked[rules])
    verdict = Judge(clean, model.features.ruleset).run()
    _same(explain(model, clean, judge=verdict), explain(model, clean))
    part = clean.iloc[5:9]
    _same(explain(model, part, judge=verdict, rows=np.arange(5, 9)), explain(model, part))
    review = Judge(clean, model.features.ruleset, review=True).run()  # a re-review's verdict is not reused
    _same(explain(model, clean, judge=review), explain(model, clean))


@pytest.mark.parametrize("rules", RULES)
def test_drivers_read_from_the_arrays_an_assessment_was_judged_from(rules):
    """An assessment's verdict carries the validator's arrays: the drivers read the firms from them (no
    frame) and equal those of the firms read from the frame and judged again."""
    frame = make_profiles(6, seed=31).astype(object)
    frame.loc[2, ["rd_expense", "class1_ip", "rd_institution"]] = None
    result = assess(frame, rules=rules, as_of=dt.date(2026, 5, 20))
    model = result.model.under(rules)
    assert Columns.of_judge(result.judge, np.arange(6)) is not None
    _same(explain(model, result.profiles, judge=result.judge), explain(model, result.profiles))
    _same(explain(model, result.profiles.iloc[[2]], judge=result.judge, rows=np.array([2])),
          explain(model, result.profiles.iloc[[2]]))


def _same(a, b) -> bool:
    (pa, da), (pb, db) = a, b
    assert pa.keys() == pb.keys() and da == db
    for tier in pa:
        np.testing.assert_array_equal(pa[tier], pb[tier])
    return True


@pytest.mark.parametrize("rules", RULES)
def test_moved_judge_equals_the_engine_on_every_copy(shipped, masked, rules):
    """Each candidate field moved on every firm (unknown filled in, known raised or lowered): the verdict that
    keeps the criteria reading no moved field equals the engine judging the copies from scratch."""
    ruleset = shipped.under(rules).features.ruleset
    clean = complete_profiles(masked[rules])
    base = Judge(clean, ruleset).run()
    cols = Columns.of(clean)
    n = len(clean)
    for name in DRIVER_FIELDS:
        spec = FIELDS[name]
        copy = cols.take(np.arange(n))
        values = copy.numbers[name]
        if spec.kind in ("enum", "bool"):
            top = len(spec.choices) - 1 if spec.kind == "enum" else 1
            new = np.where(np.isnan(values), top, top - np.nan_to_num(values))
        else:
            new = np.where(np.isnan(values), 3.0, np.where(np.arange(n) % 2, values * 3 + 2, values / 4))
        copy.numbers[name] = new
        if spec.kind == "enum":
            copy.codes[name] = new.astype(np.int16)
        moved = {name, "class1_ip"} if name in SUBCOUNTS else {name}
        frame = copy.frame()
        full = Judge(frame, ruleset).run()
        kept = MovedJudge(frame, base, np.arange(n), frozenset(moved)).run()
        assert kept.still, "some criteria read none of the moved fields"
        for cid, res in full.criteria.items():
            for part in ("status", "points_lo", "points_hi", "route", "via"):
                a, b = getattr(res, part), getattr(kept.criteria[cid], part)
                assert (a is None) == (b is None), (name, cid, part)
                if a is not None:
                    np.testing.assert_array_equal(a, b, err_msg=f"{name} {cid} {part}")
        for tid, res in full.tiers.items():
            np.testing.assert_array_equal(res.status, kept.tiers[tid].status, err_msg=f"{name} {tid}")
            for part in ("score_lo", "score_hi"):
                if getattr(res, part) is not None:
                    np.testing.assert_array_equal(getattr(res, part), getattr(kept.tiers[tid], part))


def test_criterion_inputs_are_kept_once_per_set_of_tables():
    """Every assessment selects a new RuleSet of the same tables: the inputs are worked out once for them,
    and the cache does not grow with the number of assessments a server answers."""
    from webapp.engine.readiness import moves

    book = defaults.load(defaults.rule_book)
    first = moves.criterion_inputs(book.select("SME-2026", dt.date(2026, 5, 1)))
    before = len(moves._INPUTS)
    for day in range(1, 29):
        assert moves.criterion_inputs(book.select("SME-2026", dt.date(2026, 6, day))) is first
    assert len(moves._INPUTS) == before
