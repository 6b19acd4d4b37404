"""Readiness: a calibrated probability per tier that a firm gets certified, and what would raise it most.

The classifier (one scikit-learn Pipeline per tier, see :mod:`webapp.engine.readiness.train`) is trained
on a simulated population (:mod:`webapp.engine.readiness.population.simulate`) until a user retrains it
on real outcomes, and says so in every answer (``"_model"``). Everything here is vectorised over firms: one path for a
single web assessment (a frame of one row) and for a million rows.

Public API: :func:`load_model` (in :mod:`webapp.engine.readiness.store`, re-exported here),
:class:`ReadinessModel` (``predict_proba``, ``drivers``), :func:`readiness_json` and
:func:`readiness_columns`.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from webapp.engine.readiness.explain import drivers, explain
from webapp.engine.readiness.features import ReadinessFeatures, complete_profiles
from webapp.engine.readiness.forest import FEW_ROWS, forest_scorer
from webapp.engine.readiness.moves import Plan
from webapp.engine.readiness.train import P_FLOOR, clip_probability, openmp_threads
from webapp.engine.rules.criteria import Judge

CHUNK_ROWS = 16_384   # rows per prediction chunk: the feature block stays in cache while every tree walks it


def _certified(classifier, feats: np.ndarray) -> np.ndarray:
    """Probability of certification from a tier's classifier (its own fast path when it has one)."""
    if hasattr(classifier, "certified"):
        return classifier.certified(feats)
    return classifier.predict_proba(feats)[:, 1]


def _workers() -> int:
    """Threads predicting chunks side by side (``GIANTSTEP_READINESS_WORKERS``, default: up to 2 cores)."""
    return max(1, int(os.environ.get("GIANTSTEP_READINESS_WORKERS", min(2, os.cpu_count() or 1))))


@dataclass
class _TierSlice:
    status: np.ndarray
    score_lo: np.ndarray | None
    score_hi: np.ndarray | None


def _slice_tiers(tiers: dict, start: int, stop: int) -> dict[str, _TierSlice]:
    def part(a):
        return None if a is None else a[start:stop]
    return {t: _TierSlice(r.status[start:stop], part(r.score_lo), part(r.score_hi)) for t, r in tiers.items()}


class _Verdict:
    """The parts of a Judge the features read (tier statuses and score ranges)."""

    def __init__(self, tiers: dict):
        self.tiers = tiers


