"""Recommendations from an assessment's gaps: one action per open requirement, with its lead time."""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections.abc import Mapping

from webapp import fields
from webapp.engine.advice.data import AdviceData
from webapp.engine.advice.rank import merge_actions
from webapp.engine.advice.roadmap import figures_date, fiscal_year, months_between, number
from webapp.engine.rules.likely import ruled_out_in_result
from webapp.engine.rules.rulebook import RuleBook

TITLE_TIERS = {"title_innovative": "innovative_sme", "title_tech_sme": "tech_sme", "title_srdi": "srdi_sme",
               "title_little_giant": "little_giant"}
LANGS = ("zh", "en")


def target_tiers(result: Mapping, book: RuleBook | None = None) -> list[str]:
    """The next tier, its alternative titles at the same level, and the tier after (from a result dict).

    An alternative is a same-level tier whose title the tier after accepts as its prerequisite (under
    SME-2026 the tech-based and the innovative SME title both open the SRDI tier), unless the firm is ruled
    out of it (it fails a requirement it cannot change, such as the tech-SME size ceilings).
    """
    tiers, nxt = result.get("tiers", {}), result.get("next_tier")
    if not nxt or nxt not in tiers:
        return []
    level = tiers[nxt].get("level", 0)
    above = [t for t, v in tiers.items() if v.get("level") == level + 1 and t != "tech_sme"][:1]
    alternatives = []
    if above and book is not None:
        table = book.tables.get(tiers[above[0]].get("rules", ""))
        for crit in (table.criteria.values() if table else ()):
            if crit.tier == above[0] and crit.handler.is_title_prerequisite:
                alternatives += [t for t in crit.eligible if t != nxt and t in tiers
                                 and tiers[t].get("level") == level and tiers[t].get("status") != "met"
                                 and not _ruled_out(tiers[t], book)]
    return [nxt, *alternatives, *above]


def _ruled_out(tier: Mapping, book: RuleBook) -> bool:
    """Whether a result's tier fails a requirement flagged ``fixed`` in its rule table."""
    table = book.tables.get(tier.get("rules", ""))
    return ruled_out_in_result(tier, table.criteria) if table else False


