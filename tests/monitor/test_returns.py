# SPDX-License-Identifier: AGPL-3.0-or-later
"""Slots that come back a fixed time after they went away (unconfirmed holds): the delay is learned from the
checks, the span where they should come back is checked densely, and a target whose slots come back at
random learns nothing and costs nothing more."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest

from creneau.monitor import cost
from creneau.monitor import returns as returns_module
from creneau.monitor.plan import CheckReason, TargetPlan
from creneau.monitor.policy import Policy, PolicySettings
from creneau.monitor.politeness import HostRules
from creneau.monitor.returns import STEP_S, Returns
from creneau.types import Observation, Outcome, Slot, System

from . import toy
from .test_release_instants import host_policy, window_checks_due

HOUR = timedelta(hours=1)


def _keys(*names: str) -> frozenset[str]:
    return frozenset(names)


def _held_and_back(returns: Returns, start: datetime, key: str, delay: timedelta, gap_s: float = 60.0) -> datetime:
    """`key` shows at `start`, is gone at the next check and shows again `delay` later; returns the last check."""
    gap = timedelta(seconds=gap_s)
    returns.observe(_keys(key), start)
    returns.observe(_keys(), start + gap)
    back = start + gap + delay
    returns.observe(_keys(), back - gap)
    returns.observe(_keys(key), back)
    returns.observe(_keys(), back + gap)
    return back + gap


def test_a_delay_is_learned_from_slots_that_come_back_after_the_same_time() -> None:
    returns, t = Returns(), toy.T0
    for i in range(3):
        t = _held_and_back(returns, t + HOUR, f"slot{i}", HOUR) + HOUR
    delay = returns.delay(t)
    assert delay is not None
    lo, hi = delay
    assert lo <= 3600 <= hi
    assert hi - lo <= 120


def test_slots_gone_are_checked_again_one_delay_later_every_step() -> None:
    returns, t = Returns(), toy.T0
    for i in range(3):
        t = _held_and_back(returns, t + HOUR, f"slot{i}", HOUR) + HOUR
    returns.observe(_keys("a", "b"), t)
    returns.observe(_keys("b"), t + timedelta(seconds=60))  # "a" went away in (t, t + 60 s]
    assert returns.spans, "a span is expected one delay later"
    start, end = returns.spans[-1]
    assert start <= t + HOUR < t + HOUR + timedelta(seconds=60) <= end
    assert returns.next_check(start - timedelta(seconds=1)) is None  # "b" still shows: no opening to catch
    returns.observe(_keys(), t + timedelta(seconds=120))  # "b" goes too: its span joins "a"'s
    start, end = returns.spans[-1]
    first = returns.next_check(start - timedelta(seconds=1))
    assert first == start
    second = returns.next_check(first)
    assert second is not None
    assert (second - first).total_seconds() == STEP_S
    assert returns.next_check(end) is None


def test_slots_coming_back_at_random_teach_no_delay() -> None:
    rng = random.Random(3)
    returns, t = Returns(), toy.T0
    for i in range(12):
        t = _held_and_back(returns, t + HOUR, f"slot{i}", timedelta(seconds=rng.uniform(300, 7000))) + HOUR
    assert returns.delay(t) is None
    returns.observe(_keys("x"), t)
    returns.observe(_keys(), t + timedelta(seconds=60))
    assert not returns.spans


def test_a_slot_gone_longer_than_a_hold_is_forgotten() -> None:
    returns, t = Returns(), toy.T0
    returns.observe(_keys("a"), t)
    returns.observe(_keys(), t + timedelta(seconds=60))
    returns.observe(_keys(), t + timedelta(hours=3))
    returns.observe(_keys("a"), t + timedelta(hours=3, seconds=60))  # a cancellation, not a hold
    assert not returns.gone
    assert not returns.samples


def test_the_learned_returns_survive_a_round_trip_through_json() -> None:
    returns, t = Returns(), toy.T0
    for i in range(3):
        t = _held_and_back(returns, t + HOUR, f"slot{i}", HOUR) + HOUR
    returns.observe(_keys("a"), t)
    returns.observe(_keys(), t + timedelta(seconds=60))
    plan = TargetPlan("t", "host", System.LEGACY, returns=returns)
    again = TargetPlan.from_dict(plan.to_dict()).returns
    assert again.delay(t) == returns.delay(t)
    assert again.spans == returns.spans


def _policy_with_learned_delay() -> tuple[Policy, datetime]:
    policy = Policy()
    policy.watch("t", "host", System.LEGACY, toy.T0)
    t = toy.T0
    for i in range(3):
        slot = Slot(t + timedelta(days=20), guichet=str(i))
        t += HOUR
        minutes: tuple[tuple[int, tuple[Slot, ...]], ...] = ((0, (slot,)), (1, ()), (60, ()), (61, (slot,)), (62, ()))
        for at, shown in ((t + timedelta(minutes=m), slots) for m, slots in minutes):
            outcome = Outcome.SLOTS_AVAILABLE if shown else Outcome.NO_SLOTS
            policy.record(Observation("t", at, outcome, "test", shown))
        t += 2 * HOUR
    return policy, t


def test_the_policy_checks_for_a_return_where_no_slot_shows_and_says_why() -> None:
    policy, t = _policy_with_learned_delay()
    slot = Slot(t + timedelta(days=20), guichet="x")
    policy.record(Observation("t", t, Outcome.SLOTS_AVAILABLE, "test", (slot,)))
    gone = t + timedelta(seconds=40)
    policy.record(Observation("t", gone, Outcome.NO_SLOTS, "test"))
    plan = policy.plans["t"]
    assert plan.returns.spans
    start, end = plan.returns.spans[-1]
    assert start <= t + HOUR
    assert gone + HOUR <= end
    assert "come back after" in policy.explain("t", gone)
    # Routine checks go on meanwhile; the check due at the span's start is a return check.
    before = start - timedelta(seconds=1)
    policy.record(Observation("t", before, Outcome.NO_SLOTS, "test"))
    assert plan.next_reason is CheckReason.RETURN
    assert plan.next_at is not None
    assert start <= plan.next_at <= start + timedelta(seconds=STEP_S)


def test_no_return_check_while_the_target_shows_slots() -> None:
    policy, t = _policy_with_learned_delay()
    a, b = Slot(t + timedelta(days=20), guichet="a"), Slot(t + timedelta(days=21), guichet="b")
    policy.record(Observation("t", t, Outcome.SLOTS_AVAILABLE, "test", (a, b)))
    policy.record(Observation("t", t + timedelta(seconds=40), Outcome.SLOTS_AVAILABLE, "test", (b,)))
    start = policy.plans["t"].returns.spans[-1][0]
    policy.record(Observation("t", start - timedelta(seconds=1), Outcome.SLOTS_AVAILABLE, "test", (b,)))
    assert policy.plans["t"].next_reason is not CheckReason.RETURN


def _held_world(targets: int, days: float, seed: int) -> dict[str, list[tuple[datetime, datetime, Slot, bool]]]:
    """Per target: slots (shown, taken, slot, is a hold return). Three batches a day of four slots, each taken
    within minutes (median 2.5 min); a third of the bookings are holds that come back exactly an hour later,
    shown for 20–70 s, until somebody takes them."""
    rng = random.Random(seed)
    world = {}
    for n in range(targets):
        slots, t = [], toy.T0
        while True:
            t += timedelta(days=rng.expovariate(3.0))
            if t > toy.T0 + timedelta(days=days):
                break
            for _ in range(4):
                slot = Slot(t + timedelta(days=14, minutes=30 * len(slots)), guichet=f"{n}")
                taken = t + timedelta(seconds=rng.lognormvariate(5.0, 0.8))
                slots.append((t, taken, slot, False))
                if rng.random() < 1 / 3:
                    back = taken + HOUR
                    slots.append((back, back + timedelta(seconds=rng.uniform(20, 70)), slot, True))
        world[f"t{n}"] = slots
    return world


def _caught_returns(follow: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[float, int]:
    """Of the second week's returns that opened the target and whose booking a check saw go, the share
    caught; and the checks spent."""
    if not follow:
        monkeypatch.setattr(returns_module.Returns, "_to_follow", lambda self, now, prior: [])
    world = _held_world(6, 14, seed=5)
    seen: set[tuple[str, int]] = set()

    def look(tid: str, t: datetime) -> Observation:
        shown = [(i, slot) for i, (a, b, slot, _) in enumerate(world[tid]) if a <= t < b]
        seen.update((tid, i) for i, _ in shown)
        slots = tuple(slot for _, slot in shown)
        return Observation(tid, t, Outcome.SLOTS_AVAILABLE if slots else Outcome.NO_SLOTS, "toy", slots)

    # A site that takes a check every minute or so (the booking module's default allows one in 4 minutes).
    rules = HostRules(min_gap_s=5.0, max_concurrent=1, hourly_budget=2_000)
    policy = Policy(PolicySettings(host_overrides=dict.fromkeys(world, rules)))
    checks = toy.drive(policy, look, world, 14, system=System.LEGACY, host_of="own")
    second_week = toy.T0 + timedelta(days=7)
    followable = []
    for tid, slots in world.items():
        booked = {slot: i for i, (_, _, slot, held) in enumerate(slots) if not held}
        followable += [
            (tid, i)
            for i, (shown, _, slot, held) in enumerate(slots)
            if held and shown >= second_week and (tid, booked[slot]) in seen and _alone(slots, i)
        ]
    return sum(r in seen for r in followable) / len(followable), len(checks)


def _alone(slots: list[tuple[datetime, datetime, Slot, bool]], i: int) -> bool:
    """Whether slot `i` showed while no other did (it opened the target, see `_plan_next`)."""
    start = slots[i][0]
    return not any(a <= start < b for j, (a, b, _, _) in enumerate(slots) if j != i)


def test_held_bookings_seen_going_are_caught_when_they_come_back(monkeypatch: pytest.MonkeyPatch) -> None:
    following, spent = _caught_returns(True, monkeypatch)
    routine_only, spent_before = _caught_returns(False, monkeypatch)
    assert following >= 0.8
    assert routine_only < 0.6
    assert spent <= 1.05 * spent_before  # within the same budget


def test_a_check_for_a_return_gives_way_to_window_checks_due_within_the_minute() -> None:
    policy = host_policy(per_minute=10)
    release = toy.T0 + HOUR
    now = release - timedelta(seconds=30)
    window_checks_due(policy, 10, release, now)
    guess = policy.watch("r", "host", System.ANTS, now)
    guess.next_at, guess.next_reason = now, CheckReason.RETURN
    cost.reserve(policy, guess)
    assert "r" not in policy.hosts["host"].dense  # a guess holds no room for itself …
    assert policy.host_wait("r", now) == release + timedelta(seconds=1)  # … and waits for the release's checks