@dataclass
class ReadinessModel:
    """Trained pipelines (one per tier) with their metadata and where they were loaded from.

    Attributes
    ----------
    pipelines : dict of str to sklearn.pipeline.Pipeline
        ``features`` (:class:`ReadinessFeatures`) then ``classifier`` (calibrated boosted trees).
    metadata : dict
        What ``models/readiness.json`` holds: versions, features, training data, metrics, targets.
    path : Path, optional
        The artefact file, when loaded from disk.
    notes : tuple of str
        Newer artefacts that were refused while choosing this one, with the reason.
    siblings : dict of str to ReadinessModel
        The models of the other SME rule sets saved in the same artefact (one model per rule set: see
        :meth:`under`).
    """

    pipelines: dict
    metadata: dict
    path: Path | None = None
    notes: tuple[str, ...] = field(default=())
    siblings: dict = field(default_factory=dict)
    _plans: dict = field(default_factory=dict, init=False, repr=False, compare=False)   # plans, forest scorers

    @property
    def tiers(self) -> tuple[str, ...]:
        """Tier ids the model answers for."""
        return tuple(self.pipelines)

    @property
    def rules(self) -> str:
        """The SME rule set whose statuses the model reads (e.g. ``"SME-2026"``)."""
        return self.features.rules

    @property
    def rule_sets(self) -> tuple[str, ...]:
        """The SME rule sets this artefact has a model for, its own first."""
        return (self.rules, *self.siblings)

    def under(self, rules: str | None) -> ReadinessModel:
        """The model trained under the SME rule set ``rules`` (this one or a sibling).

        Readiness is a probability of certification under the rules the firm is judged by, so an SME-2022
        assessment is answered by the SME-2022 model. When the artefact has none for ``rules`` (a model
        retrained on real outcomes of one rule set only, say), this model answers and its ``rules`` in
        ``_model`` says under which rule set it did.
        """
        if rules is None or rules == self.rules:
            return self
        return self.siblings.get(rules, self)

    def bind(self, rule_book_or_set) -> ReadinessModel:
        """Judge with these rule tables (a RuleBook, from which each model's own SME rule set is chosen, or
        that RuleSet itself); a loaded model is bound before it predicts."""
        book = hasattr(rule_book_or_set, "select")
        ruleset = rule_book_or_set.select(self.rules) if book else rule_book_or_set
        for pipe in self.pipelines.values():
            pipe["features"].bind(ruleset)
        if book:
            for sibling in self.siblings.values():
                sibling.bind(rule_book_or_set)
        return self

    @property
    def features(self) -> ReadinessFeatures:
        """The fitted feature builder shared by every tier."""
        return next(iter(self.pipelines.values()))["features"]

    def judge(self, clean: pd.DataFrame) -> Judge:
        """The engine's verdict on ``clean`` under the model's rule set, new applications."""
        return self.features.judge(clean)

    def _verdict(self, clean: pd.DataFrame, judge: Judge | None) -> Judge:
        usable = (judge is not None and judge.ruleset.sme.id == self.rules and not judge.env.flags["review"]
                  and judge.n == len(clean))
        return judge if usable else self.judge(clean)

    def predict_proba(self, clean: pd.DataFrame, *, judge: Judge | None = None,
                      tiers=None) -> dict[str, np.ndarray]:
        """Probability of certification per tier, for every firm.

        Parameters
        ----------
        clean : pandas.DataFrame
            Clean profiles from :func:`webapp.engine.io.inputs.validate_profiles` (unknown = NaN); any number
            of known fields, none needed (a missing registry column counts as unknown).
        judge : Judge, optional
            The engine's verdict on the same rows. Reused when it was judged under the model's rule set
            as new applications (the batch path); otherwise the rows are judged again.
        tiers : iterable of str, optional
            Tiers to answer for (default all).

        Returns
        -------
        dict of str to numpy.ndarray
            float64 in [0.001, 0.999] per tier, one per firm, in row order. Where a tier's rules are
            certainly not met for a firm known not to hold the title, and the training data never saw such
            a firm certified (``gate_not_met`` in the metadata), the probability is the floor, 0.001,
            without walking the trees.
        """
        clean = complete_profiles(clean)
        verdict = self._verdict(clean, judge)
        wanted = tuple(tiers) if tiers is not None else self.tiers
        n = len(clean)
        out = {t: np.full(n, P_FLOOR) for t in wanted}
        gates = {t: self.metadata.get("tiers", {}).get(t, {}).get("gate_not_met", False) for t in wanted}
        chunks = [(s, min(s + CHUNK_ROWS, n)) for s in range(0, n, CHUNK_ROWS)]

        def run(chunk):
            with openmp_threads():
                self._predict_chunk(clean, verdict, wanted, gates, out, *chunk)

        workers = min(_workers(), len(chunks))
        if workers > 1:  # chunks are independent: each thread walks the trees on its own rows
            with ThreadPoolExecutor(workers) as pool:
                list(pool.map(run, chunks))
        else:
            for chunk in chunks:
                run(chunk)
        return out

    def _predict_chunk(self, clean, verdict, wanted, gates, out, start: int, stop: int) -> None:
        """Predict rows ``start:stop`` into ``out`` (disjoint slices, so threads may share ``out``)."""
        part = _slice_tiers(verdict.tiers, start, stop)
        feats = self.features.features(clean.iloc[start:stop], _Verdict(part))
        for t, p in self.probabilities(feats, wanted, gates).items():
            out[t][start:stop] = p

    def probabilities(self, feats: np.ndarray, tiers, gates: dict | None = None) -> dict[str, np.ndarray]:
        """Probability per tier for every row of a feature matrix (:meth:`ReadinessFeatures.features`).

        A tier gated by ``gate_not_met`` (``gates``, default from the metadata) gives its gated rows the floor
        without walking the trees; each tier's classifier is called once, on the other rows.
        """
        if gates is None:
            gates = {t: self.metadata.get("tiers", {}).get(t, {}).get("gate_not_met", False) for t in tiers}
        out = {}
        levels = self._shared_levels(feats, tiers)
        scores = self._scores(feats, tiers) if levels is not None else None
        for t in tiers:
            p = np.full(len(feats), P_FLOOR)
            rows = ~self.features.gated(feats, t) if gates[t] else slice(None)
            if not gates[t] or rows.any():
                classifier = self.pipelines[t]["classifier"]
                if levels is None:
                    p[rows] = clip_probability(_certified(classifier, feats[rows]))
                else:
                    p[rows] = clip_probability(classifier.certified(
                        feats[rows], (levels[0][rows], levels[1][rows]), None if scores is None else scores[t][rows]))
            out[t] = p
        return out

    def _scores(self, feats: np.ndarray, tiers) -> dict[str, np.ndarray] | None:
        """For a few rows, every tier's tree score from one walk of all their trees (:class:`~.forest.ForestScorer`,
        made once per tuple of tiers); None for more rows or classifiers it does not reproduce."""
        if not 0 < len(feats) <= FEW_ROWS or feats.dtype != np.float64:
            return None
        key = ("forest", *tiers)
        if key not in self._plans:
            self._plans[key] = forest_scorer([self.pipelines[t]["classifier"].estimator for t in tiers])
        forest = self._plans[key]
        if forest is None or feats.shape[1] != forest.n_features:
            return None
        return dict(zip(tiers, forest(feats)))

    def _shared_levels(self, feats: np.ndarray, tiers) -> tuple[np.ndarray, np.ndarray] | None:
        """Every row's share of known fields and level of information, worked out once when the calibrators of
        ``tiers`` all define them alike (:meth:`~.calibration.InformationCalibratedClassifier.level_key`)."""
        classifiers = [self.pipelines[t]["classifier"] for t in tiers]
        if len(classifiers) < 2 or not all(hasattr(c, "level_key") for c in classifiers):
            return None
        first = classifiers[0].level_key()
        if any(c.level_key() != first for c in classifiers[1:]):
            return None
        return classifiers[0]._share_level(feats)

    def plan(self, tiers) -> Plan:
        """The drivers' candidate moves for ``tiers`` (:class:`~.moves.Plan`), made once per tuple of tiers."""
        key = tuple(tiers)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = Plan(self, key)
        return plan

    def drivers(self, clean: pd.DataFrame, tier_id: str, k: int = 3, *,
                judge: Judge | None = None) -> list[list[dict]]:
        """The fields that would raise the probability of ``tier_id`` most, per firm (see readiness_explain)."""
        return drivers(self, clean, tier_id, k=k, judge=judge)

    def readiness_blocks(self, clean: pd.DataFrame, *, k: int = 3, judge: Judge | None = None,
                         rows: np.ndarray | None = None) -> list[dict]:
        """The readiness block of the assess contract (see :func:`readiness_json`) of every firm of ``clean``,
        from one prediction of the firms and all their moved copies (:func:`~.explain.explain`; ``judge``
        and ``rows``: the firms' own verdict, as there)."""
        probs, drivers = explain(self, clean, self.tiers, k=k, judge=judge, rows=rows)
        summary = self.summary()
        return [{**{t: {"probability": round(float(probs[t][i]), 4), "drivers": drivers[t][i]} for t in self.tiers},
                 "_model": dict(summary)} for i in range(len(clean))]

    def summary(self) -> dict:
        """What a report cites: version, what it was trained on, when, the headline metrics, the file."""
        meta = self.metadata
        return {"version": meta.get("model_version"), "trained_on": meta.get("trained_on"),
                "trained_at": meta.get("trained_at"), "rules": meta.get("rules", {}).get("sme"),
                "metrics_summary": meta.get("metrics_summary", {}),
                "tiers_trained_on": {t: meta.get("tiers", {}).get(t, {}).get("trained_on") for t in self.tiers},
                **self._card_summary()}  # never the file's path: answers must not show the server's folders

    def _card_summary(self) -> dict:
        """One sentence in each language on what the probabilities rest on, for pages and reports."""
        meta = self.metadata
        real = [t for t in self.tiers if meta.get("tiers", {}).get(t, {}).get("trained_on") == "real outcomes"]
        version = meta.get("model_version")
        if real:
            zh = (f"就绪度按 {self.rules} 规则计算：校准分类器（版本 {version}），{', '.join(real)} 以真实认定结果"
                  "重新训练，其余层级仍基于按公开汇总数据校准的模拟总体。")
            en = (f"Readiness computed under the {self.rules} rules: calibrated classifier (version {version}), "
                  f"{', '.join(real)} retrained on real outcomes; the other tiers still rest on a simulated population "
                  "calibrated to published aggregates.")
        else:
            zh = (f"就绪度按 {self.rules} 规则计算：校准分类器（版本 {version}），训练数据为按公开汇总数据校准的"
                  "模拟总体，尚未以真实认定结果重新训练；其各项指标均在模拟总体上测得。")
            en = (f"Readiness computed under the {self.rules} rules: calibrated classifier (version {version}) trained "
                  "on a simulated population calibrated to published aggregates, not yet retrained on real outcomes; "
                  "its metrics are simulated.")
        return {"card_summary_zh": zh, "card_summary_en": en}

    def describe(self) -> str:
        """One line naming the artefact and what it was trained on."""
        meta = self.metadata
        where = f" from {self.path}" if self.path else ""
        return (f"readiness model {meta.get('model_version')} ({meta.get('trained_on')}, trained "
                f"{meta.get('trained_at')}, rules {self.rules}){where}")


