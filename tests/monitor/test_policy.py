# SPDX-License-Identifier: AGPL-3.0-or-later
from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta

import pytest

from creneau.monitor.backoff import Health
from creneau.monitor.policy import CheckReason, Policy, PolicySettings
from creneau.monitor.politeness import HostRules
from creneau.types import Notice, NoticeKind, Observation, Outcome, Slot, System

from .toy import T0, make_world, run

SLOT = Slot(datetime(2026, 3, 20, 9, 0, tzinfo=UTC), guichet="g1")


def check(policy: Policy, tid: str, at: datetime, outcome: Outcome = Outcome.NO_SLOTS, **kw: object) -> CheckReason:
    reason = policy.begin(tid, at)
    slots = (SLOT,) if outcome is Outcome.SLOTS_AVAILABLE else ()
    policy.record(Observation(tid, at, outcome, "test", slots, **kw))  # type: ignore[arg-type]
    return reason


def follow(policy: Policy, tid: str, until: datetime, outcome: Outcome = Outcome.NO_SLOTS) -> list[datetime]:
    """Run the target's checks up to `until`, all with `outcome`; returns the check times."""
    times = []
    while (nxt := policy.next_check(tid)) is not None and nxt < until:
        check(policy, tid, nxt, outcome)
        times.append(nxt)
    return times


def test_policy_never_schedules_a_target_when_nobody_watches_it() -> None:
    policy = Policy()
    policy.watch("t", "h", System.RDVPREF, T0)
    policy.unwatch("t", T0)
    assert policy.next_check("t") is None
    assert policy.due(T0 + timedelta(days=1)) == []
    assert "not checked" in policy.explain("t", T0)


def test_policy_checks_at_the_default_cadence_when_learning_a_new_target() -> None:
    policy = Policy()
    policy.watch("t", "h", System.RDVPREF, T0)
    first = policy.next_check("t")
    assert first is not None
    assert T0 <= first <= T0 + timedelta(minutes=3)
    times = follow(policy, "t", T0 + timedelta(hours=1))
    assert {(b - a).total_seconds() for a, b in itertools.pairwise(times)} == {180.0}


def test_policy_checks_densely_after_an_announced_instant_when_a_notice_was_read() -> None:
    policy = Policy()
    policy.watch("t", "h", System.RDVPREF, T0)
    instant = T0 + timedelta(hours=2, seconds=7)
    notice = Notice(NoticeKind.NEXT_PUBLICATION, instant)
    check(policy, "t", T0 + timedelta(seconds=5), notices=(notice,))
    times = follow(policy, "t", instant + timedelta(seconds=75))
    dense = [t for t in times if t >= instant]
    assert dense[0] == instant
    assert [(t - instant).total_seconds() for t in dense] == [0, 10, 20, 30, 40, 50, 60, 70]
    # The pre-check that would see a moved instant (within the per-target minimum gap of a routine check).
    assert any(abs((instant - t).total_seconds() - 900) <= 5 for t in times)


def test_policy_stops_the_burst_when_new_slots_are_caught() -> None:
    policy = Policy()
    policy.watch("t", "h", System.RDVPREF, T0)
    instant = T0 + timedelta(hours=1)
    check(policy, "t", T0, notices=(Notice(NoticeKind.NEXT_PUBLICATION, instant),))
    follow(policy, "t", instant + timedelta(seconds=15))
    at = policy.next_check("t")
    assert at == instant + timedelta(seconds=20)
    assert check(policy, "t", at, Outcome.SLOTS_AVAILABLE) is CheckReason.ANNOUNCED
    after = policy.next_check("t")
    assert after is not None
    assert (after - at).total_seconds() >= 180 - 1e-6


def test_policy_follows_a_moved_instant_when_the_notice_changes() -> None:
    policy = Policy()
    policy.watch("t", "h", System.RDVPREF, T0)
    first, moved = T0 + timedelta(hours=5), T0 + timedelta(hours=7)
    check(policy, "t", T0, notices=(Notice(NoticeKind.NEXT_PUBLICATION, first),))
    check(policy, "t", T0 + timedelta(minutes=3), notices=(Notice(NoticeKind.NEXT_PUBLICATION, moved),))
    assert policy.plans["t"].announced == [moved]


