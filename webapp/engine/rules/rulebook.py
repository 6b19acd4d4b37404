"""Load and check the versioned rule tables in ``data/rules`` (TOML) into typed, compiled objects."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from webapp import fields, paths
from webapp.engine.rules.citations import Citation, Document, join, load_documents, parse_cite
from webapp.engine.rules.expressions import Expression, ExpressionError, compile_expression
from webapp.engine.rules.forms import FORMS, CriterionForm, form_of
from webapp.engine.rules.levers import LeverError, check_invertible
from webapp.engine.rules.parts import Brackets, Route, RuleTableError, compile_in, read_toml
from webapp.engine.rules.quick import quick_fields

__all__ = ["Brackets", "Criterion", "Metric", "Route", "RuleBook", "RuleSet", "RuleTable", "RuleTableError", "Tier",
           "load_rule_book", "load_rule_table"]

KINDS = ("hard", "scored", "route", "advisory")
VERIFICATION = ("verified", "verified-wording", "secondary", "unverified")
FLAGS = ("review",)

_COMMON_KEYS = ("id", "tier", "kind", "form", "name_zh", "name_en", "text_zh", "text_en", "source",
                "verification")


@dataclass(frozen=True)
class Metric:
    """A derived metric: a formula over fields, with what the gap analysis may move."""

    name: str
    expr: Expression
    unit: str
    name_zh: str
    name_en: str
    lever: str | None = None
    base: str | None = None


@dataclass(frozen=True)
class Criterion:
    """One official criterion, as written in a rule table."""

    id: str
    tier: str
    kind: str
    form: str
    name_zh: str
    name_en: str
    text_zh: str
    text_en: str
    source: str
    verification: str
    table: str
    note: str = ""
    self_declared: bool = False
    fixed: bool = False            # the firm cannot change it (registration, size test): never "next" when failed
    value: str | None = None
    max_points: float | None = None
    group: str | None = None
    test: Expression | None = None
    routes: tuple[Route, ...] = ()
    options: tuple[Brackets, ...] = ()
    points: Expression | None = None
    score_at_least: float | None = None
    sub_minimums: tuple[dict, ...] = ()
    titles: tuple[str, ...] = ()
    eligible: tuple[str, ...] = ()
    also: Expression | None = None
    cite: tuple[Citation, ...] = ()

    def citation(self, lang: str) -> str:
        """The official citation clients see (document number, annex, item); ``source`` is provenance for
        maintainers and is never shown."""
        return join(self.cite, lang)

    @property
    def handler(self) -> CriterionForm:
        """The registered form (:mod:`webapp.engine.rules.forms`) that judges, explains and plans this criterion."""
        return FORMS[self.form]

    def expressions(self) -> list[Expression]:
        """Every expression the criterion evaluates (for inputs and gaps)."""
        out = [e for e in (self.test, self.points, self.also) if e is not None]
        out += [r.test for r in self.routes if r.test is not None]
        out += [b.metric for b in self.options]
        return out


@dataclass(frozen=True)
class Tier:
    """A rung of the ladder as one rule table defines it."""

    id: str
    level: int
    name_zh: str
    name_en: str
    criteria: tuple[str, ...]
    requires: tuple[str | tuple[str, ...], ...]
    score: tuple[str, ...]
    validity_years: int
    table: str


@dataclass(frozen=True)
class RuleTable:
    """A versioned rule table (one instrument) with its tiers and criteria."""

    id: str
    version: str
    family: str
    in_force_from: dt.date | None
    in_force_until: dt.date | None
    source: str
    tiers: dict[str, Tier]
    criteria: dict[str, Criterion]
    path: str
    ladder: tuple[str, ...] = ()
    cite: tuple[Citation, ...] = ()

    def citation(self, lang: str) -> str:
        """The official document(s) of the table as clients see them: issuing body, title and number."""
        return join(self.cite, lang, full=True)

    @property
    def instrument_zh(self) -> str:
        """The title(s) and number(s) of the table's document(s), in Chinese."""
        return "及".join(c.title("zh") for c in self.cite)

    @property
    def instrument_en(self) -> str:
        """The title(s) and number(s) of the table's document(s), in English."""
        return " and ".join(c.title("en") for c in self.cite)


