"""HNTE (高新技术企业), a qualification judged beside the ladder: the consultant's brief and the route action.

The brief reads the result (``tiers.hnte``) and, when given, the profile's certificate field: the status, the
innovation-score range against the pass mark, the conditions that fail or are still open, the inputs to add,
what a valid certificate opens on the ladder (the route criteria of ladder tiers that test the certificate
field, e.g. I-D2 and T-D) and a message in Chinese and English built from ``[briefs.hnte]`` of
data/advice/actions.toml. Web page, PDF and text output all print this one brief.
"""

from __future__ import annotations

from collections.abc import Mapping

from webapp import fields
from webapp.engine.advice.data import AdviceData
from webapp.engine.advice.roadmap import number
from webapp.engine.rules.rulebook import RuleBook

FAMILY = "hnte"       # rule-table family of the qualification
HELD_FIELD = "hnte"   # input field: the firm holds a valid certificate
LANGS = ("zh", "en")
_SEP = {"zh": "；", "en": "; "}

__all__ = ["hnte_brief", "route_action", "score_text"]


def score_text(lo, hi) -> str:
    """"80" or "58–74": a score or the range a score can still take."""
    if lo is None:
        return "—"
    return f"{lo:g}" if hi is None or lo == hi else f"{lo:g}–{hi:g}"


def hnte_brief(result: Mapping, profile: Mapping | None = None, *, data: AdviceData,
               book: RuleBook) -> dict | None:
    """The consultant's brief on HNTE for one assessed firm, or None when the result has no HNTE tier.

    Parameters
    ----------
    result : dict
        The assessment contract (``Assessment.to_dict(i)``).
    profile : dict, optional
        The firm's canonical fields; its ``hnte`` field says whether it already holds a valid certificate
        (None: not known).
    data : AdviceData
        Planning constants and the texts of ``[briefs.hnte]``.
    book : RuleBook
        The rule tables the result was judged by.

    Returns
    -------
    dict or None
        JSON-ready: ``tier``, ``status``, ``score_min``, ``score_max``, ``bar`` (lowest passing score),
        ``above`` (the pass mark as written: above 70), ``pass_criterion``, ``validity_years``, ``held``,
        ``failing`` and ``open`` (condition ids), ``missing`` (input fields), ``straddles`` (the score range
        spans the pass mark), ``score_missing`` (inputs of the score itself are missing), ``opens``
        (``[{tier, criterion, name_zh, name_en}]``), ``within_reach``, ``message_zh``, ``message_en``,
        ``instrument_zh``, ``instrument_en``, ``rules``.
    """
    texts = data.briefs.get(FAMILY)
    table = book.tables.get((result.get("rules") or {}).get(FAMILY, ""))
    tiers = result.get("tiers") or {}
    tid = next((t for t in (table.tiers if table else ()) if t in tiers), None)
    if texts is None or tid is None:
        return None
    tier, spec = tiers[tid], table.tiers[tid]
    crits = {c["id"]: c for c in tier.get("criteria", [])}
    required = [cid for g in spec.requires for cid in ((g,) if isinstance(g, str) else g) if cid in crits]
    failing = [cid for cid in required if crits[cid]["status"] == "not_met"]
    open_ = [cid for cid in required if crits[cid]["status"] == "unknown"]
    missing: list[str] = []
    for c in crits.values():
        gap = c.get("gap") or {}
        names = [*gap.get("missing", []), *(m for i in gap.get("items", []) for m in i.get("missing", []))]
        for name in names if c["status"] != "met" else ():
            if name in fields.FIELDS and name not in missing:
                missing.append(name)
    pass_rule = next((table.criteria[c] for c in spec.criteria if table.criteria[c].score_at_least is not None),
                     None)
    bar = pass_rule.score_at_least if pass_rule else None
    lo, hi = tier.get("score_min"), tier.get("score_max")
    held = number((profile or {}).get(HELD_FIELD))
    held = None if held is None else held > 0
    brief = {
        "tier": tid, "status": tier["status"], "rules": table.id, "score_min": lo, "score_max": hi, "bar": bar,
        "above": None if bar is None else bar - 1, "pass_criterion": pass_rule.id if pass_rule else None,
        "validity_years": spec.validity_years, "held": held, "failing": failing, "open": open_,
        "missing": missing, "straddles": bar is not None and lo is not None and hi is not None and lo < bar <= hi,
        "score_missing": any((crits[c].get("gap") or {}).get("missing") for c in spec.score if c in crits),
        "opens": _opens(result, tid, book),
        "instrument_zh": table.instrument_zh, "instrument_en": table.instrument_en,
    }
    brief["within_reach"] = held is not True and (
        brief["status"] == "met"
        or (brief["status"] == "unknown" and len(open_) <= data.value("hnte_reach_open_max")))
    for lang in LANGS:
        brief[f"message_{lang}"] = _message(brief, crits, texts, lang)
    return brief


