# SPDX-License-Identifier: AGPL-3.0-or-later
"""Claims under concurrency: racing tasks and connections, and every claim/complete/expire interleaving."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from creneau.store import Delivery, DeliveryStatus, Store
from creneau.store.bulk import NewSubscription
from creneau.store.testing import reset

from .builders import T0, make_observation, make_target, opened, watched_targets

EXAMPLES = settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


@pytest.fixture
async def stores(store: Store, db_url: str) -> AsyncIterator[list[Store]]:
    """The test's store plus two more opened on the same database: three engines, three pools."""
    others = [await Store.open(db_url, migrate_to=None) for _ in range(2)]
    try:
        yield [store, *others]
    finally:
        for other in others:
            await other.close()


async def _fan_out(store: Store, deliveries: int) -> None:
    """One opening of target t1 owed to `deliveries` webhook channels of one watcher."""
    await store.targets.upsert(make_target("t1"), now=T0)
    hooks = [("webhook", f"https://hook.example.org/{i}", {}) for i in range(deliveries)]
    await store.subscribers.import_subscriptions([NewSubscription("many@example.org", hooks, ["t1"])], now=T0)
    recorded = await store.outbox.open_opening_and_enqueue(opened("t1"), now=T0)
    assert recorded.deliveries == deliveries


async def test_racing_claimers_never_share_a_target_when_tasks_and_connections_compete(stores: list[Store]) -> None:
    targets = await watched_targets(stores[0], 60)

    async def claimer(store: Store, owner: str) -> list[str]:
        mine: list[str] = []
        while batch := await store.targets.claim_due_targets(owner, T0, 4, 600):
            mine.extend(c.target.id for c in batch)
        return mine

    results = await asyncio.gather(*(claimer(stores[i % 3], f"m{i}") for i in range(6)))
    claimed = Counter(tid for result in results for tid in result)
    assert set(claimed) == {t.id for t in targets}
    assert set(claimed.values()) == {1}


async def test_racing_senders_send_each_delivery_once_when_tasks_and_connections_compete(stores: list[Store]) -> None:
    await _fan_out(stores[0], 150)

    async def sender(store: Store, owner: str) -> list[int]:
        sent: list[int] = []
        while batch := await store.outbox.lease_deliveries(owner, T0, 7, 600):
            for delivery in batch:
                assert await store.outbox.mark_sent(delivery, now=T0)
                sent.append(delivery.id)
        return sent

    results = await asyncio.gather(*(sender(stores[i % 3], f"s{i}") for i in range(8)))
    sent = Counter(did for result in results for did in result)
    assert len(sent) == 150
    assert set(sent.values()) == {1}
    assert (await stores[0].outbox.counts())[DeliveryStatus.SENT] == 150


WORKERS = st.integers(0, 2)
DELIVERY_OPS = st.lists(
    st.one_of(
        st.tuples(st.just("lease"), WORKERS, st.integers(1, 4)),
        st.tuples(st.just("sent"), WORKERS),
        st.tuples(st.just("retry"), WORKERS, st.integers(1, 90)),
        st.tuples(st.just("crash"), WORKERS),
        st.tuples(st.just("tick"), st.integers(1, 40)),
    ),
    max_size=40,
)
LEASE_S = 30


@EXAMPLES
@given(ops=DELIVERY_OPS)
async def test_delivery_leases_lose_nothing_and_never_double_send_when_claims_interleave(
    store: Store, ops: list[tuple[Any, ...]]
) -> None:
    await reset(store)
    await _fan_out(store, 6)
    now = T0
    held: dict[int, list[Delivery]] = {0: [], 1: [], 2: []}
    token: dict[int, tuple[str, int] | None] = {}  # delivery id -> the lease that may mark it
    live_until: dict[int, datetime] = {}
    sent: set[int] = set()
    for op in ops:
        kind, *args = op
        if kind == "lease":
            worker, limit = args
            got = await store.outbox.lease_deliveries(f"w{worker}", now, limit, LEASE_S)
            for d in got:
                assert d.id not in sent
                assert token.get(d.id) is None or live_until[d.id] <= now, "claimed while another lease lives"
                token[d.id] = (d.lease_owner, d.attempts)
                live_until[d.id] = d.lease_until
            held[worker].extend(got)
        elif kind in ("sent", "retry") and held[args[0]]:
            d = held[args[0]].pop(0)
            expected = token.get(d.id) == (d.lease_owner, d.attempts)
            if kind == "sent":
                ok = await store.outbox.mark_sent(d, now=now)
                if ok:
                    sent.add(d.id)
            else:
                ok = await store.outbox.mark_retry(d, next_attempt_at=now + timedelta(seconds=args[1]), error="x")
            assert ok == expected
            if ok:
                token[d.id] = None
        elif kind == "crash":
            held[args[0]] = []
        elif kind == "tick":
            now += timedelta(seconds=args[0])
    now += timedelta(days=1)
    while batch := await store.outbox.lease_deliveries("drain", now, 50, LEASE_S):
        for d in batch:
            assert d.id not in sent
            assert await store.outbox.mark_sent(d, now=now)
            sent.add(d.id)
    counts = await store.outbox.counts()
    assert counts[DeliveryStatus.SENT] == len(sent) == 6


TARGET_OPS = st.lists(
    st.one_of(
        st.tuples(st.just("claim"), WORKERS, st.integers(1, 3)),
        st.tuples(st.just("complete"), WORKERS),
        st.tuples(st.just("crash"), WORKERS),
        st.tuples(st.just("tick"), st.integers(1, 40)),
    ),
    max_size=40,
)


@EXAMPLES
@given(ops=TARGET_OPS)
async def test_target_leases_never_overlap_and_come_back_when_claims_interleave(
    store: Store, ops: list[tuple[Any, ...]]
) -> None:
    await reset(store)
    targets = await watched_targets(store, 4)
    now = T0
    held: dict[int, list[str]] = {0: [], 1: [], 2: []}
    owner_of: dict[str, str | None] = {}
    live_until: dict[str, datetime] = {}
    for op in ops:
        kind, *args = op
        if kind == "claim":
            worker, limit = args
            for claim in await store.targets.claim_due_targets(f"w{worker}", now, limit, LEASE_S):
                tid = claim.target.id
                assert owner_of.get(tid) is None or live_until[tid] <= now, "claimed while another lease lives"
                owner_of[tid], live_until[tid] = claim.owner, claim.lease_until
                held[worker].append(tid)
        elif kind == "complete" and held[args[0]]:
            worker = args[0]
            tid = held[worker].pop(0)
            result = await store.targets.complete_check(tid, f"w{worker}", make_observation(tid, now), now)
            assert result.owned == (owner_of.get(tid) == f"w{worker}")
            if result.owned:
                owner_of[tid] = None
        elif kind == "crash":
            held[args[0]] = []
        elif kind == "tick":
            now += timedelta(seconds=args[0])
    drained = await store.targets.claim_due_targets("drain", now + timedelta(days=1), 10, LEASE_S)
    assert sorted(c.target.id for c in drained) == [t.id for t in targets]