def test_policy_backs_off_with_retry_after_when_rate_limited() -> None:
    policy = Policy()
    policy.watch("t", "h", System.RDVPREF, T0)
    check(policy, "t", T0, Outcome.RATE_LIMITED, retry_after_s=600.0)
    assert policy.next_check("t") == T0 + timedelta(seconds=600)
    assert policy.plans["t"].next_reason is CheckReason.RETRY


def test_policy_pauses_and_tells_when_the_site_blocks_repeatedly() -> None:
    policy = Policy()
    policy.watch("t", "h", System.LEGACY, T0)
    changes = []
    at = T0
    for _ in range(3):
        policy.begin("t", at)
        changes += policy.record(Observation("t", at, Outcome.BLOCKED, "403"))
        nxt = policy.next_check("t")
        assert nxt is not None
        at = nxt
    assert policy.plans["t"].health.status is Health.PAUSED
    assert changes[-1].new is Health.PAUSED
    assert "cannot be watched right now" in changes[-1].reason
    assert "paused" in policy.explain("t", at)
    assert policy.plans["t"].next_reason is CheckReason.PROBE


def test_policy_resumes_at_once_when_a_human_answers_the_captcha() -> None:
    policy = Policy()
    policy.watch("t", "h", System.RDVPREF, T0)
    check(policy, "t", T0, Outcome.HUMAN_CHECK_REQUIRED)
    assert policy.plans["t"].health.status is Health.NEEDS_HUMAN
    later = T0 + timedelta(minutes=2)
    assert policy.human_answered("t", later)[0].new is Health.OK
    assert policy.next_check("t") == later


def test_policy_spaces_requests_to_one_host_when_targets_share_it() -> None:
    rules = {System.RDVPREF: HostRules(min_gap_s=4, max_concurrent=1)}
    policy = Policy(PolicySettings(host_rules=rules))
    for tid in ("a", "b"):
        policy.watch(tid, "h", System.RDVPREF, T0)
    policy.begin("a", T0)
    assert policy.host_wait("b", T0 + timedelta(seconds=1)) is not None
    policy.record(Observation("a", T0, Outcome.NO_SLOTS, "x"))
    assert policy.host_wait("b", T0 + timedelta(seconds=1)) == T0 + timedelta(seconds=4)


def test_policy_spends_within_the_baseline_and_on_hot_targets_when_run_for_weeks() -> None:
    kinds = {"hot": (10.0, 40.0), "warm": (2.0, 1800.0), "dead": (0.0, 1.0)}
    world = make_world(kinds, copies=2, days=12)
    policy = Policy()
    checks = run(policy, world, days=12, host_of="own")
    assert checks <= len(world) * 480 * 12
    hot = policy.plans["hot0"].summary
    dead = policy.plans["dead0"].summary
    assert hot is not None
    assert dead is not None
    assert hot.label == "hot"
    assert dead.label == "dead"
    assert hot.requests_per_day > 2 * 480 > 480 / 4 > dead.requests_per_day
    text = policy.explain("hot0", T0 + timedelta(days=12))
    assert "openings a day" in text


def test_policy_round_trips_through_json_when_it_has_learned() -> None:
    world = make_world({"hot": (10.0, 40.0)}, copies=1, days=4)
    policy = Policy()
    run(policy, world, days=4)
    data = json.loads(json.dumps(policy.to_dict()))
    again = Policy.from_dict(data)
    assert again.to_dict() == data
    assert again.next_check("hot0") == policy.next_check("hot0")


@pytest.mark.parametrize("reason", list(CheckReason), ids=lambda r: r.value)
def test_check_reason_orders_dense_checks_first(reason: CheckReason) -> None:
    assert CheckReason.ANNOUNCED.priority <= reason.priority <= CheckReason.ROUTINE.priority


def test_policy_retries_in_short_steps_when_overloaded_during_a_burst() -> None:
    policy = Policy()
    policy.watch("t", "h", System.RDVPREF, T0)
    instant = T0 + timedelta(hours=1)
    check(policy, "t", T0, notices=(Notice(NoticeKind.NEXT_PUBLICATION, instant),))
    follow(policy, "t", instant)
    at = policy.next_check("t")
    assert at == instant
    for _ in range(4):  # "Service surchargé" at the instant: retries stay ≤ 20 s apart
        assert at is not None
        check(policy, "t", at, Outcome.RATE_LIMITED)
        nxt = policy.next_check("t")
        assert nxt is not None
        assert (nxt - at).total_seconds() <= 20
        at = nxt
