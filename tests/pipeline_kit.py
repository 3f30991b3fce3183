# SPDX-License-Identifier: AGPL-3.0-or-later
"""Shared by the pipeline tests (runner, sender, e2e, CLI): a store on SQLite and PostgreSQL, a simulated
legacy booking form, and the whole service on a ManualClock with the fake providers.

Import the fixtures into a test module to use them: `from ..pipeline_kit import db_url, pg_url, ...`.
"""

from __future__ import annotations

import asyncio
import inspect
import shutil
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import make_url

from creneau.config import load_settings
from creneau.detector import WatchFilter
from creneau.notify.fakes.providers import FakeProviders
from creneau.pipeline_admin import ChannelInput, enrol, validate_channels
from creneau.service import Role, Service
from creneau.sim.clock import ManualClock
from creneau.sim.model import Episode, Planning, RateRules, SimSlot, SimTarget, World
from creneau.sim.server import SimServer
from creneau.store import Store
from creneau.store.models import Base
from creneau.store.testing import pg_schema_or_skip
from creneau.types import System

T0 = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)  # Monday 08:00 in Paris
SSD = "www.seine-saint-denis.gouv.fr"
TARGET_ID = "legacy-seine-saint-denis-9846"  # a catalog target: Préfecture - Seine-Saint-Denis
URL = f"https://{SSD}/booking/create/9846/0"
GUICHETS = (Planning("17637", "Guichet A"), Planning("17638", "Guichet B"))
FORM = SimTarget("ssd", System.LEGACY, SSD, 9846, GUICHETS, "Titres de séjour")
NO_RULES = RateRules(
    legacy_burst_rps=0, legacy_hourly_limit=0, rdvpref_challenge_per_min=0, ants_per_min=0, background_5xx_rate=0
)
SECRET = "0123456789abcdef-webhook"

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    """A migrated PostgreSQL schema private to the test module (skips with the reason when unreachable)."""
    with pg_schema_or_skip() as url:
        asyncio.run(_migrate(url))
        yield url


async def _migrate(url: str) -> None:
    await (await Store.open(url)).close()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pipeline-template") / "store.sqlite3"

    asyncio.run(_migrate(f"sqlite+aiosqlite:///{path}"))
    return path


def truncate(url: str) -> None:
    """Empty every table of the (migrated) PostgreSQL schema behind `url`."""
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    names = ", ".join(table.name for table in Base.metadata.sorted_tables)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")  # type: ignore[arg-type]


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty, migrated database on the parametrized engine."""
    if request.param == "sqlite":
        path = tmp_path / "store.sqlite3"
        shutil.copyfile(request.getfixturevalue("migrated_sqlite"), path)
        return f"sqlite+aiosqlite:///{path}"
    url: str = request.getfixturevalue("pg_url")
    truncate(url)
    return url


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[Store]:
    store = await Store.open(db_url, migrate_to=None)
    try:
        yield store
    finally:
        await store.close()


def sim_slot(sid: int, *, days: int, hour: int, planning: str = "17637", visible_from: datetime = T0) -> SimSlot:
    """A slot `days` after T0 at `hour` (Paris summer time), visible from `visible_from`."""
    start = T0.replace(hour=hour - 2) + timedelta(days=days)
    return SimSlot(sid, FORM.id, start, visible_from, None, planning_id=planning)


def sim_world(*targets: SimTarget, slots: tuple[SimSlot, ...] = (), episodes: tuple[Episode, ...] = ()) -> World:
    return World({t.id: t for t in targets or (FORM,)}, list(slots), [], list(episodes), rules=NO_RULES, seed=5)


async def wait_until(condition: Callable[[], bool | Awaitable[bool]], timeout_s: float = 10.0) -> None:
    """Poll `condition` (sync or async) every 20 ms until it holds, for cross-process waits only; fail after
    `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = condition()
        if await result if inspect.isawaitable(result) else result:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout_s} s")
        await asyncio.sleep(0.02)


@dataclass
class Pipeline:
    """The service (monitor + sender) against the simulator and the fake providers, on a ManualClock."""

    service: Service
    sim: SimServer
    fakes: FakeProviders
    clock: ManualClock
    world: World

    @property
    def store(self) -> Store:
        assert self.service.store is not None
        return self.service.store

    async def round(self, *, after_s: float = 0.0) -> None:
        """Move the clock, run one monitoring round to its end, then send everything due."""
        if after_s:
            self.clock.advance(after_s)
        runner, sender = self.service.runner, self.service.sender
        if runner is not None:
            await runner.tick(sync=True)
            await runner.wait_idle()
        if sender is not None:
            await sender.drain()

    async def until_due(self, target_id: str = TARGET_ID) -> None:
        """Move the clock to the target's next check (pauses and backoffs included) and run a round."""
        state = (await self.store.targets.get(target_id)).state
        due = max(d for d in (state.next_check_at, state.paused_until, state.backoff_until, self.clock.now()) if d)
        self.clock.set(due)
        await self.round()

    async def subscribe(
        self,
        email: str,
        *,
        telegram: str | None = None,
        ntfy: str | None = None,
        webhook: str | None = None,
        locale: str = "fr",
        before: date | None = None,
        targets: tuple[str, ...] = (TARGET_ID,),
    ) -> int:
        wanted = ChannelInput(email, telegram, ntfy, webhook, SECRET if webhook else None)
        channels = await validate_channels(wanted, allow_private=True)
        subscriber = await enrol(self.store, channels, locale=locale, name="", now=self.clock.now())
        filters = WatchFilter.build(before=before)
        await self.store.subscribers.add_watch(subscriber, list(targets), now=self.clock.now(), filters=filters)
        return subscriber


def pipeline_settings(db_url: str, data_dir: Path, sim: SimServer, fakes: FakeProviders, **overrides: Any) -> Any:
    return load_settings(
        database_url=db_url,
        data_dir=data_dir,
        route_overrides=sim.route_overrides,
        legacy_request_gap_s=0.0,
        legacy_max_weeks=2,
        http_timeout_s=5.0,
        **(fakes.settings_overrides() | overrides),
    )


@asynccontextmanager
async def running_pipeline(
    db_url: str, data_dir: Path, world: World, *, role: Role = "all", test_hooks: bool = False, **overrides: Any
) -> AsyncIterator[Pipeline]:
    clock = ManualClock(T0)
    async with SimServer(world, clock, test_hooks=test_hooks) as sim, FakeProviders(webhook_secret=SECRET) as fakes:
        settings = pipeline_settings(db_url, data_dir, sim, fakes, **overrides)
        async with Service(settings, role=role, clock=clock) as service:
            try:
                yield Pipeline(service, sim, fakes, clock, world)
            finally:
                if service.sender is not None:
                    await service.sender.close()
