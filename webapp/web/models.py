"""Database models: consultants, their clients, the titles those hold and dated assessments."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.web.extensions import db


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class User(UserMixin, db.Model):
    """A consultant's account; passwords are stored only as salted hashes."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True, index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    created_at: Mapped[dt.datetime] = mapped_column(default=_now)
    clients: Mapped[list[Client]] = relationship(back_populates="owner", cascade="all, delete-orphan",
                                                 order_by="Client.name")
    branding: Mapped[Branding | None] = relationship(cascade="all, delete-orphan")  # loaded only when used

    def set_password(self, password: str) -> None:
        """Store a salted hash of ``password``."""
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        """True when ``password`` matches the stored hash."""
        return check_password_hash(self.password_hash, password)


class Branding(db.Model):
    """A consultant's practice name and logo, printed on PDF covers and exports (a table of its own, so the
    logo is not read with the account on every request)."""

    __tablename__ = "brandings"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    practice_name: Mapped[str | None] = mapped_column(sa.String(200))
    logo: Mapped[bytes | None] = mapped_column(sa.LargeBinary)  # PNG, re-encoded and size-checked on upload
    updated_at: Mapped[dt.datetime] = mapped_column(default=_now, onupdate=_now)


class Client(db.Model):
    """A firm a consultant advises; visible to its owner only."""

    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    province: Mapped[str | None] = mapped_column(sa.String(20))
    city: Mapped[str | None] = mapped_column(sa.String(50))
    notes: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=_now)
    owner: Mapped[User] = relationship(back_populates="clients")
    assessments: Mapped[list[AssessmentRecord]] = relationship(
        back_populates="client", cascade="all, delete-orphan",
        order_by=lambda: (AssessmentRecord.as_of, AssessmentRecord.created_at, AssessmentRecord.id))  # by date
    titles: Mapped[list[TitleRecord]] = relationship(back_populates="client", cascade="all, delete-orphan",
                                                     order_by="TitleRecord.granted_on")


class TitleRecord(db.Model):
    """A title a client holds (e.g. 专精特新 granted on a date), for its re-review date."""

    __tablename__ = "titles"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    tier: Mapped[str] = mapped_column(sa.String(32))
    granted_on: Mapped[dt.date]
    client: Mapped[Client] = relationship(back_populates="titles")


class AssessmentRecord(db.Model):
    """One dated assessment of a client: the profile as entered and the result as it was judged."""

    __tablename__ = "assessments"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=_now)
    as_of: Mapped[dt.date]
    rules: Mapped[str | None] = mapped_column(sa.String(16))  # the override chosen, None = by date
    mode: Mapped[str] = mapped_column(sa.String(8), default="new")
    tier: Mapped[str] = mapped_column(sa.String(32))
    profile: Mapped[dict] = mapped_column(sa.JSON)
    result: Mapped[dict] = mapped_column(sa.JSON)
    client: Mapped[Client] = relationship(back_populates="assessments")


class BatchJob(db.Model):
    """A table of firms uploaded by an account and assessed in the background (files in instance/batches/<id>/).

    ``status`` is one of ``queued``, ``running``, ``done``, ``failed``, ``cancelled``; a running job refreshes
    ``heartbeat_at`` so that one left behind by a stopped server is found and resumed or failed.
    """

    __tablename__ = "batch_jobs"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="queued", index=True)
    filename: Mapped[str] = mapped_column(sa.String(255))  # as uploaded, shown to its owner only
    input_name: Mapped[str] = mapped_column(sa.String(32))  # file name inside the job folder
    options: Mapped[dict] = mapped_column(sa.JSON, default=dict)  # rules, as_of, mode, lang, cohorts
    rows_total: Mapped[int | None] = mapped_column(default=None)
    rows_done: Mapped[int] = mapped_column(default=0)
    rows_failed: Mapped[int] = mapped_column(default=0)
    reports_total: Mapped[int] = mapped_column(default=0)
    reports_done: Mapped[int] = mapped_column(default=0)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=_now, index=True)
    started_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    finished_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    error_zh: Mapped[str | None] = mapped_column(sa.Text, default=None)
    error_en: Mapped[str | None] = mapped_column(sa.Text, default=None)
    summary: Mapped[dict | None] = mapped_column(sa.JSON, default=None)  # the portfolio summary, once done


class ApiToken(db.Model):
    """A consultant's API token: only a SHA-256 hash of the secret is kept (the secret is shown once)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    prefix: Mapped[str] = mapped_column(sa.String(16))  # the secret's first characters, to recognise it
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=_now)
    last_used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]
    owner: Mapped[User] = relationship()
