"""Advice: ranked recommendations, a growth roadmap and the seed report's themes for an assessed firm."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Mapping

from webapp.engine.advice.actions import ActionPlanner, target_tiers
from webapp.engine.advice.data import AdviceData, load_advice_data
from webapp.engine.advice.format import placeholders, text_values
from webapp.engine.advice.hnte import hnte_brief, route_action
from webapp.engine.advice.rank import eta_of, rank_actions
from webapp.engine.advice.roadmap import Projection, add_months, figures_date, number
from webapp.engine.rules.rulebook import RuleBook, load_rule_book

__all__ = ["advise", "assessment_top_actions", "top_actions", "themes_for"]


def advise(result: Mapping, profile: Mapping | None = None, *, data: AdviceData | None = None,
           rule_book: RuleBook | None = None) -> dict:
    """Recommendations for the next tier and the one after, with a roadmap and themes.

    Parameters
    ----------
    result : dict
        The assessment contract (``Assessment.to_dict(i)``), optionally with ``benchmarks``, ``dimensions``
        and ``readiness`` keys.
    profile : dict, optional
        The firm's canonical fields; its three-year figures (revenue, R&D, patent applications) give the
        growth rates the roadmap extrapolates. Without it no date depends on growth.
    data : AdviceData, optional
        Planning constants and texts (default: ``data/advice``).
    rule_book : RuleBook, optional
        Rule tables the result was judged by (default: those of the rules folder in force).

    Returns
    -------
    dict
        JSON-ready: ``next_tier``, ``targets``, ``actions`` (ranked: id, tier, criterion, kind, title_zh,
        title_en, detail_zh, detail_en, amount, unit, lead_time_months, eta, score, source, ...),
        ``roadmap`` (one entry a threshold or step), ``milestones`` (per target tier: earliest date and
        expected title), ``themes``, ``hnte`` (the consultant's brief on HNTE beside the ladder, see
        :func:`webapp.engine.advice.hnte.hnte_brief`; None without an HNTE table), ``growth`` and ``basis``
        (constants and versions used).
    """
    data = data or load_advice_data()
    book = rule_book or load_rule_book()
    profile = dict(profile or {})
    planner = ActionPlanner(result, profile, data, book)
    records = planner.plan()
    projection = Projection(profile, data, book.metrics) if profile else None
    roadmap = _roadmap(records, projection, planner, data)
    brief = hnte_brief(result, profile, data=data, book=book)
    # without a profile nothing says whether the firm already holds the certificate: no route action
    records = _with_route(records, route_action(brief, result, data) if profile else None)
    records = rank_actions(records, data)
    return {
        "next_tier": result.get("next_tier"),
        "targets": target_tiers(result, book),
        "actions": [_public(a, result, data, planner.as_of) for a in records],
        "roadmap": roadmap,
        "milestones": _milestones(roadmap, result, planner, data, book),
        "themes": themes_for(result, data),
        "hnte": brief,
        "growth": projection.growth if projection else {},
        "basis": {
            "as_of": planner.as_of.isoformat(), "fiscal_year": planner.t, "versions": dict(data.versions),
            "fallbacks": list(projection.fallbacks) if projection else [],
            "constants": {k: c.to_dict() for k, c in data.constants.items()},
            **{k: v for k, v in data.texts.items()},
        },
    }


def top_actions(results: Iterable[Mapping | None], n: int = 3, lang: str = "zh",
                profiles: Iterable[Mapping | None] | None = None, *, rule_book: RuleBook | None = None,
                data: AdviceData | None = None) -> list[str]:
    """The titles of each firm's ``n`` best actions, joined with "; ", for a batch column.

    Parameters
    ----------
    results : iterable of dict or None
        Assessment contracts; None (an invalid row) gives an empty string. A result that already carries
        an ``advice`` key is not planned again.
    n : int
        Actions per firm.
    lang : {"zh", "en"}
    profiles : iterable of dict, optional
        The firms' canonical fields, in the same order (for growth-dated actions).
    rule_book : RuleBook, optional
        Rule tables the results were judged by (default: those of the rules folder in force).
    data : AdviceData, optional
        Planning constants and texts (default: ``data/advice``).

    Returns
    -------
    list of str
    """
    data, book = data or load_advice_data(), rule_book or load_rule_book()
    out = []
    for result, profile in zip(results, itertools.repeat(None) if profiles is None else profiles):
        if not result or not result.get("tiers"):
            out.append("")
            continue
        advice = result.get("advice") or advise(result, profile, data=data, rule_book=book)
        titles: list[str] = []
        for action in advice["actions"]:
            title = action.get(f"title_{lang}") or ""
            if title and title not in titles:
                titles.append(title)
            if len(titles) == n:
                break
        out.append("; ".join(titles))
    return out


def assessment_top_actions(assessment, n: int = 3, lang: str = "zh", *, data: AdviceData | None = None) -> list[str]:
    """:func:`top_actions` of every firm of an assessment (:class:`webapp.engine.assess.Assessment`), empty for
    a row whose input was invalid: one firm or a whole batch chunk.

    What is vectorised is done for all firms at once: gap levers are solved in closed form for every firm
    (``GapFinder``) and readiness drivers come from one model call per block of firms
    (``Assessment.readiness``); each firm then costs only its own planning. Results are built one at a time,
    so memory stays that of one firm's result.
    """
    ok = assessment.valid
    profiles = assessment.profiles.to_dict("records")
    results = (assessment.to_dict(i, benchmarks=False) if good else None for i, good in enumerate(ok))
    return top_actions(results, n=n, lang=lang, profiles=[p if good else None for p, good in zip(profiles, ok)],
                       rule_book=assessment.rule_book, data=data)


def _with_route(records: list[dict], route: dict | None) -> list[dict]:
    """``records`` plus the HNTE route action, which takes over any plain "apply for HNTE" action's impact."""
    if route is None:
        return records
    plain = [a for a in records if a["kind"] == "hnte"]
    route["impact"] += sum(a["impact"] for a in plain)
    route["tiers"] += [t for a in plain for t in a.get("tiers", [a["tier"]]) if t not in route["tiers"]]
    return [a for a in records if a["kind"] != "hnte"] + [route]


