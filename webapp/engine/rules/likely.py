"""Conditional tiers, the likely tier and the next tier, vectorised over firms (spec/assessment.md, "Likely tier,
next tier, and what is left to confirm").

A tier is *conditional* when it is unknown only for want of declarations, evidence or review. The *likely
tier* is the highest rung met or conditional. The *next tier* is the first rung above the likely tier that the
firm is not ruled out of: a tier is ruled out when it is not met for a reason the firm cannot change, i.e. a
requirement flagged ``fixed`` in the rule tables (registration, the SME size test) is not met.
"""

from __future__ import annotations

import numpy as np

from webapp.engine.rules.criteria import MET, NOT_MET, UNKNOWN, Judge, kleene_and, kleene_or
from webapp.engine.rules.expressions import status_codes
from webapp.engine.rules.ladder import NONE, rung_order
from webapp.engine.rules.quick import is_soft


def conditional(judge: Judge) -> dict[str, np.ndarray]:
    """Per tier, True for firms whose tier is unknown but met once every unknown self-declared, advisory or
    manual-review criterion is taken as met.

    The tier's ``requires`` rule is re-evaluated with Kleene logic over criterion statuses in which only those
    criteria are replaced by met, and an unknown title prerequisite by met where a tier whose eligibility
    counts is itself conditional (and its further test, if any, is met); other criteria keep their status, so
    the answer is sound. Tiers are taken lowest level first, so a prerequisite sees its lower tier's answer.
    """
    rs, crits = judge.ruleset, judge.criteria
    out: dict[str, np.ndarray] = {}

    def status(cid: str) -> np.ndarray:
        crit, st = rs.criteria[cid], crits[cid].status
        if is_soft(crit):
            return np.where(st == UNKNOWN, MET, st).astype(st.dtype)
        eligible = [out[t] for t in crit.eligible if t in out]
        if eligible:
            also = np.full(judge.n, MET, dtype=st.dtype) if crit.also is None else \
                status_codes(judge.env.evaluator.evaluate(crit.also))
            found = np.logical_or.reduce(eligible) & (also == MET)
            return np.where((st == UNKNOWN) & found, MET, st).astype(st.dtype)
        return st

    for tid in rs.tiers:  # ordered by level
        res = judge.tiers[tid]
        parts = [kleene_or([status(c) for c in req])[0] if isinstance(req, tuple) else status(req)
                 for req in rs.tiers[tid].requires]
        out[tid] = (res.status == UNKNOWN) & (kleene_and(parts) == MET)
    return out


def likely_tier(judge: Judge, cond: dict[str, np.ndarray]) -> np.ndarray:
    """Per firm, the highest rung that is met or conditional (``cond`` from :func:`conditional`), or ``"none"``."""
    placed = np.full(judge.n, NONE, dtype=object)
    for tid in reversed(rung_order(judge.ruleset)):  # lowest first, so higher rungs overwrite
        placed = np.where((judge.tiers[tid].status == MET) | cond[tid], tid, placed)
    return placed


def ruled_out(judge: Judge) -> dict[str, np.ndarray]:
    """Per rung, True for firms that fail one of its ``fixed`` requirements (which the firm cannot change)."""
    rs, out = judge.ruleset, {}
    for tid in rung_order(rs):
        fixed = [c for c in rs.tiers[tid].requires if isinstance(c, str) and rs.criteria[c].fixed]
        out[tid] = np.logical_or.reduce([judge.criteria[c].status == NOT_MET for c in fixed]) if fixed else \
            np.zeros(judge.n, dtype=bool)
    return out


def next_tier(judge: Judge, base: np.ndarray) -> np.ndarray:
    """Per firm, the first rung above ``base`` (a rung id or ``"none"`` per firm, the likely tier) that it is not
    ruled out of, or None at the top.

    Rungs are taken level by level; within a level the one placed higher on the ladder (innovative SME above
    tech-based SME) comes first, and a rung the firm is ruled out of gives way to one it is not.
    """
    rs = judge.ruleset
    rungs = rung_order(rs)  # top down; within a level the one placed higher first
    levels = {t: rs.tiers[t].level for t in rungs}
    base_level = np.array([levels.get(b, 0) for b in base], dtype=int)
    out = np.full(judge.n, None, dtype=object)
    out_rules = ruled_out(judge)
    preference = sorted(rungs, key=lambda t: (levels[t], rungs.index(t)))
    for tid in reversed(preference):  # the most preferred last, so it overwrites
        out = np.where((levels[tid] > base_level) & ~out_rules[tid], tid, out)
    return out


def ruled_out_in_result(tier: dict, criteria: dict) -> bool:
    """Whether a result dict's tier fails a ``fixed`` requirement (``criteria``: the rule set's criteria)."""
    return any(c.get("status") == "not_met" and getattr(criteria.get(c.get("id")), "fixed", False)
               for c in tier.get("criteria", []))
