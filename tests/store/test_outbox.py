# SPDX-License-Identifier: AGPL-3.0-or-later
"""The outbox: leases, marks, retries, permanent failures, fair order."""

from __future__ import annotations

import pytest

from creneau.store import ChannelStatus, DeliveryDraft, DeliveryStatus, Store

from .builders import T0, Watcher, add_watcher, later, make_target, opened


@pytest.fixture
async def watchers(store: Store) -> list[Watcher]:
    """Five watchers of target t1, one e-mail channel each."""
    await store.targets.upsert(make_target("t1"), now=T0)
    return [await add_watcher(store, ["t1"], name=f"w{i}") for i in range(5)]


async def test_lease_hands_each_delivery_to_one_sender_when_several_lease(
    store: Store, watchers: list[Watcher]
) -> None:
    await store.outbox.open_opening_and_enqueue(opened("t1"), now=T0)
    first = await store.outbox.lease_deliveries("s1", T0, 3, 30)
    second = await store.outbox.lease_deliveries("s2", T0, 10, 30)
    assert (len(first), len(second)) == (3, 2)
    assert not {d.id for d in first} & {d.id for d in second}
    assert await store.outbox.lease_deliveries("s3", later(29), 10, 30) == []
    assert {d.attempts for d in first + second} == {1}
    assert {d.locale for d in first} == {"fr"}


async def test_lease_returns_deliveries_again_when_lease_expired(store: Store, watchers: list[Watcher]) -> None:
    await store.outbox.open_opening_and_enqueue(opened("t1"), now=T0)
    crashed = await store.outbox.lease_deliveries("crashed", T0, 10, 30)
    recovered = await store.outbox.lease_deliveries("s2", later(30), 10, 30)
    assert sorted(d.id for d in recovered) == sorted(d.id for d in crashed)
    assert {d.attempts for d in recovered} == {2}
    assert not await store.outbox.mark_sent(crashed[0], now=later(31))
    assert await store.outbox.mark_sent(recovered[0], now=later(31))
    assert (await store.outbox.get(recovered[0].id)).status is DeliveryStatus.SENT


async def test_mark_sent_succeeds_when_lease_expired_but_nobody_reclaimed(
    store: Store, watchers: list[Watcher]
) -> None:
    await store.outbox.open_opening_and_enqueue(opened("t1"), now=T0)
    (slow,) = await store.outbox.lease_deliveries("slow", T0, 1, 30)
    assert await store.outbox.mark_sent(slow, now=later(45), provider_ref="msg-1")
    assert not await store.outbox.mark_sent(slow, now=later(46))
    state = await store.outbox.get(slow.id)
    assert (state.status, state.sent_at, state.attempts) == (DeliveryStatus.SENT, later(45), 1)


async def test_mark_retry_delays_next_attempt_when_failure_is_transient(store: Store, watchers: list[Watcher]) -> None:
    await store.outbox.open_opening_and_enqueue(opened("t1"), now=T0)
    (lease,) = await store.outbox.lease_deliveries("s", T0, 1, 30)
    assert await store.outbox.mark_retry(lease, next_attempt_at=later(120), error="SMTP 451")
    state = await store.outbox.get(lease.id)
    assert (state.status, state.last_error, state.next_attempt_at) == (DeliveryStatus.FAILED, "SMTP 451", later(120))
    others = await store.outbox.lease_deliveries("s", later(1), 10, 30)
    assert lease.id not in {d.id for d in others}
    for d in others:
        await store.outbox.mark_sent(d, now=later(2))
    assert await store.outbox.next_due_at() == later(120)
    (again,) = await store.outbox.lease_deliveries("s", later(120), 10, 30)
    assert (again.id, again.attempts) == (lease.id, 2)


async def test_permanent_failure_disables_channel_and_gives_up_its_waiting_rows_when_asked(store: Store) -> None:
    await store.targets.upsert_many([make_target("t1"), make_target("t2")], now=T0)
    blocked = await add_watcher(store, ["t1", "t2"], name="blocked", kinds=("telegram", "email"))
    telegram, email = blocked.channels
    await store.outbox.open_opening_and_enqueue(opened("t1"), now=T0)
    await store.outbox.open_opening_and_enqueue(opened("t2"), now=T0)
    leases = await store.outbox.lease_deliveries("s", T0, 1, 30, kinds={"telegram"})
    (lease,) = leases
    assert await store.outbox.mark_permanent_failure(
        lease, error="Forbidden: bot was blocked by the user", now=later(1)
    )
    channel = await store.subscribers.get_channel(telegram.id)
    assert (channel.status, channel.disabled_reason) == (
        ChannelStatus.DISABLED,
        "Forbidden: bot was blocked by the user",
    )
    assert channel.disabled_at == later(1)
    counts = await store.outbox.counts()
    assert (counts[DeliveryStatus.DEAD], counts[DeliveryStatus.PENDING]) == (2, 2)
    remaining = await store.outbox.lease_deliveries("s", later(2), 10, 30)
    assert {d.channel.id for d in remaining} == {email.id}