def readiness_json(model: ReadinessModel, clean: pd.DataFrame, *, judge: Judge | None = None, rules: str | None = None,
                   k: int = 3) -> dict:
    """The ``readiness`` block of the assess contract for the firm in ``clean`` (one row).

    Parameters
    ----------
    model : ReadinessModel
    clean : pandas.DataFrame
        One clean profile (a frame of one row).
    judge : Judge, optional
        The engine's verdict on that row (its moved copies take the criteria no move changes from it, when
        judged as a new application under the model's rule tables).
    rules : str, optional
        SME rule set of the assessment (default: the judge's, else the model's own): the model trained
        under it answers (:meth:`ReadinessModel.under`).
    k : int
        Drivers per tier.

    Returns
    -------
    dict
        ``{tier_id: {"probability": float, "drivers": [{"field", "current", "target", "delta"}]}, ...,
        "_model": {"version", "rules", "trained_on", "trained_at", "metrics_summary", ...}}``; ``_model.rules``
        is the SME rule set the probabilities were computed under.
    """
    if len(clean) != 1:
        raise ValueError(f"readiness_json takes one firm, got {len(clean)} rows")
    model = model.under(rules or (judge.ruleset.sme.id if judge is not None else None))
    return model.readiness_blocks(clean, k=k, judge=judge)[0]  # the firm's copies judged in one call


def readiness_columns(model: ReadinessModel, clean: pd.DataFrame, *, judge: Judge | None = None,
                      valid: np.ndarray | None = None, rules: str | None = None) -> pd.DataFrame:
    """Batch columns ``<tier>_readiness`` (probability, 0-1) for every firm of ``clean``.

    Parameters
    ----------
    model : ReadinessModel
    clean : pandas.DataFrame
        Clean profiles.
    judge : Judge, optional
        The engine's verdict on the same rows (reused when judged under the model's rule set).
    valid : numpy.ndarray of bool, optional
        Rows whose input was valid; the others get NaN (as the batch leaves their results empty).
    rules : str, optional
        SME rule set of the assessment (default: the judge's, else the model's own).

    Returns
    -------
    pandas.DataFrame
        Same index as ``clean``; one float64 column per tier.
    """
    model = model.under(rules or (judge.ruleset.sme.id if judge is not None else None))
    probs = model.predict_proba(clean, judge=judge)
    cols = {f"{t}_readiness": np.round(p, 4) if valid is None else np.where(valid, np.round(p, 4), np.nan)
            for t, p in probs.items()}
    return pd.DataFrame(cols, index=clean.index)