def _public(a: dict, result: Mapping, data: AdviceData, as_of: dt.date) -> dict:
    """The JSON form of one action record; a readiness driver with no rule gap behind it reads as a model
    suggestion (the ``model_driver`` texts), never as a rule requirement."""
    get = a.get
    suggestion = a["criterion"] is None and get("driver") and "model_driver" in data.kinds
    kind = data.kinds["model_driver" if suggestion else a["kind"]]
    missing = get("missing") or []
    documents = {lang: data.documents_for(missing, lang) for lang in ("zh", "en")}
    texts = {}
    for lang in ("zh", "en"):
        title, detail = kind[f"title_{lang}"], kind[f"detail_{lang}"]
        # only the placeholders the texts use, the documents worked out once
        values = text_values(a, result, data, lang, placeholders(title, detail), documents=documents[lang])
        texts[f"title_{lang}"] = title.format(**values)
        texts[f"detail_{lang}"] = detail.format(**values)
    eta = eta_of(a, as_of)
    source_zh = get("source_zh", "")
    return {
        "id": f"{a['tier']}:{a['kind']}:{get('field') or a['criterion'] or ''}",
        "tier": a["tier"], "tiers": get("tiers", [a["tier"]]), "criterion": a["criterion"],
        "criteria": get("criteria", []), "kind": a["kind"], **texts, "amount": get("amount"),
        "unit": get("amount_unit") or get("unit"),
        "lead_time_months": a["lead_time_months"], "eta": eta.isoformat() if eta else None,
        "score": a["score"], "source": source_zh, "source_zh": source_zh,
        "source_en": get("source_en", ""), "required": get("required", True),
        "fields": missing or ([a["field"]] if get("field") else []),
        "documents_zh": documents["zh"], "documents_en": documents["en"],
        "driver": get("driver"),
    }


