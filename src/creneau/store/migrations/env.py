# SPDX-License-Identifier: AGPL-3.0-or-later
"""Alembic environment: runs on the connection `creneau.store.migrate` hands over.

Without one (a developer running `alembic` directly with `-x url=…`), it opens its own engine.
Batch mode is on so that ALTERs work on SQLite (table rebuilds); `render_item` writes the store's column
types as plain SQLAlchemy types, so a generated revision needs no import from the models.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection

from creneau.store.migrate import render_item
from creneau.store.models import Base

config = context.config


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,
        compare_type=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_engine(url: str) -> None:
    from creneau.store.engine import create_engine_for

    engine = create_engine_for(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_configure)
    finally:
        await engine.dispose()


def _run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("give the database with -x url=sqlite+aiosqlite:///path (or sqlalchemy.url)")
    asyncio.run(_run_with_own_engine(url))


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported: run them against a database")
_run()
