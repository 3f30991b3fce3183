# SPDX-License-Identifier: AGPL-3.0-or-later
"""Detector transitions made durable: openings, slot lifetimes, transitions, filtered deliveries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import pytest

from creneau.detector import DetectorState, WatchFilter, detect
from creneau.store import CheckRecorded, NotFound, Store
from creneau.types import Outcome, Slot

from .builders import T0, add_watcher, later, make_observation, make_slot, make_target, opened


class Checker:
    """Runs checks of one target through the real detector and `complete_check`, like the monitor."""

    def __init__(self, store: Store, target_id: str) -> None:
        self.store = store
        self.target_id = target_id

    async def check(self, at: datetime, slots: Sequence[Slot] = (), outcome: Outcome | None = None) -> CheckRecorded:
        (claim,) = await self.store.targets.claim_due_targets("m", at, 1, 60)
        obs = make_observation(self.target_id, at, slots, outcome=outcome)
        detection = detect(claim.detector, obs)
        return await self.store.targets.complete_check(self.target_id, "m", obs, at, detection=detection)


@pytest.fixture
async def checker(store: Store) -> Checker:
    await store.targets.upsert(make_target("t1"), now=T0)
    return Checker(store, "t1")


async def test_opening_tracks_slot_lifetimes_when_slots_come_and_go(store: Store, checker: Checker) -> None:
    await add_watcher(store, ["t1"], name="a")
    a, b, c = make_slot(7), make_slot(8), make_slot(9)
    first = await checker.check(later(0), [a, b])
    await checker.check(later(60), [a, b])
    third = await checker.check(later(120), [b, c])
    closed = await checker.check(later(180))
    assert [t.deliveries for t in first.transitions + third.transitions] == [1, 1]
    assert closed.deliveries == 0
    assert await store.openings.current("t1") is None
    (opening,) = await store.openings.history(target_id="t1")
    assert opening.started_at == later(0)
    assert opening.ended_at == later(180)
    assert opening.first_slots == (a, b)
    full = await store.openings.get(opening.id)
    lives = {life.slot.start.day: (life.first_seen, life.last_seen, life.gone_at) for life in full.slots}
    assert lives == {
        7: (later(0), later(60), later(120)),
        8: (later(0), later(120), later(180)),
        9: (later(120), later(120), later(180)),
    }
    kinds = [(t.kind, t.old_state, t.new_state) for t in reversed(await store.openings.transitions("t1"))]
    assert kinds == [
        ("opened", "closed", "open #1 (2 slots)"),
        ("new_slots", "open #1 (2 slots)", "open #1 (2 slots)"),
        ("closed", "open #1 (2 slots)", "closed"),
    ]


async def test_open_opening_records_last_seen_when_checks_show_the_same_slots(store: Store, checker: Checker) -> None:
    await add_watcher(store, ["t1"], name="a")
    await checker.check(later(0), [make_slot(7)])
    await checker.check(later(60), [make_slot(7)])
    await checker.check(later(90), outcome=Outcome.BLOCKED)
    current = await store.openings.current("t1")
    assert current is not None
    assert [(s.first_seen, s.last_seen, s.gone_at) for s in current.slots] == [(later(0), later(60), None)]


async def test_deliveries_follow_watch_filters_when_transition_alerts(store: Store) -> None:
    await store.targets.upsert(make_target("t1"), now=T0)
    early = await add_watcher(store, ["t1"], name="early", filters=WatchFilter.build(before=date(2026, 5, 8)))
    g2 = await add_watcher(store, ["t1"], name="g2", filters=WatchFilter.build(guichets=["2"]))
    everyone = await add_watcher(store, ["t1"], name="all", kinds=("email", "ntfy"))
    transition = opened("t1", T0, [make_slot(7, guichet="1"), make_slot(9, guichet="1")])
    recorded = await store.outbox.open_opening_and_enqueue(transition, now=T0)
    assert recorded.deliveries == 3
    leased = await store.outbox.lease_deliveries("s", T0, 10, 30)
    by_channel = {d.channel.id: [s["start"][:10] for s in d.payload["slots"]] for d in leased}
    assert by_channel == {
        early.channels[0].id: ["2026-05-07"],
        everyone.channels[0].id: ["2026-05-07", "2026-05-09"],
        everyone.channels[1].id: ["2026-05-07", "2026-05-09"],
    }
    assert g2.channels[0].id not in by_channel
    assert {(d.alert["target"]["id"], d.alert["kind"]) for d in leased} == {("t1", "opened")}


async def test_recording_a_transition_again_inserts_nothing_when_key_exists(store: Store) -> None:
    await store.targets.upsert(make_target("t1"), now=T0)
    await add_watcher(store, ["t1"], name="a", kinds=("email", "telegram"))
    transition = opened("t1")
    first = await store.outbox.open_opening_and_enqueue(transition, now=T0)
    again = await store.outbox.open_opening_and_enqueue(transition, now=later(5))
    assert (first.created, first.deliveries) == (True, 2)
    assert (again.created, again.deliveries, again.id, again.opening_id) == (False, 0, first.id, first.opening_id)
    assert len(await store.openings.history()) == 1
    assert len(await store.openings.transitions("t1")) == 1
    assert len(await store.outbox.for_transition(first.id)) == 2


async def test_opened_transition_closes_a_stale_opening_when_one_was_left_open(store: Store) -> None:
    await store.targets.upsert(make_target("t1"), now=T0)
    await store.outbox.open_opening_and_enqueue(opened("t1", T0), now=T0)
    second = opened("t1", later(600), state=DetectorState(opening=1))
    assert second.opening == 2
    await store.outbox.open_opening_and_enqueue(second, now=later(600))
    history = await store.openings.history(target_id="t1")
    assert [(o.seq, o.ended_at, o.close_reason) for o in history] == [
        (1, later(600), "superseded by opening 2"),
        (2, None, None),
    ]


async def test_history_filters_by_time_when_policy_learns(store: Store) -> None:
    await store.targets.upsert_many([make_target("a"), make_target("b")], now=T0)
    await store.outbox.open_opening_and_enqueue(opened("a", T0), now=T0)
    await store.outbox.open_opening_and_enqueue(opened("b", later(3600)), now=later(3600))
    assert [o.target_id for o in await store.openings.history()] == ["a", "b"]
    assert [o.target_id for o in await store.openings.history(since=later(60))] == ["b"]
    assert [o.target_id for o in await store.openings.history(limit=1)] == ["a"]


async def test_record_transition_raises_not_found_when_target_is_unknown(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.outbox.open_opening_and_enqueue(opened("ghost"), now=T0)
    with pytest.raises(NotFound):
        await store.openings.get(12345)
    with pytest.raises(NotFound):
        await store.openings.transition(12345)
