# SPDX-License-Identifier: AGPL-3.0-or-later
"""Quick, polite retries after an announced instant or a release window whose checks met only site errors
("Service surchargé" at the instant), in simulated time."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime, timedelta

from creneau.monitor.learning import at_week_second
from creneau.monitor.policy import CheckReason, Policy, PolicySettings
from creneau.monitor.timing import Timing
from creneau.types import Notice, NoticeKind, Observation, Outcome, Slot, System

from .toy import T0

INSTANT = T0 + timedelta(hours=1)
SLOT = Slot(datetime(2026, 3, 20, 9, 0, tzinfo=INSTANT.tzinfo), guichet="g1")


def announced_policy(settings: PolicySettings | None = None) -> Policy:
    policy = Policy(settings)
    policy.watch("t", "h", System.RDVPREF, T0)
    policy.begin("t", T0)
    notice = Notice(NoticeKind.NEXT_PUBLICATION, INSTANT)
    policy.record(Observation("t", T0, Outcome.NO_SLOTS, "notice", notices=(notice,)))
    return policy


def play(
    policy: Policy, until: datetime, answer: Callable[[datetime], tuple[Outcome, float | None]]
) -> list[tuple[datetime, CheckReason]]:
    """Run the target's checks up to `until`; `answer(t)` gives the outcome and Retry-After seen at t."""
    done = []
    while (at := policy.next_check("t")) is not None and at < until:
        reason = policy.begin("t", at)
        outcome, retry_after = answer(at)
        slots = (SLOT,) if outcome is Outcome.SLOTS_AVAILABLE else ()
        policy.record(Observation("t", at, outcome, "test", slots, retry_after_s=retry_after))
        done.append((at, reason))
    return done


def overloaded_until(end: datetime, then: Outcome = Outcome.NO_SLOTS) -> Callable[[datetime], tuple[Outcome, None]]:
    return lambda t: (Outcome.RATE_LIMITED if INSTANT <= t < end else then, None)


def gaps(checks: list[tuple[datetime, CheckReason]]) -> list[float]:
    return [(b[0] - a[0]).total_seconds() for a, b in itertools.pairwise(checks)]


def test_policy_retries_every_20_s_at_most_after_the_burst_when_overloaded_since_the_instant() -> None:
    policy = announced_policy()
    overload_end = INSTANT + timedelta(minutes=7)
    checks = play(policy, INSTANT + timedelta(minutes=8), overloaded_until(overload_end))
    during = [c for c in checks if INSTANT <= c[0] <= overload_end + timedelta(seconds=20)]
    assert all(5 <= g <= 20 for g in gaps(during))
    first_answer = next(at for at, _ in checks if at >= overload_end)
    assert (first_answer - overload_end).total_seconds() <= 20
    assert any(reason is CheckReason.RETRY and at > INSTANT + timedelta(seconds=180) for at, reason in checks)


def test_policy_returns_to_its_routine_when_the_site_answers_after_an_overload() -> None:
    policy = announced_policy()
    overload_end = INSTANT + timedelta(minutes=5)
    checks = play(policy, INSTANT + timedelta(minutes=30), overloaded_until(overload_end))
    after = [at for at, _ in checks if at > overload_end + timedelta(seconds=20)]
    assert all(g >= 180 for g in gaps([(at, CheckReason.ROUTINE) for at in after]))


def test_policy_stops_quick_retries_when_the_follow_up_time_has_run_out() -> None:
    policy = announced_policy(PolicySettings(timing=Timing(follow_up_s=600)))
    checks = play(policy, INSTANT + timedelta(hours=2), overloaded_until(INSTANT + timedelta(hours=3)))
    late = [c for c in checks if c[0] > INSTANT + timedelta(seconds=620)]
    assert all(g >= 300 for g in gaps(late))
    # 10 min of retries 10–20 s apart after the burst, never a hammering: under one request per 5 s.
    quick = [c for c in checks if INSTANT <= c[0] <= INSTANT + timedelta(seconds=620)]
    assert 30 <= len(quick) <= 620 / 5


def test_policy_honours_retry_after_when_overloaded_after_an_announced_instant() -> None:
    policy = announced_policy()

    def answer(t: datetime) -> tuple[Outcome, float | None]:
        return (
            (Outcome.RATE_LIMITED, 120.0) if INSTANT <= t < INSTANT + timedelta(minutes=6) else (Outcome.NO_SLOTS, None)
        )

    checks = play(policy, INSTANT + timedelta(minutes=7), answer)
    during = [c for c in checks if INSTANT <= c[0] <= INSTANT + timedelta(minutes=6)]
    assert len(during) >= 3
    assert all(g >= 120 for g in gaps(during))


def test_policy_keeps_the_long_backoff_when_the_site_blocks_at_an_announced_instant() -> None:
    policy = announced_policy()
    checks = play(
        policy, INSTANT + timedelta(minutes=15), lambda t: (Outcome.BLOCKED if t >= INSTANT else Outcome.NO_SLOTS, None)
    )
    blocked = [c for c in checks if c[0] >= INSTANT]
    assert all(g >= 150 for g in gaps(blocked))


def test_policy_skips_the_rest_of_the_burst_when_a_retry_sees_the_batch_after_an_overload() -> None:
    policy = announced_policy()
    overload_end = INSTANT + timedelta(seconds=200)
    checks = play(policy, INSTANT + timedelta(minutes=10), overloaded_until(overload_end, Outcome.SLOTS_AVAILABLE))
    seen = next(at for at, _ in checks if at >= overload_end)
    assert (seen - overload_end).total_seconds() <= 20
    after = [at for at, _ in checks if at > seen]
    assert after
    assert (after[0] - seen).total_seconds() >= 180
    satisfied = policy.plans["t"].satisfied_until
    assert satisfied is not None
    assert satisfied >= INSTANT + timedelta(seconds=180)


def test_policy_does_not_follow_up_when_errors_begin_after_an_answered_burst() -> None:
    policy = announced_policy()

    def answer(t: datetime) -> tuple[Outcome, None]:
        return (Outcome.UNAVAILABLE if t > INSTANT + timedelta(seconds=200) else Outcome.NO_SLOTS, None)

    checks = play(policy, INSTANT + timedelta(minutes=15), answer)
    late = [c for c in checks if c[0] > INSTANT + timedelta(seconds=200)]
    assert all(g >= 180 for g in gaps(late))


def test_policy_follows_up_a_release_window_when_the_site_is_overloaded_through_it() -> None:
    policy = Policy()
    plan = policy.watch("t", "h", System.LEGACY, T0)
    lo = 8 * 3600.0  # Monday 08:00 Paris, a learned weekly release
    plan.windows = [(lo, lo + 300)]
    start = at_week_second(T0, lo)
    plan.next_at = start - timedelta(minutes=1)
    end = start + timedelta(minutes=9)  # overloaded from the release until 4 min after the window
    checks = play(
        policy,
        start + timedelta(minutes=12),
        lambda t: (Outcome.RATE_LIMITED if start <= t < end else Outcome.NO_SLOTS, None),
    )
    during = [c for c in checks if start <= c[0] <= end + timedelta(seconds=20)]
    assert during[0][0] == start
    assert all(g <= 20 for g in gaps(during))