class ActionPlanner:
    """Turn the open requirements of the target tiers into ranked actions (internal records)."""

    def __init__(self, result: Mapping, profile: Mapping, data: AdviceData, book: RuleBook):
        self.result, self.profile, self.data, self.book = result, profile, data, book
        self.as_of = dt.date.fromisoformat(result.get("as_of") or dt.date.today().isoformat())
        self.t = fiscal_year(self.as_of)
        self.actions: list[dict] = []
        self._where: tuple[str, int, str] | None = None  # (tier, requirement group, alternative) planned

    # ------------------------------------------------------------------ walking the rules
    def plan(self) -> list[dict]:
        """Every action for the target tiers, merged (rank them with :func:`rank_actions`)."""
        targets = target_tiers(self.result, self.book)
        for tid in targets:
            weight = self.weight(tid)
            tier = self.result["tiers"][tid]
            if tier.get("status") == "met":
                continue
            self._tier(tid, tier, weight)
        if not targets and self.result.get("tier") not in (None, "none"):
            self._add(self.result["tier"], None, "renew", 0.5, 1.0, {})
        self._drivers(targets)
        return merge_actions(self.actions)

    def weight(self, tid: str) -> float:
        """Ranking weight of a target tier: the next tier, a same-level alternative (half), the tier after."""
        nxt = self.result.get("next_tier")
        if tid == nxt:
            return self.data.value("weight_next_tier")
        same = self.result["tiers"][tid].get("level") == self.result["tiers"][nxt].get("level")
        return self.data.value("weight_next_tier") / 2 if same else self.data.value("weight_tier_after")

    def _rule(self, tid: str, cid: str):
        table = self.book.tables.get(self.result["tiers"][tid].get("rules", ""))
        return table.criteria.get(cid) if table else None

    def _tier(self, tid: str, tier: dict, weight: float) -> None:
        crits = {c["id"]: c for c in tier.get("criteria", [])}
        table = self.book.tables.get(tier.get("rules", ""))
        requires = table.tiers[tid].requires if table and tid in table.tiers else \
            tuple(c["id"] for c in tier.get("criteria", []) if c.get("kind") == "hard")
        groups = [g if isinstance(g, tuple) else (g,) for g in requires]
        open_groups = [g for g in groups if not any(crits.get(c, {}).get("status") == "met" for c in g)]
        for gi, group in enumerate(open_groups):
            for cid in group:
                if cid in crits:
                    self._where = (tid, gi, cid)
                    self.criterion(tid, tier, crits, crits[cid], weight / (len(open_groups) * len(group)))
        self._where = None
        required = {c for g in groups for c in g}
        for c in crits.values():
            if c["id"] not in required and c.get("kind") == "advisory" and c.get("status") != "met":
                self._add(tid, c, "manual_set", 0.05, weight, {"required": False, "field": "advisory"})

    def criterion(self, tid, tier, crits, c, share) -> None:
        """Plan one open criterion ``c`` (a result dict) of tier ``tid``: its rule's form decides how."""
        rule = self._rule(tid, c["id"])
        gap = c.get("gap") or {}
        if c.get("manual_review") or gap.get("manual_review"):
            self.manual(tid, c, share)
        elif rule is not None:
            rule.handler.plan(self, tid, tier, crits, c, rule, share)
        else:
            self.gap_actions(tid, c, share, None)

    def manual(self, tid, c, share) -> None:
        """One manual-review action for criterion ``c``."""
        self._add(tid, c, "manual", share * 0.2, 1.0, {})

    def gap_actions(self, tid, c, share, rule, *, extra: int = 0) -> None:
        """An action per known gap item of ``c``, and one to gather its missing inputs when it is unknown.

        ``extra`` counts actions the form adds beside these (a title), which share ``share`` with them.
        """
        gap = c.get("gap") or {}
        items = [i for i in gap.get("items", []) if i.get("value") is not None and i.get("metric")]
        n = len(items) + (1 if gap.get("missing") and c.get("status") == "unknown" else 0) + extra
        for item in items:
            self._item(tid, c, item, share / max(n, 1), rule, items)
        if gap.get("missing") and c.get("status") == "unknown":
            self._gather(tid, c, gap["missing"], share / max(n, 1))

    def score(self, tid, tier, crits, c, rule, share) -> None:
        """A score-or-direct-route pass: the quickest scored items that close the deficits, unknown routes."""
        scored = [sc for sc in crits.values() if sc.get("kind") == "scored"]
        best: dict[str, tuple] = {}
        for sc in scored:
            gap = sc.get("gap") or {}
            if gap.get("missing") and sc.get("points_min") != sc.get("points_max"):
                self._gather(tid, sc, gap["missing"], share * 0.5)
            for item in gap.get("items", []) or self._points_item(tid, sc):
                if item.get("value") is None or not item.get("metric"):
                    continue
                gain = (item.get("points") or 0) - (sc.get("points_min") or 0)
                kind = self._kind(item)
                lead = self._lead(self.data.kinds[kind]["lead"], {"amount": item.get("distance")})[0]
                cand = (lead if lead is not None else 10**6, -gain, sc["id"], item)
                if gain > 0 and (sc["id"] not in best or cand[:2] < best[sc["id"]][:2]):
                    best[sc["id"]] = cand
        points = {sc["id"]: sc.get("points_min") or 0 for sc in scored}
        gains = {cid: -cand[1] for cid, cand in best.items()}
        chosen: set[str] = set()
        needs = [(m.get("of", []), m.get("at_least", 0)) for m in rule.sub_minimums]
        needs.append((list(points), rule.score_at_least))
        for members, at_least in needs:
            have = sum(points.get(m, 0) + (gains[m] if m in chosen else 0) for m in members)
            for cand in sorted(best[m] for m in members if m in best and m not in chosen):
                if have >= at_least:
                    break
                chosen.add(cand[2])
                have += gains[cand[2]]
        deficit = max(rule.score_at_least - sum(points.values()), 1)
        for cid, cand in best.items():
            frac = min(1.0, gains[cid] / deficit) * (1.0 if cid in chosen else 0.5)
            self._item(tid, crits[cid], cand[3], share * frac, self._rule(tid, cid), [],
                       required=cid in chosen)
        for route in rule.routes:
            rc = crits.get(route.all_of[0]) if route.all_of else None
            if rc and rc.get("status") == "unknown" and (rc.get("gap") or {}).get("missing"):
                self._gather(tid, rc, rc["gap"]["missing"], share * 0.5, required=False)

    def _points_item(self, tid: str, sc: dict) -> list[dict]:
        """A pseudo gap item for a points-formula criterion: its value field and the points to gain."""
        rule, gap = self._rule(tid, sc["id"]), sc.get("gap") or {}
        name = rule.value if rule else None
        if not gap.get("points_to_gain") or name not in fields.FIELDS or name not in self.data.levers:
            return []
        kind = self.data.levers[name]
        if kind not in ("class1_ip", "class2_ip", "quality", "standards", "rd_institution", "years", "local"):
            return []
        now = number(sc.get("value")) or 0.0
        return [{"metric": name, "value": sc.get("value"), "op": ">=", "direction": "below_min",
                 "threshold": now + 1, "distance": 1.0,
                 "points": (sc.get("points_min") or 0) + gap["points_to_gain"], "unit": _unit(name, ""),
                 **{f"label_{lang}": fields.label(name, lang) for lang in LANGS}}]

    def _kind(self, item: dict) -> str:
        """The action kind for a gap item: by its metric, else by its lever field, else generic."""
        lever = item.get("lever") or {}
        kind = self.data.levers.get(item["metric"]) or self.data.levers.get(lever.get("field", ""), "generic")
        if kind == "class1_applied":
            held = number(self.profile.get("class1_ip"))
            if held is None or item.get("threshold") is None or held < item["threshold"]:
                kind = "class1_file_applied"
        return kind

    # ------------------------------------------------------------------ actions
    def _item(self, tid, c, item, share, rule, siblings, *, required=True) -> None:
        metric = item["metric"]
        lever = item.get("lever") or {}
        kind = self._kind(item)
        unit = _unit(metric, item.get("unit", ""))
        amount, amount_unit, target = None, unit, None
        if lever:
            amount, amount_unit = lever["amount"], lever.get("unit") or unit
            current = number(self.profile.get(lever["field"]))
            target = None if current is None else current + amount
        elif item.get("distance") is not None:
            amount = item["distance"]
            if unit in ("count",):
                amount = float(math.ceil(amount - 1e-9))
            if metric in fields.FIELDS and item.get("op") in (">=", ">"):
                target = item.get("threshold")
        lead = self.data.kinds[kind]["lead"]
        if metric.endswith("_prev") and any(s.get("metric") == metric[:-5] for s in siblings):
            kind = f"{kind}_prev" if f"{kind}_prev" in self.data.kinds else kind
            lead = "fiscal2"
        values = {"unit": unit, "metric": metric, "op": item.get("op"), "threshold": item.get("threshold"),
                  "distance": item.get("distance"), "amount": amount, "amount_unit": amount_unit,
                  "target": target, "field": lever.get("field") or metric, "item": item, "required": required}
        self._add(tid, c, kind, share, 1.0, values, lead=lead,
                  source={lang: rule.citation(lang) for lang in ("zh", "en")} if rule else None)

    def _gather(self, tid, c, missing, share, *, required=True) -> None:
        self._add(tid, c, "gather", share, 1.0,
                  {"missing": list(missing), "field": "+".join(missing), "required": required})

    def title(self, tid, c, gap, share) -> None:
        """The action to obtain the title a prerequisite names (through the lowest eligible tier)."""
        titles = gap.get("titles") or []
        if not titles:
            return
        eligible = gap.get("eligible") or {}
        lower = next((t for t in eligible if eligible[t] == "met"), TITLE_TIERS.get(titles[0]))
        values = {"title_tier": lower, "eligible": eligible, "field": titles[0]}
        self._add(tid, c, "title", share, 1.0, values, lead="title")

    def _add(self, tid, c, kind, impact, weight, values, *, lead=None, source: dict | None = None) -> None:
        lead = lead or self.data.kinds[kind]["lead"]
        values = dict(values)
        months, day = self._lead(lead, values)
        required = values.get("required", c is not None)
        self.actions.append({"eta": day, "groups": [self._where] if self._where and required else [],
                             "tier": tid, "criterion": c["id"] if c else None, "crit": c, "kind": kind,
                             "required": c is not None,
                             "impact": impact * weight, "lead": lead, "lead_time_months": months,
                             "source_zh": (source or {}).get("zh", ""), "source_en": (source or {}).get("en", ""),
                             **values})

    def _lead(self, lead: str, v: dict) -> tuple[int | None, dt.date | None]:
        """Months until an action counts and, where the calendar fixes it, the exact date."""
        data, as_of = self.data, self.as_of
        day = None
        if lead == "fiscal":
            day = figures_date(as_of.year, data)
        elif lead == "fiscal2":
            day = figures_date(as_of.year + 1, data)
        elif lead == "years":
            day = figures_date(self.t + math.ceil((v.get("amount") or 0) - 1e-9), data)
        elif lead == "platform":
            month = int(data.value("platform_update_month"))
            due = dt.date(as_of.year, month, calendar.monthrange(as_of.year, month)[1])
            day = due if due > as_of else dt.date(as_of.year + 1, month, calendar.monthrange(as_of.year + 1,
                                                                                                  month)[1])
        if day is not None:
            return months_between(as_of, day), day
        if lead == "title":
            key = f"title_lead_{v.get('title_tier')}"
            return (int(data.value(key)), None) if key in data.constants else (None, None)
        if lead == "ip_file":
            months = data.value("invention_grant_priority_months") + data.value("ip_application_months")
            return int(months), None
        if lead == "growth":
            return None, None  # dated by the roadmap
        return int(data.value(lead)), None

    def _drivers(self, targets) -> None:
        """Readiness drivers: boost the actions on a driver's field, add one where none exists."""
        readiness = self.result.get("readiness") or {}
        for tid in targets:
            entry = readiness.get(tid) if isinstance(readiness, Mapping) else None
            drivers = entry.get("drivers") if isinstance(entry, Mapping) else None
            # the tier's actions with the input fields each moves, found once for all the tier's drivers
            mine = [(a, _inputs(a, self.book)) for a in self.actions if a["tier"] == tid] if drivers else []
            for d in drivers or []:
                if not isinstance(d, Mapping) or not d.get("field"):
                    continue
                delta = max(0.0, min(1.0, number(d.get("delta")) or 0.0))
                bonus = self.data.value("weight_driver") * delta
                hits = [a for a, moved in mine if d["field"] in moved]
                for a in hits:
                    a["impact"] += bonus
                    a["driver"] = d["field"]
                kind = self.data.levers.get(d["field"])
                if not hits and kind and d["field"] in fields.FIELDS:
                    cur, tgt = number(d.get("current")), number(d.get("target"))
                    item = {"metric": d["field"], "value": cur, "threshold": tgt, "op": ">=",
                            **{f"label_{lang}": fields.label(d["field"], lang) for lang in LANGS}}
                    amount = None if cur is None or tgt is None else tgt - cur
                    unit = _unit(d["field"], "")
                    self._add(tid, None, kind, bonus, 1.0,
                              {"unit": unit, "metric": d["field"], "op": ">=", "threshold": tgt,
                               "distance": amount, "amount": amount, "amount_unit": unit, "target": tgt,
                               "field": d["field"], "item": item, "driver": d["field"]},
                              source={"zh": "就绪度模型提示（不是认定条件）",
                                      "en": "readiness model suggestion (not a rule requirement)"})
                    mine.append((self.actions[-1], _inputs(self.actions[-1], self.book)))  # later drivers see it


