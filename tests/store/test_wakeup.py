# SPDX-License-Identifier: AGPL-3.0-or-later
"""Wake-ups: committed work wakes waiting workers; a lost wake-up only costs the polling timeout."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from creneau.store import DELIVERIES, TARGETS, Store
from creneau.store.wakeup import Wakeups

from .builders import T0, add_watcher, make_target, opened

WAIT_S = 10.0
"""Upper bound for waits that must succeed (they return as soon as the wake-up arrives)."""


@pytest.fixture
async def other(store: Store, db_url: str) -> AsyncIterator[Store]:
    """The process that waits: a second store on PostgreSQL (another engine, as another machine would
    have); the same store on SQLite, whose wake-ups are in-process only."""
    if not store.is_postgres:
        yield store
        return
    second = await Store.open(db_url, migrate_to=None)
    try:
        yield second
    finally:
        await second.close()


async def _enqueue(store: Store) -> None:
    await store.targets.upsert(make_target("t1"), now=T0)
    await add_watcher(store, ["t1"], name="a")
    await store.outbox.open_opening_and_enqueue(opened("t1"), now=T0)


async def test_enqueue_wakes_a_waiting_sender_when_transaction_commits(store: Store, other: Store) -> None:
    with await other.subscribe(DELIVERIES) as sub:
        await _enqueue(store)
        assert await sub.wait(WAIT_S)


async def test_wait_returns_at_once_when_wake_up_came_before_it(store: Store) -> None:
    with await store.subscribe(TARGETS) as sub:
        await store.notify(TARGETS)
        assert await sub.wait(WAIT_S)


async def test_wake_ups_before_a_wait_fold_into_one() -> None:
    """In the hub, so that it holds on both engines: PostgreSQL may deliver two NOTIFYs of two transactions
    one on each side of a wait, which is still one wake-up per arrival."""
    hub = Wakeups()
    with await hub.subscribe(TARGETS) as sub:
        hub.fire_local(TARGETS)
        hub.fire_local(TARGETS)
        assert await sub.wait(1.0)
        assert not await sub.wait(0.01)


async def test_rolled_back_transaction_wakes_nobody_when_it_fails(store: Store) -> None:
    async def failing() -> None:
        async with store.write() as tx:
            await tx.wake(DELIVERIES)
            raise RuntimeError("boom")

    with await store.subscribe(DELIVERIES) as sub:
        with pytest.raises(RuntimeError, match="boom"):
            await failing()
        assert not await sub.wait(0.05)


async def test_new_watch_wakes_monitors_when_added(store: Store, other: Store) -> None:
    await store.targets.upsert(make_target("t1"), now=T0)
    with await other.subscribe(TARGETS) as sub:
        await add_watcher(store, ["t1"], name="a")
        assert await sub.wait(WAIT_S)


async def test_listener_listens_again_when_its_connection_is_killed(store: Store, other: Store) -> None:
    if not store.is_postgres:
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; SQLite wake-ups are in-process")
    with await other.subscribe(DELIVERIES) as sub:
        listener = other.wakeups.listener
        assert listener is not None
        assert listener.backend_pid is not None
        async with store.read() as conn:
            killed = await conn.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": listener.backend_pid})
            assert killed.scalar() is True
        assert await sub.wait(WAIT_S), "a reconnect wakes everybody: notifications may have been missed"
        assert listener.reconnects == 1
        assert await listener.listen(DELIVERIES, timeout_s=WAIT_S)
        await _enqueue(store)
        assert await sub.wait(WAIT_S)


async def test_subscriber_is_woken_when_listen_lands_after_it_stopped_waiting(store: Store) -> None:
    if not store.is_postgres:
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; SQLite wake-ups are in-process")
    conninfo = store.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    hub = Wakeups(conninfo, listen_timeout_s=0.0)
    try:
        with await hub.subscribe(DELIVERIES) as sub:  # returns before the LISTEN is confirmed
            assert await sub.wait(WAIT_S), "work committed before the LISTEN must not wait for the poll"
    finally:
        await hub.close()
