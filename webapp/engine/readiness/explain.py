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
from webapp.engine.readiness.train import openmp_threads
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


class _Columns:
    """Every registry field of a block of firms as arrays: ``numbers`` (float64, enum codes as floats, NaN
    unknown: as :func:`~.features.column` reads them), ``codes`` of the enums (int16, -1 unknown) and ``texts``."""

    def __init__(self, numbers: dict, codes: dict, texts: dict, n: int):
        self.numbers, self.codes, self.texts, self.n = numbers, codes, texts, n

    @classmethod
    def of(cls, clean: pd.DataFrame) -> _Columns:
        """The columns of a complete clean frame (:func:`~.features.complete_profiles`)."""
        n = len(clean)
        if n <= _FEW_ROWS:  # a row is one interleave; a column costs a Series each (91 of them)
            rows = [clean.iloc[i].to_dict() for i in range(n)]
            numbers, codes, texts = {}, {}, {}
            for spec in REGISTRY:
                values = [row[spec.name] for row in rows]
                if spec.kind == "text":
                    texts[spec.name] = np.empty(n, dtype=object)
                    texts[spec.name][:] = values
                elif spec.kind == "enum":
                    codes[spec.name] = np.array([spec.choices.index(v) if isinstance(v, str) else -1 for v in values],
                                                dtype=np.int16)
                else:
                    numbers[spec.name] = np.array([_float(v) for v in values], dtype=np.float64)
        else:
            numbers, codes, texts = {}, {}, {}
            for spec in REGISTRY:
                col = clean[spec.name]
                if spec.kind == "enum":
                    codes[spec.name] = col.cat.codes.to_numpy().astype(np.int16)
                elif spec.kind == "text":
                    texts[spec.name] = col.to_numpy(dtype=object)
                else:
                    numbers[spec.name] = col.to_numpy(dtype=np.float64, na_value=np.nan)
        for name, values in codes.items():
            numbers[name] = np.where(values < 0, np.nan, values.astype(np.float64))
        return cls(numbers, codes, texts, n)

    def take(self, rows: np.ndarray) -> _Columns:
        """These firms' rows ``rows`` (copies)."""
        def part(d):
            return {name: values[rows] for name, values in d.items()}
        return _Columns(part(self.numbers), part(self.codes), part(self.texts), len(rows))

    def frame(self) -> pd.DataFrame:
        """A clean frame (registry dtypes) of these columns, for the engine."""
        cols = {}
        for spec in REGISTRY:
            cols[spec.name] = pd.Categorical.from_codes(self.codes[spec.name], categories=spec.choices) \
                if spec.kind == "enum" else self.texts[spec.name] if spec.kind == "text" else self.numbers[spec.name]
        return pd.DataFrame(cols, copy=False)


_FEW_ROWS = 8


def _float(value) -> float:
    return np.nan if value is None or value is pd.NA else float(value)


