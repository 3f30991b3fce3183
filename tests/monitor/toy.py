# SPDX-License-Identifier: AGPL-3.0-or-later
"""A tiny simulated world for policy tests: targets whose openings come as a Poisson process with log-normal
durations, checked in simulated time through the real policy and detector (no I/O, no sleeps)."""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from creneau.detector import DetectorState, detect
from creneau.monitor.policy import Policy
from creneau.types import Observation, Outcome, Slot, System

T0 = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday


@dataclass
class ToyTarget:
    id: str
    openings: list[tuple[datetime, datetime, Slot]]
    caught: set[int] = field(default_factory=set)


def make_world(kinds: dict[str, tuple[float, float]], copies: int, days: float, seed: int = 1) -> dict[str, ToyTarget]:
    """`kinds`: name → (openings per day, median visible seconds)."""
    rng = random.Random(seed)
    world = {}
    for name, (rate, median) in kinds.items():
        for c in range(copies):
            ops, t = [], T0
            while rate > 0:
                t += timedelta(days=rng.expovariate(rate))
                if t > T0 + timedelta(days=days):
                    break
                d = median * math.exp(rng.gauss(0, 1.2))
                ops.append((t, t + timedelta(seconds=d), Slot(t + timedelta(days=14), guichet=str(len(ops)))))
            world[f"{name}{c}"] = ToyTarget(f"{name}{c}", ops)
    return world


Look = Callable[[str, datetime], Observation]


def drive(
    policy: Policy,
    look: Look,
    ids: Iterable[str],
    days: float,
    *,
    system: System = System.RDVPREF,
    host_of: str = "one",
) -> list[Observation]:
    """Check the targets `ids` for `days` with `policy` (reallocating daily), each check's observation made by
    `look(target, t)`, on one host ("host") or each on its own (`host_of="own"`); returns the observations."""
    heap: list[tuple[datetime, str]] = []
    ids = list(ids)
    for tid in ids:
        policy.watch(tid, tid if host_of == "own" else "host", system, T0)
        heap.append((_next(policy, tid), tid))
    heapq.heapify(heap)
    states = {tid: DetectorState() for tid in ids}
    end, next_alloc = T0 + timedelta(days=days), T0 + timedelta(days=1)
    seen = []
    while heap:
        t, tid = heapq.heappop(heap)
        if t >= end:
            break
        if t >= next_alloc:
            policy.reallocate(next_alloc)
            next_alloc += timedelta(days=1)
            heap = [(_next(policy, x), x) for x in ids]
            heapq.heapify(heap)
            continue
        if (wait := policy.host_wait(tid, t)) is not None:
            heapq.heappush(heap, (wait, tid))
            continue
        policy.begin(tid, t)
        obs = look(tid, t)
        detection = detect(states[tid], obs)
        states[tid] = detection.state
        policy.record(obs, detection.transitions)
        seen.append(obs)
        heapq.heappush(heap, (_next(policy, tid), tid))
    return seen


def _next(policy: Policy, tid: str) -> datetime:
    nxt = policy.next_check(tid)
    assert nxt is not None
    return nxt


def run(policy: Policy, world: dict[str, ToyTarget], days: float, *, host_of: str = "one") -> int:
    """Check the world for `days` with `policy` (reallocating daily); returns the number of checks."""

    def look(tid: str, t: datetime) -> Observation:
        target = world[tid]
        visible = [(i, s) for i, (a, b, s) in enumerate(target.openings) if a <= t < b]
        target.caught.update(i for i, _ in visible)
        slots = tuple(s for _, s in visible)
        return Observation(tid, t, Outcome.SLOTS_AVAILABLE if slots else Outcome.NO_SLOTS, "toy", slots)

    return len(drive(policy, look, world, days, host_of=host_of))
