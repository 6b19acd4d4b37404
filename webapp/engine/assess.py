"""The engine's entry point: validate profiles, judge them against the rule set, place them on the ladder."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from webapp import fields
from webapp.engine import defaults
from webapp.engine.advice.advise import advise
from webapp.engine.cohorts.benchmark import BENCHMARK_FIELDS, benchmark, benchmarks_json
from webapp.engine.cohorts.dimensions import dimensions_json
from webapp.engine.cohorts.geography import TIER_COHORTS, cohorts_for
from webapp.engine.cohorts.store import CohortSet
from webapp.engine.io.inputs import validate_columns
from webapp.engine.readiness.model import ReadinessModel, readiness_columns
from webapp.engine.rules import likely
from webapp.engine.rules.criteria import MET, STATUS_NAMES, UNKNOWN, VIA_NAMES, Judge, status_names
from webapp.engine.rules.gaps import GapFinder
from webapp.engine.rules.ladder import NONE, place_on_ladder
from webapp.engine.rules.rulebook import RuleBook, RuleSet

MODES = ("new", "review")
READINESS_BLOCK = 256  # firms explained in one model call when a frame's firms are described one by one
DERIVED_SHOWN = ("rd_ratio", "rd_ratio_prev", "main_share", "main_growth", "main_growth_avg2", "revenue_cagr2",
                 "net_margin", "rd_staff_share", "rd_2y")


@dataclass
class Assessment:
    """Results of judging a frame of profiles: one row a firm."""

    profiles: pd.DataFrame
    errors: pd.DataFrame
    ruleset: RuleSet
    judge: Judge
    tier: np.ndarray
    as_of: dt.date
    mode: str
    rule_book: RuleBook | None = field(default=None, repr=False)
    cohorts: CohortSet | None = field(default=None, repr=False)
    model: ReadinessModel | None = field(default=None, repr=False)
    extra_cohorts: tuple[str, ...] = ()
    _gaps: GapFinder | None = field(default=None, repr=False)
    _conditional: dict[str, np.ndarray] | None = field(default=None, repr=False)
    _likely: np.ndarray | None = field(default=None, repr=False)
    _readiness: dict[int, list[dict]] = field(default_factory=dict, repr=False)
    _next: np.ndarray | None = field(default=None, repr=False)

    @property
    def valid(self) -> np.ndarray:
        """True for firms whose input had no error."""
        bad = self.profiles.index.isin(self.errors["index"]) if len(self.errors) else \
            np.zeros(len(self.profiles), dtype=bool)
        return ~np.asarray(bad)

    def frame(self) -> pd.DataFrame:
        """Batch columns: ``tier`` and, per tier, status and score range; empty where input was invalid."""
        valid = self.valid
        cols: dict[str, object] = {"tier": np.where(valid, self.tier, None),
                                   "likely_tier": np.where(valid, self.likely_tier(), None)}
        for tid, res in self.judge.tiers.items():
            cols[f"{tid}_status"] = np.where(valid, status_names(res.status), None)
            for key, arr in (("score_min", res.score_lo), ("score_max", res.score_hi)):
                cols[f"{tid}_{key}"] = np.where(valid, arr, np.nan) if arr is not None else np.nan
        return pd.DataFrame(cols, index=self.profiles.index)

    def conditional(self) -> dict[str, np.ndarray]:
        """Per tier, True for firms whose tier is unknown only for want of declarations, evidence or review
        (:func:`webapp.engine.rules.likely.conditional`)."""
        if self._conditional is None:
            self._conditional = likely.conditional(self.judge)
        return self._conditional

    def likely_tier(self) -> np.ndarray:
        """Per firm, the highest rung that is met or conditional, or ``"none"``."""
        if self._likely is None:
            self._likely = likely.likely_tier(self.judge, self.conditional())
        return self._likely

    def next_tier(self) -> np.ndarray:
        """Per firm, the first rung above the likely tier that the firm is not ruled out of, or None."""
        if self._next is None:
            self._next = likely.next_tier(self.judge, self.likely_tier())
        return self._next

    def to_confirm(self, i: int, likely_id: str, next_id: str | None, gaps: dict | None = None) -> list[dict]:
        """The unknown criteria of the likely tier and of the next tier, with their missing inputs (``gaps``:
        the criteria's gaps for firm ``i`` by id where already worked out)."""
        rs, finder = self.ruleset, self._gap_finder()
        items = []
        for tid in [t for t in (likely_id, next_id) if t and t != NONE]:
            for cid in rs.tiers[tid].criteria:
                if self.judge.criteria[cid].status[i] != UNKNOWN:
                    continue
                crit = rs.criteria[cid]
                gap = (gaps[cid] if gaps is not None and cid in gaps else finder.gap(crit, i)) or {}
                items.append({"tier": tid, "id": cid, "name_zh": crit.name_zh, "name_en": crit.name_en,
                              "missing": list(gap.get("missing") or []), "self_declared": crit.self_declared,
                              "manual_review": bool(crit.handler.manual)})
        return items

    def to_dict(self, i: int = 0, *, gaps: bool = True, benchmarks: bool = True, advice: bool = False) -> dict:
        """The result contract of spec/assessment.md for firm ``i`` (position), JSON-ready.

        ``benchmarks`` adds the cohort percentiles and dimension scores, ``advice`` the recommendations and
        roadmap (webapp.engine.advice.advise).
        """
        rs = self.ruleset
        tier = str(self.tier[i])
        nxt = self.next_tier()[i]
        finder = self._gap_finder() if gaps else None
        out = {
            "rules": rs.versions(),
            "rule_versions": rs.table_versions(),
            "as_of": self.as_of.isoformat(),
            "mode": self.mode,
            "firm_name": _json_value(self.cells(i, ("firm_name",))["firm_name"]),
            "tier": tier,
            "next_tier": nxt,
            "tiers": {tid: self._tier_dict(tid, i, finder) for tid in self.judge.tiers},
            "likely_tier": str(self.likely_tier()[i]),
            "derived": {m: _json_value(self.judge.env.point(m)[i]) for m in DERIVED_SHOWN if m in rs.metrics},
        }
        known = {c["id"]: c["gap"] for t in out["tiers"].values() for c in t["criteria"]} if gaps else None
        out["to_confirm"] = self.to_confirm(i, out["likely_tier"], nxt, known)
        if self.cohorts is not None and benchmarks:
            ids = self.cohort_ids(i, nxt)
            out["benchmarks"] = benchmarks_json(self.cells(i, BENCHMARK_FIELDS), self.cohorts, ids)
            out["dimensions"] = dimensions_json(out["benchmarks"])
            out["cohorts"] = {c: {"name_zh": self.cohorts[c].name_zh, "name_en": self.cohorts[c].name_en,
                                  "n_firms": _json_value(self.cohorts[c].n_firms), "as_of": self.cohorts[c].as_of,
                                  "kind": self.cohorts[c].kind} for c in ids}
        if self.model is not None:
            out["readiness"] = self.readiness(i)
        if advice:
            out["advice"] = advise(out, self.profiles.iloc[i].to_dict(), rule_book=self.rule_book)
        return out

    def readiness(self, i: int) -> dict:
        """Probability per tier with its drivers for firm ``i`` (by the model of the rules applied), worked out
        with the block of firms around it in one model call (a batch describes its firms one after another)."""
        block = i // READINESS_BLOCK
        if block not in self._readiness:
            start = block * READINESS_BLOCK
            model = self.model.under(self.ruleset.sme.id)
            stop = min(start + READINESS_BLOCK, len(self.profiles))
            firms = self.profiles if (start, stop) == (0, len(self.profiles)) else self.profiles.iloc[start:stop]
            self._readiness = {block: model.readiness_blocks(firms, judge=self.judge, rows=np.arange(start, stop))}
        return _copy(self._readiness[block][i - block * READINESS_BLOCK])

    def readiness_frame(self) -> pd.DataFrame:
        """Batch columns ``<tier>_readiness``; empty where input was invalid or no model is available."""
        if self.model is None:
            return pd.DataFrame(index=self.profiles.index)
        return readiness_columns(self.model, self.profiles, judge=self.judge, valid=self.valid,
                                 rules=self.ruleset.sme.id)

    def cells(self, i: int, names) -> dict:
        """Firm ``i``'s clean values of the fields ``names`` (those the profiles have), read from the arrays the
        judge was given where it has them (no pandas lookup), else from the frame."""
        columns, out = self.judge.env.columns, {}
        for name in names:
            if name in columns:
                value = columns[name][i]
                spec = fields.FIELDS[name]
                out[name] = (None if value < 0 else spec.choices[value]) if spec.kind == "enum" else value
            elif name in self.profiles:
                out[name] = self.profiles[name].iat[i]
        return out

    def cohort_ids(self, i: int, next_tier_id: str | None) -> list[str]:
        """little_giant, the firm's own region/province/city, the next tier's portrait and any asked for."""
        place = self.cells(i, ("province", "city"))
        ids = cohorts_for(place["province"], place["city"], available=self.cohorts.ids)
        wanted = [TIER_COHORTS.get(next_tier_id or ""), *self.extra_cohorts]
        return ids + [c for c in wanted if c and c in self.cohorts.ids and c not in ids]

    def percentile_frame(self, cohort_ids) -> pd.DataFrame:
        """Batch columns ``pct_<cohort>_<metric>`` for the cohorts asked for; empty where input was invalid."""
        result = benchmark(self.profiles, self.cohorts, list(cohort_ids))
        cols = {}
        for cid in cohort_ids:
            for metric, values in result.percentiles[cid].items():
                cols[f"pct_{cid}_{metric}"] = np.where(self.valid, values.to_numpy(dtype=float), np.nan)
        return pd.DataFrame(cols, index=self.profiles.index)

    def _gap_finder(self) -> GapFinder:
        if self._gaps is None:
            self._gaps = GapFinder(self.judge)
        return self._gaps

    def _tier_dict(self, tid: str, i: int, finder: GapFinder | None) -> dict:
        tier = self.ruleset.tiers[tid]
        res = self.judge.tiers[tid]
        out = {
            "status": STATUS_NAMES[int(res.status[i]) + 1],
            "level": tier.level,
            "name_zh": tier.name_zh,
            "name_en": tier.name_en,
            "rules": tier.table,
            "score_min": _json_value(res.score_lo[i]) if res.score_lo is not None else None,
            "score_max": _json_value(res.score_hi[i]) if res.score_hi is not None else None,
            "conditional": bool(self.conditional()[tid][i]),
        }
        for pos, route in res.route.items():
            group = tier.requires[pos]
            out["route"] = group[route[i]] if route[i] >= 0 else None
        out["criteria"] = [self._criterion_dict(cid, i, finder) for cid in tier.criteria]
        return out

    def _criterion_dict(self, cid: str, i: int, finder: GapFinder | None) -> dict:
        crit = self.ruleset.criteria[cid]
        res = self.judge.criteria[cid]
        status = STATUS_NAMES[int(res.status[i]) + 1]
        item = {"id": cid, "kind": crit.kind, "status": status, "name_zh": crit.name_zh, "name_en": crit.name_en}
        if crit.kind == "scored":
            lo, hi = float(res.points_lo[i]), float(res.points_hi[i])
            item.update(points=_json_value(lo) if lo == hi else None, points_min=_json_value(lo),
                        points_max=_json_value(hi), max_points=_json_value(crit.max_points))
        item["value"] = self._value(crit.value, i)
        item["self_declared"] = crit.self_declared
        item["verification"] = crit.verification
        if crit.kind == "advisory" and crit.handler.manual:
            item["manual_review"] = True
        if res.route is not None:
            item["route"] = crit.handler.route_name(crit, int(res.route[i]))
        if res.via is not None:
            item["via"] = VIA_NAMES[int(res.via[i])] if res.status[i] == MET else None
        if finder is not None:
            item["gap"] = finder.gap(crit, i)
        return item

    def _value(self, name: str | None, i: int):
        if not name:
            return None
        if name in self.judge.env.evaluator.enums:
            codes, choices = self.judge.env.evaluator.enums[name]
            return None if codes[i] < 0 else choices[codes[i]]
        value = self.judge.env.point(name)[i]
        spec = fields.FIELDS.get(name)
        if spec is not None and spec.kind == "bool":
            return None if math.isnan(value) else bool(value)
        return _json_value(value)


def assess(profiles: pd.DataFrame, *, rules: str | None = None, as_of: dt.date | None = None,
           mode: str = "new", rule_book: RuleBook | None = None, first_line: int = 2,
           cohorts: CohortSet | None | bool = None, extra_cohorts=(), model=None) -> Assessment:
    """Validate and judge a frame of firm profiles against every tier.

    Parameters
    ----------
    profiles : pandas.DataFrame
        One row a firm, canonical column names (values as entered: strings or numbers; missing = unknown).
    rules : {"SME-2022", "SME-2026"}, optional
        SME rule set; by default the one in force on ``as_of``.
    as_of : datetime.date, optional
        Assessment date, default today.
    mode : {"new", "review"}
        ``review`` judges a re-review of a title already held.
    rule_book : RuleBook, optional
        Rule tables to use (default: those of the rules folder in force, see webapp.paths).
    first_line : int
        Line number reported for the first row in errors (2 for a spreadsheet with a header).
    cohorts : CohortSet, optional
        Cohorts for benchmarks (default: the built-in ones plus imported ones); False for none.
    extra_cohorts : sequence of str
        Cohort ids to benchmark against besides the firm's own (e.g. an imported portfolio).
    model : ReadinessModel, optional
        Readiness classifier (default: the newest valid artefact); False for none.

    Raises
    ------
    ValueError
        An unknown mode, rule set or cohort id.
    webapp.engine.defaults.StartupError
        A default rule, cohort or model file that cannot be loaded.

    Returns
    -------
    Assessment
        Clean profiles, input errors, per-criterion and per-tier results and the ladder placement.
    """
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; choose new or review")
    as_of = as_of or dt.date.today()
    book = rule_book or defaults.load(defaults.rule_book)
    ruleset = book.select(rules, as_of)
    clean, errors, columns = validate_columns(profiles, first_line=first_line)
    judge = Judge(clean, ruleset, review=mode == "review", columns=columns).run()
    tier = place_on_ladder(judge.tiers, ruleset)
    if cohorts is None or cohorts is True:
        cohorts = defaults.load(defaults.cohorts)
    unknown = [c for c in extra_cohorts if cohorts is False or c not in cohorts.ids]
    if unknown:
        raise ValueError(f"unknown cohort(s) {', '.join(unknown)}")
    if model is None:
        model = defaults.load(defaults.model)
    return Assessment(profiles=clean, errors=errors, ruleset=ruleset, judge=judge, tier=tier, as_of=as_of,
                      mode=mode, rule_book=book, cohorts=cohorts or None, extra_cohorts=tuple(extra_cohorts),
                      model=model or None)


def _copy(value):
    """A copy of nested dicts and lists (JSON-like values), so callers may change what they are given."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _json_value(v):
    """A scalar as JSON wants it: None for unknown, int for whole numbers, float otherwise."""
    if type(v) is float or type(v) is np.float64:  # most values: straight to the number checks
        f = float(v)
    elif v is None:
        return None
    elif isinstance(v, str):
        return v
    elif isinstance(v, bool | np.bool_):
        return bool(v)
    else:
        try:
            f = float(v)
        except (TypeError, ValueError):
            return str(v)
    if math.isnan(f):
        return None
    if math.isinf(f):
        return "inf" if f > 0 else "-inf"
    return int(f) if f.is_integer() and abs(f) < 2**53 else round(f, 10)