@dataclass(frozen=True)
class RuleBook:
    """All rule tables and derived metrics found in a rules folder."""

    tables: dict[str, RuleTable]
    metrics: dict[str, Metric]
    metrics_version: str = ""
    directory: str = ""
    documents: dict[str, Document] = field(default_factory=dict)
    quick_fields: tuple[str, ...] = field(init=False)  # the quick check's, derived (webapp.engine.rules.quick)

    def __post_init__(self):
        object.__setattr__(self, "quick_fields", quick_fields(self, flags=FLAGS))

    def family(self, family: str) -> list[RuleTable]:
        """The tables of one family (``sme``, ``tech``, ``champion``, ...), oldest in force first."""
        return sorted((t for t in self.tables.values() if t.family == family),
                      key=lambda t: (t.in_force_from or dt.date.min, t.id))

    def sme_ids(self) -> tuple[str, ...]:
        """Ids of the SME rule sets a user may choose, oldest first."""
        return tuple(t.id for t in self.family("sme"))

    def rungs(self) -> frozenset[str]:
        """Tier ids that are rungs of the ladder in some SME table; every other tier (HNTE) is judged beside it."""
        return frozenset(tid for table in self.family("sme") for tid in table.ladder)

    def beside_ladder(self, tier_ids) -> list[str]:
        """The ids among ``tier_ids`` judged beside the ladder (HNTE), in their order; none when no SME table
        names its rungs."""
        rungs = self.rungs()
        return [t for t in tier_ids if rungs and t not in rungs]

    def in_force(self, family: str, as_of: dt.date) -> RuleTable:
        """The table of ``family`` in force on ``as_of``: the latest one in force from that date or earlier
        (before the first one, the first one)."""
        tables = self.family(family)
        if not tables:
            raise ValueError(f"no rule table of family {family!r}")
        started = [t for t in tables if t.in_force_from is None or t.in_force_from <= as_of]
        return started[-1] if started else tables[0]

    def select(self, rules: str | None = None, as_of: dt.date | None = None) -> RuleSet:
        """The SME table by id (or the one in force on ``as_of``), with each other family's table in force."""
        as_of = as_of or dt.date.today()
        if rules is None:
            sme = self.in_force("sme", as_of)
        elif rules in self.tables and self.tables[rules].family == "sme":
            sme = self.tables[rules]
        else:
            raise ValueError(f"unknown SME rule set {rules!r}; choose one of {', '.join(self.sme_ids())}")
        families = sorted({t.family for t in self.tables.values()} - {"sme"})
        rungs = self.rungs()
        # Tables of ladder tiers first (tech, champion), then qualifications beside the ladder (hnte).
        others = sorted((self.in_force(f, as_of) for f in families),
                        key=lambda t: (not rungs & set(t.tiers), min((tier.level for tier in t.tiers.values()),
                                                                     default=0), t.id))
        return RuleSet(sme=sme, others=tuple(others), metrics=self.metrics, metrics_version=self.metrics_version,
                       quick_fields=self.quick_fields)


@dataclass(frozen=True)
class RuleSet:
    """The tables one assessment is judged by."""

    sme: RuleTable
    others: tuple[RuleTable, ...]
    metrics: dict[str, Metric]
    metrics_version: str = ""
    quick_fields: tuple[str, ...] = ()   # the quick check's fields, from the RuleBook it was selected from
    tiers: dict[str, Tier] = field(init=False)
    criteria: dict[str, Criterion] = field(init=False)

    def __post_init__(self):
        tiers, crits = {}, {}
        for table in (self.sme, *self.others):
            tiers.update(table.tiers)
            crits.update(table.criteria)
        ordered = dict(sorted(tiers.items(), key=lambda kv: kv[1].level))
        object.__setattr__(self, "tiers", ordered)
        object.__setattr__(self, "criteria", crits)

    def versions(self) -> dict[str, str]:
        """Rule-set ids by family, as the result contract names them."""
        out = {"sme": self.sme.id}
        out.update({t.family: t.id for t in self.others})
        return out

    def table_versions(self) -> dict[str, str]:
        """Each table's own version string."""
        return {t.id: t.version for t in (self.sme, *self.others)}


# ---------------------------------------------------------------------------- loading


