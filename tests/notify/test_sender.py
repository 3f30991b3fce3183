# SPDX-License-Identifier: AGPL-3.0-or-later
"""The sender against a real store (SQLite and PostgreSQL) and the fake providers on real ports."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from tests import pipeline_kit as kit
from tests.pipeline_kit import SECRET, T0, URL, wait_until

from creneau.config import load_settings
from creneau.detector import DetectorState, detect
from creneau.notify.fakes.providers import FakeProviders
from creneau.notify.lanes import split_rate
from creneau.notify.ratelimit import Rate
from creneau.notify.registry import Transports
from creneau.notify.sender import Sender, SenderOptions
from creneau.sim.clock import ManualClock
from creneau.store import ChannelStatus, DeliveryState, DeliveryStatus, Store
from creneau.types import Observation, Outcome, Slot, System, Target

db_url, pg_url, migrated_sqlite, store = kit.db_url, kit.pg_url, kit.migrated_sqlite, kit.store  # fixtures

TARGET = Target("ssd", System.LEGACY, URL, "pref-93", "sejour.other", label="Seine-Saint-Denis")
SLOT = Slot(datetime(2026, 5, 5, 7, 0, tzinfo=UTC), guichet="17637", guichet_label="Guichet A")


@dataclass
class Rig:
    store: Store
    clock: ManualClock
    fakes: FakeProviders
    sender: Sender

    async def person(self, email: str, **extra: dict[str, Any]) -> int:
        subscriber = await self.store.subscribers.add_subscriber(email, now=T0)
        for kind, config in {"email": {"address": email}, **extra}.items():
            address = str(next(iter(config.values())))
            await self.store.subscribers.add_channel(subscriber.id, kind, address, config, now=T0)
        return subscriber.id

    async def opening(self, *watchers: int, target: Target = TARGET, watches_each: int = 1) -> int:
        """Slots appear on `target`: returns the recorded transition's id (deliveries enqueued)."""
        await self.store.targets.upsert(target, now=T0)
        for subscriber in watchers:
            for _ in range(watches_each):
                await self.store.subscribers.add_watch(subscriber, [target.id], now=T0)
        observation = Observation(target.id, self.clock.now(), Outcome.SLOTS_AVAILABLE, "test", (SLOT,))
        (transition,) = detect(DetectorState(), observation).transitions
        return (await self.store.outbox.open_opening_and_enqueue(transition, now=self.clock.now())).id

    async def deliveries(self, transition_id: int) -> list[DeliveryState]:
        return await self.store.outbox.for_transition(transition_id)


@asynccontextmanager
async def rig(store: Store, **options: Any) -> AsyncIterator[Rig]:
    clock = ManualClock(T0)
    async with FakeProviders(webhook_secret=SECRET) as fakes, aiohttp.ClientSession() as session:
        transports = Transports(load_settings(**fakes.settings_overrides()), session)
        sender = Sender(store, transports, clock=clock, options=SenderOptions(owner="me", **options))
        try:
            yield Rig(store, clock, fakes, sender)
        finally:
            await sender.close()
            await transports.close()


def hook(r: Rig, path: str) -> dict[str, dict[str, Any]]:
    return {"webhook": {"url": r.fakes.webhook.endpoint(path), "secret": SECRET}}


async def test_sender_delivers_each_channel_once_when_an_opening_is_enqueued(store: Store) -> None:
    async with rig(store) as r:
        alice = await r.person(
            "alice@example.org", telegram={"chat": 4242}, ntfy={"topic": "alice-topic-1"}, **hook(r, "/a")
        )
        transition = await r.opening(alice)
        await r.sender.drain()
        await r.sender.drain()

        rows = await r.deliveries(transition)
        assert [d.status for d in rows] == [DeliveryStatus.SENT] * 4
        assert all(d.provider_ref for d in rows)
        assert len(r.fakes.smtp.messages) == len(r.fakes.telegram.messages) == 1
        assert len(r.fakes.ntfy.messages) == len(r.fakes.webhook.received) == 1
        assert r.sender.stats.sent == 4


async def test_sender_posts_to_public_channels_before_personal_chats_when_an_opening_fans_out(store: Store) -> None:
    async with rig(store, batch=4, concurrency=1, kinds=("telegram",)) as r:
        channel_id = r.fakes.telegram.add_channel("@creneau_ssd")
        people = [await r.person(f"p{i}@example.org", telegram={"chat": 9000 + i}) for i in range(12)]
        owner = await r.person("ops@example.org", telegram={"chat": "@creneau_ssd", "kind": "channel"})
        await r.opening(*people, owner)
        await r.sender.drain()

        assert len(r.fakes.telegram.messages) == 13
        assert r.fakes.telegram.messages[0].chat_id == channel_id  # then the 12 people, in a random order


async def test_sender_retries_later_with_backoff_when_the_provider_fails_for_now(store: Store) -> None:
    async with rig(store) as r:
        transition = await r.opening(await r.person("bob@example.org"))
        r.fakes.smtp.data_replies.append((451, "4.3.0 Try again later"))
        await r.sender.drain()
        (row,) = await r.deliveries(transition)
        assert row.status is DeliveryStatus.FAILED
        assert T0 + timedelta(seconds=5) <= row.next_attempt_at <= T0 + timedelta(seconds=10)

        r.clock.advance(10)
        await r.sender.drain()
        (row,) = await r.deliveries(transition)
        assert (row.status, row.attempts) == (DeliveryStatus.SENT, 2)


