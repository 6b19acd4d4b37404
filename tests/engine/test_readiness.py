"""The readiness classifier: monotone, calibrated, reproducible, safe to load, explained, in the contract shape."""

from __future__ import annotations

import copy
import json
import os
import zipfile

import numpy as np
import pandas as pd
import pytest
import skops
import skops.io as sio
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.preprocessing import FunctionTransformer

from tests.factories import make_profile
from webapp import paths
from webapp.engine import defaults
from webapp.engine.io.inputs import validate_profiles
from webapp.engine.readiness import build as readiness_build
from webapp.engine.readiness.evaluation import HIDDEN_SHARES, PROFILES, noise_band
from webapp.engine.readiness.evaluation import calibration_firms as total_calibration_firms
from webapp.engine.readiness.features import DECREASING, FREE, INCREASING, NOMINAL, ORDINAL, raw_directions
from webapp.engine.readiness.model import ReadinessModel, readiness_columns, readiness_json
from webapp.engine.readiness.population.draw import UNDRAWN_GROUPS
from webapp.engine.readiness.population.params import load_population_params
from webapp.engine.readiness.population.simulate import TIERS, simulate_population
from webapp.engine.readiness.store import ModelError, load_model, save_model
from webapp.engine.readiness.train import mask_profiles
from webapp.fields import FIELDS, REGISTRY
from webapp.model_cli import train as train_command

SEED = 23


@pytest.fixture(scope="session")
def model():
    """A small readiness model trained on 8,000 simulated firms (seconds, not minutes)."""
    return readiness_build.train_default(8000, SEED, rules="SME-2026")


@pytest.fixture(scope="session")
def firms():
    """Held-out-like firms: a fresh population, each firm with a random share of fields hidden."""
    pop = simulate_population(1500, seed=SEED + 100, rules="SME-2026")
    masked = mask_profiles(pop.profiles, np.random.default_rng(1), load_population_params().masking,
                           quick=defaults.load(defaults.rule_book).quick_fields)
    return pop, masked.reset_index(drop=True)


@pytest.fixture(scope="session")
def saved(model, tmp_path_factory):
    """The model saved once; tests copy the folder before touching it."""
    folder = tmp_path_factory.mktemp("artefact")
    save_model(copy.deepcopy(model), folder)
    return folder


def _clean(records: list[dict]) -> pd.DataFrame:
    clean, errors = validate_profiles(pd.DataFrame(records, dtype=object))
    assert errors.empty, errors.to_dict("records")
    return clean


def test_every_field_has_one_direction():
    """Every non-text registry field the model reads is increasing, decreasing, free or nominal, exactly once."""
    groups = [INCREASING, DECREASING, FREE, ORDINAL, NOMINAL]
    names = [n for g in groups for n in g]
    assert len(names) == len(set(names))
    assert set(names) == {s.name for s in REGISTRY if s.kind != "text" and s.group not in UNDRAWN_GROUPS}


def test_probabilities_in_range_for_full_partial_and_empty_profiles(model, firms):
    """Every firm gets a probability in [0, 1] for every tier, even with nothing entered."""
    _, masked = firms
    empty = pd.concat([masked.iloc[:1]] * 2, ignore_index=True)
    for name in empty.columns:
        empty[name] = empty[name].mask(np.ones(2, dtype=bool))
    for frame in (masked, empty, _clean([make_profile()]), _clean([{"revenue": 3000}])):
        probs = model.predict_proba(frame)
        assert set(probs) == set(TIERS)
        for p in probs.values():
            assert p.shape == (len(frame),)
            assert np.isfinite(p).all() and (p >= 0).all() and (p <= 1).all()


def _grid(name: str, pool: pd.DataFrame) -> list[float]:
    spec = FIELDS[name]
    if spec.kind == "enum":
        return list(range(len(spec.choices)))
    if spec.kind == "bool":
        return [0.0, 1.0]
    values = pool[name].to_numpy(float)
    q = np.nanquantile(values, [0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0]) if np.isfinite(values).any() else np.zeros(7)
    grid = np.unique(np.round(np.r_[spec.lo or 0.0, q, 2 * q[-1] + 1], 3))
    return [g for g in grid if spec.hi is None or g <= spec.hi]


def _with(frame: pd.DataFrame, name: str, value: float) -> pd.DataFrame:
    out = frame.copy()
    spec = FIELDS[name]
    if spec.kind == "enum":
        out[name] = pd.Categorical([spec.choices[int(value)]] * len(out), categories=spec.choices)
    else:
        out[name] = float(value)
    return out


