# SPDX-License-Identifier: AGPL-3.0-or-later
"""What the monitor learned survives a restart (`data_dir/monitor-policy.json`); a bad file never stops it."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest
from tests import pipeline_kit as kit
from tests.pipeline_kit import T0, TARGET_ID, pipeline_settings, sim_world

from creneau.monitor.policy import Policy, PolicySettings
from creneau.monitor.snapshot import POLICY_FILE, load_policy, save_policy
from creneau.notify.fakes.providers import FakeProviders
from creneau.service import Service
from creneau.sim.clock import ManualClock
from creneau.sim.server import SimServer
from creneau.types import Observation, Outcome, System

db_url, pg_url, migrated_sqlite = kit.db_url, kit.pg_url, kit.migrated_sqlite  # fixtures


async def test_snapshot_restores_plans_and_host_counters_when_saved(tmp_path: Path) -> None:
    policy = Policy()
    policy.watch("t1", "www.example.gouv.fr", System.LEGACY, T0)
    policy.begin("t1", T0)
    policy.record(Observation("t1", T0, Outcome.NO_SLOTS, "test", requests=9), now=T0 + timedelta(seconds=2))
    await save_policy(policy, tmp_path / POLICY_FILE)

    loaded = await load_policy(tmp_path / POLICY_FILE, PolicySettings())

    assert loaded.plans["t1"].checks == 1
    assert loaded.plans["t1"].requests_per_check == 9
    assert loaded.hosts["www.example.gouv.fr"].used_today == 9
    assert loaded.hosts["www.example.gouv.fr"].planned_rate == policy.hosts["www.example.gouv.fr"].planned_rate > 0
    assert loaded.plans["t1"].next_at == policy.plans["t1"].next_at


@pytest.mark.parametrize(
    "content", [pytest.param(b"{not json", id="not-json"), pytest.param(b'{"plans": {"t": {}}}', id="missing-fields")]
)
async def test_snapshot_starts_afresh_and_warns_when_the_file_is_unreadable(
    tmp_path: Path, content: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / POLICY_FILE).write_bytes(content)
    with caplog.at_level(logging.WARNING, logger="creneau.monitor.snapshot"):
        loaded = await load_policy(tmp_path / POLICY_FILE, PolicySettings())
    assert loaded.plans == {}
    assert "learning again" in caplog.text


async def test_service_keeps_what_the_monitor_learned_when_restarted(db_url: str, tmp_path: Path) -> None:
    clock = ManualClock(T0)
    async with SimServer(sim_world(), clock) as sim, FakeProviders() as fakes:
        settings = pipeline_settings(db_url, tmp_path, sim, fakes)
        async with Service(settings, role="monitor", clock=clock) as first:
            assert first.store is not None
            person = await first.store.subscribers.add_subscriber("a@example.org", now=T0)
            await first.store.subscribers.add_channel(person.id, "email", "a@example.org", {"address": "a"}, now=T0)
            await first.store.subscribers.add_watch(person.id, [TARGET_ID], now=T0)
            await first.run(once=True)
        async with Service(settings, role="monitor", clock=clock) as second:
            assert second.runner is not None
            assert second.runner.policy.plans[TARGET_ID].checks == 1
