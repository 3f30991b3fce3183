# SPDX-License-Identifier: AGPL-3.0-or-later
"""Targets: upsert, due claims with leases, check completion, pauses."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy.exc import StatementError

from creneau.detector import DetectorState, detect
from creneau.store import DeliveryStatus, NotFound, Store, WatchStatus
from creneau.types import Outcome

from .builders import T0, add_watcher, later, make_observation, make_slot, make_target, watched_targets


async def test_upsert_keeps_schedule_and_refreshes_description_when_target_exists(store: Store) -> None:
    await store.targets.upsert(make_target("t1"), now=T0)
    await store.targets.reschedule("t1", later(600))
    await store.targets.upsert(replace(make_target("t1"), label="New label"), now=later(10))
    record = await store.targets.get("t1")
    assert record.target.label == "New label"
    assert record.target.guichets == {"1": "Guichet 1", "2": "Guichet 2"}
    assert record.state.next_check_at == later(600)
    assert record.detector == DetectorState()


async def test_get_raises_not_found_when_target_is_unknown(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.targets.get("nope")


async def test_claim_skips_target_when_nobody_watches_it(store: Store) -> None:
    await store.targets.upsert(make_target("lonely"), now=T0)
    await watched_targets(store, 1)
    claimed = await store.targets.claim_due_targets("m1", T0, 10, 60)
    assert [c.target.id for c in claimed] == ["t000"]


async def test_claim_skips_target_when_its_only_watch_is_paused_or_channel_disabled(store: Store) -> None:
    await store.targets.upsert_many([make_target("a"), make_target("b")], now=T0)
    wa = await add_watcher(store, ["a"], name="alice")
    wb = await add_watcher(store, ["b"], name="bob")
    await store.subscribers.set_watch_status(wa.watch.id, WatchStatus.PAUSED)
    await store.subscribers.disable_channel(wb.channels[0].id, reason="bounced", now=T0)
    assert await store.targets.claim_due_targets("m1", T0, 10, 60) == []


async def test_claim_returns_due_targets_once_earliest_first_when_several_claim(store: Store) -> None:
    targets = await watched_targets(store, 3)
    await store.targets.reschedule(targets[0].id, later(-30))
    await store.targets.reschedule(targets[2].id, later(30))
    first = await store.targets.claim_due_targets("m1", T0, 10, 60)
    assert [c.target.id for c in first] == ["t000", "t001"]
    assert all(c.lease_until == later(60) and c.owner == "m1" for c in first)
    assert await store.targets.claim_due_targets("m2", T0, 10, 60) == []
    assert [c.target.id for c in await store.targets.claim_due_targets("m2", later(30), 10, 60)] == ["t002"]


async def test_claim_returns_target_again_when_lease_expired(store: Store) -> None:
    await watched_targets(store, 1)
    await store.targets.claim_due_targets("crashed", T0, 10, 60)
    assert await store.targets.claim_due_targets("m2", later(59), 10, 60) == []
    again = await store.targets.claim_due_targets("m2", later(60), 10, 60)
    assert [c.owner for c in again] == ["m2"]


async def test_claim_skips_paused_backing_off_and_excluded_hosts_when_asked(store: Store) -> None:
    await store.targets.upsert_many(
        [make_target("p"), make_target("b"), make_target("x", host="rdv.example.gouv.fr"), make_target("ok")], now=T0
    )
    await add_watcher(store, ["p", "b", "x", "ok"], name="w")
    await store.targets.pause("p", until=later(3600), reason="blocked 3 times", now=T0, tell_watchers=False)
    claim = await store.targets.claim_due_targets("m", T0, 10, 5)
    await store.targets.complete_check(
        "b", "m", make_observation("b", T0, outcome=Outcome.BLOCKED), T0, backoff_until=later(900)
    )
    for c in claim:
        if c.target.id != "b":
            await store.targets.release(c.target.id, "m")
    ids = [
        c.target.id
        for c in await store.targets.claim_due_targets("m", later(1), 10, 5, exclude_hosts={"rdv.example.gouv.fr"})
    ]
    assert ids == ["ok"]


async def test_complete_check_records_observation_and_releases_lease_when_owner(store: Store) -> None:
    await watched_targets(store, 1)
    (claim,) = await store.targets.claim_due_targets("m1", T0, 1, 60)
    obs = make_observation("t000", later(1), outcome=Outcome.NETWORK_ERROR)
    result = await store.targets.complete_check("t000", "m1", obs, later(181))
    assert result.owned
    assert result.transitions == ()
    record = await store.targets.get("t000")
    assert record.state.lease_owner is None
    assert record.state.lease_until is None
    assert record.state.next_check_at == later(181)
    assert record.state.last_outcome is Outcome.NETWORK_ERROR
    assert record.state.consecutive_failures == 1
    (stored,) = await store.observations.recent("t000")
    assert stored.id == result.observation_id
    assert stored.observation.outcome is Outcome.NETWORK_ERROR
    assert claim.state.consecutive_failures == 0


async def test_complete_check_keeps_only_observation_when_lease_was_reclaimed(store: Store) -> None:
    await watched_targets(store, 1)
    await store.targets.claim_due_targets("slow", T0, 1, 60)
    await store.targets.claim_due_targets("fast", later(61), 1, 60)
    obs = make_observation("t000", later(62), [make_slot()])
    detection = detect(DetectorState(), obs)
    result = await store.targets.complete_check("t000", "slow", obs, later(300), detection=detection)
    assert not result.owned
    assert result.transitions == ()
    record = await store.targets.get("t000")
    assert record.state.lease_owner == "fast"
    assert record.detector == DetectorState()
    assert await store.openings.current("t000") is None
    assert len(await store.observations.recent("t000")) == 1


async def test_complete_check_persists_detector_state_and_transition_when_slots_appear(store: Store) -> None:
    await watched_targets(store, 1)
    (claim,) = await store.targets.claim_due_targets("m1", T0, 1, 60)
    obs = make_observation("t000", later(2), [make_slot(7), make_slot(8)], page=b"<html>slots</html>")
    detection = detect(claim.detector, obs)
    result = await store.targets.complete_check("t000", "m1", obs, later(60), detection=detection)
    assert [t.deliveries for t in result.transitions] == [1]
    assert result.deliveries == 1
    record = await store.targets.get("t000")
    assert record.detector == detection.state
    assert record.detector.is_open
    assert record.state.consecutive_failures == 0
    (stored,) = await store.observations.recent("t000")
    assert await store.observations.page(stored.observation.page_digest) == b"<html>slots</html>"
    assert (await store.outbox.counts())[DeliveryStatus.PENDING] == 1


async def test_observations_store_a_page_once_when_digest_repeats(store: Store) -> None:
    await watched_targets(store, 1)
    for i in range(3):
        await store.observations.record(make_observation("t000", later(i), page=b"same body"), now=later(i))
    stored = await store.observations.recent("t000")
    assert len({s.observation.page_digest for s in stored}) == 1
    assert await store.observations.prune(before=later(2)) == (2, 0)
    assert await store.observations.prune(before=later(10)) == (1, 1)
    assert await store.observations.page(stored[0].observation.page_digest) is None


async def test_release_gives_lease_back_when_owner(store: Store) -> None:
    await watched_targets(store, 1)
    await store.targets.claim_due_targets("m1", T0, 1, 60)
    assert not await store.targets.release("t000", "someone-else")
    assert await store.targets.release("t000", "m1", next_check_at=later(5))
    assert await store.targets.claim_due_targets("m2", later(4), 1, 60) == []
    assert len(await store.targets.claim_due_targets("m2", later(5), 1, 60)) == 1


async def test_pause_tells_every_watcher_and_resume_makes_target_due_when_asked(store: Store) -> None:
    await store.targets.upsert(make_target("t1"), now=T0)
    await add_watcher(store, ["t1"], name="a", kinds=("email", "telegram"))
    await add_watcher(store, ["t1"], name="b")
    paused = await store.targets.pause("t1", until=later(3600), reason="blocked", now=T0)
    assert paused is not None
    assert paused.deliveries == 3
    assert (await store.targets.get("t1")).state.is_paused(later(10))
    assert await store.targets.claim_due_targets("m", later(10), 5, 60) == []
    resumed = await store.targets.resume("t1", reason="operator", now=later(20))
    assert resumed is not None
    assert resumed.deliveries == 3
    assert len(await store.targets.claim_due_targets("m", later(20), 5, 60)) == 1
    assert await store.targets.resume("t1", reason="again", now=later(30)) is None
    kinds = [t.kind for t in await store.openings.transitions("t1")]
    assert kinds == ["resumed", "paused"]


async def test_next_due_at_accounts_for_pauses_and_leases_when_computing(store: Store) -> None:
    assert await store.targets.next_due_at() is None
    targets = await watched_targets(store, 2)
    await store.targets.reschedule(targets[0].id, later(100))
    await store.targets.reschedule(targets[1].id, later(50))
    await store.targets.pause(targets[1].id, until=later(500), reason="x", now=T0, tell_watchers=False)
    assert await store.targets.next_due_at() == later(100)
    await store.targets.claim_due_targets("m", later(100), 5, 60)
    assert await store.targets.next_due_at() == later(160)


async def test_store_refuses_naive_datetime_when_writing(store: Store) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        await store.targets.upsert(make_target("t1"), now=T0.replace(tzinfo=None))


async def test_delete_target_removes_its_history_when_asked(store: Store) -> None:
    await watched_targets(store, 1)
    await store.observations.record(make_observation("t000", T0), now=T0)
    assert await store.targets.delete("t000")
    assert not await store.targets.delete("t000")
    assert await store.observations.recent("t000") == []