async def test_permanent_failure_keeps_channel_when_only_the_message_failed(
    store: Store, watchers: list[Watcher]
) -> None:
    await store.outbox.open_opening_and_enqueue(opened("t1"), now=T0)
    (lease,) = await store.outbox.lease_deliveries("s", T0, 1, 30)
    assert await store.outbox.mark_permanent_failure(lease, error="HTTP 422", now=T0, disable_channel=False)
    assert (await store.subscribers.get_channel(lease.channel.id)).status is ChannelStatus.ACTIVE
    assert (await store.outbox.get(lease.id)).status is DeliveryStatus.DEAD


async def test_release_makes_delivery_due_again_without_counting_attempt_when_shutting_down(
    store: Store, watchers: list[Watcher]
) -> None:
    await store.outbox.open_opening_and_enqueue(opened("t1"), now=T0)
    (lease,) = await store.outbox.lease_deliveries("s", T0, 1, 30)
    assert await store.outbox.release(lease)
    state = await store.outbox.get(lease.id)
    assert (state.status, state.attempts) == (DeliveryStatus.PENDING, 0)


async def test_fair_order_differs_between_openings_when_same_watchers(store: Store) -> None:
    await store.targets.upsert_many([make_target("a"), make_target("b")], now=T0)
    watchers = [await add_watcher(store, ["a", "b"], name=f"w{i:02d}") for i in range(30)]
    first = await store.outbox.open_opening_and_enqueue(opened("a"), now=T0)
    second = await store.outbox.open_opening_and_enqueue(opened("b"), now=T0)
    leased = await store.outbox.lease_deliveries("s", T0, 100, 30)
    order_a = [d.watch_id for d in leased if d.transition_id == first.id]
    order_b = [d.watch_id for d in leased if d.transition_id == second.id]
    ids = sorted(w.watch.id for w in watchers)
    assert sorted(order_a) == sorted(order_b) == ids
    assert order_a != order_b
    assert order_a != ids
    assert [d.transition_id for d in leased] == [first.id] * 30 + [second.id] * 30
    stored = await store.outbox.for_transition(first.id)
    assert [d.shuffle_key for d in stored] == sorted(d.shuffle_key for d in stored)


async def test_explicit_drafts_skip_disabled_channels_when_enqueued(store: Store, watchers: list[Watcher]) -> None:
    off = watchers[0].channels[0]
    await store.subscribers.disable_channel(off.id, reason="unsubscribed", now=T0)
    drafts = [DeliveryDraft(None, w.channels[0].id, {"text": "hello"}) for w in watchers[:3]]
    recorded = await store.outbox.open_opening_and_enqueue(opened("t1"), drafts, now=T0)
    assert recorded.deliveries == 2
    leased = await store.outbox.lease_deliveries("s", T0, 10, 30)
    assert {(d.watch_id, dict(d.payload)["text"]) for d in leased} == {(None, "hello")}
    assert off.id not in {d.channel.id for d in leased}


async def test_mark_sent_many_marks_only_live_leases_when_some_were_lost(store: Store, watchers: list[Watcher]) -> None:
    await store.outbox.open_opening_and_enqueue(opened("t1"), now=T0)
    stale = await store.outbox.lease_deliveries("old", T0, 2, 30)
    fresh = await store.outbox.lease_deliveries("new", later(30), 10, 30)
    assert len(fresh) == 5
    batch = [(d, f"msg-{d.id}") for d in fresh[:3]] + [(d, None) for d in stale]
    marked = await store.outbox.mark_sent_many(batch, now=later(31))
    assert marked == {d.id for d in fresh[:3]}
    states = {d.id: await store.outbox.get(d.id) for d in fresh}
    assert [states[d.id].status for d in fresh] == [DeliveryStatus.SENT] * 3 + [DeliveryStatus.LEASED] * 2
    assert [states[d.id].provider_ref for d in fresh] == [f"msg-{d.id}" for d in fresh[:3]] + [None, None]
    assert await store.outbox.mark_sent_many([], now=later(32)) == set()