def test_sweeping_each_constrained_field_never_moves_the_wrong_way(model, firms):
    """For fixed firms, raising a more-is-better field never lowers any tier's probability (debt, ranks: the
    reverse)."""
    pop, masked = firms
    base = masked.iloc[:40]
    for name, direction in raw_directions().items():
        if direction == 0:
            continue
        grid = _grid(name, pop.profiles)
        swept = pd.concat([_with(base, name, v) for v in grid], ignore_index=True)
        for tier, p in model.predict_proba(swept).items():
            steps = np.diff(p.reshape(len(grid), len(base)), axis=0) * direction
            assert steps.min() >= -1e-12, (name, tier, steps.min())


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(data=st.data())
def test_monotone_in_every_constrained_field(model, firms, data):
    """Property: any firm, any constrained field, any two values: the probability moves with the direction."""
    pop, masked = firms
    name = data.draw(st.sampled_from(sorted(n for n, d in raw_directions().items() if d)))
    row = masked.iloc[[data.draw(st.integers(0, len(masked) - 1))]]
    spec = FIELDS[name]
    if spec.kind in ("enum", "bool"):
        top = len(spec.choices) - 1 if spec.kind == "enum" else 1
        a, b = sorted(data.draw(st.lists(st.integers(0, top), min_size=2, max_size=2)))
    else:
        hi = spec.hi if spec.hi is not None else 2 * float(np.nanmax(pop.profiles[name])) + 10
        lo = spec.lo if spec.lo is not None else -hi
        a, b = sorted(data.draw(st.lists(st.floats(lo, hi), min_size=2, max_size=2)))
    probs = model.predict_proba(pd.concat([_with(row, name, a), _with(row, name, b)], ignore_index=True))
    direction = raw_directions()[name]
    for tier, p in probs.items():
        assert (p[1] - p[0]) * direction >= -1e-12, (name, tier, a, b, p)


def test_reliability_within_five_points_on_large_held_out_bins(model):
    """On held-out firms, every bin of at least 500 firms has a mean prediction within 0.05 of its rate, or
    within the sampling noise of this small model (4,000 calibration firms, 8,000 fresh ones: a bin of 700
    firms at 0.3 may be off by 0.08 by chance alone, see noise_band); the issue's miscalibration on main, 0.45
    predicted where 0.68 were certified in a bin of 300, is out of it."""
    firms = model.metadata["evaluation"]["rows"]
    calibration_firms = total_calibration_firms(model.metadata)
    issue = {"n": 300, "observed": 0.68, "gap": 0.23}
    assert issue["gap"] > max(0.05, noise_band(issue, firms, calibration_firms))
    checked = 0
    for tier, by in model.metadata["metrics"].items():
        for variant, m in by.items():
            for row in m["reliability"]:
                if row["n"] >= 500:
                    checked += 1
                    assert row["gap"] <= max(0.05, noise_band(row, firms, calibration_firms)), (tier, variant, row)
    assert checked >= 5


def test_model_beats_the_rules_alone(model):
    """Held-out Brier score: better than the rules mapped to 1/0/0.5 on partial profiles, where the rules say
    unknown; on full profiles the rules already decide most outcomes, so at least as good within 0.005. ROC AUC
    above 0.75 for full, quick and half-hidden profiles; with 20% or 80% of the fields hidden, above the rules'
    own AUC and 0.7 (this small model ranks innovative SMEs with 80% hidden at about 0.74)."""
    for tier, by in model.metadata["metrics"].items():
        assert set(by) == set(PROFILES)
        for variant, m in by.items():
            slack = 0.005 if variant == "full" else 0.0
            assert m["model"]["brier"] <= m["baseline"]["brier"] + slack, (tier, variant)
            if variant in HIDDEN_SHARES:
                assert m["model"]["roc_auc"] > max(0.7, m["baseline"]["roc_auc"]), (tier, variant)
            else:
                assert m["model"]["roc_auc"] > 0.75, (tier, variant)


def test_held_out_scores_recomputed_independently(model, firms):
    """The two tests above read the figures training wrote into the metadata; here they are recomputed with
    sklearn.metrics on a fresh population (another seed) with fields hidden: for every tier the Brier score beats
    always predicting the base rate, ROC AUC exceeds 0.75, and the mean probability is within 0.05 of the rate."""
    pop, masked = firms
    for tier, p in model.predict_proba(masked).items():
        y = pop.labels[f"{tier}_certified"].to_numpy(dtype=float)
        assert 0 < y.sum() < len(y), tier
        assert brier_score_loss(y, p) < brier_score_loss(y, np.full(len(y), y.mean())), tier
        assert roc_auc_score(y, p) > 0.75, tier
        assert abs(p.mean() - y.mean()) <= 0.05, tier


