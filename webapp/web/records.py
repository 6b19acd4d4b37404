"""Database access for a consultant's own clients and assessments: every lookup is scoped to the owner.

A record that exists but belongs to someone else is reported exactly like one that does not (404), so
one consultant cannot even learn which ids another one has.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

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


def update_client(client: Client, form) -> None:
    """Rename a client or change its place and notes from a ClientForm."""
    form.populate_obj(client)
    db.session.commit()


SORTS = ("name", "latest", "tier", "count", "created")
TITLE_FIELDS = {"innovative_sme": "title_innovative", "tech_sme": "title_tech_sme", "srdi_sme": "title_srdi",
                "little_giant": "title_little_giant", "hnte": "hnte"}


def client_rows(query: str = "", sort: str = "name") -> list[dict]:
    """The current user's clients matching ``query`` (name, place or notes), each with its number of
    assessments and its latest one by assessment date, sorted by ``sort`` (one of ``SORTS``)."""
    ranked = db.select(AssessmentRecord.client_id, AssessmentRecord.id, AssessmentRecord.as_of,
                       AssessmentRecord.tier,
                       db.func.row_number().over(partition_by=AssessmentRecord.client_id, order_by=(
                           AssessmentRecord.as_of.desc(), AssessmentRecord.created_at.desc(),
                           AssessmentRecord.id.desc())).label("rank"),
                       db.func.count().over(partition_by=AssessmentRecord.client_id).label("n")) \
        .where(AssessmentRecord.owner_id == current_user.id).subquery()
    stmt = db.select(Client, ranked.c.as_of, ranked.c.tier, ranked.c.n).outerjoin(
        ranked, (ranked.c.client_id == Client.id) & (ranked.c.rank == 1)).where(Client.owner_id == current_user.id)
    for word in (query or "").split():
        stmt = stmt.where(db.or_(*(col.icontains(word, autoescape=True)
                                   for col in (Client.name, Client.province, Client.city, Client.notes))))
    rows = [{"client": c, "latest_date": as_of, "latest_tier": tier, "count": n or 0}
            for c, as_of, tier, n in db.session.execute(stmt)]
    levels = _tier_levels()
    keys = {"name": lambda r: r["client"].name.casefold(),
            "latest": lambda r: (r["latest_date"] is None, -(r["latest_date"] or dt.date.min).toordinal()),
            "tier": lambda r: (-levels.get(r["latest_tier"], 0), r["client"].name.casefold()),
            "count": lambda r: (-r["count"], r["client"].name.casefold()),
            "created": lambda r: r["client"].created_at}
    return sorted(rows, key=keys.get(sort, keys["name"]))


def _tier_levels() -> dict[str, int]:
    levels = {}
    for table in services.get_services().rule_book.tables.values():
        for tid, tier in table.tiers.items():
            levels.setdefault(tid, tier.level)
    return levels


def client_prefill(client: Client, today: dt.date | None = None) -> dict:
    """What a new assessment of ``client`` starts from: its name and place, and the titles it holds that are
    still valid (granted on or before today, re-review date not passed)."""
    out = {"firm_name": client.name, "province": client.province or "", "city": client.city or ""}
    for row in re_review_dates(client, today):
        name = TITLE_FIELDS.get(row["title"].tier)
        if name and row["title"].granted_on <= (today or dt.date.today()) and row["days_left"] >= 0:
            out[name] = True
    return {k: v for k, v in out.items() if v != ""}


def file_stem(client_name: str | None, as_of: str, tier_name: str | None) -> str:
    """``<client>-<assessment date>-<tier>``, safe as a file name in every browser and file system."""
    parts = [_safe(client_name) or "giantstep", as_of, _safe(tier_name)]
    return "-".join(p for p in parts if p)


def _safe(text: str | None) -> str:
    text = unicodedata.normalize("NFC", text or "")
    text = re.sub(r'[\x00-\x1f\x7f/\\:*?"<>|;,]+', " ", text)  # path, shell and header separators
    return re.sub(r"\s+", "_", text).strip("._ ")[:80]


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
        due = add_years(title.granted_on, n)
        out.append({"title": title, "years": n, "due": due, "days_left": (due - today).days})
    return out


def add_years(day: dt.date, years: int) -> dt.date:
    """``day`` moved on by whole years (29 February becomes 28 February in a common year)."""
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
