# SPDX-License-Identifier: AGPL-3.0-or-later
"""The person's own data: the export holds all of it and nothing of anyone else; deletion erases it all."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from creneau.store import models as m
from creneau.store.accounts import accounts, magic_tokens, web_sessions

from .kit import WebKit, target


async def _give_data(kit: WebKit, email: str) -> int:
    """An account with a channel and a watch, as the watches pages will create them."""
    subscriber = await kit.store.subscribers.find_subscriber(email)
    assert subscriber is not None
    await kit.store.targets.upsert(target(), now=kit.clock.now())
    await kit.store.subscribers.add_channel(subscriber.id, "email", email, {"address": email}, now=kit.clock.now())
    await kit.store.subscribers.add_watch(
        subscriber.id, ["rdvpref-3762"], now=kit.clock.now(), label=f"watch of {email}"
    )
    return subscriber.id


async def test_export_holds_all_own_data_and_nothing_of_others(both_kit: WebKit) -> None:
    kit = both_kit
    alice = await kit.sign_in("alice@example.org")
    bob = await kit.sign_in("bob@example.org", kit.browser())
    try:
        alice_id = await _give_data(kit, "alice@example.org")
        await _give_data(kit, "bob@example.org")
        response = await alice.get("/account/export")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/json")
        assert "attachment" in response.headers["content-disposition"]
        doc = json.loads(response.text)
        assert doc["format"] == "creneau-export/1"
        assert doc["subscriber"]["id"] == alice_id
        assert doc["subscriber"]["email"] == "alice@example.org"
        assert doc["account"]["role"] == "user"
        assert [c["address"] for c in doc["channels"]] == ["alice@example.org"]
        assert [w["label"] for w in doc["watches"]] == ["watch of alice@example.org"]
        assert doc["watches"][0]["targets"] == ["rdvpref-3762"]
        assert len(doc["sessions"]) == 1
        assert [link["email"] for link in doc["sign_in_links"]] == ["alice@example.org"]
        assert "bob" not in response.text
        assert "token_hash" not in response.text
    finally:
        await bob.aclose()


async def test_export_needs_a_session(kit: WebKit) -> None:
    response = await kit.client.get("/account/export")
    assert response.status_code == 303


async def _counts(kit: WebKit) -> dict[str, int]:
    tables = {
        "subscribers": m.subscribers, "channels": m.channels, "watches": m.watches, "accounts": accounts,
        "sessions": web_sessions, "links": magic_tokens,
    }  # fmt: skip
    async with kit.store.read() as conn:
        return {
            name: int((await conn.execute(select(func.count()).select_from(table))).scalar_one())
            for name, table in tables.items()
        }


async def test_deletion_erases_everything_of_the_person_and_nothing_else(both_kit: WebKit) -> None:
    kit = both_kit
    alice = await kit.sign_in("alice@example.org")
    bob = await kit.sign_in("bob@example.org", kit.browser())
    try:
        await _give_data(kit, "alice@example.org")
        await _give_data(kit, "bob@example.org")
        before = await _counts(kit)
        response = await kit.post("/account/delete", {"confirm": "ALICE@example.org "}, client=alice, page="/account")
        assert response.status_code == 200
        assert "creneau_session=" in response.headers["set-cookie"]
        after = await _counts(kit)
        assert after == {name: count - 1 for name, count in before.items()}
        assert await kit.store.subscribers.find_subscriber("alice@example.org") is None
        assert (await alice.get("/account")).status_code == 303
        assert (await bob.get("/account")).status_code == 200
    finally:
        await bob.aclose()


@pytest.mark.parametrize(("locale", "text"), [("fr", "exactement comme indiqué"), ("en", "exactly as shown")])
async def test_deletion_re_renders_with_field_error_and_deletes_nothing_when_not_confirmed(
    kit: WebKit, locale: str, text: str
) -> None:
    await kit.sign_in("careful@example.org")
    kit.client.headers["accept-language"] = locale
    before = await _counts(kit)
    response = await kit.post("/account/delete", {"confirm": "someone@else.org"}, page="/account/delete")
    assert response.status_code == 422
    assert text in response.text
    assert 'aria-invalid="true"' in response.text
    assert await _counts(kit) == before
    assert (await kit.client.get("/account")).status_code == 200
