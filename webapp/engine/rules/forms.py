"""The one registry of criterion forms: how a rule table row of each ``form`` is parsed, judged, explained
and turned into actions.

Each form is one subclass of :class:`CriterionForm`, added to :data:`FORMS` by the :func:`register`
decorator. A form (1) parses: declares the TOML keys it requires (``requires``, alternatives of key sets)
and builds its parts of the criterion (:meth:`~CriterionForm.parse`); (2) evaluates: the vectorised
:class:`CriterionResult` for a judge (:meth:`~CriterionForm.evaluate`); (3) measures its gap for one firm
for a gap finder (:meth:`~CriterionForm.gap`); (4) proposes its actions through an action planner
(:meth:`~CriterionForm.plan`). Class attributes answer what the rest of the engine asks of a form:
``composite`` (judged after the tier's other criteria, whose results it reads), ``manual`` (always for
manual review), ``is_title_prerequisite`` (needs a lower tier's title), and :meth:`~CriterionForm.route_name`.

The judge, gap finder and planner are passed in and used by duck typing, so this module imports nothing of
the engine but the expression language, the row parts and the status logic. Adding a form is adding one
registered class.
"""

from __future__ import annotations

import ast
from typing import Any, ClassVar

import numpy as np

from webapp import fields
from webapp.engine.rules.expressions import Expression, Interval, status_codes
from webapp.engine.rules.parts import Route, RuleTableError, compile_in, parse_brackets
from webapp.engine.rules.status import (
    MET,
    UNKNOWN,
    CriterionResult,
    at_least,
    bracket_points,
    kleene_and,
    kleene_or,
    scored_status,
    status_name,
)

FORMS: dict[str, CriterionForm] = {}


def register(cls: type[CriterionForm]) -> type[CriterionForm]:
    """Class decorator: add a form (one instance of ``cls``) to the registry under ``cls.name``.

    Parameters
    ----------
    cls : type
        A subclass of :class:`CriterionForm` with a ``name`` not yet registered.

    Returns
    -------
    type
        ``cls`` itself.
    """
    if not cls.name or cls.name in FORMS:
        raise ValueError(f"a form needs a new name; {cls.name!r} is empty or already registered")
    FORMS[cls.name] = cls()
    return cls


def unregister(name: str) -> None:
    """Remove a form from the registry (for tests that register their own).

    Parameters
    ----------
    name : str
        The form's name.
    """
    del FORMS[name]


def form_of(row: dict, where: str) -> CriterionForm:
    """The registered form a rule table row names, once the row has the keys the form requires.

    Parameters
    ----------
    row : dict
        One ``[[criteria]]`` row.
    where : str
        File and row, for the error message.

    Returns
    -------
    CriterionForm

    Raises
    ------
    RuleTableError
        When the form is unknown (naming the known ones) or a required key is missing.
    """
    form = FORMS.get(row["form"])
    if form is None:
        raise RuleTableError(f"{where}: unknown form {row['form']!r}; one of {', '.join(FORMS)}")
    if not any(all(k in row for k in keys) for keys in form.requires):
        need = " or ".join("+".join(k) for k in form.requires)
        raise RuleTableError(f"{where}: form {form.name!r} needs {need}")
    return form


