# SPDX-License-Identifier: AGPL-3.0-or-later
"""Web push end to end: the page's subscription becomes a `webpush` channel, the sender encrypts the alert
for that browser (RFC 8291) and signs it (VAPID), and the fake push service decrypts exactly what the
person's browser would show. A subscription the push service calls gone disables the channel."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import aiohttp
import httpx2
import pytest

from creneau.detector import DetectorState, detect
from creneau.notify.fakes.push import FakePushService
from creneau.notify.registry import Transports
from creneau.notify.sender import Sender, SenderOptions
from creneau.store import ChannelStatus
from creneau.types import Observation, Outcome, Slot

from .kit import WebKit, csrf_of
from .people import TARGET, People, Person, three_people, watch


@pytest.fixture
async def people(kit: WebKit) -> AsyncIterator[People]:
    async for value in three_people(kit):
        yield value


@pytest.fixture
async def push() -> AsyncIterator[FakePushService]:
    async with FakePushService() as service:
        yield service


@pytest.fixture
def local(kit: WebKit) -> WebKit:
    """The fake push service listens on 127.0.0.1: let the SSRF guard allow it, as the demo does."""
    state = kit.app.state.web
    state.settings = state.settings.model_copy(update={"webhook_allow_private": True})
    return kit


async def subscribe(person: Person, subscription: Any) -> httpx2.Response:
    token = csrf_of((await person.client.get("/channels")).text)
    return await person.client.post(
        "/push/subscribe",
        content=json.dumps(subscription).encode(),
        headers={"content-type": "application/json", "x-csrf-token": token},
    )


async def test_channels_page_offers_push_with_the_instances_key_and_no_inline_script(
    kit: WebKit, people: People
) -> None:
    page = (await people.owner.client.get("/channels")).text
    assert 'data-push-subscribe data-key="' in page
    assert '<script src="/static/push.js" defer></script>' in page
    assert "<script>" not in page
    worker = await kit.client.get("/static/sw.js")
    assert worker.status_code == 200
    assert "javascript" in worker.headers["content-type"]
    assert (kit.settings.data_dir / "vapid_private.pem").stat().st_mode & 0o077 == 0


async def test_subscribe_saves_one_webpush_channel_for_the_person(
    local: WebKit, people: People, push: FakePushService
) -> None:
    subscription = push.subscribe()
    first = await subscribe(people.owner, subscription)
    assert first.status_code == 201
    again = await subscribe(people.owner, subscription)
    assert again.status_code == 200
    (channel,) = await local.store.subscribers.list_channels(people.owner.subscriber_id)
    assert (channel.kind, channel.address, channel.status) == (
        "webpush",
        subscription["endpoint"],
        ChannelStatus.ACTIVE,
    )
    assert await local.store.subscribers.list_channels(people.stranger.subscriber_id) == []


@pytest.mark.parametrize(
    "subscription",
    [
        pytest.param({"endpoint": "https://push.example.net/x"}, id="no-keys"),
        pytest.param(
            {"endpoint": "https://push.example.net/x", "keys": {"p256dh": "AAAA", "auth": "AAAA"}}, id="bad-keys"
        ),
        pytest.param(["not", "an", "object"], id="not-an-object"),
    ],
)
async def test_subscribe_refuses_what_is_not_a_push_subscription(
    kit: WebKit, people: People, subscription: Any
) -> None:
    response = await subscribe(people.owner, subscription)
    assert response.status_code == 422
    assert await kit.store.subscribers.list_channels(people.owner.subscriber_id) == []


async def test_subscribe_refuses_a_private_push_service_when_the_guard_is_on(
    kit: WebKit, people: People, push: FakePushService
) -> None:
    response = await subscribe(people.owner, push.subscribe())  # 127.0.0.1, guard on by default
    assert response.status_code == 422
    assert await kit.store.subscribers.list_channels(people.owner.subscriber_id) == []


async def test_subscribe_refuses_a_request_without_csrf_token(
    kit: WebKit, people: People, push: FakePushService
) -> None:
    response = await people.owner.client.post("/push/subscribe", json=push.subscribe())
    assert response.status_code == 403
    assert await kit.store.subscribers.list_channels(people.owner.subscriber_id) == []


async def _send_opening(kit: WebKit) -> None:
    """Slots appear on TARGET; one sender round delivers every web push delivery."""
    slot = Slot(datetime(2026, 5, 12, 7, 0, tzinfo=UTC), guichet="1", guichet_label="Guichet 1")
    observation = Observation(TARGET, kit.clock.now(), Outcome.SLOTS_AVAILABLE, "test", (slot,))
    (transition,) = detect(DetectorState(), observation).transitions
    await kit.store.outbox.open_opening_and_enqueue(transition, now=kit.clock.now())
    settings = kit.app.state.web.settings
    async with aiohttp.ClientSession() as session:
        transports = Transports(settings, session)
        sender = Sender(kit.store, transports, clock=kit.clock, options=SenderOptions(owner="push", kinds=("webpush",)))
        try:
            await sender.drain()
        finally:
            await sender.close()
            await transports.close()


async def test_alert_reaches_the_browser_encrypted_and_signed_and_reads_right_once_decrypted(
    local: WebKit, people: People, push: FakePushService
) -> None:
    await watch(people.owner, local.store)
    owner_sub, stranger_sub = push.subscribe(), push.subscribe()
    assert (await subscribe(people.owner, owner_sub)).status_code == 201
    assert (await subscribe(people.stranger, stranger_sub)).status_code == 201  # watches nothing
    await _send_opening(local)
    (received,) = await push.received.wait_for(1)
    assert received.subscription == owner_sub["endpoint"].rpartition("/")[2]
    assert received.headers["Content-Encoding"] == "aes128gcm"
    assert received.headers["Urgency"] == "high"
    key = re.search(r'data-key="([^"]+)"', (await people.owner.client.get("/channels")).text)
    assert key is not None
    assert received.headers["Authorization"].endswith(f"k={key.group(1)}")  # signed with the key browsers got
    message = received.json
    assert message["kind"] == "alert"
    assert message["lang"] == "fr"
    assert message["title"].startswith("Créneau disponible")
    assert "mardi 12 mai 2026" in message["body"]
    assert "09:00" in message["body"]  # 07:00 UTC is 09:00 in Paris
    assert message["url"] == "https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/3762/"
    assert push.refused == []


async def test_channel_is_disabled_when_the_push_service_says_the_subscription_is_gone(
    local: WebKit, people: People, push: FakePushService
) -> None:
    await watch(people.owner, local.store)
    subscription = push.subscribe()
    await subscribe(people.owner, subscription)
    push.gone.add(subscription["endpoint"].rpartition("/")[2])
    await _send_opening(local)
    (channel,) = await local.store.subscribers.list_channels(people.owner.subscriber_id)
    assert channel.status is ChannelStatus.DISABLED
    assert (channel.disabled_reason or "").startswith("webpush.gone")