class _Plan:
    """The candidate moves of a model's tiers as arrays over (field, tier): which fields have a target for a
    tier, its typical level, and for ratio fields the typical ratio and the base field it scales with."""

    def __init__(self, model, tiers):
        per_tier = []
        for tier in tiers:
            targets = dict(model.metadata.get("targets", {}).get(tier, {}))
            targets.pop(HOLDER_TITLES.get(tier), None)  # holding the tier's own title is the outcome, not a lever
            per_tier.append(targets)
        self.fields = tuple(f for f in DRIVER_FIELDS if any(f in t for t in per_tier))
        shape = (len(self.fields), len(per_tier))
        self.has = np.zeros(shape, dtype=bool)
        self.scaled = np.zeros(shape, dtype=bool)
        self.level = np.full(shape, np.nan)
        self.ratio = np.full(shape, np.nan)
        self.bases: list[str] = []
        self.base_of = np.zeros(shape, dtype=np.intp)
        for i, name in enumerate(self.fields):
            for j, targets in enumerate(per_tier):
                entry = targets.get(name)
                if entry is None:
                    continue
                self.has[i, j] = True
                self.level[i, j] = entry["value"]
                if "ratio" in entry:
                    self.scaled[i, j] = True
                    self.ratio[i, j] = entry["ratio"]
                    if entry["base"] not in self.bases:
                        self.bases.append(entry["base"])
                    self.base_of[i, j] = self.bases.index(entry["base"])
        directions = raw_directions()
        self.up = np.array([directions[f] >= 0 for f in self.fields], dtype=bool)
        self.integer = np.array([bool(FIELDS[f].integer) for f in self.fields], dtype=bool)
        self.capped = np.array([f in ("rd_staff", "main_revenue") for f in self.fields], dtype=bool)

    def targets(self, cols: _Columns) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per firm, field and tier: current value (n, F), target (n, F, T) and whether it is a move (n, F, T).

        A ratio field's target is the larger of the tier's typical ratio times the firm's own base and the
        tier's typical level (a typical certified firm has both the intensity and the scale), capped at the
        base where the field is part of it (R&D staff of staff, main-business of all revenue); the level
        where the base is unknown. A move goes towards the target from a worse or unknown value."""
        n = cols.n
        current = np.column_stack([cols.numbers[f] for f in self.fields]) if self.fields else np.empty((n, 0))
        level = np.broadcast_to(self.level, (n, *self.level.shape))
        target = level
        if self.bases:
            base = np.column_stack([cols.numbers[b] for b in self.bases])[:, self.base_of]   # (n, F, T)
            raw = self.ratio * base
            scaled = np.maximum(np.where(self.integer[:, None], np.ceil(raw - 1e-9), np.round(raw, 1)), level)
            scaled = np.where(self.capped[:, None], np.minimum(scaled, base), scaled)
            target = np.where(self.scaled, np.where(np.isnan(base), level, scaled), level)
        now = current[:, :, None]
        with np.errstate(invalid="ignore"):
            ahead = np.where(self.up[:, None], target > now, target < now)
        movable = (np.isnan(now) | ahead) & ~np.isnan(target) & self.has
        return current, target, movable


def _moved(cols: _Columns, plan: _Plan, firm: np.ndarray, field: np.ndarray, target: np.ndarray) -> _Columns:
    """The firms themselves (rows 0..n-1), then one row per distinct move (firm ``firm``, ``plan.fields[field]``
    set to ``target``; a sub-count raises the class-1 IP total with it)."""
    rows = np.concatenate([np.arange(cols.n), firm])
    out = cols.take(rows)
    for i in np.unique(field).tolist():
        name = plan.fields[i]
        at = cols.n + np.flatnonzero(field == i)
        values = target[field == i]
        out.numbers[name][at] = values
        if name in out.codes:
            out.codes[name][at] = values.astype(np.int16)
        if name in _SUBCOUNTS:  # a sub-count never exceeds the total
            total = out.numbers["class1_ip"][at]
            out.numbers["class1_ip"][at] = np.where(np.isnan(total), total, np.maximum(total, values))
    return out


def explain(model, clean: pd.DataFrame, tiers=None, k: int = 3) -> tuple[dict, dict]:
    """Probabilities and drivers of every firm for several tiers, from one prediction.

    The firms and all their moved copies (each distinct move once, whichever tiers ask for it) are judged
    in one call of the engine and predicted in one call of each tier's classifier: one firm or a block of
    many. The features are built from arrays, never from a frame per copy.

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
    clean = complete_profiles(clean)
    n = len(clean)
    if n == 0:
        return {t: np.empty(0) for t in tiers}, {t: [] for t in tiers}
    cols = _Columns.of(clean)
    plan = _Plan(model, tiers)
    current, target, movable = plan.targets(cols)
    # every candidate, tier by tier, then field by field in DRIVER_FIELDS order, then firm by firm
    t_at, f_at, firm_at = np.nonzero(movable.transpose(2, 1, 0))
    values = target[firm_at, f_at, t_at]
    keys = np.column_stack([f_at, firm_at, values]) if len(values) else np.empty((0, 3))
    unique, inverse = np.unique(keys, axis=0, return_inverse=True)
    moved = _moved(cols, plan, unique[:, 1].astype(np.intp), unique[:, 0].astype(np.intp), unique[:, 2])
    features = model.features
    verdict = features.judge(moved.frame())
    feats = features.assemble(moved.numbers, verdict, moved.n)
    with openmp_threads():
        proba = model.probabilities(feats, tiers)
    base = {t: proba[t][:n] for t in tiers}
    out = {t: [[] for _ in range(n)] for t in tiers}
    inverse = inverse.reshape(-1)
    for j, tier in enumerate(tiers):
        mine = t_at == j
        firm, field, at = firm_at[mine], f_at[mine], n + inverse[mine]
        delta = proba[tier][at] - base[tier][firm]
        keep = np.flatnonzero(delta >= MIN_DELTA)
        for c in keep[np.lexsort((keep, -delta[keep]))].tolist():
            i, name = int(firm[c]), plan.fields[field[c]]
            if len(out[tier][i]) < k:
                out[tier][i].append({"field": name, "current": _json(name, current[i, field[c]]),
                                     "target": _json(name, target[i, field[c], j]),
                                     "delta": round(float(delta[c]), 4)})
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
