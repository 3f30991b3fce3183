# SPDX-License-Identifier: AGPL-3.0-or-later
"""Fixtures of the web tests: a real store (SQLite; PostgreSQL too for `pg_store`), the SMTP sink, a
manual clock, the app, and an httpx2 client talking to it in-process (same event loop as the store)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import httpx2
import pytest
from tests.pipeline_kit import BACKENDS, migrated_sqlite, pg_url

from creneau.catalog.core import Catalog, load_catalog
from creneau.config import Settings
from creneau.notify.fakes.smtp import SmtpSink
from creneau.sim.clock import ManualClock
from creneau.store import Store
from creneau.store.testing import reset
from creneau.web import create_app

from .kit import BASE, WebKit

__all__ = ["migrated_sqlite", "pg_url"]  # shared store fixtures


def _sqlite_url(template: Path, tmp_path: Path) -> str:
    path = tmp_path / "store.sqlite3"
    shutil.copyfile(template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(params=["sqlite"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, migrated_sqlite: Path) -> str:
    """SQLite only (the default for page tests); `both_db_url` adds PostgreSQL."""
    return _sqlite_url(migrated_sqlite, tmp_path)


@pytest.fixture(params=BACKENDS)
def both_db_url(request: pytest.FixtureRequest, tmp_path: Path, migrated_sqlite: Path) -> str:
    if request.param == "sqlite":
        return _sqlite_url(migrated_sqlite, tmp_path)
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture
def clock(t0: datetime) -> ManualClock:
    return ManualClock(t0)


@pytest.fixture
async def sink() -> AsyncIterator[SmtpSink]:
    server = await SmtpSink().start()
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
def settings(tmp_path: Path, sink: SmtpSink) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        web_secret="test-secret-" + "x" * 32,
        web_base_url=BASE,
        smtp_host="127.0.0.1",
        smtp_port=sink.port,
        smtp_from="creneau <noreply@creneau.test>",
        web_admin_emails=["ops@example.org"],
        web_board_refresh_s=3600,
    )


async def _kit(
    url: str, settings: Settings, catalog: Catalog, clock: ManualClock, sink: SmtpSink
) -> AsyncIterator[WebKit]:
    store = await Store.open(url)
    await reset(store)
    app = create_app(settings, store, catalog, clock=clock)
    transport = httpx2.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with app.router.lifespan_context(app), httpx2.AsyncClient(transport=transport, base_url=BASE) as client:
            yield WebKit(app, client, store, clock, sink, settings, transport)
    finally:
        await store.close()


@pytest.fixture
async def kit(
    db_url: str, settings: Settings, catalog: Catalog, clock: ManualClock, sink: SmtpSink
) -> AsyncIterator[WebKit]:
    """The app on SQLite with an in-process client."""
    async for value in _kit(db_url, settings, catalog, clock, sink):
        yield value


@pytest.fixture
async def both_kit(
    both_db_url: str, settings: Settings, catalog: Catalog, clock: ManualClock, sink: SmtpSink
) -> AsyncIterator[WebKit]:
    """The app on SQLite and on PostgreSQL."""
    async for value in _kit(both_db_url, settings, catalog, clock, sink):
        yield value
