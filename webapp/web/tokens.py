"""API tokens: create (the secret is shown once), list, revoke, and authenticate ``Authorization: Bearer``.

A secret is ``gs_`` followed by 32 random bytes (URL-safe base64): far too much entropy to guess, so a plain
SHA-256 of it is what the database keeps (a slow password hash would add nothing but latency to every call).
Using a token records the date and time it was last used. Rate limits are counted per token
(:func:`rate_limit_key`), per client address for calls without one.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets

from flask import current_app, g, request
from flask_limiter.util import get_remote_address
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import Unauthorized

from webapp.web.db import db
from webapp.web.models import ApiToken, User

SECRET_PREFIX = "gs_"
SHOWN_CHARS = 10  # "gs_" and 7 characters of the secret: enough to tell tokens apart in a list
NAME_MAX = 100


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def digest(secret: str) -> str:
    """The SHA-256 hex digest under which a secret is stored."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_token(user: User, name: str | None = None) -> tuple[ApiToken, str]:
    """Create a token for ``user`` and return it with its secret (which is not stored, only its hash)."""
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    name = (name or "").strip()[:NAME_MAX] or f"token {_now():%Y-%m-%d %H:%M}"
    token = ApiToken(owner_id=user.id, name=name, prefix=secret[:SHOWN_CHARS], token_hash=digest(secret))
    db.session.add(token)
    db.session.commit()
    return token, secret


def list_tokens(user: User, *, include_revoked: bool = True) -> list[ApiToken]:
    """The user's tokens, newest first."""
    query = db.select(ApiToken).where(ApiToken.owner_id == user.id)
    if not include_revoked:
        query = query.where(ApiToken.revoked_at.is_(None))
    return list(db.session.scalars(query.order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def revoke_token(user: User, token_id: int) -> ApiToken | None:
    """Revoke the user's token ``token_id`` (None when the user has no such token); revoking twice is harmless."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.owner_id != user.id:
        return None
    if token.revoked_at is None:
        token.revoked_at = _now()
        db.session.commit()
    return token


def find_user(email: str) -> User | None:
    """The account with this e-mail (case-insensitive), or None."""
    return db.session.scalar(db.select(User).where(User.email == email.strip().lower()))


# ------------------------------------------------------------------------------------------ requests


def bearer_secret() -> str | None:
    """The secret of the request's ``Authorization: Bearer`` header, or None."""
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    return secret.strip()


def current_token() -> ApiToken | None:
    """The valid (not revoked) token the request carries, once per request; None without one."""
    if "api_token" not in g:
        secret = bearer_secret()
        token = None
        if secret and secret.startswith(SECRET_PREFIX):
            hashed = digest(secret)
            token = db.session.scalar(db.select(ApiToken).where(ApiToken.token_hash == hashed))
            if token is not None and token.revoked_at is not None:
                token = None
        g.api_token = token
    return g.api_token


def rate_limit_key() -> str:
    """Flask-Limiter key: the token for calls that carry a valid one, else the client's address."""
    token = current_token()
    return f"token:{token.id}" if token is not None else f"addr:{get_remote_address()}"


def token_rate_limit() -> str:
    """The per-token limit of the calls that need a token (config ``API_TOKEN_RATE_LIMIT``)."""
    return current_app.config.get("API_TOKEN_RATE_LIMIT", "60 per minute")


def require_token(view):
    """Decorator: 401 (JSON, ``WWW-Authenticate: Bearer``) unless the request carries a valid token; the view
    then finds the account in ``g.api_user``. The token's last-used time is recorded."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        token = current_token()
        if token is None:
            message = ("this call needs an API token: send Authorization: Bearer <token>" if bearer_secret() is None
                       else "the API token is not valid or has been revoked")
            raise Unauthorized(description=message, www_authenticate=WWWAuthenticate("bearer", {"realm": "giantstep"}))
        token.last_used_at = _now()
        db.session.commit()
        g.api_user = db.session.get(User, token.owner_id)
        return view(*args, **kwargs)

    return wrapper
