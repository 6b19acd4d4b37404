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

from webapp.engine.readiness.features import HOLDER_TITLES, column, complete_profiles, raw_directions
from webapp.engine.rules.criteria import Judge
from webapp.fields import FIELDS, REGISTRY

# Candidate fields; ratio fields name (base field, derived ratio) so the target scales with the firm.
RATIO_FIELDS = {"rd_expense": ("revenue", "rd_ratio"), "rd_expense_prev": ("revenue_prev", "rd_ratio_prev"),
                "rd_staff": ("employees", "rd_staff_share"), "main_revenue": ("revenue", "main_share")}
LEVEL_FIELDS = ("class1_ip", "class1_ip_applied", "class1_ip_high_value", "class2_ip", "valid_inventions",
                "patent_applications", "pct_applications", "years_in_niche", "niche_share_pct", "platform_score",
                "debt_ratio_pct", "digital_level", "standards_count", "rd_institution", "hnte", "quality_certified",
                "own_brand", "niche_share_high", "core_business_it", "title_innovative", "title_tech_sme",
                "title_srdi")
DRIVER_FIELDS = tuple(RATIO_FIELDS) + LEVEL_FIELDS
MIN_DELTA = 0.005   # half a point: smaller rises are steps of the calibration, not advice
_SUBCOUNTS = ("class1_ip_applied", "class1_ip_high_value")


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


def _targets_for(numbers, n: int, name: str, entry: dict) -> np.ndarray:
    """Per-firm target. For a ratio field, the larger of the tier's typical ratio times the firm's own base
    and the tier's typical level (a typical certified firm has both the intensity and the scale), capped
    at the base where the field is part of it (R&D staff of staff, main-business of all revenue).
    ``numbers(field)`` gives a field's values (float, NaN unknown) for the ``n`` firms."""
    level = np.full(n, entry["value"])
    if "ratio" not in entry:
        return level
    base = numbers(entry["base"])
    raw = entry["ratio"] * base
    scaled = np.maximum(np.ceil(raw - 1e-9) if FIELDS[name].integer else np.round(raw, 1), level)
    if name in ("rd_staff", "main_revenue"):
        scaled = np.minimum(scaled, base)
    return np.where(np.isnan(base), level, scaled)


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


def _arrays(clean: pd.DataFrame) -> dict[str, np.ndarray]:
    """Every registry column of a complete clean frame as an array: floats, enum codes (int16), text objects."""
    out = {}
    for spec in REGISTRY:
        col = clean[spec.name]
        if spec.kind == "enum":
            out[spec.name] = col.cat.codes.to_numpy()
        elif spec.kind == "text":
            out[spec.name] = col.to_numpy(dtype=object)
        else:
            out[spec.name] = col.to_numpy(dtype=np.float64, na_value=np.nan)
    return out


def _frame(arrays: dict[str, np.ndarray]) -> pd.DataFrame:
    """A clean frame (registry dtypes) from :func:`_arrays`-style columns."""
    cols = {}
    for spec in REGISTRY:
        values = arrays[spec.name]
        cols[spec.name] = pd.Categorical.from_codes(values, categories=spec.choices) if spec.kind == "enum" \
            else values
    return pd.DataFrame(cols, copy=False)


