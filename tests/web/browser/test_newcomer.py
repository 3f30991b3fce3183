# SPDX-License-Identifier: AGPL-3.0-or-later
"""A newcomer, in a real browser, in French and in English: finds the office, signs up through the e-mailed
link, watches a booking page, gets the alert when the simulator publishes a slot, and says "I booked it"."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, expect
from tests.pipeline_kit import URL, sim_slot, sim_world

from creneau.catalog.core import Catalog
from creneau.store import WatchStatus
from creneau.types import Outcome

from .stack import (
    MARKS,
    Texts,
    add_sign_in_address,
    ask_for_link,
    follow_link,
    links_in,
    new_page,
    running_stack,
    watch_from_wizard,
)

pytestmark = MARKS

TARGET = "legacy-seine-saint-denis-9846"  # the simulated legacy form of the Préfecture de Seine-Saint-Denis
ALERT_SUBJECT = {"fr": "Créneau disponible : ", "en": "Slot available: "}


@pytest.mark.parametrize(
    ("lang", "backend"),
    [
        pytest.param("fr", "sqlite", id="french-by-accept-language"),
        pytest.param("en", "sqlite", id="english-by-the-language-switch"),
        pytest.param("fr", "postgresql", id="french-on-postgresql", marks=pytest.mark.postgres),
    ],
)
async def test_newcomer_signs_up_watches_and_books_from_the_alert(
    browser: Browser, tmp_path: Path, catalog: Catalog, database_url: str, lang: str, backend: str
) -> None:
    t, email = Texts(lang), "amina@example.org"
    async with running_stack(tmp_path, sim_world(), catalog, database_url) as stack:
        page = await new_page(browser, stack, locale="fr-FR")
        await page.goto("/")
        if lang == "en":
            await page.get_by_role("banner").get_by_role("button", name="English").click()
        await expect(page.locator("html")).to_have_attribute("lang", lang)
        heading = {"fr": "Soyez prévenu dès qu'un rendez-vous en préfecture s'ouvre",
                   "en": "Know when a prefecture appointment opens"}  # fmt: skip
        await expect(page.get_by_role("heading", level=1)).to_have_text(heading[lang])

        # The wizard, then "Watch this page" sends the newcomer to sign in and back to the form.
        await page.get_by_role("main").get_by_role("link", name=t("Find my office")).click()
        await watch_from_wizard(page, t, "Bobigny", "sejour.other", TARGET)
        await expect(page).to_have_url(f"{stack.url}/login?next=/watches/new%3Ftarget%3D{TARGET}")
        await ask_for_link(page, email, t)
        await follow_link(page, stack, email, t)

        await expect(page).to_have_url(f"{stack.url}/watches/new?target={TARGET}")
        await page.get_by_role("main").get_by_role("button", name=t("Watch this page")).click()
        await expect(page).to_have_url(f"{stack.url}/watches")
        notice = page.get_by_role("status")
        await expect(notice).to_contain_text(t("You have no active channel yet: add one so that alerts reach you."))
        await notice.get_by_role("link", name=t("Add a channel")).click()
        await add_sign_in_address(page, email, t)

        # The monitor checks the page (no slot), the simulator publishes one, the next check alerts.
        await stack.checked(TARGET, Outcome.NO_SLOTS)
        slot = sim_slot(1, days=1, hour=9, visible_from=stack.clock.now())
        stack.world.add_slots([slot])
        await stack.checked(TARGET, Outcome.SLOTS_AVAILABLE, after=await stack.next_check(TARGET))
        alert = await stack.mail_to(email, subject=ALERT_SUBJECT[lang])  # in the person's language
        assert str(alert.message["Subject"]).endswith("Préfecture - Seine-Saint-Denis")
        assert URL in links_in(alert)
        await stack.delivered(1)

        await page.get_by_role("navigation").get_by_role("link", name=t("My watches")).click()
        await page.get_by_role("main").get_by_role("link", name=t("My alerts")).click()
        card = page.locator("li.card").first
        await expect(card).to_contain_text("Préfecture - Seine-Saint-Denis")
        await expect(card).to_contain_text(f"{t.slot(slot.start)} — Guichet A")
        await expect(card).to_contain_text(f"email: {t('sent')}")
        await card.get_by_role("button", name=t("I booked it")).click()
        await expect(card).to_contain_text(t("You booked an appointment from this alert. The watch is paused."))

        subscriber = await stack.store.subscribers.find_subscriber(email)
        assert subscriber is not None
        (watch,) = await stack.store.subscribers.list_watches(subscriber_id=subscriber.id)
        assert watch.status is WatchStatus.PAUSED
        await page.get_by_role("navigation").get_by_role("link", name=t("My watches")).click()
        await expect(page.locator(f"#watch-{watch.id}")).to_contain_text(t("paused"))
