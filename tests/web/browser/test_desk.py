# SPDX-License-Identifier: AGPL-3.0-or-later
"""The captcha desk in a real browser: an RDV Préfecture page needs a human check; a watcher who volunteers
sees the security image, types what it says, and checks resume (the alert follows); another watcher of
the page sees how many answers kept it watched, never who gave them."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import aiohttp
from playwright.async_api import Browser, Page, expect
from tests.pipeline_kit import T0, sim_world

from creneau.bot.desk import open_desk
from creneau.catalog.core import Catalog
from creneau.sim.model import SimSlot, SimTarget
from creneau.types import Outcome, System

from .stack import (
    MARKS,
    Stack,
    Texts,
    add_sign_in_address,
    links_in,
    new_page,
    running_stack,
    sign_up,
    watch_from_wizard,
)

pytestmark = MARKS

ISERE = "rdvpref-3762"  # Préfecture de l'Isère on RDV Préfecture, behind its captcha
RDV_URL = "https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/3762/"
SIM_ISERE = SimTarget("isere", System.RDVPREF, "www.rdv-prefecture.interieur.gouv.fr", 3762, name="Titre de séjour")
SLOT = SimSlot(1, "isere", T0 + timedelta(days=2, hours=1), T0, None)


async def code_shown_in(stack: Stack, challenge_id: str) -> str:
    """What the image says, from the simulator's test hook: the test plays the person reading it."""
    challenge = await open_desk(stack.service.settings, stack.store).get(challenge_id)
    assert challenge is not None
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{stack.sim.base_url}/__sim__/captcha/{challenge.captcha_id}") as r,
    ):
        return await r.text()


async def volunteer(page: Page, t: Texts) -> None:
    await page.get_by_role("navigation").get_by_role("link", name=t("My watches")).click()
    await page.get_by_role("main").get_by_role("link", name=t("Captcha desk")).click()
    await page.get_by_role("button", name=t("I want to help")).click()
    await expect(page.get_by_role("main")).to_contain_text(t("You help at the desk for the pages you watch."))


async def test_desk_volunteer_answers_the_image_and_checks_resume_when_a_page_needs_a_human(
    browser: Browser, tmp_path: Path, catalog: Catalog, database_url: str
) -> None:
    t, email = Texts("fr"), "lea@example.org"
    async with running_stack(tmp_path, sim_world(SIM_ISERE, slots=(SLOT,)), catalog, database_url) as stack:
        page = await new_page(browser, stack, locale="fr-FR")
        await sign_up(page, stack, email, t)
        await page.goto("/find")
        await watch_from_wizard(page, t, "Grenoble", "sejour.other", ISERE)
        await page.get_by_role("main").get_by_role("button", name=t("Watch this page")).click()
        await page.get_by_role("main").get_by_role("link", name=t("How I am told")).click()
        await add_sign_in_address(page, email, t)
        await volunteer(page, t)

        await stack.checked(ISERE, Outcome.HUMAN_CHECK_REQUIRED)
        await page.reload()
        form = page.locator("form.card")
        await expect(form).to_have_count(1)
        await expect(form.get_by_role("heading")).to_contain_text("Isère")
        image = form.get_by_role("img", name=t("Security image to read"))
        await expect(image).to_have_js_property("naturalWidth", 250)  # the simulator's 250×50 PNG, loaded

        await form.get_by_role("button", name=t("Send the answer")).click()  # nothing typed: said, not sent
        await expect(page.get_by_role("main")).to_contain_text(t("Type the characters you see in the image."))
        action = await page.locator("form.card").get_attribute("action")
        assert action is not None
        code = await code_shown_in(stack, action.split("/")[2])
        await page.get_by_label(t("Characters in the image")).fill(code)
        await page.get_by_role("button", name=t("Send the answer")).click()
        await expect(page.get_by_role("status")).to_have_text(t("Thank you! The page is being checked again now."))
        await expect(page.locator("form.card")).to_have_count(0)

        stack.clock.advance(5)  # past the host's minimum gap: the answer alone brings the check forward
        await stack.checked(ISERE, Outcome.SLOTS_AVAILABLE)
        alert = await stack.mail_to(email, subject="Créneau disponible : ")
        assert RDV_URL in links_in(alert)

        counted = t("Answers that kept pages watched (last 30 days)")
        await page.reload()
        await expect(page.get_by_role("main")).to_contain_text(counted)
        other = await new_page(browser, stack, locale="en-GB")
        en = Texts("en")
        await sign_up(other, stack, "hugo@example.org", en)
        await other.goto(f"/watches/new?target={ISERE}")
        await other.get_by_role("main").get_by_role("button", name=en("Watch this page")).click()
        await volunteer(other, en)
        main = other.get_by_role("main")
        await expect(main).to_contain_text(en("Nothing to answer right now."))
        await expect(main.get_by_role("listitem")).to_contain_text(en.plural("%(num)s answer", "%(num)s answers", 1))
        assert "lea" not in (await main.inner_text()).lower()
