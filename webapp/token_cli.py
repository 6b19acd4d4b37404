"""``giantstep token``: create, list and revoke a consultant's API tokens from the command line (for scripts).

The commands work on the database of the instance folder that ``giantstep serve`` uses (``instance/`` or
``GIANTSTEP_INSTANCE_DIR``; ``FLASK_SQLALCHEMY_DATABASE_URI`` for another database), bringing it up to date first.
"""

from __future__ import annotations

import contextlib

import click

from webapp.cli_support import InputProblem


@contextlib.contextmanager
def _account(email: str):
    """An app context of the installation and the account with ``email`` (InputProblem when there is none)."""
    from webapp.web import create_app
    from webapp.web.db import upgrade_database
    from webapp.web.tokens import find_user

    app = create_app()
    upgrade_database(app)
    with app.app_context():
        user = find_user(email)
        if user is None:
            raise InputProblem([f"--email: no account with the e-mail {email!r}; register in the browser first"])
        yield user
        app.extensions["sqlalchemy"].engine.dispose()


@click.group("token")
def token():
    """API tokens of a consultant's account (the same tokens as the browser's API tokens page)."""


@token.command("create")
@click.option("--email", required=True, help="The account's e-mail.")
@click.option("--name", default="", help="A name to recognise the token by (default: the date).")
def token_create(email, name):
    """Create a token and print it on stdout, once: only its hash is kept."""
    from webapp.web.tokens import create_token

    with _account(email) as user:
        created, secret = create_token(user, name)
        click.echo(f"token {created.id} {created.name!r} for {user.email}: shown once, keep it safe", err=True)
    click.echo(secret)


@token.command("list")
@click.option("--email", required=True, help="The account's e-mail.")
def token_list(email):
    """List the account's tokens: id, start of the secret, name, created, last used, status."""
    from webapp.web.tokens import list_tokens

    with _account(email) as user:
        for t in list_tokens(user):
            used = f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never"
            state = f"revoked {t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "active"
            click.echo(f"{t.id:<5} {t.prefix}…  {t.name:<30} created {t.created_at:%Y-%m-%d %H:%M}  "
                       f"last used {used:<16}  {state}")


@token.command("revoke")
@click.option("--email", required=True, help="The account's e-mail.")
@click.argument("token_ids", nargs=-1, type=int)
@click.option("--all", "revoke_all", is_flag=True, help="Revoke every token of the account.")
def token_revoke(email, token_ids, revoke_all):
    """Revoke tokens by id (see `token list`), or all of them with --all."""
    from webapp.web.tokens import list_tokens, revoke_token

    if not token_ids and not revoke_all:
        raise InputProblem(["give token ids (see `giantstep token list --email E`) or --all"])
    with _account(email) as user:
        ids = [t.id for t in list_tokens(user, include_revoked=False)] if revoke_all else token_ids
        missing = [i for i in ids if revoke_token(user, i) is None]
        if missing:
            raise InputProblem([f"token {i}: not a token of {user.email}" for i in missing])
        click.echo(f"revoked {len(ids)} token(s) of {user.email}", err=True)