class CriterionForm:
    """One form of criterion. Subclass, set ``name`` and ``requires``, override what differs, register."""

    name: ClassVar[str] = ""
    requires: ClassVar[tuple[tuple[str, ...], ...]] = ((),)   # alternatives of required key sets
    composite: ClassVar[bool] = False                # reads other criteria's results: judged after them
    manual: ClassVar[bool] = False                   # never judged from data: always for manual review
    is_title_prerequisite: ClassVar[bool] = False    # needs a lower tier's title (held or found eligible)

    # -- parsing
    def parse(self, row: dict, names_ok, where: str) -> dict[str, Any]:
        """The criterion's form-specific fields built from ``row`` (the common keys are the loader's)."""
        return {}

    # -- judging
    def evaluate(self, judge, crit, tier) -> CriterionResult:
        """The vectorised result of ``crit`` for every firm of ``judge`` (a :class:`Judge`)."""
        raise NotImplementedError(f"form {self.name!r} has no evaluator")

    def route_name(self, crit, r: int) -> str | None:
        """The id of the route a result's route index ``r`` names (None for -1)."""
        return None if r < 0 else crit.routes[r].id

    # -- gaps
    def gap_expressions(self, crit) -> list[Expression]:
        """The expressions whose failing atoms explain an unmet criterion."""
        return [e for e in (crit.test, crit.also) if e is not None]

    def gap(self, finder, crit, i: int) -> dict | None:
        """The gap of ``crit`` for firm ``i`` by ``finder`` (a :class:`GapFinder`); None when met."""
        res = finder.judge.criteria[crit.id]
        if crit.kind == "scored":
            return finder.scored_gap(crit, i, res)
        if int(res.status[i]) == MET:
            return None
        out = finder.expression_gap(self.gap_expressions(crit), i)
        self.gap_details(finder, crit, i, out)
        return out

    def gap_details(self, finder, crit, i: int, out: dict) -> None:
        """Add the form's own keys to an expression gap ``out``."""

    # -- actions
    def plan(self, planner, tid: str, tier: dict, crits: dict, c: dict, rule, share: float) -> None:
        """Add the actions for open criterion ``c`` (result dict; ``rule`` its criterion) to ``planner``."""
        planner.gap_actions(tid, c, share, rule)


_JOINED: dict[int, tuple] = {}  # id(criterion) -> (criterion, [its routes joined by "or"])


@register
class Test(CriterionForm):
    """A condition, or any of several named conditions (routes)."""

    name = "test"
    requires = (("test",), ("routes",))

    def parse(self, row, names_ok, where):
        """Compile the test routes, when the row has them."""
        if "routes" not in row:
            return {}
        out = []
        for j, r in enumerate(row["routes"]):
            if not isinstance(r, dict) or "id" not in r or "test" not in r:
                raise RuleTableError(f"{where}: route {j} needs id and test")
            out.append(Route(id=r["id"], name_zh=r.get("name_zh", r["id"]), name_en=r.get("name_en", r["id"]),
                             test=compile_in(r["test"], names_ok, f"{where} route {r['id']}"),
                             verification=r.get("verification")))
        return {"routes": tuple(out)}

    def evaluate(self, judge, crit, tier):
        """The test's status, or the Kleene OR of the routes with the first met one."""
        if crit.routes:
            statuses = [status_codes(judge.env.evaluator.evaluate(r.test)) for r in crit.routes]
            status, route = kleene_or(statuses)
            return CriterionResult(status, route=route)
        return CriterionResult(status_codes(judge.env.evaluator.evaluate(crit.test)))

    def gap_expressions(self, crit):
        """With routes, one expression: the routes' tests joined by ``or``."""
        if not crit.routes:
            return super().gap_expressions(crit)
        joined = _JOINED.get(id(crit))
        if joined is None or joined[0] is not crit:  # built once per criterion: gap caches key on the tree
            tree = ast.BoolOp(op=ast.Or(), values=[r.test.tree for r in crit.routes])
            names = frozenset().union(*[r.test.names for r in crit.routes])
            joined = _JOINED[id(crit)] = (crit, [Expression(text=ast.unparse(tree), tree=tree, names=names)])
        return joined[1]


@register
class BracketPoints(CriterionForm):
    """Points by brackets of one metric."""

    name = "brackets"
    requires = (("metric", "brackets"),)

    def parse(self, row, names_ok, where):
        """One bracket table from the row itself."""
        return {"options": (parse_brackets(row, names_ok, where),)}

    def evaluate(self, judge, crit, tier):
        """The best points over the bracket tables; met when it scores."""
        ranges = [bracket_points(b, judge.env.evaluator.evaluate(b.metric)) for b in crit.options]
        lo = np.maximum.reduce([r[0] for r in ranges])
        hi = np.maximum.reduce([r[1] for r in ranges])
        return CriterionResult(scored_status(lo, hi), lo, hi)