def _roadmap(records: list[dict], projection: Projection | None, planner: ActionPlanner,
             data: AdviceData) -> list[dict]:
    """One entry per threshold or step of the target tiers; dates growth-driven actions on the way."""
    out = []
    for a in records:
        item = a.get("item") or {}
        k = None
        numeric = all(isinstance(item.get(k), int | float) and not isinstance(item.get(k), bool)
                      for k in ("value", "threshold"))
        if projection is not None and numeric:
            k = projection.first_year(item["metric"], item.get("op", ">="), float(item["threshold"]))
        growth_eta = figures_date(planner.t + k, data) if k else None
        if a["lead"] == "growth":
            a["eta"] = growth_eta
            a["lead_time_months"] = None if growth_eta is None else \
                max(0, (growth_eta.year - planner.as_of.year) * 12 + growth_eta.month - planner.as_of.month)
            action_eta = None
        else:
            action_eta = eta_of(a, planner.as_of)
        dated = [d for d in (growth_eta, action_eta) if d is not None]
        eta = min(dated) if dated else None
        basis = "unknown" if a["kind"] == "gather" or (item and item.get("value") is None) else \
            "growth" if growth_eta and eta == growth_eta else "action" if action_eta else "not_reached"
        out.append({
            "tier": a["tier"], "criterion": a["criterion"], "criteria": a.get("criteria", []),
            "kind": a["kind"], "required": a.get("required", True), "groups": a.get("groups", []),
            "metric": item.get("metric"),
            "label_zh": item.get("label_zh"), "label_en": item.get("label_en"), "unit": a.get("unit"),
            "value": item.get("value"), "op": item.get("op"), "threshold": item.get("threshold"),
            "fiscal_year": planner.t + k if k else None,
            "eta_growth": growth_eta.isoformat() if growth_eta else None,
            "eta_action": action_eta.isoformat() if action_eta else None,
            "eta": eta.isoformat() if eta else None, "basis": basis,
        })
    return sorted(out, key=lambda e: (e["eta"] or "9999", e["tier"], e["criterion"] or ""))


def _alternative(entries: list[dict]) -> tuple[int, dt.date | None]:
    """State (0 dated, 1 unknown, 2 not reached) and date of one alternative: all its entries are needed."""
    if any(e["basis"] == "not_reached" for e in entries):
        return 2, None
    dates = [dt.date.fromisoformat(e["eta"]) for e in entries if e["eta"]]
    unknown = any(e["basis"] == "unknown" or not e["eta"] for e in entries)
    return (1 if unknown else 0), (max(dates) if dates else None)


def _milestones(roadmap: list[dict], result: Mapping, planner: ActionPlanner, data: AdviceData,
                book: RuleBook) -> list[dict]:
    """Per target tier: the earliest date its requirements are met, and when its title may follow.

    Each open requirement is met by its best alternative (all of that alternative's entries dated, the
    latest date counting); the tier by the latest requirement. A tier whose rule needs the title one level
    down starts from the earliest title expected there.
    """
    out: list[dict] = []
    for tid in target_tiers(result, book):
        tier = result["tiers"][tid]
        groups: dict[int, dict[str, list[dict]]] = {}
        for e in roadmap:
            for t, gi, alt in e.get("groups") or []:
                if t == tid:
                    groups.setdefault(gi, {}).setdefault(alt, []).append(e)
        states = [min(_alternative(es) for es in alts.values()) for alts in groups.values()]
        table = book.tables.get(tier.get("rules", ""))
        needs_title = table is not None and any(c.handler.is_title_prerequisite and c.kind == "hard"
                                                for c in table.criteria.values() if c.tier == tid)
        below = [m for m in out if result["tiers"][m["tier"]].get("level") == tier.get("level", 0) - 1]
        if needs_title and below:
            titles = [dt.date.fromisoformat(m["title"]) for m in below if m["title"]]
            dead = all(m["reason"] == "not_reached" for m in below)
            states.append((0, min(titles)) if titles else (2 if dead else 1, None))
        worst = max((s for s, _ in states), default=0)
        dates = [d for _, d in states if d is not None]
        earliest = None if worst == 2 or (worst == 1 and len(dates) < len(states)) else \
            max(dates, default=planner.as_of)
        key = f"title_lead_{tid}"
        title = add_months(earliest, data.value(key)) if earliest and key in data.constants else None
        out.append({"tier": tid, "name_zh": tier.get("name_zh"), "name_en": tier.get("name_en"),
                    "earliest": earliest.isoformat() if earliest else None,
                    "title": title.isoformat() if title else None, "complete": worst == 0,
                    "reason": (None, "unknown", "not_reached")[worst],
                    "open": sorted({alt for alts in groups.values() for alt in alts})})
    return out