def load_rule_book(directory: str | Path | None = None) -> RuleBook:
    """Load every rule table and the metrics file from ``directory`` (default ``data/rules``).

    Raises
    ------
    RuleTableError
        When a table is malformed; the message names the file and the criterion row.
    """
    directory = Path(directory or paths.resolve().rules)
    metrics_doc = _read(directory / "metrics.toml")
    metrics = _load_metrics(metrics_doc, directory / "metrics.toml")
    names_ok = _name_checker(metrics)
    documents = load_documents(directory)
    tables = {}
    for path in sorted(directory.glob("*.toml")):
        doc = _read(path)
        if "family" not in doc.get("table", {}):
            continue  # metrics, and fragments only ever included by a table
        table = load_rule_table(path, names_ok=names_ok, documents=documents)
        tables[table.id] = table
    _check_references(tables)
    _check_periods(tables)
    return RuleBook(tables=tables, metrics=metrics, metrics_version=metrics_doc["table"].get("version", ""),
                    directory=str(directory), documents=documents)


def load_rule_table(path: str | Path, *, names_ok=None, documents: dict[str, Document] | None = None) -> RuleTable:
    """Load one rule table (with its includes) and check every row, citations included."""
    path = Path(path)
    documents = load_documents(path.parent) if documents is None else documents
    doc = _read(path)
    meta = doc.get("table")
    if not isinstance(meta, dict) or "id" not in meta or "version" not in meta:
        raise RuleTableError(f"{path.name}: missing [table] with id and version")
    names_ok = names_ok or _name_checker(_load_metrics(_read(path.parent / "metrics.toml"), path))
    tiers_doc = dict(doc.get("tiers", {}))
    rows = []
    for inc in meta.get("include", []):
        inc_doc = _read(path.parent / inc)
        tiers_doc.update(inc_doc.get("tiers", {}))
        rows += [(inc, i, row) for i, row in enumerate(inc_doc.get("criteria", []))]
    rows += [(path.name, i, row) for i, row in enumerate(doc.get("criteria", []))]
    criteria = {}
    for fname, i, row in rows:
        crit = _criterion(row, meta["id"], names_ok, documents,
                          where=f"{fname}: criteria[{i}] ({row.get('id', '?')})")
        if crit.id in criteria:
            raise RuleTableError(f"{fname}: criteria[{i}]: duplicate id {crit.id!r}")
        criteria[crit.id] = crit
    tiers = {tid: _tier(tid, t, meta["id"], criteria, f"{path.name}: tiers.{tid}") for tid, t in tiers_doc.items()}
    dates = {}
    for key in ("in_force_from", "in_force_until"):
        value = meta.get(key)
        if value is not None and type(value) is not dt.date:
            raise RuleTableError(f"{path.name}: [table] {key} must be a date (YYYY-MM-DD)")
        dates[key] = value
    if "family" in meta and dates["in_force_from"] is None:
        raise RuleTableError(f"{path.name}: [table] needs in_force_from")
    ladder = meta.get("ladder", [])
    if meta.get("family", "sme") == "sme" and "family" in meta and not ladder:
        raise RuleTableError(f"{path.name}: [table] needs ladder, the rungs lowest first")
    return RuleTable(
        id=meta["id"], version=str(meta["version"]), family=meta.get("family", "sme"), **dates,
        source=meta.get("source", ""), tiers=tiers, criteria=criteria, path=str(path), ladder=tuple(ladder),
        cite=parse_cite(meta.get("cite"), documents, f"{path.name}: [table]"),
    )


def _read(path: Path) -> dict:
    return read_toml(path, RuleTableError)


def _name_checker(metrics: dict[str, Metric]):
    allowed = {f.name for f in fields.REGISTRY if f.kind != "text"} | set(metrics) | set(FLAGS)
    return allowed.__contains__


def _load_metrics(doc: dict, path: Path) -> dict[str, Metric]:
    field_ok = {f.name for f in fields.REGISTRY if f.kind != "text"}
    out: dict[str, Metric] = {}
    for name, spec in doc.get("metrics", {}).items():
        where = f"{path.name}: metrics.{name}"
        try:
            expr = compile_expression(spec["expr"], allowed_names=lambda n: n in field_ok or n in out)
        except (KeyError, ExpressionError) as exc:
            raise RuleTableError(f"{where}: {exc}") from None
        out[name] = Metric(name=name, expr=expr, unit=spec.get("unit", ""), name_zh=spec.get("name_zh", name),
                           name_en=spec.get("name_en", name), lever=spec.get("lever"), base=spec.get("base"))
        try:
            check_invertible(name, out)
        except LeverError as exc:
            raise RuleTableError(f"{where}: {exc}") from None
    return out


