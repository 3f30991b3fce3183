# SPDX-License-Identifier: AGPL-3.0-or-later
"""Migrations: from an empty database to head, in sync with the models, and back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata, produce_migrations, render_python_code
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, create_engine, inspect, text

from creneau.store import Store, UnsupportedDatabase, create_engine_for
from creneau.store.migrate import current_revision, downgrade, head_revision, render_item
from creneau.store.models import Base
from creneau.store.testing import pg_schema_or_skip

from .conftest import BACKENDS


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with nothing in it (a new SQLite file, or a new PostgreSQL schema)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'sub' / 'empty.sqlite3'}"
        return
    with pg_schema_or_skip() as url:
        yield url


def _diff(conn: Connection) -> list[Any]:
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def _tables(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names())


async def test_store_open_migrates_to_head_when_database_is_empty(empty_url: str) -> None:
    store = await Store.open(empty_url)
    try:
        assert await current_revision(store.engine) == head_revision()
        async with store.engine.connect() as conn:
            tables = await conn.run_sync(_tables)
        assert set(Base.metadata.tables) <= tables
    finally:
        await store.close()


async def test_models_match_migrations_when_autogenerate_compares_them(empty_url: str) -> None:
    store = await Store.open(empty_url)
    try:
        async with store.engine.connect() as conn:
            assert await conn.run_sync(_diff) == []
    finally:
        await store.close()


async def test_migrations_go_down_to_base_and_up_again_when_asked(empty_url: str) -> None:
    store = await Store.open(empty_url)
    await downgrade(store.engine, "base")
    assert await current_revision(store.engine) is None
    async with store.engine.connect() as conn:
        assert not set(Base.metadata.tables) & await conn.run_sync(_tables)
    await store.close()
    again = await Store.open(empty_url)
    try:
        assert await current_revision(again.engine) == head_revision()
    finally:
        await again.close()


async def test_store_open_changes_nothing_when_schema_is_at_head(empty_url: str) -> None:
    first = await Store.open(empty_url)
    await first.close()
    second = await Store.open(empty_url)
    try:
        assert await current_revision(second.engine) == head_revision()
    finally:
        await second.close()


async def test_engine_applies_connection_settings_when_connecting(empty_url: str) -> None:
    store = await Store.open(empty_url)
    try:
        async with store.read() as conn:
            if store.dialect == "sqlite":
                pragmas = {
                    name: (await conn.execute(text(f"PRAGMA {name}"))).scalar()
                    for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
                }
                assert pragmas == {"journal_mode": "wal", "synchronous": 1, "foreign_keys": 1, "busy_timeout": 30000}
            else:
                level = (await conn.execute(text("SHOW transaction_isolation"))).scalar()
                assert level == "read committed"
    finally:
        await store.close()


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("mysql+aiomysql://x@localhost/db", id="mysql"),
        pytest.param("postgresql+asyncpg://x@localhost/db", id="asyncpg"),
        pytest.param("sqlite+pysqlite:///x.db", id="sync-sqlite"),
    ],
)
def test_create_engine_for_refuses_url_when_engine_is_not_supported(url: str) -> None:
    with pytest.raises(UnsupportedDatabase):
        create_engine_for(url)


def test_autogenerate_writes_plain_types_when_rendering_a_revision() -> None:
    """A generated revision must run without importing the models: no `creneau.` and no bare `Text()`."""
    engine = create_engine("sqlite://")
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"target_metadata": Base.metadata, "render_item": render_item, "render_as_batch": True}
        )
        script = produce_migrations(context, Base.metadata)
        imports: set[str] = set()
        code = render_python_code(
            script.upgrade_ops, render_item=render_item, migration_context=context, imports=imports
        )
    engine.dispose()
    assert "creneau." not in code
    assert "(astext_type=Text())" not in code
    assert "sa.DateTime(timezone=True)" in code
    assert 'sa.JSON().with_variant(postgresql.JSONB(), "postgresql")' in code
    compile("def upgrade():\n" + code, "<revision>", "exec")
