# SPDX-License-Identifier: AGPL-3.0-or-later
"""Running the bot: start-up checks, the `bot` role of `creneau serve`, and failures told kindly."""

from __future__ import annotations

import asyncio
import json

import pytest
from pydantic import SecretStr
from sqlalchemy import text

from creneau.bot.runner import BotRunner
from creneau.catalog.core import Catalog
from creneau.config import Settings, SettingsError
from creneau.notify.fakes.telegram import FakeTelegram
from creneau.service import Service
from creneau.sim.clock import ManualClock
from creneau.store import Store
from creneau.store.telegram import relays

from .kit import Person, only


async def test_runner_sets_command_menus_in_both_languages_when_started(fake: FakeTelegram, bot: BotRunner) -> None:
    menus = {params["language_code"]: json.loads(params["commands"]) for params in fake.updates.commands}
    assert set(menus) == {"fr", "en"}
    assert menus["fr"][0] == {"command": "watch", "description": "Surveiller une préfecture et une démarche"}
    assert [c["command"] for c in menus["en"]] == [c["command"] for c in menus["fr"]]


@pytest.mark.parametrize("token", ["", "not-a-token"], ids=["empty", "malformed"])
def test_runner_refuses_to_start_when_token_is_not_a_bot_token(
    settings: Settings, store: Store, catalog: Catalog, token: str
) -> None:
    bad = settings.model_copy(update={"telegram_bot_token": SecretStr(token)})
    with pytest.raises(SettingsError, match="CRENEAU_TELEGRAM_BOT_TOKEN"):
        BotRunner(bad, store, catalog, desk=None)


async def test_runner_names_the_setting_without_the_token_when_api_refuses_it(
    settings: Settings, store: Store, catalog: Catalog
) -> None:
    wrong = settings.model_copy(update={"telegram_bot_token": SecretStr("987654321:WRONG-token-value")})
    runner = BotRunner(wrong, store, catalog, desk=None)
    try:
        with pytest.raises(SettingsError, match="Unauthorized") as caught:
            await runner.start()
        assert "WRONG-token-value" not in str(caught.value)
    finally:
        await runner.close()


async def test_bot_answers_kindly_and_keeps_running_when_a_handler_fails(
    camille: Person, store: Store, clock: ManualClock
) -> None:
    anchor = only(await camille.say("/help"))
    async with store.write() as tx:
        await tx.conn.execute(text("DROP TABLE telegram_relays"))
    try:
        failed = only(await camille.reply(anchor, "x7kq9"))
        assert "un problème est survenu" in failed.plain
        assert "Traceback" not in failed.plain
        assert "/watch" in only(await camille.say("/help")).plain
    finally:
        async with store.write() as tx:
            await tx.conn.run_sync(relays.create)


async def test_serve_role_bot_answers_people_until_stopped(fake: FakeTelegram, settings: Settings) -> None:
    async with Service(settings, role="bot") as service:
        assert service.bot is not None
        assert service.runner is None
        assert service.sender is None
        running = asyncio.create_task(service.run())
        assert "ne fait que prévenir" in only(await Person(fake, 777).say("/start")).plain
        service.stop()
        await running


def test_serve_role_all_runs_the_bot_only_when_enabled(settings: Settings) -> None:
    assert not Service(settings, role="all").bots
    assert Service(settings.model_copy(update={"bot_enabled": True}), role="all").bots
    assert Service(settings, role="bot").bots
    assert not Service(settings, role="monitor").bots
