# SPDX-License-Identifier: AGPL-3.0-or-later
"""`creneau admin grant|revoke|list`: who has the operator role (the web app's `/admin` pages).

`grant EMAIL` gives the role to the account of that address, creating the subscriber and account when the
person never signed in (they then sign in with the usual e-mailed link). `revoke EMAIL` takes it back;
signed-in browsers lose it at their next request. An address listed in `CRENEAU_WEB_ADMIN_EMAILS` gets the
role again at its next sign-in: remove it from there too. Bad input is one `creneau: error:` line.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, TypeVar

import typer
from sqlalchemy import select, update

from creneau.cli import fail
from creneau.config import load_settings
from creneau.pipeline_cli import _with_store
from creneau.store import Store
from creneau.store import models as m
from creneau.store.accounts import Role, accounts

T = TypeVar("T")


def register(app: typer.Typer) -> None:
    admin = typer.Typer(help="Operators: who may open the web app's operator view (/admin).", no_args_is_help=True)
    admin.command("grant")(grant)
    admin.command("revoke")(revoke)
    admin.command("list")(list_admins)
    app.add_typer(admin, name="admin")


Email = Annotated[str, typer.Argument(help="The person's e-mail address (the one they sign in with).")]


def _address(value: str) -> str:
    from creneau.web.auth import normalise_email

    email = normalise_email(value)
    if email is None:
        raise fail(f"not an e-mail address: {value!r}")
    return email


def grant(email: Email) -> None:
    """Give the operator role to EMAIL (its account is created if the person never signed in)."""
    address = _address(email)
    created = _run(lambda store: set_role(store, address, Role.ADMIN, create=True))
    typer.echo(f"{address} is an operator" + (" (new account: sign in with this address)" if created else ""))


def revoke(email: Email) -> None:
    """Take the operator role back from EMAIL."""
    address = _address(email)
    _run(lambda store: set_role(store, address, Role.USER, create=False))
    settings = load_settings()
    typer.echo(f"{address} is no longer an operator")
    if address in {e.strip().lower() for e in settings.web_admin_emails}:
        typer.echo("note: it is listed in CRENEAU_WEB_ADMIN_EMAILS and gets the role back at its next sign-in")


def list_admins() -> None:
    """List the operators' addresses."""
    for address in _run(operators) or ["(none)"]:
        typer.echo(address)


def _run(work: Callable[[Store], Awaitable[T]]) -> T:
    return _with_store(load_settings(), work)


async def set_role(store: Store, email: str, role: Role, *, create: bool) -> bool:
    """Give `email`'s account `role`; True if the subscriber or account had to be created. Raises a
    CliError when there is no such account and `create` is False."""
    s = m.subscribers
    now = datetime.now(UTC)
    async with store.write() as tx:
        found = (await tx.conn.execute(select(s.c.id).where(s.c.email == email))).scalar()
        has_account = (
            found is not None
            and (await tx.conn.execute(select(accounts.c.role).where(accounts.c.subscriber_id == found))).scalar()
            is not None
        )
        if not has_account and not create:
            raise fail(f"no account for {email}")
        if found is None:
            inserted = await tx.conn.execute(
                s.insert().values(email=email, locale="fr", name="", created_at=now).returning(s.c.id)
            )
            found = inserted.scalar_one()
        if has_account:
            await tx.conn.execute(update(accounts).where(accounts.c.subscriber_id == found).values(role=role.value))
            return False
        await tx.conn.execute(accounts.insert().values(subscriber_id=found, role=role.value, created_at=now))
        return True


async def operators(store: Store) -> list[str]:
    s = m.subscribers
    stmt = (
        select(s.c.email)
        .select_from(accounts.join(s, s.c.id == accounts.c.subscriber_id))
        .where(accounts.c.role == Role.ADMIN.value)
        .order_by(s.c.email)
    )
    async with store.read() as conn:
        return [row.email for row in await conn.execute(stmt)]
