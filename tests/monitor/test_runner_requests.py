# SPDX-License-Identifier: AGPL-3.0-or-later
"""A legacy host with several three-guichet forms, monitored for hours of simulated time by the real runner,
store and HTTP client against the simulator on a real port, with the simulator's own rate rules (502 above
~1 request/s, a ban above 200 requests an hour): host budgets count every request, so neither ever comes."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from tests import pipeline_kit as kit
from tests.pipeline_kit import SSD, T0

from creneau.config import load_settings
from creneau.monitor.policy import Policy
from creneau.monitor.politeness import DEFAULT_HOST_RULES
from creneau.monitor.runner import CheckReport, MonitorRunner, RunnerOptions
from creneau.sim.clock import ScenarioClock
from creneau.sim.model import Planning, RateRules, SimSlot, SimTarget, World
from creneau.sim.server import SimServer
from creneau.sim.sites.ratelimit import Decision
from creneau.sources.base import SourceDeps
from creneau.sources.http import Http
from creneau.store import Store
from creneau.types import Outcome, System, Target

pytestmark = pytest.mark.e2e

migrated_sqlite = kit.migrated_sqlite  # fixture

SPEED = 360.0  # simulated seconds per real second: 2.5 simulated hours in 25 s
RUN = timedelta(hours=2, minutes=30)
GAP_S = 1.5  # simulated seconds between two requests to the host, as `legacy_request_gap_s` paces them
FORMS = (9846, 9847, 9848)


def form(form_id: int) -> SimTarget:
    plannings = tuple(Planning(f"{form_id}{g}", f"Guichet {g}") for g in "123")
    return SimTarget(f"f{form_id}", System.LEGACY, SSD, form_id, plannings, "Titres de séjour")


def target(form_id: int) -> Target:
    guichets = {f"{form_id}{g}": f"Guichet {g}" for g in "123"}
    url = f"https://{SSD}/booking/create/{form_id}/0"
    return Target(f"legacy-ssd-{form_id}", System.LEGACY, url, "pref-93", "sejour", form_id, guichets)


def world() -> World:
    # One guichet of the first form shows a slot for the second hour: its calendar makes those checks costlier.
    slot = SimSlot(1, "f9846", T0 + timedelta(days=3), T0 + timedelta(hours=1), T0 + timedelta(hours=2), "98461")
    return World({f"f{i}": form(i) for i in FORMS}, [slot], [], [], rules=RateRules(), seed=3)


@pytest.fixture
async def store(migrated_sqlite: Path, tmp_path: Path) -> AsyncIterator[Store]:
    path = tmp_path / "store.sqlite3"
    shutil.copyfile(migrated_sqlite, path)
    store = await Store.open(f"sqlite+aiosqlite:///{path}", migrate_to=None)
    try:
        yield store
    finally:
        await store.close()


async def test_runner_is_never_banned_nor_refused_by_a_legacy_host_when_several_forms_share_it(store: Store) -> None:
    clock = ScenarioClock(T0, speed=SPEED)
    reports: list[CheckReport] = []
    seen: list[datetime] = []  # every request the simulated host received, in simulated time
    targets = [target(i) for i in FORMS]
    await store.targets.upsert_many(targets, now=T0)
    person = await store.subscribers.add_subscriber("p@example.org", now=T0)
    await store.subscribers.add_channel(person.id, "email", "p@example.org", {"address": "p@example.org"}, now=T0)
    await store.subscribers.add_watch(person.id, [t.id for t in targets], now=T0)

    async with SimServer(world(), clock) as sim, Http(user_agent="t", route_overrides=sim.route_overrides) as http:
        gate = sim.dispatcher.gate
        count = gate.check

        def counted(system: str, host: str, ip: str, now: datetime) -> Decision | None:
            seen.append(now)
            return count(system, host, ip, now)

        gate.check = counted  # type: ignore[method-assign]
        settings = load_settings(legacy_request_gap_s=GAP_S / SPEED, legacy_max_weeks=1)
        runner = MonitorRunner(
            store,
            SourceDeps(http=http, clock=clock, settings=settings),
            clock=clock,
            options=RunnerOptions(owner="me", poll_s=0.02, sync_s=600),
            policy=Policy(),
            on_check=reports.append,
        )
        task = asyncio.create_task(runner.run())
        await asyncio.sleep(RUN.total_seconds() / SPEED)
        runner.stop()
        await task

    assert gate.refused == {}  # no 502 for a burst, no 403 ban
    assert {r.observation.outcome for r in reports} <= {Outcome.NO_SLOTS, Outcome.SLOTS_AVAILABLE}
    assert any(r.observation.outcome is Outcome.SLOTS_AVAILABLE for r in reports)
    assert sum(r.observation.requests or 0 for r in reports) == len(seen)  # every request was counted
    # Checked every 3 minutes, the three forms would send ~540 requests an hour; the host gets its budget.
    budget = DEFAULT_HOST_RULES[System.LEGACY].hourly_budget
    busiest = max(sum(1 for u in seen if t - timedelta(hours=1) < u <= t) for t in seen)
    assert 0.5 * budget <= busiest <= budget  # used, not starved (a loaded machine only slows checks down)
    assert {r.target_id for r in reports} == {t.id for t in targets}
