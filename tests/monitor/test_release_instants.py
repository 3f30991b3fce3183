# SPDX-License-Identifier: AGPL-3.0-or-later
"""Release instants: windows shrink to the whole minute releases keep falling on, routine checks leave the
host's minute budget to the dense checks due at that minute, and a whole ANTS host catches its midnight
releases within seconds without passing its per-minute limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from creneau.monitor import cost
from creneau.monitor.learning import DAY_S, TargetStats
from creneau.monitor.plan import CheckReason
from creneau.monitor.policy import Policy, PolicySettings
from creneau.monitor.politeness import HostRules
from creneau.types import Observation, Outcome, Slot, System

from . import toy
from .test_request_budgets import busiest

MIDNIGHT = datetime(2026, 5, 4, 22, 0, tzinfo=UTC)  # Tuesday 00:00 in Paris


def daily_openings(days: int, seen_after_s: float, since_s: float, minute_of: int = 1) -> TargetStats:
    """Openings seen every night `seen_after_s` past 00:00 (+ `day % minute_of` minutes), the previous check
    `since_s` before; returns the stats that learned them."""
    stats = TargetStats()
    for day in range(days):
        at = MIDNIGHT + timedelta(days=day, minutes=day % minute_of, seconds=seen_after_s)
        stats.opening_started(at - timedelta(seconds=since_s), at)
    return stats


def test_windows_shrink_to_the_minute_when_openings_are_seen_just_after_it() -> None:
    windows = daily_openings(6, 5, 60).windows(MIDNIGHT + timedelta(days=6))  # checks at each whole minute
    assert windows
    assert all(lo == hi and lo % DAY_S == 0 for lo, hi in windows)  # 00:00 every day, one check each


def test_windows_keep_every_minute_when_openings_are_known_only_roughly() -> None:
    windows = daily_openings(6, 40, 600).windows(MIDNIGHT + timedelta(days=6))  # 10-minute routine checks
    assert windows
    assert all(hi - lo >= 300 for lo, hi in windows)


def test_windows_keep_every_minute_when_releases_fall_on_different_minutes() -> None:
    windows = daily_openings(6, 5, 60, minute_of=4).windows(MIDNIGHT + timedelta(days=6))
    assert windows
    assert all(hi > lo for lo, hi in windows)


def test_windows_shrink_to_two_minutes_when_releases_share_two() -> None:
    windows = daily_openings(8, 5, 60, minute_of=2).windows(MIDNIGHT + timedelta(days=8))
    assert {lo % DAY_S for lo, _ in windows} == {0.0, 60.0}
    assert all(lo == hi for lo, hi in windows)


def test_release_minutes_survive_a_round_trip_through_json() -> None:
    stats = daily_openings(6, 5, 60)
    now = MIDNIGHT + timedelta(days=6)
    assert TargetStats.from_dict(stats.to_dict()).windows(now) == stats.windows(now)


def test_release_minute_counts_the_site_lag_when_batches_show_late() -> None:
    stats = TargetStats()
    at = MIDNIGHT + timedelta(seconds=80)
    stats.opening_started(at - timedelta(seconds=30), at, lag_s=60.0)
    # Shown between 00:00:50 and 00:01:20, released up to 60 s before: at 00:00 or 00:01 (not 23:59).
    assert set(stats.minutes) == {0, 1}
    stats.opening_started(at - timedelta(seconds=30), at)  # a site showing releases at once: 00:01
    assert stats.minutes == {0: 1.0, 1: 2.0}


def host_policy(per_minute: int) -> Policy:
    rules = HostRules(min_gap_s=0.5, max_concurrent=2, per_minute=per_minute, hourly_budget=10_000)
    return Policy(PolicySettings(host_overrides={"host": rules}))


def window_checks_due(policy: Policy, count: int, at: datetime, now: datetime) -> None:
    """`count` ANTS searches on "host", watched from `now`, each with a window check due at `at`."""
    for i in range(count):
        plan = policy.watch(f"w{i}", "host", System.ANTS, now)
        plan.next_at, plan.next_reason = at, CheckReason.WINDOW
        cost.reserve(policy, plan)


def test_routine_check_waits_when_dense_checks_due_within_the_minute_need_the_host_budget() -> None:
    policy = host_policy(per_minute=10)
    now = MIDNIGHT - timedelta(seconds=30)
    window_checks_due(policy, 10, MIDNIGHT, now)
    routine = policy.watch("r", "host", System.ANTS, now)
    routine.next_at = now
    # Held until the dense checks are due (and have taken their places in the minute).
    assert policy.host_wait("r", now) == MIDNIGHT + timedelta(seconds=1)
    assert policy.host_wait("w0", MIDNIGHT) is None  # the dense checks themselves are not held back
    policy.begin("w0", MIDNIGHT)
    assert "w0" not in policy.hosts["host"].dense


def test_routine_check_ignores_dense_checks_more_than_a_minute_overdue() -> None:
    policy = host_policy(per_minute=5)
    window_checks_due(policy, 5, MIDNIGHT, MIDNIGHT)
    policy.watch("r", "host", System.ANTS, MIDNIGHT)
    assert policy.host_wait("r", MIDNIGHT + timedelta(seconds=30)) is not None
    assert policy.host_wait("r", MIDNIGHT + timedelta(seconds=90)) is None


def test_routine_check_just_before_a_window_gives_way_to_the_window_check() -> None:
    policy = Policy()
    plan = policy.watch("t", "host", System.ANTS, MIDNIGHT - timedelta(hours=1))
    plan.windows = [(w * DAY_S, w * DAY_S) for w in range(8)]  # 00:00 every day (week seconds)
    policy.begin("t", MIDNIGHT - timedelta(seconds=150))
    policy.record(Observation("t", MIDNIGHT - timedelta(seconds=150), Outcome.NO_SLOTS, "test"))
    # The routine check (3 min) would fall at 00:00:30; the window check at 00:00 comes first anyway.
    assert (policy.next_check("t"), plan.next_reason) == (MIDNIGHT, CheckReason.WINDOW)
    policy.begin("t", MIDNIGHT - timedelta(seconds=200))
    policy.record(Observation("t", MIDNIGHT - timedelta(seconds=200), Outcome.NO_SLOTS, "test"))
    # The routine one would fall at 23:59:40, 20 s before the window check: the window check replaces it.
    assert (policy.next_check("t"), plan.next_reason) == (MIDNIGHT, CheckReason.WINDOW)
    assert "release minutes (checked at the minute): Mon 00:00, Tue 00:00" in policy.explain("t", MIDNIGHT)


def test_ants_host_catches_midnight_releases_within_seconds_when_its_town_halls_share_one_minute_budget() -> None:
    """40 town-hall searches on one host, 24 of which show a new day at 00:00 that is taken within 5 minutes. After
    a week of learning, every release of the next two nights is seen within 30 s and the host never gets
    more than its per-minute budget."""
    towns = [f"town{i:02}" for i in range(24)]
    quiet = [f"quiet{i:02}" for i in range(16)]  # searches that never show a slot, checked all the same
    day0 = toy.T0 - timedelta(hours=1)  # Paris midnight (winter time)

    def look(tid: str, t: datetime) -> Observation:
        since_midnight = (t - day0).total_seconds() % DAY_S
        if since_midnight < 300 and tid in towns:
            day = int((t - day0).total_seconds() // DAY_S)
            slot = Slot(day0 + timedelta(days=day + 60, hours=9), guichet=tid)
            return Observation(tid, t, Outcome.SLOTS_AVAILABLE, "sim", (slot,), requests=1)
        return Observation(tid, t, Outcome.NO_SLOTS, "sim", requests=1)

    per_minute = 25
    policy = host_policy(per_minute)
    seen = toy.drive(policy, look, towns + quiet, 9, system=System.ANTS)
    sent = [(o.checked_at, o.target_id, o.requests or 0) for o in seen]
    assert busiest(sent, timedelta(minutes=1)) <= per_minute
    delays = []
    for night in (7, 8):
        release = day0 + timedelta(days=night)
        for town in towns:
            first = min(
                (o.checked_at for o in seen if o.target_id == town and o.slots and o.checked_at >= release),
                default=None,
            )
            assert first is not None
            delays.append((first - release).total_seconds())
    assert max(delays) <= 30, sorted(delays)[-5:]


def test_policy_retries_quickly_when_a_release_minute_check_a_little_late_meets_an_overload() -> None:
    policy = Policy()
    plan = policy.watch("t", "host", System.ANTS, MIDNIGHT - timedelta(hours=1))
    plan.windows = [(w * DAY_S, w * DAY_S) for w in range(8)]  # 00:00 every day (week seconds)
    late = MIDNIGHT + timedelta(seconds=20)  # the host let it go 20 s after the minute
    plan.next_at, plan.next_reason = late, CheckReason.WINDOW
    policy.begin("t", late)
    policy.record(Observation("t", late, Outcome.RATE_LIMITED, "Service surchargé"))
    retry = policy.next_check("t")
    assert retry is not None
    assert (retry - late).total_seconds() <= 20
    assert plan.next_reason is CheckReason.RETRY


def test_release_minute_goes_first_to_targets_that_show_no_slot() -> None:
    policy = Policy()
    slot = Slot(MIDNIGHT + timedelta(days=30), guichet="g")
    for tid, slots in (("empty", ()), ("open", (slot,))):
        plan = policy.watch(tid, "host", System.ANTS, MIDNIGHT - timedelta(hours=1))
        plan.windows = [(w * DAY_S, w * DAY_S) for w in range(8)]  # 00:00 every day (week seconds)
        at = MIDNIGHT - timedelta(seconds=150)
        policy.begin(tid, at)
        outcome = Outcome.SLOTS_AVAILABLE if slots else Outcome.NO_SLOTS
        policy.record(Observation(tid, at, outcome, "test", slots))
    # The release can only add slots to a target that shows some: it is checked once the others have been.
    assert policy.next_check("empty") == MIDNIGHT
    assert policy.next_check("open") == MIDNIGHT + timedelta(minutes=1)
