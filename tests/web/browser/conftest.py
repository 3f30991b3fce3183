# SPDX-License-Identifier: AGPL-3.0-or-later
"""Fixtures of the browser tests: Debian's Chromium (the tests skip with the reason without it) and the
shipped catalog (loaded once)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser

from creneau.catalog.core import Catalog, load_catalog
from creneau.store.testing import postgres_base_url, temp_pg_schema

from .stack import chromium, skip_without_chromium


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    skip_without_chromium()
    async with chromium() as launched:
        yield launched


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture
def database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """An empty database on the `backend` the test is parametrized with: SQLite in the test's folder, or a
    PostgreSQL schema of its own (skips with the reason when the server is unreachable)."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'creneau.sqlite3'}"
        return
    base, reason = postgres_base_url()
    if base is None:
        pytest.skip(reason)
    with temp_pg_schema(base) as url:
        yield url