def _criterion(row: dict, table_id: str, names_ok, documents: dict[str, Document], where: str) -> Criterion:
    missing = [k for k in _COMMON_KEYS if k not in row]
    if missing:
        raise RuleTableError(f"{where}: missing {', '.join(missing)}")
    if row["kind"] not in KINDS:
        raise RuleTableError(f"{where}: unknown kind {row['kind']!r}; one of {', '.join(KINDS)}")
    if row["verification"] not in VERIFICATION:
        raise RuleTableError(f"{where}: unknown verification {row['verification']!r}")
    form = form_of(row, where)
    if row["kind"] == "scored" and "max_points" not in row:
        raise RuleTableError(f"{where}: a scored criterion needs max_points")
    kw: dict[str, Any] = {k: row[k] for k in _COMMON_KEYS}
    kw.update({k: bool(row.get(k)) for k in ("self_declared", "fixed")}, table=table_id, note=row.get("note", ""),
              value=row.get("value"), group=row.get("group"), cite=parse_cite(row.get("cite"), documents, where))
    if "max_points" in row:
        kw["max_points"] = float(row["max_points"])
    for key in ("test", "points", "also"):
        if key in row:
            kw[key] = compile_in(row[key], names_ok, where)
    kw.update(form.parse(row, names_ok, where))
    if kw.get("value") is None:
        first = next(iter(sorted(kw["test"].names))) if kw.get("test") is not None and kw["test"].names else None
        kw["value"] = row.get("metric") or first
    return Criterion(**kw)


def _tier(tid: str, spec: dict, table_id: str, criteria: dict[str, Criterion], where: str) -> Tier:
    for key in ("level", "name_zh", "name_en", "criteria", "requires"):
        if key not in spec:
            raise RuleTableError(f"{where}: missing {key}")
    requires = tuple(tuple(r) if isinstance(r, list) else r for r in spec["requires"])
    listed = set(spec["criteria"])
    for r in requires:
        for cid in (r if isinstance(r, tuple) else (r,)):
            if cid not in criteria or cid not in listed:
                raise RuleTableError(f"{where}: requires {cid!r}, which is not a listed criterion")
    for cid in list(spec["criteria"]) + list(spec.get("score", [])):
        if cid not in criteria:
            raise RuleTableError(f"{where}: unknown criterion {cid!r}")
    return Tier(id=tid, level=int(spec["level"]), name_zh=spec["name_zh"], name_en=spec["name_en"],
                criteria=tuple(spec["criteria"]), requires=requires, score=tuple(spec.get("score", ())),
                validity_years=int(spec.get("validity_years", 3)), table=table_id)


def _check_references(tables: dict[str, RuleTable]) -> None:
    all_tiers = {tid for t in tables.values() for tid in t.tiers}
    for table in tables.values():
        unknown = [tid for tid in table.ladder if tid not in all_tiers]
        if unknown:
            raise RuleTableError(f"{Path(table.path).name}: ladder names unknown tier(s) {unknown}")
        for crit in table.criteria.values():
            for tid in crit.eligible:
                if tid not in all_tiers:
                    raise RuleTableError(f"{Path(table.path).name}: {crit.id}: unknown eligible tier {tid!r}")
            for route in crit.routes:
                for cid in route.all_of:
                    if cid not in table.criteria:
                        raise RuleTableError(f"{Path(table.path).name}: {crit.id}: unknown route {cid!r}")


def _check_periods(tables: dict[str, RuleTable]) -> None:
    """Within a family, a table's period ends before the next one starts."""
    families = {t.family for t in tables.values()}
    for family in families:
        ordered = sorted((t for t in tables.values() if t.family == family), key=lambda t: t.in_force_from)
        for old, new in zip(ordered, ordered[1:]):
            if old.in_force_from == new.in_force_from:
                raise RuleTableError(f"{Path(new.path).name}: {new.id} and {old.id} are both in force from "
                                     f"{new.in_force_from}")
            if old.in_force_until is not None and old.in_force_until >= new.in_force_from:
                raise RuleTableError(f"{Path(old.path).name}: {old.id} is in force until {old.in_force_until}, "
                                     f"after {new.id} starts on {new.in_force_from}")
