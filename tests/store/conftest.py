# SPDX-License-Identifier: AGPL-3.0-or-later
"""The `store` fixture: every store test runs on SQLite (a temp file) and on PostgreSQL (a schema of its
own per test module, dropped afterwards; skipped with the reason when no server is reachable)."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path

import pytest

from creneau.store import Store
from creneau.store.testing import pg_schema_or_skip, reset

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL on a schema private to this test module."""
    with pg_schema_or_skip() as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied by each test (running the migrations once per session)."""
    path = tmp_path_factory.mktemp("template") / "store.sqlite3"

    async def build() -> None:
        store = await Store.open(f"sqlite+aiosqlite:///{path}")
        await store.close()

    asyncio.run(build())
    return path


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "store.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite+aiosqlite:///{path}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[Store]:
    """A migrated, empty store on the parametrized engine."""
    store = await Store.open(db_url)
    await reset(store)
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
def now(t0: datetime) -> datetime:
    return t0