async def test_sender_waits_at_least_the_providers_retry_after_when_told(store: Store) -> None:
    async with rig(store) as r:
        r.fakes.webhook.answers["/busy"] = (429, "slow down", {"Retry-After": "120"})
        transition = await r.opening(await r.person("carol@example.org", **hook(r, "/busy")))
        await r.sender.drain()

        hooked = [d for d in await r.deliveries(transition) if d.status is DeliveryStatus.FAILED]
        assert len(hooked) == 1
        assert hooked[0].next_attempt_at >= T0 + timedelta(seconds=120)


@pytest.mark.parametrize(
    ("answer", "disabled"),
    [pytest.param(410, True, id="gone-disables"), pytest.param(404, False, id="unknown-4xx-keeps-channel")],
)
async def test_sender_gives_up_and_disables_only_dead_destinations_when_refused(
    store: Store, answer: int, disabled: bool
) -> None:
    async with rig(store) as r:
        r.fakes.webhook.answers["/dead"] = (answer, "no", {})
        dave = await r.person("dave@example.org", **hook(r, "/dead"))
        await r.opening(dave)
        await r.sender.drain()
        await r.sender.drain()  # the owner's notice, if any

        channels = {c.kind: c for c in await r.store.subscribers.list_channels(dave)}
        expected = ChannelStatus.DISABLED if disabled else ChannelStatus.ACTIVE
        assert channels["webhook"].status is expected
        assert channels["email"].status is ChannelStatus.ACTIVE
        assert len(r.fakes.smtp.messages) == (2 if disabled else 1)  # the alert, then "your webhook was disabled"
        assert r.sender.stats.dead == 1


async def test_sender_defers_instead_of_waiting_when_a_destination_is_over_its_rate(store: Store) -> None:
    async with rig(store) as r:
        transition = await r.opening(await r.person("erin@example.org"), watches_each=5)
        await r.sender.drain()

        rows = await r.deliveries(transition)
        statuses = sorted(d.status.value for d in rows)
        assert statuses == ["failed", "failed", "sent", "sent", "sent"]  # e-mail: 6/min per address, burst 3
        assert all("rate limit" in (d.last_error or "") for d in rows if d.status is DeliveryStatus.FAILED)
        assert len(r.fakes.smtp.messages) == 3


@pytest.mark.parametrize(
    ("url", "later_s"),
    [
        pytest.param("https://prefecture-rdv.example.com/booking/create/1/0", 0, id="unofficial-link"),
        pytest.param(URL, 25 * 3600, id="older-than-max-age"),
    ],
)
async def test_sender_gives_up_without_disabling_when_an_alert_must_not_go_out(
    store: Store, url: str, later_s: float
) -> None:
    async with rig(store) as r:
        frank = await r.person("frank@example.org")
        transition = await r.opening(frank, target=Target("x", System.LEGACY, url))
        r.clock.advance(later_s)
        await r.sender.drain()

        (row,) = await r.deliveries(transition)
        assert row.status is DeliveryStatus.DEAD
        assert r.fakes.smtp.messages == []
        (channel,) = await r.store.subscribers.list_channels(frank)
        assert channel.status is ChannelStatus.ACTIVE


async def test_sender_wakes_on_a_new_delivery_when_polling_is_slow(store: Store) -> None:
    async with rig(store, poll_s=60) as r:
        grace = await r.person("grace@example.org")
        running = asyncio.create_task(r.sender.run())
        await wait_until(lambda: r.sender.running)  # listening, its first (empty) lease done or under way
        await r.opening(grace)
        await r.fakes.smtp.messages.wait_for(1, timeout_s=10)
        r.sender.stop()
        await asyncio.wait_for(running, 10)
        assert r.sender.stats.sent == 1


async def test_sender_gives_back_unstarted_deliveries_when_stopped(store: Store) -> None:
    async with rig(store, concurrency=1, kinds=("webhook",), grace_s=5) as r:
        r.fakes.webhook.held.add("/slow")
        people = [await r.person(f"p{i}@example.org", **hook(r, "/slow")) for i in range(3)]
        transition = await r.opening(*people)
        running = asyncio.create_task(r.sender.run())
        await r.fakes.webhook.received.wait_for(1)
        r.sender.stop()
        r.fakes.webhook.release.set()  # the request in flight gets its answer and is marked
        await asyncio.wait_for(running, 10)

        hooks = {c.id for p in people for c in await r.store.subscribers.list_channels(p) if c.kind == "webhook"}
        rows = [d for d in await r.deliveries(transition) if d.channel_id in hooks]
        assert sorted(d.status.value for d in rows) == ["pending", "pending", "sent"]
        assert all(d.attempts == 0 for d in rows if d.status is DeliveryStatus.PENDING)  # given back, not counted


@pytest.mark.parametrize(
    ("processes", "expected"),
    [
        pytest.param(1, Rate(30, 10), id="alone"),
        pytest.param(3, Rate(10, 3), id="three-processes"),
        pytest.param(20, Rate(1.5, 1), id="burst-at-least-one"),
    ],
)
def test_split_rate_gives_each_sender_its_share_when_several_run(processes: int, expected: Rate) -> None:
    assert split_rate(Rate(30, 10), processes) == expected
