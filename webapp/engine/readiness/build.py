"""Build a readiness model end to end: from the simulated population, or from a file of real outcomes."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

from webapp.engine.readiness.evaluation import evaluate, summarise
from webapp.engine.readiness.explain import driver_targets
from webapp.engine.readiness.model import ReadinessModel
from webapp.engine.readiness.population.params import load_population_params
from webapp.engine.readiness.population.simulate import TIERS, simulate_population
from webapp.engine.readiness.train import VARIANTS, Timer, TrainConfig, config_dict, fit_tiers, split_firms
from webapp.engine.rules.rulebook import RuleBook, RuleSet, load_rule_book

SIMULATED, REAL = "simulated population", "real outcomes"
_YES = {"1", "1.0", "true", "t", "yes", "y", "是", "有", "certified", "通过"}
_NO = {"0", "0.0", "false", "f", "no", "n", "否", "无", "not certified", "未通过"}


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def train_readiness(profiles: pd.DataFrame, labels: pd.DataFrame, *, ruleset: RuleSet, trained_on: str, seed: int,
                    masking: dict, data: dict, config: TrainConfig | None = None, base: ReadinessModel | None = None,
                    command: str = "giantstep train", held_out: tuple | None = None, extra=()) -> ReadinessModel:
    """Train, calibrate and evaluate one pipeline per tier; return the model with its metadata.

    Parameters
    ----------
    profiles : pandas.DataFrame
        Clean profiles (complete for a simulated population; as given for real outcomes).
    labels : pandas.DataFrame
        ``<tier>_certified`` columns: 1, 0 or NaN (no outcome for that tier).
    ruleset : RuleSet
        The rule set whose statuses are features (its SME table is the model's ``rules``).
    trained_on : {"simulated population", "real outcomes"}
    seed : int
        Seeds the split, the masks and every estimator's ``random_state``.
    masking : dict
        data/population/labels.toml [masking].
    data : dict
        What the rows are (population info, or the outcomes file's name, hash and counts).
    config : TrainConfig, optional
    base : ReadinessModel, optional
        Tiers this training cannot fit (too few outcomes) keep ``base``'s pipeline and metadata.
    command : str
        The command that reproduces this model, for the model card.
    held_out : tuple, optional
        ``(profiles, labels, info)`` of firms the metrics are measured on: a population of a seed never
        used in training. Without it, the ``test`` share of ``profiles`` (``config.test_fraction``).
    extra : iterable of (pandas.DataFrame, pandas.DataFrame), optional
        More calibration firms, block by block (profiles, labels): the grids only (see ``fit_tiers``).

    Returns
    -------
    ReadinessModel
    """
    config = config or TrainConfig()
    timer = Timer()
    parts = split_firms(len(profiles), config, np.random.default_rng(seed))
    tiers = [t for t in TIERS if f"{t}_certified" in labels]
    pipelines, info = fit_tiers(profiles, labels, parts, ruleset=ruleset, masking=masking, config=config, seed=seed,
                                tiers=tiers, extra=extra)
    if not pipelines:
        raise ValueError(f"no tier has at least {config.min_class_rows} certified and {config.min_class_rows} "
                         "not-certified firms in both the training and the calibration split")
    timer.lap("fit")
    features = next(iter(pipelines.values()))["features"]
    now = _utc_now()
    meta = {
        "format": "giantstep-readiness/2", "model_version": f"readiness-{now:%Y%m%dT%H%M%SZ}",
        "trained_at": now.isoformat(), "trained_on": trained_on, "command": command,
        "rules": ruleset.versions(), "rule_versions": features.rule_versions_,
        "libraries": _libraries(),
        "tiers": {t: {"trained_on": trained_on, **info[t]} for t in pipelines},
        "features": {"names": list(features.feature_names_out_), "monotonic_cst": features.monotonic_cst_.tolist()},
        "data": data,
        "training": {"seed": seed, "config": config_dict(config), "masking": masking,
                     "split": {k: int(len(v)) for k, v in parts.items()}, "variants": list(VARIANTS)},
    }
    model = ReadinessModel(pipelines, meta).bind(ruleset)
    if held_out is None:
        test = parts["test"]
        if len(test) == 0:
            raise ValueError("no held-out firms: give a fresh population or a test_fraction above 0")
        held_out = (profiles.iloc[test], labels.iloc[test], {"kind": "test split", "rows": int(len(test))})
    meta["metrics"] = evaluate(model, held_out[0], held_out[1], masking, seed)
    meta["evaluation"] = {**held_out[2], "basis": trained_on}
    timer.lap("evaluate")
    train = parts["train"]
    meta["targets"] = driver_targets(profiles.iloc[train], labels.iloc[train], pipelines)
    if base is not None:
        _keep_base_tiers(model, base)
    meta["metrics_summary"] = summarise(meta["metrics"], meta["evaluation"])
    meta["training"]["seconds"] = timer.steps
    return model


def _libraries() -> dict:
    from webapp.engine.readiness.store import library_versions

    return library_versions()


def _keep_base_tiers(model: ReadinessModel, base: ReadinessModel) -> None:
    """Carry over the tiers the new data could not fit, when the base model reads the same features."""
    if base.metadata["features"]["names"] != model.metadata["features"]["names"]:
        return
    for tier in base.tiers:
        if tier not in model.pipelines:
            model.pipelines[tier] = base.pipelines[tier]
            for key in ("tiers", "metrics", "targets"):
                if tier in base.metadata.get(key, {}):
                    model.metadata[key][tier] = base.metadata[key][tier]
    order = [t for t in TIERS if t in model.pipelines]
    model.pipelines = {t: model.pipelines[t] for t in order}
    model.metadata["tiers"] = {t: model.metadata["tiers"][t] for t in order}


EVALUATION_ROWS = 100_000  # firms of the fresh population the metrics are measured on (at most the training rows)
# Firms of the training population: half fit the trees, half the calibration grids. 200,000 was tried and
# was no better on fresh seeds (bins of a few hundred firms in the sparse middle of full profiles stayed off
# by up to 0.13) for twice the training time.
TRAINING_ROWS = 120_000
# More simulated firms for the calibration grids alone, per training firm (the trees stay as trained on the
# training population's half): a grid cell of a few hundred calibration rows carries a sampling error of
# 0.02-0.035 of its own, which is what left the sparse middle of full and partial profiles off on fresh seeds.
# Sixteen (1.92 million firms per rule set) with score bins of 1,000 rows brought the misses on six fresh
# seeds down to what sampling alone gives; four left the quick check's sparse middle off by up to 0.10.
CALIBRATION_FACTOR = 16
CALIBRATION_BLOCK = 60_000   # firms simulated, masked and reduced to the grids' inputs at a time


def evaluation_seed(seed: int) -> int:
    """Seed of the population the metrics are measured on: never one the training population used."""
    return seed + 1


def calibration_seeds(seed: int, rows: int) -> list[int]:
    """Seeds of the extra calibration firms' blocks: ``seed + 2`` on, after the training and evaluation seeds."""
    return [seed + 2 + i for i in range(-(-rows // CALIBRATION_BLOCK))]


def calibration_blocks(rows: int, seed: int, rules: str, params, book) -> tuple[list[dict], object]:
    """The extra calibration firms as (profiles, labels) blocks, drawn one at a time, and what they are."""
    seeds = calibration_seeds(seed, rows)
    info = [{"seed": s, "rows": min(CALIBRATION_BLOCK, rows - i * CALIBRATION_BLOCK)} for i, s in enumerate(seeds)]

    def blocks():
        for block in info:
            pop = simulate_population(block["rows"], seed=block["seed"], rules=rules, params=params, rule_book=book)
            block["sha256"] = pop.info["sha256"]
            yield pop.profiles, pop.labels

    return info, blocks()


def train_default(rows: int | None = None, seed: int | None = None, *, rules: str | None = None,
                  config: TrainConfig | None = None, rule_book: RuleBook | None = None) -> ReadinessModel:
    """The default model: one model per SME rule set, each trained on a population simulated under it.

    Readiness is the probability of certification under the rules the firm is judged by, and those rules
    decide both the features (the engine's statuses) and the outcomes (holders kept when they meet their
    tier's rules, pass rates solved per rule set), so each SME rule set gets its own population and model;
    the rule set in force today answers by default and the others are its ``siblings``.

    Parameters
    ----------
    rows, seed : int, optional
        Population size (default ``TRAINING_ROWS``) and seed (default in population.toml [meta]); the seed
        also seeds training. The
        metrics are measured on a population of seed ``seed + 1`` (never used in training).
    rules : str, optional
        Train only this SME rule set (default: every SME rule set of the rule book, the one in force first).
    config : TrainConfig, optional
    rule_book : RuleBook, optional
        Rule tables to judge with (default: those of the rules folder in force).

    Returns
    -------
    ReadinessModel
    """
    params = load_population_params()
    book = rule_book or load_rule_book()
    in_force = book.select(None).sme.id
    wanted = [rules] if rules else [in_force] + [r for r in book.sme_ids() if r != in_force]
    command = "giantstep train" + (f" --rows {rows}" if rows else "") + (f" --seed {seed}" if seed else "") \
        + (f" --rules {rules}" if rules else "")
    models = [_train_simulated(rows or TRAINING_ROWS, seed, r, params, book, config, command) for r in wanted]
    models[0].siblings = {m.rules: m for m in models[1:]}
    return models[0]


def _train_simulated(rows, seed, rules, params, book, config, command) -> ReadinessModel:
    timer = Timer()
    pop = simulate_population(rows, seed=seed, rules=rules, params=params, rule_book=book)
    config = config or TrainConfig(calibration_population=CALIBRATION_FACTOR * pop.info["rows"])
    timer.lap("population")
    fresh_seed = evaluation_seed(pop.info["seed"])
    fresh = simulate_population(min(EVALUATION_ROWS, pop.info["rows"]), seed=fresh_seed, rules=rules, params=params,
                                rule_book=book)
    timer.lap("evaluation_population")
    held_out = (fresh.profiles, fresh.labels, {"kind": "fresh population", "seed": fresh_seed,
                                               "rows": fresh.info["rows"], "sha256": fresh.info["sha256"]})
    blocks, extra = calibration_blocks(config.calibration_population, pop.info["seed"], rules, params, book)
    model = train_readiness(pop.profiles, pop.labels, ruleset=book.select(rules), trained_on=SIMULATED,
                            seed=pop.info["seed"], masking=params.masking,
                            data={"population": pop.info, "calibration_population": blocks},
                            config=config, command=command, held_out=held_out, extra=extra)
    model.metadata["training"]["seconds"] = {**timer.steps, **model.metadata["training"]["seconds"]}
    return model


def _parse_outcome(values: pd.Series, column: str) -> tuple[np.ndarray, list[str]]:
    text = values.astype(str).str.strip().str.lower()
    out = np.full(len(text), np.nan)
    out[text.isin(_YES).to_numpy()] = 1.0
    out[text.isin(_NO).to_numpy()] = 0.0
    bad = ~(text.isin(_YES) | text.isin(_NO) | text.isin({"", "nan", "none", "na"}))
    problems = [f"row {i + 2}: {column} = {values.iloc[i]!r} is not yes/no" for i in np.flatnonzero(bad.to_numpy())]
    return out, problems


def read_outcomes(path: str | Path) -> tuple[pd.DataFrame, pd.DataFrame, dict, list[str]]:
    """Read a file of real outcomes: canonical fields plus ``<tier>_certified`` (yes/no) and ``<tier>_year``.

    Parameters
    ----------
    path : str or Path
        .csv, .xlsx or .parquet; headers as for ``giantstep batch``. An empty outcome cell means the
        firm's result for that tier is not known (the row does not count for that tier).

    Returns
    -------
    clean : pandas.DataFrame
        Clean profiles of the rows whose input was valid.
    labels : pandas.DataFrame
        ``<tier>_certified`` (1, 0 or NaN) for the tiers the file has.
    info : dict
        File name, SHA-256, rows used and skipped, per tier known outcomes, positives and years.
    problems : list of str
        Skipped rows and unreadable outcome cells, one line each.
    """
    from webapp.engine.io.inputs import validate_profiles
    from webapp.engine.io.tables import read_table

    path = Path(path)
    raw = read_table(path).reset_index(drop=True)
    columns = [t for t in TIERS if f"{t}_certified" in raw.columns]
    if not columns:
        raise ValueError(f"{path.name}: no outcome column; name one <tier>_certified for a tier of "
                         f"{', '.join(TIERS)}")
    clean, errors = validate_profiles(raw)
    problems = [f"row {r.row}: {r.field} [{r.rule}]: {r.message_en}" for r in errors.itertuples()]
    labels, info_tiers = {}, {}
    for tier in columns:
        values, bad = _parse_outcome(raw[f"{tier}_certified"], f"{tier}_certified")
        problems += bad
        labels[f"{tier}_certified"] = values
    labels = pd.DataFrame(labels, index=raw.index)
    keep = ~clean.index.isin(errors["index"])
    clean, labels = clean[keep].reset_index(drop=True), labels[keep].reset_index(drop=True)
    for tier in columns:
        y = labels[f"{tier}_certified"]
        years = pd.to_numeric(raw.loc[keep, f"{tier}_year"], errors="coerce") if f"{tier}_year" in raw else None
        info_tiers[tier] = {"known": int(y.notna().sum()), "certified": int((y == 1).sum()),
                            "years": None if years is None or years.isna().all()
                            else [int(years.min()), int(years.max())]}
    info = {"file": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "rows": int(len(raw)),
            "rows_used": int(keep.sum()), "rows_skipped": int((~keep).sum()), "tiers": info_tiers}
    return clean, labels, info, problems


def train_on_outcomes(path: str | Path, *, rules: str | None = None, seed: int | None = None,
                      base: ReadinessModel | None = None, config: TrainConfig | None = None,
                      rule_book: RuleBook | None = None) -> tuple[ReadinessModel, list[str]]:
    """Retrain on real outcomes; tiers without enough outcomes keep ``base``'s (simulated) pipeline.

    Returns
    -------
    model : ReadinessModel
    problems : list of str
        Skipped rows and unreadable cells of the file.
    """
    params = load_population_params()
    clean, labels, info, problems = read_outcomes(path)
    seed = int(seed if seed is not None else params.default_seed)
    book = rule_book or load_rule_book()
    ruleset = book.select(rules if rules else (base.rules if base is not None else None))
    model = train_readiness(clean, labels, ruleset=ruleset, trained_on=REAL, seed=seed, masking=params.masking,
                            data={"outcomes": info}, config=config or TrainConfig(test_fraction=0.15,
                                                                                  calibration_fraction=0.3),
                            base=base and base.under(ruleset.sme.id),
                            command=f"giantstep train --labels {Path(path).name} --seed {seed}")
    if base is not None:  # the other rule sets keep the base's models
        model.siblings = {m.rules: m for m in (base, *base.siblings.values()) if m.rules != model.rules}
    return model, problems

