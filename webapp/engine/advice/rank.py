"""Ranking of recommendations: merge duplicates, score by impact and lead time, date them."""

from __future__ import annotations

import datetime as dt

from webapp.engine.advice.data import AdviceData
from webapp.engine.advice.roadmap import add_months


def merge_actions(actions: list[dict]) -> list[dict]:
    """One action per (tier, kind, field): the largest amount, impacts added, criteria listed."""
    merged: dict[tuple, dict] = {}
    for a in actions:
        # the same missing input is one thing to fill in, whichever tiers ask for it
        tier = "*" if a["kind"] == "gather" else a["tier"]
        key = (tier, a["kind"], a.get("field") or a["criterion"])
        if key not in merged:
            merged[key] = {**a, "criteria": [a["criterion"]] if a["criterion"] else [],
                           "groups": list(a["groups"]), "tiers": [a["tier"]]}
            continue
        m = merged[key]
        m["impact"] += a["impact"]
        m["groups"] += [g for g in a["groups"] if g not in m["groups"]]
        m["tiers"] += [a["tier"]] if a["tier"] not in m["tiers"] else []
        m["required"] = m["required"] or a["required"]
        if a["criterion"] and a["criterion"] not in m["criteria"]:
            m["criteria"].append(a["criterion"])
        if (a.get("amount") or 0) > (m.get("amount") or 0):
            keep = {k: m[k] for k in ("impact", "criteria", "groups", "required", "tiers")}
            merged[key] = {**a, **keep}
    return list(merged.values())


def rank_actions(actions: list[dict], data: AdviceData) -> list[dict]:
    """Score = tier weight x impact x 0.5 ** (lead / half-life); unknown lead counts as the horizon."""
    half = data.value("speed_halflife_months")
    horizon = data.value("horizon_years") * 12
    for a in actions:
        lead = a["lead_time_months"] if a["lead_time_months"] is not None else horizon
        a["score"] = round(min(a["impact"], 2.0) * 0.5 ** (lead / half), 4)
    return sorted(actions, key=lambda a: (-a["score"], a["lead_time_months"] or horizon, a["tier"],
                                          a["criterion"] or "", a["kind"]))


def eta_of(action: dict, as_of: dt.date) -> dt.date | None:
    """When an action counts if started on ``as_of``."""
    if action.get("eta") is not None:
        return action["eta"]
    months = action.get("lead_time_months")
    return None if months is None else add_months(as_of, months)
