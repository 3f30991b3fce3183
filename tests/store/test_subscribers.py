# SPDX-License-Identifier: AGPL-3.0-or-later
"""Subscribers, channels and watches: CRUD and the rules the database keeps."""

from __future__ import annotations

from datetime import date

import pytest

from creneau.detector import WatchFilter
from creneau.store import ChannelStatus, Conflict, DeliveryStatus, NotFound, Store, WatchStatus
from creneau.store.bulk import NewSubscription

from .builders import T0, add_watcher, make_target, opened


async def test_add_subscriber_refuses_second_account_when_email_is_taken(store: Store) -> None:
    first = await store.subscribers.add_subscriber("a@example.org", now=T0, locale="en", name="Ana")
    assert (first.email, first.locale, first.name, first.created_at) == ("a@example.org", "en", "Ana", T0)
    with pytest.raises(Conflict, match=r"a@example\.org"):
        await store.subscribers.add_subscriber("a@example.org", now=T0)
    assert await store.subscribers.find_subscriber("a@example.org") == first
    assert await store.subscribers.find_subscriber("b@example.org") is None
    assert [s.id for s in await store.subscribers.list_subscribers()] == [first.id]


async def test_subscribers_without_email_coexist_when_added(store: Store) -> None:
    one = await store.subscribers.add_subscriber(None, now=T0, name="public channel A")
    two = await store.subscribers.add_subscriber(None, now=T0, name="public channel B")
    assert one.id != two.id


async def test_add_channel_refuses_duplicate_and_unknown_subscriber_when_asked(store: Store) -> None:
    sub = await store.subscribers.add_subscriber("a@example.org", now=T0)
    channel = await store.subscribers.add_channel(sub.id, "telegram", "12345", {"chat_id": 12345}, now=T0)
    assert (channel.kind, channel.address, dict(channel.config), channel.status) == (
        "telegram",
        "12345",
        {"chat_id": 12345},
        ChannelStatus.ACTIVE,
    )
    assert "chat_id" not in repr(channel)
    with pytest.raises(Conflict):
        await store.subscribers.add_channel(sub.id, "telegram", "12345", {}, now=T0)
    with pytest.raises(NotFound):
        await store.subscribers.add_channel(9999, "email", "x@example.org", {}, now=T0)
    assert [c.id for c in await store.subscribers.list_channels(sub.id)] == [channel.id]


async def test_disable_then_enable_channel_records_reason_when_toggled(store: Store) -> None:
    sub = await store.subscribers.add_subscriber("a@example.org", now=T0)
    channel = await store.subscribers.add_channel(sub.id, "email", "a@example.org", {}, now=T0)
    assert await store.subscribers.disable_channel(channel.id, reason="mailbox does not exist", now=T0)
    assert not await store.subscribers.disable_channel(channel.id, reason="again", now=T0)
    disabled = await store.subscribers.get_channel(channel.id)
    assert (disabled.status, disabled.disabled_reason) == (ChannelStatus.DISABLED, "mailbox does not exist")
    assert await store.subscribers.enable_channel(channel.id)
    enabled = await store.subscribers.get_channel(channel.id)
    assert (enabled.status, enabled.disabled_reason, enabled.disabled_at) == (ChannelStatus.ACTIVE, None, None)


async def test_add_watch_refuses_unknown_target_and_stores_nothing_when_one_is_missing(store: Store) -> None:
    await store.targets.upsert(make_target("t1"), now=T0)
    sub = await store.subscribers.add_subscriber("a@example.org", now=T0)
    with pytest.raises(NotFound, match="nope"):
        await store.subscribers.add_watch(sub.id, ["t1", "nope"], now=T0)
    with pytest.raises(NotFound):
        await store.subscribers.add_watch(9999, ["t1"], now=T0)
    with pytest.raises(ValueError, match="at least one target"):
        await store.subscribers.add_watch(sub.id, [], now=T0)
    assert await store.subscribers.list_watches() == []


async def test_watches_keep_targets_and_filters_when_listed(store: Store) -> None:
    await store.targets.upsert_many([make_target("t1"), make_target("t2")], now=T0)
    flt = WatchFilter.build(before=date(2026, 6, 1), guichets=["Guichet 2"])
    w = await add_watcher(store, ["t2", "t1"], name="a", filters=flt)
    assert w.watch.target_ids == ("t1", "t2")
    assert await store.subscribers.get_watch(w.watch.id) == w.watch
    assert (await store.subscribers.get_watch(w.watch.id)).filters == flt
    assert [x.id for x in await store.subscribers.list_watches(target_id="t1")] == [w.watch.id]
    assert await store.subscribers.list_watches(subscriber_id=w.subscriber.id + 1) == []
    with pytest.raises(NotFound):
        await store.subscribers.get_watch(9999)


