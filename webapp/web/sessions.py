"""Server-side login sessions: a logged-in cookie is only good while its row exists and has not expired.

Logging in stores a random token in the signed session cookie and its SHA-256 in ``login_sessions``, with an
absolute expiry (``PERMANENT_SESSION_LIFETIME``, 12 hours by default). Every request looks the row up with the
user (one query), so logging out (the row deleted) ends that session on the server: a copied cookie replayed
afterwards is anonymous. "Log out everywhere" deletes every row of the account.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import sqlalchemy as sa
from flask import current_app, session
from flask_login import login_user, logout_user
from sqlalchemy.orm import Mapped, joinedload, mapped_column, relationship

from webapp.web.extensions import db
from webapp.web.models import User

SESSION_KEY = "sid"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class LoginSession(db.Model):
    """One logged-in browser of a consultant: the token's hash and when the session ends."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=_now)
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)
    user: Mapped[User] = relationship()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(user: User) -> None:
    """A fresh session for ``user`` (no fixation): a new token, its row, and Flask-Login's login."""
    now = _now()
    db.session.execute(sa.delete(LoginSession).where(LoginSession.user_id == user.id,
                                                     LoginSession.expires_at <= now))
    token = secrets.token_urlsafe(32)
    db.session.add(LoginSession(user_id=user.id, token_hash=_digest(token), created_at=now,
                                expires_at=now + current_app.permanent_session_lifetime))
    db.session.commit()
    session.clear()
    session.permanent = True  # the cookie lasts as long as the row, not past it
    session[SESSION_KEY] = token
    login_user(user)


def load_user(user_id: str) -> User | None:
    """Flask-Login's user loader: the user only while this cookie's session row exists and is current."""
    token = session.get(SESSION_KEY)
    if not isinstance(token, str) or not user_id.isdigit():
        return None
    row = db.session.scalar(
        sa.select(LoginSession).options(joinedload(LoginSession.user))
        .where(LoginSession.token_hash == _digest(token), LoginSession.user_id == int(user_id),
               LoginSession.expires_at > _now()))
    return row.user if row else None


def end() -> None:
    """Log out this browser: its row is deleted, so the cookie is worthless even if it was copied."""
    token = session.get(SESSION_KEY)
    if isinstance(token, str):
        db.session.execute(sa.delete(LoginSession).where(LoginSession.token_hash == _digest(token)))
        db.session.commit()
    logout_user()
    session.clear()


def end_all(user: User) -> int:
    """Log out every browser of ``user`` (this one too); return how many sessions ended."""
    ended = db.session.execute(sa.delete(LoginSession).where(LoginSession.user_id == user.id)).rowcount
    db.session.commit()
    logout_user()
    session.clear()
    return ended
