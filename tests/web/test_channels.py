# SPDX-License-Identifier: AGPL-3.0-or-later
"""Channels on the web: e-mail verified by link (through the SMTP sink), ntfy, webhook behind the SSRF
guard, Telegram's link page, removal and re-enabling by the owner only, and RFC 8058 one-click unsubscribe."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest

from creneau.notify.links import unsubscribe_token
from creneau.store import ChannelStatus

from .kit import BASE, WebKit, csrf_of
from .people import TARGET, People, email_channel, form, three_people, watch

_VERIFY = re.compile(r"(https?://\S+/channels/verify\?token=[A-Za-z0-9_%-]+)")


@pytest.fixture
async def people(kit: WebKit) -> AsyncIterator[People]:
    async for value in three_people(kit):
        yield value


async def _kinds(kit: WebKit, subscriber_id: int) -> list[tuple[str, str, ChannelStatus]]:
    return [(c.kind, c.address, c.status) for c in await kit.store.subscribers.list_channels(subscriber_id)]


async def _verification_link(kit: WebKit, before: int) -> str:
    mails = await kit.sink.messages.wait_for(before + 1)
    body = mails[before].message.get_body(("plain",))
    assert body is not None
    found = _VERIFY.search(body.get_content())
    assert found, "no verification link in the e-mail"
    return found.group(1).replace(BASE, "")


async def test_sign_in_address_becomes_a_channel_at_once_when_chosen(kit: WebKit, people: People) -> None:
    await email_channel(people.owner, kit.store)
    assert await _kinds(kit, people.owner.subscriber_id) == [("email", "owner@example.org", ChannelStatus.ACTIVE)]


async def test_another_address_receives_nothing_until_its_link_is_confirmed(kit: WebKit, people: People) -> None:
    owner = people.owner
    await watch(owner, kit.store)
    before = len(kit.sink.messages)
    response = await form(owner, "/channels/email", {"email": "Work@Example.org"}, page="/channels")
    assert response.status_code == 303
    link = await _verification_link(kit, before)
    assert kit.sink.messages[before].rcpt_tos == ("work@example.org",)
    assert "waiting for confirmation" in (await owner.client.get("/channels", headers={"accept-language": "en"})).text
    assert await _kinds(kit, owner.subscriber_id) == []
    assert await kit.store.subscribers.routes_for_target(TARGET) == []

    stranger_browser = kit.browser()  # the link works from any browser: the token is the proof
    try:
        page = await stranger_browser.get(link)
        assert page.status_code == 200
        assert "work@example.org" in page.text
        assert await _kinds(kit, owner.subscriber_id) == []  # opening the link changed nothing
        token = link.rpartition("token=")[2]
        done = await stranger_browser.post("/channels/verify", data={"csrf_token": csrf_of(page.text), "token": token})
        assert done.status_code == 200
        again = await stranger_browser.post("/channels/verify", data={"csrf_token": csrf_of(page.text), "token": token})
        assert again.status_code == 410
    finally:
        await stranger_browser.aclose()
    assert await _kinds(kit, owner.subscriber_id) == [("email", "work@example.org", ChannelStatus.ACTIVE)]
    assert [r.channel_kind for r in await kit.store.subscribers.routes_for_target(TARGET)] == ["email"]


async def test_verification_link_is_refused_when_it_expired(kit: WebKit, people: People) -> None:
    before = len(kit.sink.messages)
    await form(people.owner, "/channels/email", {"email": "late@example.org"}, page="/channels")
    link = await _verification_link(kit, before)
    kit.clock.advance(25 * 3600)
    assert (await people.owner.client.get(link)).status_code == 410
    assert (await people.owner.client.get("/channels/verify?token=nope")).status_code == 400


@pytest.mark.parametrize(
    ("locale", "path", "data", "field", "text"),
    [
        pytest.param("fr", "/channels/email", {"email": "nope"}, "email", "adresse électronique valide", id="fr-email"),
        pytest.param("en", "/channels/email", {"email": "nope"}, "email", "Enter a valid e-mail", id="en-email"),
        pytest.param("fr", "/channels/ntfy", {"topic": "a b"}, "topic", "Utilisez de 1 à 64", id="fr-topic"),
        pytest.param(
            "en",
            "/channels/ntfy",
            {"topic": "x", "server": "ftp://x"},
            "server",
            "like https://ntfy.sh",
            id="en-server",
        ),
        pytest.param(
            "fr",
            "/channels/ntfy",
            {"topic": "x", "server": "http://127.0.0.1:9"},
            "server",
            "internet public",
            id="fr-private-server",
        ),
        pytest.param(
            "en", "/channels/webhook", {"url": "nope", "secret": "s" * 20}, "url", "Enter an address", id="en-url"
        ),
        pytest.param(
            "fr",
            "/channels/webhook",
            {"url": "https://93.184.215.14/h", "secret": "short"},
            "secret",
            "au moins 16",
            id="fr-secret",
        ),
        pytest.param(
            "en",
            "/channels/webhook",
            {"url": "http://10.0.0.5/hook", "secret": "s" * 20},
            "url",
            "not on the public internet",
            id="en-ssrf",
        ),
        pytest.param(
            "fr",
            "/channels/webhook",
            {"url": "http://[::ffff:127.0.0.1]/", "secret": "s" * 20},
            "url",
            "internet public",
            id="fr-ssrf-mapped",
        ),
    ],
)
async def test_channel_forms_show_field_errors_in_language_and_save_nothing_when_invalid(
    kit: WebKit, people: People, locale: str, path: str, data: dict[str, str], field: str, text: str
) -> None:
    response = await form(people.owner, path, data, page="/channels", headers={"accept-language": locale})
    assert response.status_code == 422
    assert text in response.text
    assert f'id="{field}-error"' in response.text
    assert await _kinds(kit, people.owner.subscriber_id) == []


async def test_ntfy_topic_and_public_webhook_are_saved_when_valid(kit: WebKit, people: People) -> None:
    assert (
        await form(people.owner, "/channels/ntfy", {"topic": "creneau-abc123"}, page="/channels")
    ).status_code == 303
    hook = {"url": "https://93.184.215.14/creneau", "secret": "whsec-0123456789abcdef"}
    assert (await form(people.owner, "/channels/webhook", hook, page="/channels")).status_code == 303
    kinds = sorted((k, s) for k, _a, s in await _kinds(kit, people.owner.subscriber_id))
    assert kinds == [("ntfy", ChannelStatus.ACTIVE), ("webhook", ChannelStatus.ACTIVE)]
    page = (await people.owner.client.get("/channels")).text
    assert "whsec-0123456789abcdef" not in page  # the secret is never shown back


@pytest.mark.parametrize("action", ["delete", "enable"])
@pytest.mark.parametrize("who", ["co", "stranger"])
async def test_channel_actions_answer_404_when_the_channel_is_someone_elses(
    kit: WebKit, people: People, action: str, who: str
) -> None:
    channel_id = await email_channel(people.owner, kit.store)
    await email_channel(people.co, kit.store)
    await kit.store.subscribers.disable_channel(channel_id, reason="test", now=kit.clock.now())
    response = await form(getattr(people, who), f"/channels/{channel_id}/{action}", page="/channels")
    assert response.status_code == 404
    assert (await kit.store.subscribers.get_channel(channel_id)).status is ChannelStatus.DISABLED


async def test_owner_turns_a_channel_back_on_and_removes_it(kit: WebKit, people: People) -> None:
    channel_id = await email_channel(people.owner, kit.store)
    await kit.store.subscribers.disable_channel(channel_id, reason="test", now=kit.clock.now())
    assert (await form(people.owner, f"/channels/{channel_id}/enable", page="/channels")).status_code == 303
    assert (await kit.store.subscribers.get_channel(channel_id)).status is ChannelStatus.ACTIVE
    assert (await form(people.owner, f"/channels/{channel_id}/delete", page="/channels")).status_code == 303
    assert await _kinds(kit, people.owner.subscriber_id) == []


@pytest.mark.parametrize(
    "path",
    [
        "/channels/email",
        "/channels/ntfy",
        "/channels/webhook",
        "/channels/verify",
        "/channels/telegram",
        "/channels/1/delete",
    ],
)
async def test_channel_routes_refuse_a_post_without_csrf_token(kit: WebKit, people: People, path: str) -> None:
    await email_channel(people.owner, kit.store)
    response = await people.owner.client.post(path, data={"email": "x@example.org", "topic": "abc", "token": "x"})
    assert response.status_code == 403
    assert len(await _kinds(kit, people.owner.subscriber_id)) == 1


def _unsubscribe_path(kit: WebKit, channel_id: int) -> str:
    """The path of the List-Unsubscribe URL the e-mail transport writes (same settings, same secret)."""
    secret = kit.settings.link_secret.get_secret_value().encode()
    url = kit.settings.email_unsubscribe_url.format(
        channel_id=channel_id, token=unsubscribe_token(secret, str(channel_id))
    )
    return urlsplit(url).path


async def test_one_click_unsubscribe_post_disables_the_channel_without_csrf_token(kit: WebKit, people: People) -> None:
    channel_id = await email_channel(people.owner, kit.store)
    mail_client = kit.browser()  # a mail provider: no cookie, no CSRF token, another origin
    try:
        response = await mail_client.post(
            _unsubscribe_path(kit, channel_id),
            content=b"List-Unsubscribe=One-Click",
            headers={"content-type": "application/x-www-form-urlencoded", "origin": "https://mail.example.net"},
        )
    finally:
        await mail_client.aclose()
    assert response.status_code == 200
    channel = await kit.store.subscribers.get_channel(channel_id)
    assert channel.status is ChannelStatus.DISABLED
    assert channel.disabled_reason == "unsubscribed with the one-click link"


async def test_unsubscribe_link_opened_in_a_browser_only_asks_when_fetched(kit: WebKit, people: People) -> None:
    channel_id = await email_channel(people.owner, kit.store)
    page = await kit.client.get(_unsubscribe_path(kit, channel_id), headers={"accept-language": "fr"})
    assert page.status_code == 200
    assert "Ne plus envoyer d’alertes à" in page.text
    assert (await kit.store.subscribers.get_channel(channel_id)).status is ChannelStatus.ACTIVE


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_unsubscribe_refuses_a_token_of_another_channel(kit: WebKit, people: People, method: str) -> None:
    mine = await email_channel(people.owner, kit.store)
    theirs = await email_channel(people.stranger, kit.store)
    forged = _unsubscribe_path(kit, theirs).replace(f"/{theirs}/", f"/{mine}/")
    response = await kit.client.request(method, forged, content=b"List-Unsubscribe=One-Click")
    assert response.status_code == 400
    assert (await kit.store.subscribers.get_channel(mine)).status is ChannelStatus.ACTIVE


async def test_telegram_page_says_it_is_not_configured_when_no_bot_is_set(kit: WebKit, people: People) -> None:
    response = await form(people.owner, "/channels/telegram", page="/channels", headers={"accept-language": "en"})
    assert response.status_code == 200
    assert "Telegram is not configured on this instance" in response.text
    assert "t.me/" not in response.text
    assert await _kinds(kit, people.owner.subscriber_id) == []


async def test_telegram_page_shows_the_bots_one_time_link_when_a_bot_is_set(kit: WebKit, people: People) -> None:
    state = kit.app.state.web
    state.settings = state.settings.model_copy(update={"bot_username": "creneau_test_bot"})
    response = await form(people.owner, "/channels/telegram", page="/channels")
    assert response.status_code == 200
    assert re.search(r"https://t\.me/creneau_test_bot\?start=[A-Za-z0-9_-]{16,64}", response.text)


async def test_channel_list_says_active_in_the_gender_of_its_noun_in_french(kit: WebKit, people: People) -> None:
    await watch(people.owner, kit.store)
    await email_channel(people.owner, kit.store)
    channels = (await people.owner.client.get("/channels")).text
    watches = (await people.owner.client.get("/watches")).text
    assert ">actif</span>" in channels  # un canal actif
    assert ">active</span>" in watches  # une surveillance active