async def test_routes_list_active_watch_channel_pairs_when_fanning_out(store: Store) -> None:
    await store.targets.upsert(make_target("t1"), now=T0)
    a = await add_watcher(store, ["t1"], name="a", kinds=("email", "ntfy"))
    b = await add_watcher(store, ["t1"], name="b")
    c = await add_watcher(store, ["t1"], name="c")
    await store.subscribers.disable_channel(a.channels[1].id, reason="x", now=T0)
    assert await store.subscribers.set_watch_status(c.watch.id, WatchStatus.PAUSED)
    assert not await store.subscribers.set_watch_status(9999, WatchStatus.PAUSED)
    routes = await store.subscribers.routes_for_target("t1")
    assert [(r.watch_id, r.channel_id, r.channel_kind) for r in routes] == [
        (a.watch.id, a.channels[0].id, "email"),
        (b.watch.id, b.channels[0].id, "email"),
    ]


async def test_delete_subscriber_erases_their_channels_watches_and_deliveries_when_asked(store: Store) -> None:
    await store.targets.upsert(make_target("t1"), now=T0)
    gone = await add_watcher(store, ["t1"], name="gone")
    stays = await add_watcher(store, ["t1"], name="stays")
    recorded = await store.outbox.open_opening_and_enqueue(opened("t1"), now=T0)
    assert await store.subscribers.delete_subscriber(gone.subscriber.id)
    assert not await store.subscribers.delete_subscriber(gone.subscriber.id)
    assert await store.subscribers.list_channels(gone.subscriber.id) == []
    assert await store.subscribers.list_watches(subscriber_id=gone.subscriber.id) == []
    left = await store.outbox.for_transition(recorded.id)
    assert [d.channel_id for d in left] == [stays.channels[0].id]
    assert (await store.outbox.counts())[DeliveryStatus.PENDING] == 1


async def test_remove_watch_and_channel_delete_them_when_asked(store: Store) -> None:
    await store.targets.upsert(make_target("t1"), now=T0)
    w = await add_watcher(store, ["t1"], name="a")
    assert await store.subscribers.remove_watch(w.watch.id)
    assert not await store.subscribers.remove_watch(w.watch.id)
    assert await store.subscribers.remove_channel(w.channels[0].id)
    assert not await store.subscribers.remove_channel(w.channels[0].id)
    with pytest.raises(NotFound):
        await store.subscribers.get_channel(w.channels[0].id)
    with pytest.raises(NotFound):
        await store.subscribers.get_subscriber(9999)


async def test_import_subscriptions_creates_everything_in_one_go_when_entries_are_valid(store: Store) -> None:
    await store.targets.upsert_many([make_target("t1"), make_target("t2")], now=T0)
    entries = [
        NewSubscription(
            f"p{i}@example.org",
            [("email", f"p{i}@example.org", {}), ("telegram", str(1000 + i), {"chat_id": 1000 + i})],
            ["t1", "t2"] if i % 2 else ["t1"],
            locale="en" if i % 3 == 0 else "fr",
        )
        for i in range(300)
    ]
    ids = await store.subscribers.import_subscriptions(entries, now=T0)
    assert len(ids) == 300
    assert (await store.subscribers.get_subscriber(ids[7])).email == "p7@example.org"
    assert len(await store.subscribers.routes_for_target("t1")) == 600
    assert len(await store.subscribers.routes_for_target("t2")) == 300
    (watch,) = await store.subscribers.list_watches(subscriber_id=ids[3])
    assert watch.target_ids == ("t1", "t2")
    assert await store.subscribers.import_subscriptions([], now=T0) == []


@pytest.mark.parametrize(
    ("entry", "error"),
    [
        pytest.param(NewSubscription("dup@example.org", [], ["t1"]), Conflict, id="duplicate-email"),
        pytest.param(NewSubscription("new@example.org", [], ["ghost"]), NotFound, id="unknown-target"),
    ],
)
async def test_import_subscriptions_stores_nothing_when_one_entry_is_refused(
    store: Store, entry: NewSubscription, error: type[Exception]
) -> None:
    await store.targets.upsert(make_target("t1"), now=T0)
    await store.subscribers.add_subscriber("dup@example.org", now=T0)
    good = NewSubscription("fine@example.org", [("email", "fine@example.org", {})], ["t1"])
    with pytest.raises(error):
        await store.subscribers.import_subscriptions([good, entry], now=T0)
    assert [s.email for s in await store.subscribers.list_subscribers()] == ["dup@example.org"]
