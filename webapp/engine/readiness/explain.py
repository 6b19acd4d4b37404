"""What would raise a firm's readiness most: move one field to the target tier's typical value, re-predict.

Targets are the medians among firms certified at the tier in the training data. Fields that scale with
the firm are moved as ratios: R&D to the tier's median R&D intensity times the firm's own revenue, R&D
staff to its median share of the firm's staff, main-business revenue to its median share of revenue.
A field is moved only towards the target (up for more-is-better fields, down for debt), and an unknown
field is filled in with the target. Every candidate of every firm is judged and predicted in one batch.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from webapp.engine.readiness.features import column, complete_profiles
from webapp.engine.readiness.moves import (
    DRIVER_FIELDS,
    RATIO_FIELDS,
    Columns,
    moved,
    moved_fields,
)
from webapp.engine.readiness.train import openmp_threads
from webapp.engine.rules.criteria import Judge
from webapp.fields import FIELDS

__all__ = ["DRIVER_FIELDS", "MIN_DELTA", "RATIO_FIELDS", "driver_targets", "drivers", "drivers_by_tier", "explain"]

MIN_DELTA = 0.005   # half a point: smaller rises are steps of the calibration, not advice


def _ratio_values(profiles: pd.DataFrame, field: str) -> np.ndarray:
    base = column(profiles, RATIO_FIELDS[field][0])
    with np.errstate(divide="ignore", invalid="ignore"):
        return column(profiles, field) / np.where(base > 0, base, np.nan)


def driver_targets(profiles: pd.DataFrame, labels: pd.DataFrame, tiers) -> dict[str, dict]:
    """Typical values of the candidate fields among certified firms, per tier.

    Parameters
    ----------
    profiles : pandas.DataFrame
        Clean, complete training profiles.
    labels : pandas.DataFrame
        ``<tier>_certified`` columns (1, 0 or NaN).
    tiers : iterable of str

    Returns
    -------
    dict
        ``{tier: {field: {"value": median, "ratio": median ratio or absent, "base": field or absent}}}``;
        booleans as 0/1, enums as their code, counts rounded up.
    """
    out = {}
    for tier in tiers:
        certified = labels[f"{tier}_certified"].to_numpy(float) == 1
        rows = profiles[certified]
        targets = {}
        for name in DRIVER_FIELDS:
            values = column(rows, name)
            if np.isnan(values).all():
                continue
            entry = {"value": _typical(name, float(np.nanmedian(values)))}
            if name in RATIO_FIELDS:
                entry.update(ratio=round(float(np.nanmedian(_ratio_values(rows, name))), 6),
                             base=RATIO_FIELDS[name][0])
            targets[name] = entry
        out[tier] = targets
    return out


def _typical(name: str, value: float) -> float:
    spec = FIELDS[name]
    if spec.kind in ("bool", "enum") or spec.integer:
        return float(math.ceil(value - 1e-9)) if spec.kind != "bool" else float(value >= 0.5)
    return round(value, 1)


def _json(name: str, value: float):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    spec = FIELDS[name]
    if spec.kind == "enum":
        return spec.choices[int(value)]
    if spec.kind == "bool":
        return bool(value)
    if spec.integer or float(value).is_integer():
        return int(value)
    return round(float(value), 4)


def explain(model, clean: pd.DataFrame, tiers=None, k: int = 3, *, judge: Judge | None = None,
            rows: np.ndarray | None = None) -> tuple[dict, dict]:
    """Probabilities and drivers of every firm for several tiers, from one prediction.

    The firms and all their moved copies (each distinct move once, whichever tiers ask for it) are judged
    in one call of the engine and predicted in one call of each tier's classifier: one firm or a block of
    many. The features are built from arrays, never from a frame per copy. Given the firms' own verdict
    (``judge``), the copies take each criterion that reads no moved field from it
    (:class:`~.moves.MovedJudge`).

    Parameters
    ----------
    model : ReadinessModel
    clean : pandas.DataFrame
        Clean profiles.
    tiers : iterable of str, optional
        Tiers the model answers for (default all).
    k : int
        Drivers per firm and tier at most.
    judge : Judge, optional
        The engine's verdict on the firms; used when judged as new applications under the model's rule
        tables (otherwise the firms are judged again with their copies).
    rows : numpy.ndarray of int, optional
        Where the firms of ``clean`` are in ``judge`` (default: its rows in order, ``judge.n == len(clean)``).

    Returns
    -------
    probabilities : dict of str to numpy.ndarray
        Per tier, one probability per firm (as :meth:`ReadinessModel.predict_proba` gives it).
    drivers : dict of str to list of list of dict
        Per tier, one list per firm, as :func:`drivers` describes.
    """
    tiers = list(model.tiers if tiers is None else tiers)
    unknown = [t for t in tiers if t not in model.pipelines]
    if unknown:
        raise KeyError(f"the readiness model has no tier {unknown[0]!r}; it has {list(model.tiers)}")
    n = len(clean)
    if n == 0:
        return {t: np.empty(0) for t in tiers}, {t: [] for t in tiers}
    plan = model.plan(tiers)
    cols = at = None
    if judge is not None and (rows is not None or judge.n == n):  # the arrays the firms were judged from
        at = np.arange(n) if rows is None else np.asarray(rows, dtype=np.intp)
        cols = Columns.of_judge(judge, at, plan.reads)   # the copies read every field from the judge's arrays
    if cols is None:
        cols, at = Columns.of(complete_profiles(clean)), None
    current, target, movable = plan.targets(cols)
    # every candidate, tier by tier, then field by field in DRIVER_FIELDS order, then firm by firm
    t_at, f_at, firm_at = np.nonzero(movable.transpose(2, 1, 0))
    values = target[firm_at, f_at, t_at]
    fields, firms, moves, inverse = _distinct(f_at, firm_at, values)
    copies = moved(cols, plan, firms, fields, moves, judge=judge if at is not None else None, rows=at)
    features = model.features
    if _usable(judge, features.ruleset, n, rows):
        origin = np.concatenate([np.arange(n), firms])
        origin = origin if rows is None else np.asarray(rows, dtype=np.intp)[origin]
        verdict = copies.judge(judge.ruleset, judge, origin, moved_fields(plan, fields))
    else:
        verdict = copies.judge(features.ruleset)
    feats = features.assemble(copies.numbers, verdict, copies.n)
    with openmp_threads():
        proba = model.probabilities(feats, tiers)
    base = {t: proba[t][:n] for t in tiers}
    out = {t: [[] for _ in range(n)] for t in tiers}
    for j, tier in enumerate(tiers):
        mine = t_at == j
        firm, field, copy = firm_at[mine], f_at[mine], n + inverse[mine]
        delta = proba[tier][copy] - base[tier][firm]
        keep = np.flatnonzero(delta >= MIN_DELTA)
        for c in keep[np.lexsort((keep, -delta[keep]))].tolist():
            i, name = int(firm[c]), plan.fields[field[c]]
            if len(out[tier][i]) < k:
                out[tier][i].append({"field": name, "current": _json(name, current[i, field[c]]),
                                     "target": _json(name, target[i, field[c], j]),
                                     "delta": round(float(delta[c]), 4)})
    return base, out


def _distinct(field: np.ndarray, firm: np.ndarray, value: np.ndarray):
    """The distinct (field, firm, value) moves, sorted by field, firm and value, and where each candidate's is.

    Returns
    -------
    fields, firms : numpy.ndarray of intp
    values : numpy.ndarray of float64
    inverse : numpy.ndarray of intp
        Per candidate, its move's position.
    """
    order = np.lexsort((value, firm, field))
    f, i, v = field[order], firm[order], value[order]
    new = np.ones(len(order), dtype=bool)
    new[1:] = (f[1:] != f[:-1]) | (i[1:] != i[:-1]) | (v[1:] != v[:-1])
    inverse = np.empty(len(order), dtype=np.intp)
    inverse[order] = np.cumsum(new) - 1
    return f[new].astype(np.intp), i[new].astype(np.intp), v[new].astype(np.float64), inverse


def _usable(judge: Judge | None, ruleset, n: int, rows) -> bool:
    """Whether ``judge`` judged the firms as new applications under ``ruleset``'s tables."""
    if judge is None or judge.env.flags["review"] or (rows is None and judge.n != n):
        return False
    mine, theirs = ruleset, judge.ruleset
    return mine is theirs or (mine.table_versions() == theirs.table_versions()
                              and mine.metrics_version == theirs.metrics_version)


def drivers(model, clean: pd.DataFrame, tier_id: str, k: int = 3, *, judge: Judge | None = None) -> list[list[dict]]:
    """Per firm, the ``k`` fields whose move to the tier's typical value raises the probability most.

    Parameters
    ----------
    model : ReadinessModel
    clean : pandas.DataFrame
        Clean profiles.
    tier_id : str
        A tier the model answers for.
    k : int
        Drivers per firm at most.
    judge : Judge, optional
        The engine's verdict on the firms (see :func:`explain`).

    Returns
    -------
    list of list of dict
        One list per firm, best first: ``{"field", "current", "target", "delta"}``; ``current`` is None
        for an unknown field; ``delta`` is the rise in probability (only rises of at least 0.005). The
        tier's own title is never a driver.
    """
    return drivers_by_tier(model, clean, [tier_id], k=k, judge=judge)[tier_id]


def drivers_by_tier(model, clean: pd.DataFrame, tiers, k: int = 3, *,
                    judge: Judge | None = None) -> dict[str, list[list[dict]]]:
    """:func:`drivers` for several tiers at once (see :func:`explain`)."""
    return explain(model, clean, tiers, k=k, judge=judge)[1]
