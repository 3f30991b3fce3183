# SPDX-License-Identifier: AGPL-3.0-or-later
"""Run the Alembic migrations shipped in `creneau/store/migrations/` programmatically.

No alembic.ini is needed at run time: the script location is the package itself, and the migrations run
on a connection the caller owns, inside one transaction. On PostgreSQL an advisory lock makes processes
that start together (several roles, several machines) migrate one after the other; on SQLite the
`BEGIN IMMEDIATE` write lock does the same.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import command
from alembic.autogenerate.api import AutogenContext
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import JSON, Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from creneau.store.columns import SecretJson, UTCDateTime

SCRIPT_LOCATION = "creneau.store:migrations"
_PG_MIGRATION_LOCK = 0x63726E6175  # "crnau": any constant shared by every creneau process


def alembic_config(connection: Connection | None = None) -> Config:
    """An in-memory Alembic config pointing at the packaged migrations (and at `connection`, if given)."""
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Autogenerate hook: write the store's column types as plain SQLAlchemy types, so that a generated
    revision runs without importing the models (and stays valid when the models change later)."""
    if type_ != "type":
        return False
    if isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if isinstance(obj, SecretJson | JSON):
        autogen_context.imports.add("from sqlalchemy.dialects import postgresql")
        return 'sa.JSON().with_variant(postgresql.JSONB(), "postgresql")'
    return False


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships a revision
        raise RuntimeError("no migration revision shipped with creneau")
    return head


def _upgrade(connection: Connection, revision: str) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
    command.upgrade(alembic_config(connection), revision)


def _downgrade(connection: Connection, revision: str) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
    command.downgrade(alembic_config(connection), revision)


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema to `revision` (default: the newest shipped); a no-op when already there."""
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade, revision)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    """Go back to `revision` ("base" drops every table). For development and tests."""
    async with engine.begin() as conn:
        await conn.run_sync(_downgrade, revision)


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at; None for an empty database."""
    async with engine.connect() as conn:
        return await conn.run_sync(_current)
