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
from webapp.fields import FIELDS

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


def _targets_for(profiles: pd.DataFrame, name: str, entry: dict) -> np.ndarray:
    """Per-firm target. For a ratio field, the larger of the tier's typical ratio times the firm's own base
    and the tier's typical level (a typical certified firm has both the intensity and the scale), capped
    at the base where the field is part of it (R&D staff of staff, main-business of all revenue)."""
    level = np.full(len(profiles), entry["value"])
    if "ratio" not in entry:
        return level
    base = column(profiles, entry["base"])
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


def _set(frame: pd.DataFrame, name: str, values: np.ndarray) -> None:
    """Write float values (enum codes for an enum, NaN unknown) into ``frame[name]`` in the clean dtype."""
    spec = FIELDS[name]
    if spec.kind == "enum":
        codes = np.where(np.isnan(values), -1, values).astype(int)
        frame[name] = pd.Categorical.from_codes(codes, categories=spec.choices)
    else:
        frame[name] = values.astype(np.float64)


def _candidates(clean: pd.DataFrame, targets: dict) -> tuple[list, pd.DataFrame]:
    """Moved copies of the firms: (firm position, field, current, target) per row, and the moved frame."""
    directions = raw_directions()
    meta, moves = [], []
    for name in DRIVER_FIELDS:
        if name not in targets:
            continue
        current = column(clean, name)
        target = _targets_for(clean, name, targets[name])
        ahead = target > current if directions[name] >= 0 else target < current
        movable = np.flatnonzero((np.isnan(current) | ahead) & ~np.isnan(target))
        if len(movable):
            moves.append((name, len(meta), movable, target[movable]))
            meta += [(int(i), name, current[i], target[i]) for i in movable]
    if not meta:
        return meta, clean.iloc[:0]
    # One take of every moved firm, then each field written into its own segment of rows.
    moved = clean.iloc[np.array([m[0] for m in meta])].reset_index(drop=True)
    for name, start, rows, values in moves:
        col = column(moved, name).copy()
        col[start:start + len(rows)] = values
        _set(moved, name, col)
        if name in _SUBCOUNTS or name == "class1_ip_self":  # a sub-count never exceeds the total
            total = column(moved, "class1_ip").copy()
            seg = slice(start, start + len(rows))
            total[seg] = np.where(np.isnan(total[seg]), total[seg], np.maximum(total[seg], values))
            moved["class1_ip"] = total
    return meta, moved


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
        The engine's verdict on ``clean`` (reused when judged under the model's rule set).

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
    """:func:`drivers` for several tiers at once: every moved profile is judged and predicted in one batch."""
    tiers = list(tiers)
    unknown = [t for t in tiers if t not in model.pipelines]
    if unknown:
        raise KeyError(f"the readiness model has no tier {unknown[0]!r}; it has {list(model.tiers)}")
    clean = complete_profiles(clean)
    base = model.predict_proba(clean, judge=judge, tiers=tiers)
    metas, frames = {}, []
    for tier in tiers:
        targets = dict(model.metadata.get("targets", {}).get(tier, {}))
        targets.pop(HOLDER_TITLES.get(tier), None)  # holding the tier's own title is the outcome, not a lever
        metas[tier], moved = _candidates(clean, targets)
        frames.append(moved)
    out = {t: [[] for _ in range(len(clean))] for t in tiers}
    if not any(metas.values()):
        return out
    after = model.predict_proba(pd.concat(frames, ignore_index=True), tiers=tiers)
    offset = 0
    for tier in tiers:
        meta = metas[tier]
        firm = np.array([m[0] for m in meta], dtype=int)
        delta = after[tier][offset:offset + len(meta)] - base[tier][firm]
        offset += len(meta)
        for j in np.lexsort((np.arange(len(meta)), -delta)):
            i, name, current, target = meta[j]
            if delta[j] >= MIN_DELTA and len(out[tier][i]) < k:
                out[tier][i].append({"field": name, "current": _json(name, current), "target": _json(name, target),
                                     "delta": round(float(delta[j]), 4)})
    return out
