# SPDX-License-Identifier: AGPL-3.0-or-later
"""With its default settings, the legacy adapter stays under the sites' burst limit (> 1 request/s over 10 s
→ 502 for a minute): every request of a walk, redirects included, and consecutive checks of one host are
spaced. Runs against the simulator with its real rate rules, on a scenario clock running SPEED× faster."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from creneau.config import Settings
from creneau.sim.clock import ScenarioClock
from creneau.sim.model import Planning, RateRules, SimSlot, SimTarget, World
from creneau.sim.server import SimServer
from creneau.sources.base import SourceDeps
from creneau.sources.http import Http
from creneau.sources.legacy import ADAPTER
from creneau.types import Outcome, System

pytestmark = pytest.mark.e2e

SPEED = 10.0  # the simulator counts requests in scenario time; the gap is shortened by the same factor
NOW = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)  # Monday 08:00 in Paris
HOST = "www.seine-saint-denis.gouv.fr"
GUICHETS = (Planning("17637", "Guichet A"), Planning("17638", "Guichet B"), Planning("17639", "Guichet C"))
FORM = SimTarget("ssd", System.LEGACY, HOST, 9846, GUICHETS, "Titres de séjour")
OTHER = SimTarget("ssd-2", System.LEGACY, HOST, 9850, GUICHETS[:2], "Naturalisation")


def slots_at_every_guichet(*targets: SimTarget) -> list[SimSlot]:
    found: list[SimSlot] = []
    for target in targets:
        for k, planning in enumerate(target.plannings):
            start = NOW + timedelta(days=2 + k, hours=3)
            found.append(SimSlot(len(found) + 1, target.id, start, NOW - timedelta(days=1), None, planning.id))
    return found


async def test_default_pacing_gets_no_502_when_checking_multi_guichet_forms_of_one_host_back_to_back() -> None:
    rules = RateRules()
    assert rules.legacy_burst_rps == 1.0  # the site's real limit, not a relaxed one
    world = World({t.id: t for t in (FORM, OTHER)}, slots_at_every_guichet(FORM, OTHER), [], [], rules=rules)
    clock = ScenarioClock(NOW, speed=SPEED)
    default_gap = Settings.model_fields["legacy_request_gap_s"].default
    settings = Settings.model_construct(legacy_request_gap_s=default_gap / SPEED, legacy_max_weeks=2)
    async with (
        SimServer(world, clock) as sim,
        Http(user_agent="creneau-test", route_overrides=sim.route_overrides) as http,
    ):
        deps = SourceDeps(http=http, clock=clock, settings=settings)
        observations = [
            await ADAPTER.check(ADAPTER.target_from_url(f"https://{HOST}/booking/create/{form.demarche_id}/0"), deps)
            for form in (FORM, OTHER, FORM)
        ]
        refused = dict(sim.dispatcher.gate.refused)
    assert refused == {}
    for observation, form in zip(observations, (FORM, OTHER, FORM), strict=True):
        assert observation.outcome is Outcome.SLOTS_AVAILABLE, observation.evidence
        assert {s.guichet for s in observation.slots} == {p.id for p in form.plannings}


def test_monitors_sharing_the_hosts_pace_legacy_requests_as_one_stream() -> None:
    from creneau.sources.legacy.client import request_gap_s

    one = Settings.model_construct(legacy_request_gap_s=1.5)
    three = Settings.model_construct(legacy_request_gap_s=1.5, monitor_processes=3)
    assert request_gap_s(one) == 1.5
    assert request_gap_s(three) == 4.5