@pytest.mark.slow
def test_training_is_deterministic_given_the_seed():
    """Same seed, same population, same probabilities and figures."""
    one = readiness_build.train_default(2500, 5, rules="SME-2026")
    two = readiness_build.train_default(2500, 5, rules="SME-2026")
    assert one.metadata["data"]["population"]["sha256"] == two.metadata["data"]["population"]["sha256"]
    assert one.metadata["metrics"] == two.metadata["metrics"]
    clean = _clean([make_profile(), {"revenue": 9000, "rd_expense": 700}])
    for tier in one.tiers:
        np.testing.assert_array_equal(one.predict_proba(clean)[tier], two.predict_proba(clean)[tier])


def test_save_and_load_round_trip(model, saved, firms):
    """A saved artefact loads back, says where from, and predicts exactly the same."""
    loaded = load_model(saved)
    _, masked = firms
    assert loaded.path == saved / "readiness.skops"
    assert loaded.metadata["artefact"]["sha256"]
    assert (saved / "MODEL_CARD.md").exists()
    for tier in model.tiers:
        np.testing.assert_array_equal(loaded.predict_proba(masked)[tier], model.predict_proba(masked)[tier])
    assert "simulated population" in loaded.describe()
    assert loaded.metadata["artefact"]["bytes"] < 5_000_000


