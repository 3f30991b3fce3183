# SPDX-License-Identifier: AGPL-3.0-or-later
"""Fixtures of the browser tests: one Debian Chromium for the session (the tests skip with the reason
without it), the shipped catalog, and an empty database per test (SQLite copied from a migrated template,
or a PostgreSQL schema of its own for tests parametrized with `backend`)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser
from tests.pipeline_kit import migrated_sqlite

from creneau.catalog.core import Catalog, load_catalog
from creneau.store.testing import pg_schema_or_skip

from .stack import chromium, skip_without_chromium

__all__ = ["backend", "browser", "catalog", "database_url", "migrated_sqlite"]


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    """Launched once (about 2 s); each test opens its own contexts (cookies), closed with the browser."""
    skip_without_chromium()
    async with chromium() as launched:
        yield launched


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture
def backend() -> str:
    """SQLite, unless the test parametrizes `backend` itself."""
    return "sqlite"


@pytest.fixture
def database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """An empty, migrated database: SQLite in the test's folder, or a PostgreSQL schema of its own (skips with
    the reason when the server is unreachable)."""
    if backend == "sqlite":
        path = tmp_path / "creneau.sqlite3"
        shutil.copyfile(request.getfixturevalue("migrated_sqlite"), path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    with pg_schema_or_skip() as url:
        yield url