@register
class BestOf(BracketPoints):
    """Points by the best of several bracket tables."""

    name = "best_of"
    requires = (("options",),)

    def parse(self, row, names_ok, where):
        """One bracket table per option."""
        return {"options": tuple(parse_brackets(o, names_ok, f"{where} option {j}")
                                 for j, o in enumerate(row["options"]))}


@register
class Points(CriterionForm):
    """Points by a formula, clipped to the criterion's maximum."""

    name = "points"
    requires = (("points",),)

    def evaluate(self, judge, crit, tier):
        """The formula's range clipped to [0, max_points]; met when it scores."""
        res = judge.env.evaluator.evaluate(crit.points)
        lo = np.clip(res.lo, 0, crit.max_points)
        hi = np.clip(res.hi, 0, crit.max_points)
        return CriterionResult(scored_status(lo, hi), lo, hi)


@register
class AnyOf(CriterionForm):
    """Any of several combinations of other criteria of the table."""

    name = "any_of"
    requires = (("routes",),)
    composite = True

    def parse(self, row, names_ok, where):
        """Each route: a criterion id or a list of ids, all of which must be met."""
        out = []
        zh, en = row.get("route_names_zh", []), row.get("route_names_en", [])
        for j, r in enumerate(row["routes"]):
            ids = tuple(r) if isinstance(r, list) else (r,)
            out.append(Route(id="+".join(ids), name_zh=zh[j] if j < len(zh) else "+".join(ids),
                             name_en=en[j] if j < len(en) else "+".join(ids), all_of=ids))
        return {"routes": tuple(out)}

    def evaluate(self, judge, crit, tier):
        """The Kleene OR over routes of the Kleene AND of their criteria."""
        options = [kleene_and([judge.criteria[c].status for c in r.all_of]) for r in crit.routes]
        status, route = kleene_or(options)
        return CriterionResult(status, route=route)

    def gap_details(self, finder, crit, i, out):
        """Each route's status."""
        out["routes"] = _route_statuses(finder, crit, i)

    def plan(self, planner, tid, tier, crits, c, rule, share):
        """Plan the open members of the route with the fewest of them."""
        combos = [[m for m in r.all_of if crits.get(m, {}).get("status") != "met"] for r in rule.routes]
        best = min(combos, key=len)
        for member in best:
            if member in crits:
                planner.criterion(tid, tier, crits, crits[member], share / len(best))


@register
class ScorePass(CriterionForm):
    """The tier's score reaches a pass mark (with sub-minimums), or a direct route criterion is met."""

    name = "score_pass"
    requires = (("score_at_least",),)
    composite = True

    def parse(self, row, names_ok, where):
        """Pass mark, sub-minimums and the direct routes (criterion ids)."""
        return {"score_at_least": float(row["score_at_least"]), "sub_minimums": tuple(row.get("sub_minimums", ())),
                "routes": tuple(Route(id=r, name_zh=r, name_en=r, all_of=(r,)) for r in row.get("routes", ()))}

    def evaluate(self, judge, crit, tier):
        """Route 0 is the score (with its sub-minimums), route j+1 the criterion ``routes[j]``."""
        score = Interval(np.sum([judge.criteria[c].points_lo for c in tier.score], axis=0),
                         np.sum([judge.criteria[c].points_hi for c in tier.score], axis=0))
        parts = [at_least(score, crit.score_at_least)]
        for sub in crit.sub_minimums:
            total = Interval(np.sum([judge.criteria[c].points_lo for c in sub["of"]], axis=0),
                             np.sum([judge.criteria[c].points_hi for c in sub["of"]], axis=0))
            if "above" in sub:
                parts.append(status_codes(Interval((total.lo > sub["above"]).astype(float),
                                                   (total.hi > sub["above"]).astype(float))))
            else:
                parts.append(at_least(total, sub["at_least"]))
        options = [kleene_and(parts)] + [judge.criteria[r.id].status for r in crit.routes]
        status, route = kleene_or(options)
        return CriterionResult(status, route=route)

    def route_name(self, crit, r):
        """``score`` for route 0, else the route criterion's id."""
        if r < 0:
            return None
        return "score" if r == 0 else crit.routes[r - 1].id

    def gap_details(self, finder, crit, i, out):
        """Each route's status and the tier score against the pass mark, and each sub-minimum."""
        out["routes"] = _route_statuses(finder, crit, i)
        judge = finder.judge
        tier = judge.ruleset.tiers[crit.tier]
        lo = sum(float(judge.criteria[c].points_lo[i]) for c in tier.score)
        hi = sum(float(judge.criteria[c].points_hi[i]) for c in tier.score)
        subs = []
        for sub in crit.sub_minimums:
            s_lo = sum(float(judge.criteria[c].points_lo[i]) for c in sub["of"])
            bar = sub.get("at_least", sub.get("above"))
            subs.append({"of": list(sub["of"]), "name_zh": sub.get("name_zh"), "name_en": sub.get("name_en"),
                         "score_min": s_lo, "bar": bar, "strict": "above" in sub})
        out["score"] = {"score_min": lo, "score_max": hi, "bar": crit.score_at_least,
                        "short_by": max(crit.score_at_least - hi, 0.0), "sub_minimums": subs}

    def plan(self, planner, tid, tier, crits, c, rule, share):
        """The quickest scored items that close the deficits, and the unknown direct routes."""
        planner.score(tid, tier, crits, c, rule, share)