def _copy(saved, tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    for item in saved.iterdir():
        (folder / item.name).write_bytes(item.read_bytes())
    return folder


def _rewrite_meta(folder, **changes):
    meta = json.loads((folder / "readiness.json").read_text(encoding="utf-8"))
    for key, value in changes.items():
        meta[key] = value
    (folder / "readiness.json").write_text(json.dumps(meta), encoding="utf-8")
    return meta


def test_changed_bytes_are_refused(saved, tmp_path):
    """Bytes changed after saving: the SHA-256 check refuses the file before anything is built."""
    folder = _copy(saved, tmp_path)
    data = bytearray((folder / "readiness.skops").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / "readiness.skops").write_bytes(bytes(data))
    with pytest.raises(ModelError, match="SHA-256"):
        load_model(folder)


def test_corrupt_file_with_matching_hash_is_refused(saved, tmp_path):
    """Even with its recorded hash updated, a corrupted archive is refused with a clear message."""
    import hashlib

    folder = _copy(saved, tmp_path)
    data = (folder / "readiness.skops").read_bytes()[:-200]
    (folder / "readiness.skops").write_bytes(data)
    meta = json.loads((folder / "readiness.json").read_text(encoding="utf-8"))
    meta["artefact"]["sha256"] = hashlib.sha256(data).hexdigest()
    (folder / "readiness.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ModelError, match="not a readable skops file|cannot be loaded"):
        load_model(folder)


def test_unexpected_type_is_refused_and_never_executed(model, saved, tmp_path, monkeypatch):
    """A file smuggling a function (os.system) is refused from its type list; nothing is called."""
    import hashlib

    called = []
    monkeypatch.setattr(os, "system", lambda *a: called.append(a))
    folder = _copy(saved, tmp_path)
    payload = {**model.pipelines, "little_giant": FunctionTransformer(os.system)}
    data = sio.dumps(payload, compression=zipfile.ZIP_DEFLATED)
    (folder / "readiness.skops").write_bytes(data)
    meta = json.loads((folder / "readiness.json").read_text(encoding="utf-8"))
    meta["artefact"]["sha256"] = hashlib.sha256(data).hexdigest()
    (folder / "readiness.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ModelError, match="types a readiness model never holds"):
        load_model(folder)
    assert not called


@pytest.mark.parametrize("changes, message", [
    ({"format": "something-else/1"}, "not a GiantStep readiness model"),
    ({"libraries": {"scikit-learn": "0.24.2", "numpy": np.__version__, "skops": skops.__version__}}, "scikit-learn"),
    ({"rule_versions": {"SME-2026": "1999.01-1"}}, "rule tables"),
])
def test_foreign_or_stale_metadata_is_refused(saved, tmp_path, changes, message):
    """A foreign file, another scikit-learn or other rule tables: refused, with the reason and what to do."""
    folder = _copy(saved, tmp_path)
    _rewrite_meta(folder, **changes)
    with pytest.raises(ModelError, match=message):
        load_model(folder)


def test_load_model_picks_the_newest_valid_and_says_which(model, tmp_path, monkeypatch):
    """Without a path: the newest valid artefact wins; a newer refused one is listed in the notes."""
    default_dir, instance = tmp_path / "models", tmp_path / "instance"
    monkeypatch.setenv("GIANTSTEP_MODELS_DIR", str(default_dir))
    monkeypatch.setenv("GIANTSTEP_INSTANCE_DIR", str(instance))
    older = copy.deepcopy(model)
    older.metadata["trained_at"] = "2026-01-01T00:00:00+00:00"
    save_model(older, default_dir)
    newer = copy.deepcopy(model)
    newer.metadata.update(trained_at="2026-06-01T00:00:00+00:00", model_version="readiness-20260601T000000Z")
    save_model(newer, instance / "models", name="readiness-20260601T000000Z")
    assert load_model().path == instance / "models" / "readiness-20260601T000000Z.skops"
    (instance / "models" / "readiness-20260601T000000Z.skops").write_bytes(b"not a model")
    chosen = load_model()
    assert chosen.path == default_dir / "readiness.skops"
    assert any("SHA-256" in note for note in chosen.notes)
    (default_dir / "readiness.skops").write_bytes(b"nor this")
    with pytest.raises(ModelError, match="train one with `giantstep train`"):
        load_model()


def test_drivers_are_re_predicted_rises(model, firms):
    """Drivers: at most k fields, best first, each delta the re-predicted rise when moved to the target."""
    _, masked = firms
    clean = _clean([make_profile()])  # an SRDI firm one criterion short of little giant (2-year R&D)
    found = 0
    for tier in model.tiers:
        drivers = model.drivers(clean, tier, k=3)[0]
        assert len(drivers) <= 3
        deltas = [d["delta"] for d in drivers]
        assert deltas == sorted(deltas, reverse=True) and all(x > 0 for x in deltas)
        for d in drivers[:1]:
            moved = clean.copy()
            spec = FIELDS[d["field"]]
            if spec.kind == "enum":
                moved[d["field"]] = pd.Categorical([d["target"]], categories=spec.choices)
            else:
                moved[d["field"]] = float(d["target"])
            if d["field"] in ("class1_ip_applied", "class1_ip_high_value"):
                moved["class1_ip"] = max(float(moved["class1_ip"].iloc[0]), float(d["target"]))
            rise = model.predict_proba(moved)[tier][0] - model.predict_proba(clean)[tier][0]
            assert rise == pytest.approx(d["delta"], abs=1e-3)
        found += len(drivers)
    assert found > 0
    assert model.drivers(clean, "little_giant", k=3)[0], "the R&D shortfall should show as a driver"
    many = model.drivers(masked.iloc[:25], "little_giant", k=2)
    assert len(many) == 25 and all(len(d) <= 2 for d in many)


def test_readiness_json_contract(model):
    """The assess contract: a probability and drivers per tier, plus the ``_model`` entry a report cites."""
    clean = _clean([{"revenue": 6000, "employees": 120}])
    out = readiness_json(model, clean)
    json.dumps(out, ensure_ascii=False)
    assert set(out) == set(TIERS) | {"_model"}
    for tier in TIERS:
        assert 0 <= out[tier]["probability"] <= 1
        for d in out[tier]["drivers"]:
            assert set(d) == {"field", "current", "target", "delta"}
    meta = out["_model"]
    assert meta["trained_on"] == "simulated population"
    assert meta["version"].startswith("readiness-") and meta["trained_at"]
    assert set(meta["metrics_summary"]) == set(TIERS)
    with pytest.raises(ValueError, match="one firm"):
        readiness_json(model, pd.concat([clean, clean]))


def test_readiness_columns_for_batch(model, firms):
    """Batch columns ``<tier>_readiness``, same index, empty for invalid rows, reusing the engine's verdict."""
    _, masked = firms
    frame = masked.iloc[:50].set_axis(range(100, 150))
    valid = np.ones(50, dtype=bool)
    valid[3] = False
    cols = readiness_columns(model, frame, judge=model.judge(frame), valid=valid)
    assert list(cols.columns) == [f"{t}_readiness" for t in TIERS]
    assert list(cols.index) == list(frame.index)
    assert cols.iloc[3].isna().all() and cols.drop(index=103).notna().all().all()
    direct = readiness_columns(model, frame)
    pd.testing.assert_frame_equal(cols.drop(index=103), direct.drop(index=103))


def test_a_judge_of_another_rule_set_is_not_reused(model, firms):
    """Statuses judged under SME-2022 are recomputed under the model's rule set, not trusted."""
    from webapp.engine.rules.criteria import Judge

    _, masked = firms
    frame = masked.iloc[:30]
    other = Judge(frame, defaults.rule_book().select("SME-2022")).run()
    for tier in model.tiers:
        np.testing.assert_array_equal(model.predict_proba(frame, judge=other)[tier],
                                      model.predict_proba(frame)[tier])


def test_retraining_on_real_outcomes(model, tmp_path):
    """Outcomes CSV -> a versioned artefact trained on real outcomes; tiers without outcomes keep the base."""
    pop = simulate_population(3000, seed=31, rules="SME-2026")
    frame = pop.to_frame().drop(columns=["single_champion_certified", "stratum"])
    frame["little_giant_certified"] = np.where(frame["little_giant_certified"] == 1, "yes", "no")
    frame["srdi_sme_certified"] = frame["srdi_sme_certified"].astype(object)
    frame.loc[:9, "srdi_sme_certified"] = ""
    frame["little_giant_year"] = 2025
    path = tmp_path / "outcomes.csv"
    frame.to_csv(path, index=False)
    retrained, problems = readiness_build.train_on_outcomes(path, seed=3, base=model)
    assert problems == []
    meta = retrained.metadata
    assert meta["trained_on"] == "real outcomes"
    assert meta["data"]["outcomes"]["tiers"]["srdi_sme"]["known"] == 2990
    assert meta["data"]["outcomes"]["tiers"]["little_giant"]["years"] == [2025, 2025]
    assert meta["tiers"]["little_giant"]["trained_on"] == "real outcomes"
    assert meta["tiers"]["single_champion"]["trained_on"] == "simulated population"
    assert retrained.pipelines["single_champion"] is model.pipelines["single_champion"]
    assert retrained.summary()["tiers_trained_on"]["little_giant"] == "real outcomes"


@pytest.mark.slow
def test_train_command_writes_versioned_artefacts_for_outcomes(model, tmp_path, monkeypatch):
    """``giantstep train --labels`` writes a new version into the instance folder; the app then picks it."""
    default_dir, instance = tmp_path / "models", tmp_path / "instance"
    monkeypatch.setenv("GIANTSTEP_MODELS_DIR", str(default_dir))
    monkeypatch.setenv("GIANTSTEP_INSTANCE_DIR", str(instance))
    save_model(copy.deepcopy(model), default_dir)
    pop = simulate_population(2500, seed=41, rules="SME-2026")
    path = tmp_path / "outcomes.csv"
    pop.to_frame().to_csv(path, index=False)
    result = CliRunner().invoke(train_command, ["--labels", str(path), "--seed", "2"])
    assert result.exit_code == 0, result.output
    written = sorted((instance / "models").glob("readiness-*.skops"))
    assert len(written) == 1 and "real outcomes" in result.output
    assert load_model().path == written[0]


def test_train_command_default_writes_models_folder(model, tmp_path, monkeypatch):
    """``giantstep train`` (no labels) writes readiness.skops/json and MODEL_CARD.md to the output folder."""
    def fake_train_default(rows, seed, rules=None, rule_book=None):
        return ReadinessModel(dict(model.pipelines), copy.deepcopy(model.metadata))

    monkeypatch.setattr(readiness_build, "train_default", fake_train_default)
    result = CliRunner().invoke(train_command, ["-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert {p.name for p in (tmp_path / "out").iterdir()} == {"readiness.skops", "readiness.json", "MODEL_CARD.md"}
    card = (tmp_path / "out" / "MODEL_CARD.md").read_text(encoding="utf-8")
    for text in ("What it is not", "Held-out metrics", "Reliability", "simulated population", "giantstep train"):
        assert text in card


def test_shipped_artefact_matches_the_installed_libraries():
    """The default artefact in models/ loads (versions, rule tables, hash, types) and meets its own card."""
    from webapp.engine.readiness.store import library_versions
    models_dir = paths.resolve().models
    shipped = load_model(models_dir)
    meta = shipped.metadata
    assert meta["libraries"]["scikit-learn"] == library_versions()["scikit-learn"]
    assert meta["trained_on"] == "simulated population" and set(shipped.tiers) == set(TIERS)
    assert meta["artefact"]["bytes"] < 5_000_000
    card = (models_dir / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert meta["model_version"] in card
    for model in (shipped, *shipped.siblings.values()):   # measured on a population of a fresh seed
        evaluation = model.metadata["evaluation"]
        assert evaluation["kind"] == "fresh population"
        firms, calibration_firms = evaluation["rows"], model.metadata["training"]["split"]["calibration"]
        rows = [r for by in model.metadata["metrics"].values() for d in by.values() for r in d["reliability"]
                if r["n"] >= 500]
        assert rows and all(r["gap"] <= max(0.05, noise_band(r, firms, calibration_firms)) for r in rows), model.rules
        assert model.rules in card