def _pick_cohort(keys: Iterable[str], prefer: tuple[str, ...]) -> str | None:
    keys = list(keys)
    for p in prefer:
        for k in keys:
            if k == p:
                return k
    return keys[0] if keys else None


def _score(value) -> float | None:
    if isinstance(value, Mapping):
        value = value.get("score")
    return number(value)


def themes_for(result: Mapping, data: AdviceData | None = None) -> list[dict]:
    """The four themes, weakest dimension first, against the little-giant cohort when present.

    Parameters
    ----------
    result : dict
        An assessment contract, with ``dimensions`` and ``benchmarks`` when available.
    data : AdviceData, optional

    Returns
    -------
    list of dict
        ``{id, rank, dimension, cohort, score, metrics: [{metric, value, percentile, cohort_mean}],
        title_zh, title_en, detail_zh, detail_en, finding_zh, finding_en, source_zh, source_en}``.
    """
    data = data or load_advice_data()
    dims = result.get("dimensions") if isinstance(result.get("dimensions"), Mapping) else {}
    bench = result.get("benchmarks") if isinstance(result.get("benchmarks"), Mapping) else {}
    cohort = _pick_cohort(dims or bench, ("little_giant",))
    names = result.get("cohorts") if isinstance(result.get("cohorts"), Mapping) else {}
    out = []
    for order, theme in enumerate(data.themes):
        score = _score((dims.get(cohort) or {}).get(theme["dimension"])) if cohort in dims else None
        rows = (bench.get(cohort) or {}) if cohort else {}
        keys = ("value", "percentile", "cohort_mean")
        metrics = [{"metric": m, **{k: number(rows[m].get(k)) for k in keys}}
                   for m in theme["metrics"] if isinstance(rows.get(m), Mapping)]
        entry = {"id": theme["id"], "order": order, "dimension": theme["dimension"], "cohort": cohort,
                 "score": score, "metrics": metrics,
                 **{k: theme[k] for k in ("title_zh", "title_en", "detail_zh", "detail_en")},
                 "source_zh": data.theme_source["zh"], "source_en": data.theme_source["en"]}
        for lang in ("zh", "en"):
            name = (names.get(cohort) or {}).get(f"name_{lang}") or cohort
            dim = (dims.get(cohort) or {}).get(theme["dimension"])
            entry[f"finding_{lang}"] = _finding(entry, name, dim, data, lang)
        out.append(entry)
    out.sort(key=lambda e: (e["score"] is None, e["score"] if e["score"] is not None else 0, e["order"]))
    for rank, entry in enumerate(out, 1):
        entry["rank"] = rank
    return out


def _finding(entry: dict, cohort_name, dim, data: AdviceData, lang: str) -> str | None:
    if entry["score"] is None:
        return None
    dim_name = dim.get(f"name_{lang}") if isinstance(dim, Mapping) else None
    sep = "；" if lang == "zh" else "; "
    parts = [data.theme_texts[f"metric_{lang}"].format(label=data.metric_label(m["metric"], lang),
                                                        p=f"{m['percentile']:.0f}")
             for m in entry["metrics"] if m["percentile"] is not None]
    return data.theme_texts[f"weakest_{lang}"].format(
        cohort=cohort_name, dimension=dim_name or entry["dimension"], score=f"{entry['score']:.0f}",
        metrics=sep.join(parts) + ("。" if lang == "zh" and parts else "." if parts else ""))
