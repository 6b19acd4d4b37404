"""The quick check's fields, derived from the rule tables (spec/assessment.md, "Likely tier, next tier, and
what is left to confirm").

A firm that answers every quick field gets every figure-based criterion of the quick tiers decided under the
newest SME rule set: hard criteria, scores, sub-minimums and pass rules. Under an older SME rule set its
hard requirements of the quick tiers are added cheapest first (fewest new fields), as long as that rule set
adds no more than :data:`OLDER_EXTRA` fields in all. What then remains unknown is only declarations
(self-declared criteria), evidence and manual review.

The inputs of a criterion are the fields its expressions read (derived metrics expanded to their fields,
flags such as ``review`` left out) and, for criteria that read other criteria, their inputs too: a pass rule
reads every scored indicator of its tier (a score is only decided when each indicator is) and its direct
routes; a title prerequisite reads its title fields and the figure-based requirements of the tiers whose
eligibility counts. Self-declared, advisory and manual criteria are not followed: they are what remains
to confirm. The quick check judges new applications, so a branch that only counts at a re-review (``review
and ...``) is not followed either.
"""

from __future__ import annotations

import ast

from webapp import fields

# The tiers the quick check decides (spec/assessment.md): the three SME rungs a firm works up.
QUICK_TIERS = ("innovative_sme", "srdi_sme", "little_giant")
# The spec asks for "about 20-25" fields, every figure of the newest rule set decided and as many of an older
# one as fit. The newest (SME-2026) alone needs about 30, so an older rule set may add only a few more.
OLDER_EXTRA = 5


def is_soft(crit) -> bool:
    """A criterion only declarations, evidence or review can settle: self-declared, advisory or manual."""
    return bool(crit.self_declared or crit.kind == "advisory" or crit.handler.manual)


def quick_fields(book, *, flags) -> tuple[str, ...]:
    """Names of the quick check's fields in registry order: the registry's ``quick`` fields (identity, such
    as the firm's name and province) and the rule inputs this module derives from ``book``.

    :attr:`webapp.engine.rules.rulebook.RuleBook.quick_fields` (and every ``RuleSet`` it selects) holds
    the result; call that.

    Parameters
    ----------
    book : RuleBook
        The rule tables in use.
    flags : collection of str
        Names of the assessment flags an expression may read (``review``).

    Returns
    -------
    tuple of str
        Field names, in the order of :data:`webapp.fields.REGISTRY`.
    """
    tables = book.family("sme")
    if not tables:
        return tuple(s.name for s in fields.REGISTRY if s.quick)
    *older, newest = tables
    chosen = set().union(*_figure_inputs(book, newest, flags).values())
    for table in reversed(older):
        budget = len(chosen) + OLDER_EXTRA
        # Hard requirements, cheapest first (fewest fields not yet chosen), in table order among equals.
        pending = list(_figure_inputs(book, table, flags, hard_only=True).values())
        while pending:
            inputs = min(pending, key=lambda x: len(x - chosen))
            pending.remove(inputs)
            if len(chosen | inputs) <= budget:
                chosen |= inputs
    return tuple(s.name for s in fields.REGISTRY if s.quick or s.name in chosen)


def _figure_inputs(book, table, flags, *, hard_only: bool = False) -> dict[str, frozenset[str]]:
    """Per figure-based criterion of the quick tiers under SME ``table`` (only their hard requirements with
    ``hard_only``), the fields it reads."""
    walker = _Inputs(book, table, flags)
    out: dict[str, frozenset[str]] = {}
    for tid in QUICK_TIERS:
        tier = walker.tiers.get(tid)
        for cid in tier.criteria if tier else ():
            crit = walker.criteria[cid]
            if not is_soft(crit) and cid not in out and (crit.kind == "hard" or not hard_only):
                out[cid] = frozenset(walker.of_criterion(cid))
    return out


class _Inputs:
    """Walks the criteria of an SME table, and of the other families' tables in force with it, to the fields
    they read (memoised per criterion)."""

    def __init__(self, book, table, flags):
        self.book, self.flags = book, frozenset(flags)
        families = sorted({t.family for t in book.tables.values()} - {"sme"})
        tables = [table] + [book.in_force(f, table.in_force_from) for f in families]
        self.tiers = {tid: tier for t in tables for tid, tier in t.tiers.items()}
        self.criteria = {cid: crit for t in tables for cid, crit in t.criteria.items()}
        self.memo: dict[str, set[str]] = {}
        self.field_names = {s.name for s in fields.REGISTRY if s.kind != "text"}

    def of_name(self, name: str, seen: frozenset[str] = frozenset()) -> set[str]:
        """Fields behind a name of an expression: a field, a derived metric's fields, or nothing (a flag)."""
        if name in self.field_names:
            return {name}
        metric = self.book.metrics.get(name)
        if metric is None or name in seen:
            return set()
        return set().union(*(self.of_name(n, seen | {name}) for n in metric.expr.names))

    def of_criterion(self, cid: str) -> set[str]:
        """Fields criterion ``cid`` reads, with those of the criteria and tiers it depends on."""
        if cid in self.memo:
            return self.memo[cid]
        self.memo[cid] = set()  # a cycle contributes nothing twice
        crit = self.criteria[cid]
        out: set[str] = set()
        for expr in crit.expressions():
            for name in _names_when_new(expr.tree, self.flags):
                out |= self.of_name(name)
        out |= {t for t in crit.titles if t in self.field_names}
        for route in crit.routes:
            for other in route.all_of:
                out |= self.of_criterion(other)
        if crit.form == "score_pass":
            for other in self.tiers[crit.tier].score:
                out |= self.of_criterion(other)
        for tid in crit.eligible:
            out |= self.of_tier(tid)
        self.memo[cid] = out
        return out

    def of_tier(self, tid: str) -> set[str]:
        """Fields of a tier's figure-based requirements (any-of groups included)."""
        tier = self.tiers.get(tid)
        out: set[str] = set()
        for req in tier.requires if tier else ():
            for cid in req if isinstance(req, tuple) else (req,):
                if not is_soft(self.criteria[cid]):
                    out |= self.of_criterion(cid)
        return out


def _names_when_new(tree: ast.AST, flags: frozenset[str]) -> set[str]:
    """Names an expression reads for a new application: a conjunction with a flag (``review and x``) is
    false then, so its other names are not read."""
    if isinstance(tree, ast.BoolOp) and isinstance(tree.op, ast.And) and any(
            isinstance(v, ast.Name) and v.id in flags for v in tree.values):
        return set()
    if isinstance(tree, ast.Name):
        return {tree.id}
    return set().union(*(_names_when_new(child, flags) for child in ast.iter_child_nodes(tree)))
