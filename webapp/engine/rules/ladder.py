"""Ladder placement (the highest tier met) from tier results, vectorised over firms."""

from __future__ import annotations

import numpy as np

from webapp.engine.rules.criteria import MET, TierResult
from webapp.engine.rules.rulebook import RuleSet

NONE = "none"


def rung_order(ruleset: RuleSet) -> list[str]:
    """Tier ids that are rungs of the ladder, from the top down: the SME table's ``ladder``, reversed.

    Which tiers are rungs, and their order within a level, is data (spec/assessment.md, "Tiers and the
    ladder"): under SME-2026 ``tech_sme`` is a rung below ``innovative_sme``; under SME-2022 it is not one.
    """
    return [tid for tid in reversed(ruleset.sme.ladder) if tid in ruleset.tiers]


def place_on_ladder(tiers: dict[str, TierResult], ruleset: RuleSet) -> np.ndarray:
    """Id of the highest-level tier whose status is met, or ``"none"``, per firm.

    Parameters
    ----------
    tiers : dict of str to TierResult
        Tier results from :class:`webapp.engine.rules.criteria.Judge`.
    ruleset : RuleSet
        The rule set they were judged by.

    Returns
    -------
    numpy.ndarray of object
        One tier id per firm.
    """
    n = len(next(iter(tiers.values())).status)
    placed = np.full(n, NONE, dtype=object)
    for tid in reversed(rung_order(ruleset)):  # lowest first, so higher rungs overwrite
        placed = np.where(tiers[tid].status == MET, tid, placed)
    return placed


def next_tier(tier: str, ruleset: RuleSet) -> str | None:
    """The rung above ``tier`` (the first rung for ``"none"``), or None at the top."""
    order = list(reversed(rung_order(ruleset)))
    if tier == NONE:
        return order[0]
    level = ruleset.tiers[tier].level
    above = [t for t in order if ruleset.tiers[t].level > level]
    return above[0] if above else None
