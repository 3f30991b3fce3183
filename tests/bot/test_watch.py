# SPDX-License-Identifier: AGPL-3.0-or-later
"""`/watch`: the guided choice of office and booking page, end to end through the fake Bot API."""

from __future__ import annotations

import pytest

from creneau.bot.watch import MAX_WATCHES, TargetCb
from creneau.catalog.core import Catalog
from creneau.store import Store, WatchStatus

from .kit import Accounts, Person, only

BOBIGNY_PAGE = "legacy-seine-saint-denis-9829"  # the prefecture's page in Bobigny (démarche not identified)


def buttons(message: object) -> list[str]:
    markup = getattr(message, "reply_markup", None) or {}
    return [b["text"] for row in markup.get("inline_keyboard", []) for b in row]


async def test_watch_creates_watch_on_chosen_page_when_guided_from_departement_number(
    camille: Person, accounts: Accounts, store: Store, catalog: Catalog
) -> None:
    subscriber = await accounts.linked(camille, "camille@example.org")
    assert "Où habitez-vous" in only(await camille.say("/watch")).plain
    offices = only(await camille.say("93"))
    assert "Seine-Saint-Denis (93)" in offices.plain
    assert buttons(offices)[0] == "🔔 Préfecture - Seine-Saint-Denis"
    assert "Sous-préfecture - Saint-Denis" in buttons(offices)  # listed, without the bell: no page to watch
    pages = only(await camille.press(offices, "Préfecture - Seine-Saint-Denis"))
    assert len(buttons(pages)) == len(catalog.targets_for("pref-93")) == 4
    assert "Bobigny — form 9829" in pages.plain
    assert "lisez la page de réservation" in pages.plain
    position = [t.target.id for t in catalog.targets_for("pref-93")].index(BOBIGNY_PAGE) + 1
    done = only(await camille.press(pages, f"{position}. "))
    assert "C'est fait" in done.plain
    assert "https://www.seine-saint-denis.gouv.fr/booking/create/9829/0" in done.plain
    (watch,) = await store.subscribers.list_watches(subscriber_id=subscriber)
    assert watch.target_ids == (BOBIGNY_PAGE,)
    assert watch.status is WatchStatus.ACTIVE
    assert (await store.targets.get(BOBIGNY_PAGE)).target.url.endswith("/9829/0")


async def test_watch_puts_commune_office_first_when_given_a_commune_name(camille: Person, accounts: Accounts) -> None:
    await accounts.linked(camille, "camille@example.org")
    offices = only(await camille.say("/watch Saint-Denis"))
    assert "Plusieurs communes" in offices.plain
    assert "Saint-Denis (93)" in buttons(offices)
    chosen = only(await camille.press(offices, "Saint-Denis (93)"))
    assert buttons(chosen)[0] == "Sous-préfecture - Saint-Denis"
    honest = only(await camille.press(chosen, "Sous-préfecture - Saint-Denis"))
    assert "ne connaît aucune page de réservation" in honest.plain
    assert "seine-saint-denis.gouv.fr" in honest.plain


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Bobigny", "🔔 Préfecture - Seine-Saint-Denis"),
        ("93000", "🔔 Préfecture - Seine-Saint-Denis"),
        ("2A", "Préfecture - Corse-du-Sud"),
    ],
    ids=["name", "postcode", "corsica"],
)
async def test_watch_lists_offices_when_place_resolves(
    camille: Person, accounts: Accounts, typed: str, expected: str
) -> None:
    await accounts.linked(camille, "camille@example.org")
    await camille.say("/watch")
    assert expected in buttons(only(await camille.say(typed)))


async def test_watch_suggests_communes_when_name_is_misspelt(camille: Person, accounts: Accounts) -> None:
    await accounts.linked(camille, "camille@example.org")
    suggestion = only(await camille.say("/watch Bobingy"))
    assert "Vouliez-vous dire" in suggestion.plain
    assert "Bobigny (93)" in buttons(suggestion)


@pytest.mark.parametrize("typed", ["Zzzzqqq", "x" * 200], ids=["unknown", "too-long"])
async def test_watch_asks_again_kindly_when_place_is_not_understood(
    camille: Person, accounts: Accounts, store: Store, typed: str
) -> None:
    subscriber = await accounts.linked(camille, "camille@example.org")
    await camille.say("/watch")
    answer = only(await camille.say(typed))
    assert "Essayez" in answer.plain or "un peu long" in answer.plain
    assert "93" in only(await camille.say("93")).plain  # still waiting for a place
    assert await store.subscribers.list_watches(subscriber_id=subscriber) == []


async def test_watch_says_so_once_when_page_is_already_watched(
    camille: Person, accounts: Accounts, store: Store
) -> None:
    subscriber = await accounts.linked(camille, "camille@example.org")
    offices = only(await camille.say("/watch 93"))
    pages = only(await camille.press(offices, "Préfecture - Seine-Saint-Denis"))
    await camille.press(pages, "1. ")
    assert "déjà" in only(await camille.press(pages, "1. ")).plain
    assert len(await store.subscribers.list_watches(subscriber_id=subscriber)) == 1


async def test_watch_refuses_more_watches_when_account_has_the_maximum(
    camille: Person, accounts: Accounts, store: Store, catalog: Catalog
) -> None:
    subscriber = await accounts.linked(camille, "camille@example.org")
    others = [t.target for t in catalog.targets.values() if t.target.office_id != "pref-93"][:MAX_WATCHES]
    await store.targets.upsert_many(others, now=accounts.clock.now())
    for target in others:
        await store.subscribers.add_watch(subscriber, [target.id], now=accounts.clock.now())
    offices = only(await camille.say("/watch 93"))
    pages = only(await camille.press(offices, "Préfecture - Seine-Saint-Denis"))
    assert "le maximum" in only(await camille.press(pages, "1. ")).plain
    assert len(await store.subscribers.list_watches(subscriber_id=subscriber)) == MAX_WATCHES


@pytest.mark.parametrize(
    "data",
    ["wt:no-such-target", "wo:no-such-office", "wc:00000", "wt:" + "x" * 60, "wa:pause:notanumber", "garbage"],
    ids=["target", "office", "commune", "long", "bad-int", "garbage"],
)
async def test_watch_buttons_change_nothing_when_callback_data_is_forged(
    camille: Person, accounts: Accounts, store: Store, data: str
) -> None:
    subscriber = await accounts.linked(camille, "camille@example.org")
    anchor = only(await camille.say("/watch 93"))
    assert await camille.press_data(anchor, data) == []
    assert "plus valable" in camille.alerts()[-1]
    assert await store.subscribers.list_watches(subscriber_id=subscriber) == []


async def test_watch_asks_to_link_first_when_chat_is_not_linked(camille: Person, store: Store) -> None:
    assert "Reliez d'abord ce chat" in only(await camille.say("/watch 93")).plain
    anchor = camille.received[-1]
    reply = only(await camille.press_data(anchor, TargetCb(target=BOBIGNY_PAGE).pack()))
    assert "Reliez d'abord" in reply.plain
    assert await store.subscribers.list_watches() == []