def _opens(result: Mapping, tid: str, book: RuleBook) -> list[dict]:
    """Route criteria of the ladder tiers that a valid certificate satisfies (they test the certificate field)."""
    out = []
    for other, tier in (result.get("tiers") or {}).items():
        table = book.tables.get(tier.get("rules", ""))
        if other == tid or table is None:
            continue
        for cid in _held_routes(table).get(other, ()):
            out.append({"tier": other, "criterion": cid, "name_zh": tier.get("name_zh", other),
                        "name_en": tier.get("name_en", other)})
    return out


_HELD_ROUTES: dict[int, tuple[object, dict[str, list[str]]]] = {}


def _held_routes(table) -> dict[str, list[str]]:
    """Per tier of a rule table, its route criteria that test the certificate field, in table order (worked
    out once per table: the tables do not change once loaded)."""
    known = _HELD_ROUTES.get(id(table))
    if known is None or known[0] is not table:
        routes: dict[str, list[str]] = {}
        for crit in table.criteria.values():
            if crit.kind == "route" and any(HELD_FIELD in e.names for e in crit.expressions()):
                routes.setdefault(crit.tier, []).append(crit.id)
        known = _HELD_ROUTES[id(table)] = (table, routes)
    return known[1]


def _conditions(ids: list[str], crits: dict, lang: str) -> str:
    """"H4 科技人员占职工总数不低于10%；…" or "H4 (S&T staff at least 10% of staff); …"; ids only past three."""
    if len(ids) > 3:
        return ("、" if lang == "zh" else ", ").join(ids)
    if lang == "zh":
        return _SEP[lang].join(f"{c} {crits[c]['name_zh']}" for c in ids)
    return _SEP[lang].join(f"{c} ({crits[c]['name_en']})" for c in ids)


def _message(brief: dict, crits: dict, texts: dict, lang: str) -> str:
    """The brief's message: what the data say, then what a certificate opens or what the firm holds."""
    sep = "" if lang == "zh" else " "
    many = len(brief["missing"]) > 4
    score = score_text(brief["score_min"], brief["score_max"])
    values = {"score": score, "above": f"{brief['above']:g}" if brief["above"] is not None else "—",
              "count": len(brief["failing"]), "failing": _conditions(brief["failing"], crits, lang),
              "open": _conditions(brief["open"], crits, lang), "validity": brief["validity_years"],
              "fields": ("、" if lang == "zh" else ", ").join(fields.label(m, lang)
                                                              for m in brief["missing"][:3 if many else None]),
              "missing_count": len(brief["missing"])}
    values["pass_mark"] = texts[f"pass_mark_{lang}"].format(**values)
    if lang == "zh":
        routes = "和".join(f"{o['name_zh']}（{o['criterion']}）" for o in brief["opens"])
    else:
        routes = " and ".join(f"{o['name_en']} ({o['criterion']})" for o in brief["opens"])
    values["routes"] = routes or "—"
    parts = []
    if brief["status"] == "met":
        parts.append(texts[f"met_{lang}"])
    elif brief["status"] == "not_met":
        parts.append(texts[f"not_met_{lang}"])
        if brief["pass_criterion"] in brief["failing"]:
            parts.append(texts[f"score_short_{lang}"])
    else:
        parts.append(texts[f"unknown_{lang}"])
        if brief["straddles"]:  # experts' grades decide, or inputs still missing from the score
            parts.append(texts[f"score_open_{lang}" if brief["score_missing"] else f"straddle_{lang}"])
        if brief["missing"]:
            parts.append(texts[f"missing_many_{lang}" if many else f"missing_{lang}"])
    if routes:
        parts.append(texts[f"held_{lang}"] if brief["held"] else texts[f"route_{lang}"])
    return sep.join(p.format(**values) for p in parts)


def route_action(brief: dict | None, result: Mapping, data: AdviceData) -> dict | None:
    """The action record (see :class:`webapp.engine.advice.actions.ActionPlanner`) recommending HNTE as a
    route to the titles it opens, when it is within reach and the firm does not hold a certificate yet."""
    if not brief or not brief["within_reach"] or not brief["opens"]:
        return None
    kind = "hnte_route" if brief["status"] == "met" else "hnte_route_open"
    crits = {c["id"]: c for c in result["tiers"][brief["tier"]].get("criteria", [])}
    first = brief["open"][0] if brief["open"] else None
    return {"eta": None, "groups": [], "tier": brief["tier"], "tiers": [brief["tier"]], "criterion": first,
            "criteria": list(brief["open"]), "crit": crits.get(first), "kind": kind, "required": False,
            "impact": data.value("weight_hnte_route") * (1.0 if _opens_new(brief, result) else
                                                          data.value("weight_tier_after")),
            "lead": data.kinds[kind]["lead"],
            "lead_time_months": int(data.value(data.kinds[kind]["lead"])),
            "source_zh": data.briefs[FAMILY].get("action_source_zh", ""),
            "source_en": data.briefs[FAMILY].get("action_source_en", ""), "field": HELD_FIELD,
            "missing": list(brief["missing"])}


def _opens_new(brief: dict, result: Mapping) -> bool:
    """Whether a certificate would open a ladder tier this assessment does not find met already."""
    tiers = result.get("tiers") or {}
    return any(tiers.get(o["tier"], {}).get("status") != "met" for o in brief["opens"])
