# SPDX-License-Identifier: AGPL-3.0-or-later
"""The status board in a browser with JavaScript: when a check finds slots, the page's row changes in
place (htmx's SSE extension, under the app's Content-Security-Policy), without a reload."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser, expect
from tests.pipeline_kit import sim_slot, sim_world

from creneau.catalog.core import Catalog
from creneau.pipeline_admin import ChannelInput, enrol, validate_channels
from creneau.types import Outcome

from .stack import MARKS, Stack, Texts, new_page, running_stack

pytestmark = MARKS

TARGET = "legacy-seine-saint-denis-9846"
REFRESH_S = 0.5  # the board's snapshot age limit, on the app's clock


async def watched(stack: Stack, email: str) -> None:
    channels = await validate_channels(ChannelInput(email, None, None, None, None), allow_private=True)
    subscriber = await enrol(stack.store, channels, locale="fr", name="", now=stack.clock.now())
    await stack.store.subscribers.add_watch(subscriber, [TARGET], now=stack.clock.now())


async def test_board_row_shows_the_slots_without_a_reload_when_a_check_finds_them(
    browser: Browser, tmp_path: Path, catalog: Catalog, database_url: str
) -> None:
    t = Texts("fr")
    async with running_stack(tmp_path, sim_world(), catalog, database_url, web_board_refresh_s=REFRESH_S) as stack:
        await watched(stack, "noor@example.org")
        await stack.checked(TARGET, Outcome.NO_SLOTS)

        page = await new_page(browser, stack, locale="fr-FR")
        await page.goto("/status?dept=93")
        row = page.locator("tr", has=page.locator(f'a[href="/targets/{TARGET}"]'))
        await expect(row).to_have_count(1)
        slots = t("Slots available")
        await expect(row).not_to_contain_text(slots)
        await page.evaluate("() => { window.notReloaded = true; }")
        board = stack.app.state.web.board
        await stack.wait(lambda: board.listeners >= 1, lambda: "the page never opened its event stream")

        stack.world.add_slots([sim_slot(1, days=1, hour=9, visible_from=stack.clock.now())])
        await stack.checked(TARGET, Outcome.SLOTS_AVAILABLE, after=await stack.next_check(TARGET))
        stack.clock.advance(REFRESH_S + 1)  # the snapshot that saw the check is now due for a rebuild

        await expect(row.locator(".badge")).to_have_text(slots)
        await expect(row).to_contain_text(t("now"))
        assert await page.evaluate("() => window.notReloaded === true")
