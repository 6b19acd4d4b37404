"""The moved copies of firms that readiness drivers predict, as arrays, and how the engine judges them.

A driver is a field moved to a tier's typical value and re-predicted (:mod:`~.explain`). The copies are
built from the firms' columns (never a frame per copy) and judged in one call of the engine; given the
firms' own verdict, a criterion none of whose inputs moved takes the firm's result instead of being
evaluated again (about half of the criteria read no candidate field at all).
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import pandas as pd

from webapp.engine.readiness.features import HOLDER_TITLES, raw_directions
from webapp.engine.rules.criteria import Judge
from webapp.engine.rules.rulebook import RuleSet
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
SUBCOUNTS = ("class1_ip_applied", "class1_ip_high_value")   # parts of class1_ip: moving one raises the total
_FEW_ROWS = 8   # up to this many firms, reading row by row is cheaper than a Series per column


class _Kinds:
    """Registry field names by how :class:`Columns` holds them."""

    names = tuple(spec.name for spec in REGISTRY if spec.kind not in ("enum", "text"))
    enums = tuple(spec.name for spec in REGISTRY if spec.kind == "enum")
    texts = tuple(spec.name for spec in REGISTRY if spec.kind == "text")
    every = frozenset(spec.name for spec in REGISTRY)



class Columns:
    """Every registry field of a block of firms as arrays: ``numbers`` (float64, enum codes as floats, NaN
    unknown: as :func:`~.features.column` reads them), ``codes`` of the enums (int16, -1 unknown) and ``texts``."""

    def __init__(self, numbers: dict, codes: dict, texts: dict, n: int):
        self.numbers, self.codes, self.texts, self.n = numbers, codes, texts, n

    @classmethod
    def of(cls, clean: pd.DataFrame) -> Columns:
        """The columns of a complete clean frame (:func:`~.features.complete_profiles`)."""
        n = len(clean)
        numbers, codes, texts = {}, {}, {}
        if n <= _FEW_ROWS:
            rows = [clean.iloc[i].to_dict() for i in range(n)]
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

    def judged(self) -> dict[str, np.ndarray]:
        """The columns as the judge reads them (:class:`~webapp.engine.rules.criteria.FieldIntervals`): floats,
        enum codes, texts, one array per field, so judging the copies looks up no pandas column."""
        return {**self.numbers, **self.codes, **self.texts}

    @classmethod
    def of_judge(cls, judge: Judge, rows: np.ndarray, names=None) -> Columns | None:
        """Rows ``rows`` of the arrays a verdict was judged from (``Judge(columns=...)``), or None when it
        was judged from a frame (or from some of the fields only); ``names``: only these fields (default all)."""
        columns = judge.env.columns
        if not _Kinds.every <= columns.keys():
            return None
        if names is None and judge.n <= _FEW_ROWS:
            return cls._of_few(columns, rows)
        numbers, codes, texts = {}, {}, {}
        for spec in REGISTRY if names is None else (FIELDS[name] for name in names):
            values = np.asarray(columns[spec.name])[rows]
            if spec.kind == "enum":
                codes[spec.name] = values.astype(np.int16)
                numbers[spec.name] = np.where(values < 0, np.nan, values.astype(np.float64))
            elif spec.kind == "text":
                texts[spec.name] = values
            else:
                numbers[spec.name] = values.astype(np.float64, copy=False)
        return cls(numbers, codes, texts, len(rows))

    @classmethod
    def _of_few(cls, columns, rows: np.ndarray) -> Columns:
        """:meth:`of_judge` of every field when the judge's arrays are short: one matrix per kind, its rows
        taken at once (a fancy index per field costs more than the copy of a few firms' values)."""
        numbers = _Kinds.names
        block = np.array([columns[name] for name in numbers], dtype=np.float64)[:, rows]
        out = dict(zip(numbers, block))
        enums = np.array([columns[name] for name in _Kinds.enums], dtype=np.int16)[:, rows]
        codes = dict(zip(_Kinds.enums, enums))
        out.update(zip(_Kinds.enums, np.where(enums < 0, np.nan, enums.astype(np.float64))))
        texts = {name: np.asarray(columns[name])[rows] for name in _Kinds.texts}
        return cls(out, codes, texts, len(rows))

    def take(self, rows: np.ndarray) -> Columns:
        """These firms' rows ``rows`` (copies)."""
        def part(d):
            return {name: values[rows] for name, values in d.items()}
        return Columns(part(self.numbers), part(self.codes), part(self.texts), len(rows))

    def judge(self, ruleset: RuleSet, base: Judge | None = None, origin: np.ndarray | None = None,
              moved: frozenset[str] = frozenset()) -> Judge:
        """The engine's verdict on these rows (new applications), read from the arrays; with ``base`` (see
        :class:`MovedJudge`), only the criteria reading a moved field are evaluated."""
        columns = self.judged()
        rows = pd.DataFrame(index=pd.RangeIndex(self.n))  # every field is in columns: the frame gives the length
        if base is None:
            return Judge(rows, ruleset, columns=columns).run()
        return MovedJudge(rows, base, origin, moved, columns=columns).run()

    def frame(self) -> pd.DataFrame:
        """A clean frame (registry dtypes) of these columns, for the engine."""
        cols = {}
        for spec in REGISTRY:
            cols[spec.name] = pd.Categorical.from_codes(self.codes[spec.name], dtype=_dtype(spec.name)) \
                if spec.kind == "enum" else self.texts[spec.name] if spec.kind == "text" else self.numbers[spec.name]
        return pd.DataFrame(cols, copy=False)


@functools.cache
def _dtype(name: str) -> pd.CategoricalDtype:
    """An enum field's dtype, made once (checking the categories of every new one costs more than the column)."""
    return pd.CategoricalDtype(FIELDS[name].choices)


def _float(value) -> float:
    return np.nan if value is None or value is pd.NA else float(value)


class Plan:
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
        self.reads = (*self.fields, *(b for b in self.bases if b not in self.fields))   # what targets() reads
        directions = raw_directions()
        self.up = np.array([directions[f] >= 0 for f in self.fields], dtype=bool)
        self.integer = np.array([bool(FIELDS[f].integer) for f in self.fields], dtype=bool)
        self.capped = np.array([f in ("rd_staff", "main_revenue") for f in self.fields], dtype=bool)

    def targets(self, cols: Columns) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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


def moved(cols: Columns, plan: Plan, firm: np.ndarray, field: np.ndarray, target: np.ndarray, *,
          judge: Judge | None = None, rows: np.ndarray | None = None) -> Columns:
    """The firms themselves (rows 0..n-1), then one row per distinct move (firm ``firm``, ``plan.fields[field]``
    set to ``target``; a sub-count raises the class-1 IP total with it). With ``judge``, every field is read
    from the arrays it judged, at ``rows`` (where ``cols``' firms are), and ``cols`` need hold only the plan's."""
    take = np.concatenate([np.arange(cols.n), firm])
    out = cols.take(take) if judge is None else Columns.of_judge(judge, rows[take])
    for i in np.unique(field).tolist():
        name = plan.fields[i]
        at = cols.n + np.flatnonzero(field == i)
        values = target[field == i]
        out.numbers[name][at] = values
        if name in out.codes:
            out.codes[name][at] = values.astype(np.int16)
        if name in SUBCOUNTS:  # a sub-count never exceeds the total
            total = out.numbers["class1_ip"][at]
            out.numbers["class1_ip"][at] = np.where(np.isnan(total), total, np.maximum(total, values))
    return out


def moved_fields(plan: Plan, field: np.ndarray) -> frozenset[str]:
    """Names of the fields the copies change (with class1_ip when a sub-count moves)."""
    names = {plan.fields[i] for i in np.unique(field).tolist()}
    return frozenset(names | ({"class1_ip"} if names & set(SUBCOUNTS) else set()))


_INPUTS: dict[tuple, tuple[tuple, dict[str, frozenset[str]]]] = {}   # by the identity of the tables read
_INPUTS_KEPT = 32


def criterion_inputs(ruleset: RuleSet) -> dict[str, frozenset[str]]:
    """Per criterion of ``ruleset``, every name it may read: the names of its expressions (derived metrics
    expanded to theirs) and titles, and those of every criterion whose result it reads (its routes; for a
    composite criterion every criterion of its tiers; for an eligibility every criterion of those tiers).

    Over-inclusive on purpose (review-only branches and flags count too): a criterion judged again
    needlessly costs time, one left out would be wrong."""
    # Every assessment selects a new RuleSet of the same tables: cache by the tables (a few per rule book).
    parts = (ruleset.sme, *ruleset.others, ruleset.metrics)
    key = tuple(id(x) for x in parts)
    cached = _INPUTS.get(key)
    if cached is not None and all(a is b for a, b in zip(cached[0], parts)):
        return cached[1]

    def of_name(name: str, seen: frozenset = frozenset()) -> set[str]:
        metric = ruleset.metrics.get(name)
        if metric is None or name in seen:
            return {name}
        return {name}.union(*(of_name(n, seen | {name}) for n in metric.expr.names))

    tiers_of: dict[str, list[str]] = {}
    for tid, tier in ruleset.tiers.items():
        for cid in tier.criteria:
            tiers_of.setdefault(cid, []).append(tid)
    direct, reads = {}, {}
    for cid, crit in ruleset.criteria.items():
        names: set[str] = set()
        for expr in crit.expressions():
            for name in expr.names:
                names |= of_name(name)
        for title in crit.titles:
            names |= of_name(title)
        direct[cid] = names
        others = {c for route in crit.routes for c in (*route.all_of, route.id) if c in ruleset.criteria}
        if crit.handler.composite:
            others |= {c for t in {crit.tier, *tiers_of.get(cid, ())} if t in ruleset.tiers
                       for c in ruleset.tiers[t].criteria}
        others |= {c for t in crit.eligible if t in ruleset.tiers for c in ruleset.tiers[t].criteria}
        reads[cid] = others - {cid}
    out = {}
    for cid in ruleset.criteria:
        seen, todo = {cid}, [cid]
        while todo:
            for other in reads[todo.pop()]:
                if other not in seen:
                    seen.add(other)
                    todo.append(other)
        out[cid] = frozenset().union(*(direct[c] for c in seen))
    if len(_INPUTS) >= _INPUTS_KEPT:  # many rule books in one process (tests): start again (atomic, thread-safe)
        _INPUTS.clear()
    _INPUTS[key] = (parts, out)
    return out


class MovedJudge(Judge):
    """The engine's verdict on moved copies of firms already judged (new applications, same rule tables).

    Row ``r`` is a copy of the firm judged at row ``origin[r]`` of ``base`` with some of ``moved`` changed:
    a criterion that reads none of them takes that firm's result, the others are evaluated on every row.
    """

    def __init__(self, clean: pd.DataFrame, base: Judge, origin: np.ndarray, moved: frozenset[str], *,
                 columns: dict | None = None):
        super().__init__(clean, base.ruleset, columns=columns)
        self.base, self.origin = base, origin
        self.still = {cid for cid, names in criterion_inputs(base.ruleset).items() if not names & moved}

    def _judge(self, crit, tier):
        if crit.id not in self.still:
            return super()._judge(crit, tier)
        res = self.base.criteria[crit.id]
        origin = self.origin
        return type(res)(**{name: None if (value := getattr(res, name)) is None else value[origin]
                            for name in _field_names(type(res))})


@functools.cache
def _field_names(kind: type) -> tuple[str, ...]:
    """The fields of a result dataclass (each one an array per firm, or None)."""
    return tuple(f.name for f in dataclasses.fields(kind))
