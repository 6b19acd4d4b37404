"""Database access for a consultant's own clients and assessments: every lookup is scoped to the owner.

A record that exists but belongs to someone else is reported exactly like one that does not (404), so
one consultant cannot even learn which ids another one has.
"""

from __future__ import annotations

import datetime as dt

from flask import abort
from flask_login import current_user

from webapp.web import services
from webapp.web.db import db
from webapp.web.models import AssessmentRecord, Client, TitleRecord


def owned_client_or_404(client_id: int) -> Client:
    """The current user's client ``client_id``, or 404."""
    client = db.session.scalar(db.select(Client).where(Client.id == client_id, Client.owner_id == current_user.id))
    if client is None:
        abort(404)
    return client


def owned_assessment_or_404(assessment_id: int) -> AssessmentRecord:
    """The current user's assessment ``assessment_id``, or 404."""
    record = db.session.scalar(db.select(AssessmentRecord).where(
        AssessmentRecord.id == assessment_id, AssessmentRecord.owner_id == current_user.id))
    if record is None:
        abort(404)
    return record


def owned_title_or_404(title_id: int) -> TitleRecord:
    """The current user's title record ``title_id``, or 404."""
    title = db.session.scalar(db.select(TitleRecord).join(Client).where(
        TitleRecord.id == title_id, Client.owner_id == current_user.id))
    if title is None:
        abort(404)
    return title


def save_assessment(client: Client, profile: dict, options: dict, result: dict) -> AssessmentRecord:
    """Store a dated assessment of ``client`` (profile as entered, result as judged)."""
    record = AssessmentRecord(client=client, owner_id=client.owner_id, profile=profile, result=result,
                              as_of=dt.date.fromisoformat(result["as_of"]), rules=options.get("rules"),
                              mode=options.get("mode") or "new", tier=result["tier"])
    db.session.add(record)
    db.session.commit()
    return record


def create_client(form) -> Client:
    """A new client of the current user from a ClientForm."""
    client = Client(owner_id=current_user.id)
    form.populate_obj(client)
    db.session.add(client)
    db.session.commit()
    return client


def delete(obj) -> None:
    """Delete an owned object (already checked by an ``owned_*_or_404`` lookup)."""
    db.session.delete(obj)
    db.session.commit()


def add_title(client: Client, form) -> TitleRecord:
    """Record a title the client holds, with the date it was granted."""
    title = TitleRecord(client=client, tier=form.tier.data, granted_on=form.granted_on.data)
    db.session.add(title)
    db.session.commit()
    return title


def re_review_dates(client: Client, today: dt.date | None = None) -> list[dict]:
    """Each recorded title with its re-review (复核) date: granted + the tier's validity years."""
    today = today or dt.date.today()
    years = {}
    for table in services.get_services().rule_book.tables.values():
        for tid, tier in table.tiers.items():
            years.setdefault(tid, tier.validity_years)
    out = []
    for title in client.titles:
        n = years.get(title.tier, 3)
        due = _add_years(title.granted_on, n)
        out.append({"title": title, "years": n, "due": due, "days_left": (due - today).days})
    return out


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def trend(client: Client) -> list[dict]:
    """One row per assessment, oldest first: date, tier, scores, percentiles and readiness."""
    rows = []
    for record in client.assessments:
        result = record.result
        summary = services.summarise(result)
        rows.append({"record": record, "as_of": record.as_of, "tier": record.tier,
                     "level": summary["tiers"].get(record.tier, {}).get("level", 0),
                     "scores": {tid: (t["score_min"], t.get("score_max", t["score_min"]))
                                for tid, t in summary["tiers"].items() if t.get("score_min") is not None},
                     "dimensions": _dimensions(result), "readiness": _readiness(result)})
    return rows


def _dimensions(result: dict) -> dict | None:
    """The four dimension scores against little giants (or the first cohort), for the trend table."""
    dims = result.get("dimensions")
    if not isinstance(dims, dict) or not dims:
        return None
    cohort = dims.get("little_giant") or next(iter(dims.values()))
    return {d: (cohort.get(d) or {}).get("score") for d in ("scale", "quality", "influence", "globalisation")}


def _readiness(result: dict) -> dict | None:
    """Readiness probability per tier, when the result carries it."""
    ready = result.get("readiness")
    if not isinstance(ready, dict):
        return None
    out = {t: v["probability"] for t, v in ready.items() if isinstance(v, dict) and v.get("probability") is not None}
    return out or None
