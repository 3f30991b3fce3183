# SPDX-License-Identifier: AGPL-3.0-or-later
"""Host budgets count HTTP requests, not checks: simulated days of checks through the real policy and
detector, each check sending what its booking system needs (no I/O, no sleeps)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import pytest

from creneau.monitor.checks import host_waits, split_host_rules
from creneau.monitor.cost import DEFAULT_REQUESTS_PER_CHECK, ROUTINE_SHARE, expected_requests
from creneau.monitor.policy import Policy, PolicySettings
from creneau.monitor.politeness import DEFAULT_HOST_RULES, HostRules
from creneau.types import Observation, Outcome, Slot, System

from . import toy
from .toy import T0

HOUR, MINUTE, DAY = timedelta(hours=1), timedelta(minutes=1), timedelta(days=1)
LEGACY = DEFAULT_HOST_RULES[System.LEGACY]
# What a check of a three-guichet legacy form sends on the simulator: 9 requests when no guichet has a slot
# (3 to reach the guichet list, 2 per guichet); a guichet that shows its calendar adds 3 and one per week read.
NO_SLOT_WALK, CALENDAR_WALK = 9, 13

Site = Callable[[datetime], tuple[tuple[Slot, ...], int]]


def legacy_form(slot_hours: Sequence[tuple[float, float]] = ()) -> Site:
    """A three-guichet form that shows one slot during each (from, to) span, in hours from T0."""

    def check(t: datetime) -> tuple[tuple[Slot, ...], int]:
        h = (t - T0).total_seconds() / 3600
        for a, b in slot_hours:
            if a <= h < b:
                return (Slot(T0 + timedelta(days=20, hours=a), guichet="g1"),), CALENDAR_WALK
        return (), NO_SLOT_WALK

    return check


def town_hall(t: datetime) -> tuple[tuple[Slot, ...], int]:
    return (), 1  # one ANTS search


def drive(policy: Policy, sites: dict[str, Site], system: System, days: float) -> list[tuple[datetime, str, int]]:
    """Check every site, all on one host, for `days`; returns (start, site, requests sent) per check."""

    def look(tid: str, t: datetime) -> Observation:
        slots, requests = sites[tid](t)
        outcome = Outcome.SLOTS_AVAILABLE if slots else Outcome.NO_SLOTS
        return Observation(tid, t, outcome, "sim", slots, requests=requests)

    return [(o.checked_at, o.target_id, o.requests or 0) for o in toy.drive(policy, look, sites, days, system=system)]


def _next(policy: Policy, tid: str) -> datetime:
    nxt = policy.next_check(tid)
    assert nxt is not None
    return nxt


def busiest(sent: list[tuple[datetime, str, int]], span: timedelta) -> int:
    """The most requests in any sliding window of `span` (as the sites count them)."""
    most, total, first = 0, 0, 0
    for t, _, n in sent:
        total += n
        while sent[first][0] <= t - span:
            total -= sent[first][2]
            first += 1
        most = max(most, total)
    return most


@pytest.mark.parametrize("forms", [1, 3, 8])
def test_policy_keeps_a_legacy_host_under_its_hourly_request_budget_when_forms_have_three_guichets(
    forms: int,
) -> None:
    # Each form shows a slot for a while on the first day and on the fourth, after it was learned.
    sites = {f"form{i}": legacy_form([(2 + i, 3 + i), (74 + i, 76 + i)]) for i in range(forms)}
    sent = drive(Policy(), sites, System.LEGACY, days=5)

    # Checked every 3 minutes, one form alone would send 180 requests an hour; counted in checks, the old
    # budget (150 an hour) let one host take 1,350 and be banned above 200.
    assert busiest(sent, HOUR) <= LEGACY.hourly_budget < 200
    per_day = Counter[int]()
    for t, _, n in sent:
        per_day[(t - T0).days] += n
    assert max(per_day.values()) <= LEGACY.daily_budget
    assert min(per_day.values()) >= 0.7 * LEGACY.daily_budget  # the host's budget is used, not wasted
    checks = Counter(tid for _, tid, _ in sent)
    assert len(checks) == forms
    assert max(checks.values()) <= 1.5 * min(checks.values())  # and shared between the forms


def test_policy_stretches_every_form_on_a_host_when_their_requests_would_pass_its_budget() -> None:
    policy = Policy()
    drive(policy, {f"form{i}": legacy_form() for i in range(3)}, System.LEGACY, days=0.5)
    # Still learned at the 3-minute cadence, the 3 forms × 9 requests must fit 85 % of 3,600 a day: each
    # form is checked every ~12.7 minutes.
    expected = 3 * NO_SLOT_WALK / (ROUTINE_SHARE * LEGACY.daily_budget / 86400)
    assert [policy.routine_interval(plan, T0) for plan in policy.plans.values()] == [pytest.approx(expected)] * 3
    explained = policy.explain("form0", T0)
    assert "A check sends up to 9 HTTP requests (seen lately)" in explained
    assert f"Routine checks are {expected / 180:.1f}× further apart than planned" in explained


def test_policy_leaves_the_cadence_alone_when_a_host_has_room() -> None:
    policy = Policy()
    drive(policy, {"mairie": town_hall}, System.ANTS, days=0.1)
    assert policy.routine_interval(policy.plans["mairie"], T0) == policy.settings.cadence_s


def test_policy_keeps_ants_under_thirty_requests_a_minute_when_many_town_halls_share_its_host() -> None:
    sent = drive(Policy(), {f"mairie{i}": town_hall for i in range(120)}, System.ANTS, days=1)
    assert busiest(sent, MINUTE) <= DEFAULT_HOST_RULES[System.ANTS].per_minute < 30
    assert len(sent) >= ROUTINE_SHARE * DEFAULT_HOST_RULES[System.ANTS].daily_budget  # its daily budget, used


def test_policy_learns_what_a_check_of_a_target_costs_when_checks_report_their_requests() -> None:
    policy = Policy()
    policy.watch("form", "host", System.LEGACY, T0)
    plan = policy.plans["form"]
    assert expected_requests(plan) == DEFAULT_REQUESTS_PER_CHECK[System.LEGACY] == 10

    def check(outcome: Outcome, requests: int | None) -> int:
        at = _next(policy, "form")
        policy.begin("form", at)
        policy.record(Observation("form", at, outcome, "test", requests=requests))
        return expected_requests(plan)

    assert check(Outcome.UNAVAILABLE, 1) == 10  # a walk cut short by a 502 says nothing of a full one
    assert check(Outcome.NO_SLOTS, 9) == 9
    assert check(Outcome.SLOTS_AVAILABLE, 20) == 20  # a costlier check raises the expectation at once
    assert check(Outcome.NO_SLOTS, 9) == 19  # a cheaper one lowers it slowly
    assert check(Outcome.NO_SLOTS, None) == 19  # nobody counted: nothing learned, the expectation is charged
    assert policy.hosts["host"].used_today == 1 + 9 + 20 + 9 + 19


def test_runner_sees_a_host_as_busy_until_its_costliest_target_fits_its_budget() -> None:
    rules = HostRules(min_gap_s=0, max_concurrent=9, hourly_budget=24)
    policy = Policy(PolicySettings(host_rules={System.LEGACY: rules}))
    for tid, requests in (("single", 4), ("triple", 9)):
        policy.watch(tid, "host", System.LEGACY, T0)
        policy.begin(tid, T0)
        policy.record(Observation(tid, T0, Outcome.NO_SLOTS, "test", requests=requests))
    later = T0 + MINUTE
    # A check starts when the budget still holds what it is expected to send and a calendar's 4 more.
    assert policy.host_wait("single", later) is None  # 13 + 4 + 4 fit in 24
    assert host_waits(policy, later) == {"host": T0 + HOUR}  # 13 + 9 + 4 do not: claim nothing there yet


def test_monitor_processes_share_every_request_budget_when_several_run() -> None:
    rules = split_host_rules(DEFAULT_HOST_RULES, 3)
    for system, whole in DEFAULT_HOST_RULES.items():
        part = rules[system]
        assert 3 * part.hourly_budget <= whole.hourly_budget
        assert 3 * part.daily_budget <= whole.daily_budget
        assert 3 * part.per_minute <= whole.per_minute
        assert (part.per_minute > 0) == (whole.per_minute > 0)
