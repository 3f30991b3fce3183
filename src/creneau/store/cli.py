# SPDX-License-Identifier: AGPL-3.0-or-later
"""`creneau db …`: the database schema (migrations run by `Store.open` anyway; this is for operators)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated

import typer
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from creneau.cli import fail
from creneau.config import load_settings
from creneau.store import migrate
from creneau.store.engine import create_engine_for, normalise_url
from creneau.store.errors import UnsupportedDatabase

db_app = typer.Typer(help="The database: schema migrations.", no_args_is_help=True)
UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url", help="SQLAlchemy URL of the database (default: CRENEAU_DATABASE_URL, or SQLite in data_dir)."
    ),
]


def register(app: typer.Typer) -> None:
    """Add this stage's commands to the main app."""
    app.add_typer(db_app, name="db")


def _url(url: str | None) -> str:
    chosen = url or load_settings().resolved_database_url()
    try:
        return normalise_url(chosen).render_as_string(hide_password=False)
    except UnsupportedDatabase as exc:
        raise fail(str(exc)) from None


async def _with_engine(url: str, work: Callable[[AsyncEngine], Awaitable[str | None]]) -> str | None:
    engine = create_engine_for(url)
    try:
        return await work(engine)
    finally:
        await engine.dispose()


def _run(url: str, work: Callable[[AsyncEngine], Awaitable[str | None]]) -> str | None:
    """Run `work` on an engine for `url`; an unreachable database is one error line."""
    try:
        return asyncio.run(_with_engine(url, work))
    except OperationalError as exc:
        where = normalise_url(url).render_as_string(hide_password=True)
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise fail(f"cannot use the database {where}: {reason}") from None


@db_app.command("upgrade")
def upgrade(url: UrlOption = None, revision: str = typer.Option("head", help="Target revision.")) -> None:
    """Bring the schema to the newest revision (a no-op when it is there already)."""

    async def work(engine: AsyncEngine) -> str | None:
        await migrate.upgrade(engine, revision)
        return await migrate.current_revision(engine)

    reached = _run(_url(url), work)
    typer.echo(f"database schema at revision {reached} (newest shipped: {migrate.head_revision()})")


@db_app.command("current")
def current(url: UrlOption = None) -> None:
    """Print the schema revision of the database ("none" for an empty one)."""
    revision = _run(_url(url), migrate.current_revision)
    typer.echo(revision or "none")
