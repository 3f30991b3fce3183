# SPDX-License-Identifier: AGPL-3.0-or-later
"""The core flows without JavaScript and with the keyboard only: sign in, watch a page, add and confirm
another e-mail address. Every step is a plain link or form, reached by focus and Enter."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser, expect
from tests.pipeline_kit import sim_world

from creneau.catalog.core import Catalog
from creneau.store import ChannelStatus

from .stack import MARKS, SIGN_IN_SUBJECT, Texts, links_in, new_page, running_stack

pytestmark = MARKS

TARGET = "legacy-seine-saint-denis-9846"


async def test_sign_in_watch_and_confirm_an_address_work_by_keyboard_when_javascript_is_off(
    browser: Browser, tmp_path: Path, catalog: Catalog, database_url: str
) -> None:
    t, email, work = Texts("en"), "sam@example.org", "sam.work@example.org"
    async with running_stack(tmp_path, sim_world(), catalog, database_url) as stack:
        page = await new_page(browser, stack, locale="en-GB", java_script_enabled=False)
        await page.goto("/")
        await expect(page.locator("html")).to_have_attribute("lang", "en")
        await page.keyboard.press("Tab")
        await expect(page.get_by_role("link", name=t("Skip to content"))).to_be_focused()

        await page.get_by_role("navigation").get_by_role("link", name=t("Sign in")).press("Enter")
        await page.get_by_label(t("Your e-mail address")).fill(email)
        await page.get_by_label(t("Your e-mail address")).press("Enter")  # the form's implicit submission
        await expect(page.get_by_role("heading", level=1)).to_have_text(t("Check your e-mail"))
        mail = await stack.mail_to(email, subject=SIGN_IN_SUBJECT["en"])
        (link,) = [u for u in links_in(mail) if "/auth/magic" in u]
        await page.goto(link)
        await page.get_by_role("main").get_by_role("button", name=t("Sign in")).press("Enter")
        await expect(page).to_have_url(f"{stack.url}/account")

        await page.goto(f"/watches/new?target={TARGET}")
        await page.get_by_role("main").get_by_role("button", name=t("Watch this page")).press("Enter")
        await expect(page).to_have_url(f"{stack.url}/watches")
        await expect(page.get_by_role("main").locator("li[id^=watch-]")).to_contain_text("Seine-Saint-Denis")

        await page.get_by_role("main").get_by_role("link", name=t("How I am told")).press("Enter")
        await page.get_by_label(t("Another address")).fill(work)
        await page.get_by_role("button", name=t("Add this address")).press("Enter")
        await expect(page.get_by_role("main")).to_contain_text(t("waiting for confirmation"))
        confirm = await stack.mail_to(work, subject=t("Confirm your e-mail address for creneau alerts"))
        (verify,) = [u for u in links_in(confirm) if "/channels/verify" in u]
        await page.goto(verify)
        await page.get_by_role("button", name=t("Confirm")).press("Enter")
        await expect(page.get_by_role("heading", level=1)).to_have_text(t("Address confirmed"))

        subscriber = await stack.store.subscribers.find_subscriber(email)
        assert subscriber is not None
        (watch,) = await stack.store.subscribers.list_watches(subscriber_id=subscriber.id)
        assert watch.target_ids == (TARGET,)
        channels = await stack.store.subscribers.list_channels(subscriber.id)
        assert [(c.kind, c.address, c.status) for c in channels] == [("email", work, ChannelStatus.ACTIVE)]