def _unit(name: str, unit: str) -> str:
    spec = fields.FIELDS.get(name)
    if spec is not None and spec.unit_en == "years":
        return "years"
    if spec is not None and not unit:
        return {"money": "wan", "pct": "pct", "count": "count", "bool": "bool"}.get(spec.kind, "number")
    return unit


def _inputs(action: dict, book: RuleBook) -> set[str]:
    """Input fields an action moves: its lever field and the fields behind its metric."""
    return _names_behind(book, action.get("field") or "", action.get("metric") or "")


_BEHIND: dict[int, tuple[RuleBook, dict[tuple[str, str], frozenset[str]]]] = {}


def _names_behind(book: RuleBook, *start: str) -> frozenset[str]:
    """``start`` and every name the metrics among them read, through metrics of metrics (worked out once per
    rule book and pair of names: the book does not change once loaded)."""
    known = _BEHIND.get(id(book))
    if known is None or known[0] is not book:
        known = _BEHIND[id(book)] = (book, {})
    found = known[1].get(start)
    if found is None:
        names = set(start)
        todo = [n for n in names if n in book.metrics]
        while todo:
            m = book.metrics[todo.pop()]
            for n in m.expr.names:
                if n not in names:
                    names.add(n)
                    if n in book.metrics:
                        todo.append(n)
        found = known[1][start] = frozenset(names)
    return found