@register
class Prerequisite(CriterionForm):
    """A title held (or a lower tier found eligible here), and optionally a further test (``also``)."""

    name = "prerequisite"
    requires = (("titles", "eligible"),)
    is_title_prerequisite = True

    def parse(self, row, names_ok, where):
        """The title fields (checked against the field registry) and the tiers whose eligibility counts."""
        bad = [t for t in row["titles"] if t not in fields.FIELDS]
        if bad:
            raise RuleTableError(f"{where}: unknown title field(s) {bad}")
        return {"titles": tuple(row["titles"]), "eligible": tuple(row["eligible"])}

    def evaluate(self, judge, crit, tier):
        """Held or eligible (and ``also``), with how: 1 held, 2 eligible."""
        held = [status_codes(judge.env.resolve(t)) for t in crit.titles]
        eligible = [judge.tiers[t].status for t in crit.eligible if t in judge.tiers]
        held_status, _ = kleene_or(held)
        status, _ = kleene_or([held_status] + eligible) if eligible else (held_status, None)
        via = np.where(held_status == MET, 1, 0)
        if eligible:
            elig_status, _ = kleene_or(eligible)
            via = np.where((via == 0) & (elig_status == MET), 2, via)
        if crit.also is not None:
            status = kleene_and([status, status_codes(judge.env.evaluator.evaluate(crit.also))])
        return CriterionResult(status, via=via.astype(np.int8))

    def gap_details(self, finder, crit, i, out):
        """The titles that would do, and the status of each eligible tier."""
        out["titles"] = list(crit.titles)
        out["eligible"] = {t: status_name(finder.judge.tiers[t].status[i]) for t in crit.eligible
                           if t in finder.judge.tiers}

    def plan(self, planner, tid, tier, crits, c, rule, share):
        """Obtain the title, and close the ``also`` test's items (the title counted as one more)."""
        planner.title(tid, c, c.get("gap") or {}, share)
        planner.gap_actions(tid, c, share, rule, extra=1)


@register
class Manual(CriterionForm):
    """Judged by the authority only: always unknown here, for manual review."""

    name = "manual"
    manual = True

    def evaluate(self, judge, crit, tier):
        """Unknown for every firm."""
        return CriterionResult(np.full(judge.n, UNKNOWN, dtype=np.int8))

    def gap(self, finder, crit, i):
        """A manual-review gap, whatever the status."""
        return {"manual_review": True, "items": [], "missing": []}

    def plan(self, planner, tid, tier, crits, c, rule, share):
        """One manual-review action."""
        planner.manual(tid, c, share)


RULE_FORMS = tuple(FORMS)  # the built-in forms, in registration order


def _route_statuses(finder, crit, i: int) -> dict[str, str]:
    """Status name of each route (the Kleene AND of its criteria) for firm ``i``."""
    return {r.id: status_name(kleene_and([finder.judge.criteria[c].status[i:i + 1] for c in r.all_of])[0])
            for r in crit.routes}