def _moves(arrays: dict[str, np.ndarray], tiers, targets_of) -> tuple[dict, list]:
    """Per tier, the candidate moves of every firm, and the distinct moves to predict.

    Returns ``metas`` ({tier: (firm, field, current, target, move) arrays, in field then firm order}) and
    ``moves``: one (field, firms, targets) per field, each pair (firm, target) once across tiers.
    """
    directions = raw_directions()
    metas, per_field = {}, {}
    floats: dict[str, np.ndarray] = {}

    def numbers(name: str) -> np.ndarray:  # as features.column reads it: enum codes as floats, NaN unknown
        if name not in floats:
            values = arrays[name]
            floats[name] = np.where(values < 0, np.nan, values.astype(np.float64)) \
                if FIELDS[name].kind == "enum" else values
        return floats[name]

    for tier in tiers:
        firms, names, currents, values = [], [], [], []
        targets = targets_of(tier)
        for name in DRIVER_FIELDS:
            if name not in targets:
                continue
            current = numbers(name)
            target = _targets_for(numbers, len(current), name, targets[name])
            ahead = target > current if directions[name] >= 0 else target < current
            movable = np.flatnonzero((np.isnan(current) | ahead) & ~np.isnan(target))
            if len(movable):
                firms.append(movable)
                names += [name] * len(movable)
                currents.append(current[movable])
                values.append(target[movable])
                per_field.setdefault(name, []).append((movable, target[movable]))
        metas[tier] = (np.concatenate(firms) if firms else np.empty(0, dtype=np.intp), names,
                       np.concatenate(currents) if currents else np.empty(0),
                       np.concatenate(values) if values else np.empty(0))
    moves = []
    for name, parts in per_field.items():
        pairs = np.column_stack([np.concatenate([f for f, _ in parts]).astype(np.float64),
                                 np.concatenate([v for _, v in parts])])
        unique = np.unique(pairs, axis=0)
        moves.append((name, unique[:, 0].astype(np.intp), unique[:, 1]))
    return metas, moves


def _moved_frame(arrays: dict[str, np.ndarray], n: int, moves: list) -> tuple[pd.DataFrame, dict]:
    """The firms themselves (rows 0..n-1), then one row per move; and each move's row by (field, firm, target)."""
    firms = np.concatenate([np.arange(n)] + [f for _, f, _ in moves])
    out = {name: values[firms] for name, values in arrays.items()}
    rows, start = {}, n
    for name, movers, targets in moves:
        seg = slice(start, start + len(movers))
        col = out[name]
        col[seg] = targets.astype(col.dtype) if FIELDS[name].kind == "enum" else targets
        if name in _SUBCOUNTS:  # a sub-count never exceeds the total
            total = out["class1_ip"][seg]
            out["class1_ip"][seg] = np.where(np.isnan(total), total, np.maximum(total, targets))
        for j, (firm, target) in enumerate(zip(movers.tolist(), targets.tolist())):
            rows[(name, firm, target)] = start + j
        start += len(movers)
    return _frame(out), rows


def explain(model, clean: pd.DataFrame, tiers=None, k: int = 3) -> tuple[dict, dict]:
    """Probabilities and drivers of every firm for several tiers, from one prediction.

    The firms and all their moved copies (each distinct move once, whichever tiers ask for it) are judged
    and predicted in one call of ``model.predict_proba``: one firm or a block of many.

    Parameters
    ----------
    model : ReadinessModel
    clean : pandas.DataFrame
        Clean profiles.
    tiers : iterable of str, optional
        Tiers the model answers for (default all).
    k : int
        Drivers per firm and tier at most.

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
    clean = complete_profiles(clean).reset_index(drop=True)
    n = len(clean)
    if n == 0:
        return {t: np.empty(0) for t in tiers}, {t: [] for t in tiers}

    def targets_of(tier):
        targets = dict(model.metadata.get("targets", {}).get(tier, {}))
        targets.pop(HOLDER_TITLES.get(tier), None)  # holding the tier's own title is the outcome, not a lever
        return targets

    arrays = _arrays(clean)
    metas, moves = _moves(arrays, tiers, targets_of)
    frame, rows = _moved_frame(arrays, n, moves)
    proba = model.predict_proba(frame, tiers=tiers)
    base = {t: proba[t][:n] for t in tiers}
    out = {t: [[] for _ in range(n)] for t in tiers}
    for tier in tiers:
        firm, names, current, target = metas[tier]
        at = np.array([rows[key] for key in zip(names, firm.tolist(), target.tolist())], dtype=np.intp)
        delta = proba[tier][at] - base[tier][firm] if len(at) else np.empty(0)
        for j in np.lexsort((np.arange(len(firm)), -delta)):
            i, name = int(firm[j]), names[j]
            if delta[j] >= MIN_DELTA and len(out[tier][i]) < k:
                out[tier][i].append({"field": name, "current": _json(name, current[j]),
                                     "target": _json(name, target[j]), "delta": round(float(delta[j]), 4)})
    return base, out


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
        Accepted for compatibility; the firms are judged with their moved copies in one call.

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
    return explain(model, clean, tiers, k=k)[1]
