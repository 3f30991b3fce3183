# SPDX-License-Identifier: AGPL-3.0-or-later
"""Fixtures of the bot tests: the fake Bot API on a real port, a real store (SQLite and PostgreSQL), the
shipped catalog, a manual clock, the store-backed captcha desk and a running `BotRunner`.

Tests play people through `Person` (see kit.py): each message or press waits until the bot confirmed the
update, so every answer to it is already at the fake; no sleeps anywhere.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest
from tests.pipeline_kit import db_url, migrated_sqlite, pg_url, store

from creneau.bot.desk import StoreCaptchaDesk
from creneau.bot.runner import BotRunner
from creneau.catalog.core import Catalog, load_catalog
from creneau.config import Settings, load_settings
from creneau.notify.fakes.telegram import FakeTelegram
from creneau.notify.ratelimit import Rate
from creneau.sim.clock import ManualClock
from creneau.store import Store

from .kit import Accounts, Person

__all__ = ["db_url", "migrated_sqlite", "pg_url", "store"]  # shared store fixtures

FAST = Rate(10_000, burst=10_000)  # the fake's flood limits are not what these tests are about


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture
def clock(t0: datetime) -> ManualClock:
    return ManualClock(t0)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(global_rate=FAST, chat_rate=FAST, group_rate=FAST) as server:
        yield server


@pytest.fixture
def settings(fake: FakeTelegram, tmp_path: Path) -> Settings:
    return load_settings(
        telegram_bot_token=fake.token,
        telegram_api_base=fake.api_base,
        bot_username="creneau_fake_bot",
        web_base_url="https://creneau.example",
        data_dir=tmp_path,
        captcha_desk="store",
        poll_s=30.0,
    )


@pytest.fixture
def desk(store: Store) -> StoreCaptchaDesk:
    return StoreCaptchaDesk(store)


@pytest.fixture
async def bot(
    settings: Settings, store: Store, catalog: Catalog, desk: StoreCaptchaDesk, clock: ManualClock
) -> AsyncIterator[BotRunner]:
    runner = BotRunner(settings, store, catalog, desk=desk, clock=clock)
    await runner.start()
    task = asyncio.create_task(runner.run())
    try:
        yield runner
    finally:
        runner.stop()
        await task
        await runner.close()


@pytest.fixture
def accounts(store: Store, clock: ManualClock) -> Accounts:
    return Accounts(store, clock)


@pytest.fixture
def camille(fake: FakeTelegram, bot: BotRunner) -> Person:
    """A person in a private chat with the running bot (not linked yet)."""
    return Person(fake, 424242)


@pytest.fixture
def sacha(fake: FakeTelegram, bot: BotRunner) -> Person:
    """Another person, for the authorization tests."""
    return Person(fake, 515151, language="en")
