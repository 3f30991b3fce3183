# SPDX-License-Identifier: AGPL-3.0-or-later
"""The monitor runner against the simulator on a real port and a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import pytest
from tests import pipeline_kit as kit
from tests.pipeline_kit import FORM, SSD, T0, TARGET_ID, URL, sim_slot, sim_world, wait_until

from creneau.config import load_settings
from creneau.monitor.policy import Policy, PolicySettings
from creneau.monitor.politeness import DEFAULT_HOST_RULES, HostRules, next_paris_midnight
from creneau.monitor.runner import MonitorRunner, RunnerOptions
from creneau.sim.clock import ManualClock
from creneau.sim.model import Episode, EpisodeKind, Planning, SimTarget, World
from creneau.sim.server import SimServer
from creneau.sources.base import SourceDeps
from creneau.sources.http import Http
from creneau.store import Store
from creneau.types import Outcome, System, Target

db_url, pg_url, migrated_sqlite, store = kit.db_url, kit.pg_url, kit.migrated_sqlite, kit.store  # fixtures

TARGET = Target(TARGET_ID, System.LEGACY, URL, "pref-93", "sejour.other", 9846, {"17637": "A", "17638": "B"})
OTHER = SimTarget("ssd2", System.LEGACY, SSD, 9847, (Planning("1", "Guichet"),))
OTHER_TARGET = Target("ssd-9847", System.LEGACY, f"https://{SSD}/booking/create/9847/0", guichets={"1": "G"})


@dataclass
class Rig:
    store: Store
    clock: ManualClock
    runner: MonitorRunner

    async def round(self, *, after_s: float = 0.0) -> int:
        if after_s:
            self.clock.advance(after_s)
        started = await self.runner.tick(sync=True)
        await self.runner.wait_idle()
        return started

    async def watch(self, *targets: Target, watchers: int = 1) -> None:
        await self.store.targets.upsert_many(targets, now=self.clock.now())
        for i in range(watchers):
            person = await self.store.subscribers.add_subscriber(f"p{i}@example.org", now=self.clock.now())
            address = {"address": f"p{i}@example.org"}
            await self.store.subscribers.add_channel(person.id, "email", address["address"], address, now=T0)
            await self.store.subscribers.add_watch(person.id, [t.id for t in targets], now=self.clock.now())


@asynccontextmanager
async def rig(store: Store, world: World, *, policy: Policy | None = None, **options: object) -> AsyncIterator[Rig]:
    clock = ManualClock(T0)
    async with SimServer(world, clock) as sim, Http(user_agent="t", route_overrides=sim.route_overrides) as http:
        settings = load_settings(legacy_request_gap_s=0.0, legacy_max_weeks=1)
        deps = SourceDeps(http=http, clock=clock, settings=settings)
        runner = MonitorRunner(
            store,
            deps,
            clock=clock,
            options=RunnerOptions(owner="me", **options),
            policy=policy,  # type: ignore[arg-type]
        )
        yield Rig(store, clock, runner)


async def test_runner_checks_a_target_once_when_many_watch_it(store: Store) -> None:
    async with rig(store, sim_world(slots=(sim_slot(1, days=1, hour=9),))) as r:
        await r.watch(TARGET, watchers=3)
        assert await r.round() == 1

        recent = await store.observations.recent(TARGET_ID)
        assert [o.observation.outcome for o in recent] == [Outcome.SLOTS_AVAILABLE]
        assert r.runner.stats.deliveries == 3  # one per watcher's channel, from the one check


async def test_runner_leaves_a_target_alone_when_nobody_watches_it(store: Store) -> None:
    async with rig(store, sim_world()) as r:
        await store.targets.upsert(TARGET, now=T0)
        assert await r.round() == 0
        assert await store.observations.recent(TARGET_ID) == []


async def test_runner_spaces_requests_to_one_host_when_targets_share_it(store: Store) -> None:
    async with rig(store, sim_world(FORM, OTHER)) as r:
        await r.watch(TARGET, OTHER_TARGET)
        gap = DEFAULT_HOST_RULES[System.LEGACY].min_gap_s
        assert await r.round() == 1  # the legacy module: one request at a time, 5 s apart
        assert r.runner.stats.released >= 1  # claimed, then given back untouched …
        waiting = [(await store.targets.get(t.id)).state.next_check_at for t in (TARGET, OTHER_TARGET)]
        assert T0 + timedelta(seconds=gap) in waiting  # … and not due again before its host allows it
        assert await r.round() == 0
        assert await r.round(after_s=gap) == 1


async def test_runner_waits_for_the_next_paris_day_when_the_daily_budget_is_spent(store: Store) -> None:
    # A check of the two-guichet form sends 7 requests (terms, its answer, the list, 2 per guichet): 2 fit,
    # each with room left for a calendar's 4 more.
    rules = {System.LEGACY: HostRules(min_gap_s=1, max_concurrent=1, daily_budget=18)}
    async with rig(store, sim_world(), policy=Policy(PolicySettings(host_rules=rules))) as r:
        await r.watch(TARGET)

        async def early_round() -> int:  # the schedule, stretched to the budget, would wait; the store insists
            r.clock.advance(400)
            await store.targets.reschedule(TARGET_ID, r.clock.now())
            return await r.round()

        assert await r.round() == 1
        assert await early_round() == 1
        assert r.runner.policy.hosts[SSD].used_today == 14
        assert await early_round() == 0
        r.clock.set(next_paris_midnight(r.clock.now()))
        assert await r.round() == 1


async def test_runner_keeps_and_reports_an_unrecognised_page_once(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    changed = Episode(EpisodeKind.LAYOUT_CHANGED, T0, T0 + timedelta(days=1), host=SSD)
    async with rig(store, sim_world(episodes=(changed,))) as r:
        await r.watch(TARGET)
        with caplog.at_level(logging.WARNING, logger="creneau.monitor.runner"):
            await r.round()
            await r.round(after_s=3600)

        recent = await store.observations.recent(TARGET_ID)
        assert [o.observation.outcome for o in recent] == [Outcome.LAYOUT_UNKNOWN] * 2
        digest = recent[0].observation.page_digest
        assert digest
        assert await store.observations.page(digest)
        assert len([m for m in caplog.messages if "does not recognise" in m]) == 1


async def test_runner_takes_over_a_crashed_runners_target_when_its_lease_ends(store: Store) -> None:
    async with rig(store, sim_world()) as r:
        await r.watch(TARGET)
        assert len(await store.targets.claim_due_targets("crashed", T0, 5, lease_s=60)) == 1
        assert await r.round() == 0
        assert await r.round(after_s=61) == 1
        assert (await store.targets.get(TARGET_ID)).state.lease_owner is None


async def test_runner_lets_a_check_in_flight_finish_when_stopped(store: Store) -> None:
    slow = Episode(EpisodeKind.SLOW, T0, T0 + timedelta(days=1), host=SSD, delay_s=0.3)
    async with rig(store, sim_world(episodes=(slow,)), poll_s=0.05) as r:
        await r.watch(TARGET)
        running = asyncio.create_task(r.runner.run())
        await wait_until(lambda: r.runner.in_flight == 1)
        r.runner.stop()
        await asyncio.wait_for(running, 10)

        assert r.runner.stats.checks == 1
        state = (await store.targets.get(TARGET_ID)).state
        assert state.last_outcome is Outcome.NO_SLOTS
        assert state.lease_owner is None
