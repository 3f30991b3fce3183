# SPDX-License-Identifier: AGPL-3.0-or-later
"""How many openings the scheduling policy catches, how fast, for how many requests, against the baseline.

    python bench/catch.py [--quick] [--seed N]

A "realistic France" world (slot-dynamics.md §8) is run in simulated time, without HTTP and without sleeping:
the real `Policy` decides when each target is checked (learning over the history days, then measured), a
check at t sees what the world shows at t (its visible slots, the "Prochaine mise en ligne" notice on
RDV Préfecture, its error episodes and background 5xx as error outcomes) and goes through the real
detector. The baseline checks every target every 3 minutes over the same measured days of the same world.

An opening of the ground truth (`World.openings`) is *announced* when a notice showed its true instant
before it fell, or when it was opened by a fixed weekly (or daily) release that the history already showed
twice at the same time; otherwise *unannounced*. It is caught when a check saw one of its slots while it
was visible; delay = that check − the opening's start (also given from the first instant the site answered
normally, since "Service surchargé" at the instant hides some announced batches from everybody). A check
sends the HTTP requests the simulator's site needs (`requests_per_check`), and per-host limits, which count
requests, are each system's defaults raised to 1.5× what the baseline itself asks of the host. Final stdout
line: one JSON object.

Two bounds come with the figures: the *ceiling* watchers of `_catch_misses` (no budget), and `informed_*`
(`_catch_oracle`): the policy's own allocator given each target's true unannounced openings, within the
same budget and host caps, i.e. the most better learning could catch of them.
"""

from __future__ import annotations

import argparse
import bisect
import heapq
import json
import math
import random
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from _catch_misses import Check, by_class, ceiling, continuous, diagnose, report
from _catch_oracle import informed
from creneau.detector import DetectorState, detect
from creneau.monitor.policy import Policy, PolicySettings
from creneau.monitor.politeness import DEFAULT_HOST_RULES, HostRules
from creneau.sim.generator import generate_realistic_france
from creneau.sim.model import EpisodeKind, Opening, SimSlot, SimTarget, World
from creneau.types import PARIS, Notice, NoticeKind, Observation, Outcome, Slot, System

BASELINE_S = 180.0
WINDOW_MODES = {"weekly_fixed": 7 * 86400.0, "rolling": 86400.0}
EPISODE_OUTCOME = {
    EpisodeKind.FORBIDDEN: Outcome.BLOCKED,
    EpisodeKind.RATE_LIMITED: Outcome.RATE_LIMITED,
    EpisodeKind.BAD_GATEWAY: Outcome.UNAVAILABLE,
    EpisodeKind.OVERLOADED: Outcome.RATE_LIMITED,  # "Service surchargé" (sources.common.classify_failure)
    EpisodeKind.MAINTENANCE: Outcome.UNAVAILABLE,
    EpisodeKind.CHALLENGE: Outcome.UNAVAILABLE,
    EpisodeKind.TIMEOUT: Outcome.NETWORK_ERROR,
    EpisodeKind.TRUNCATED: Outcome.LAYOUT_UNKNOWN,
    EpisodeKind.LAYOUT_CHANGED: Outcome.LAYOUT_UNKNOWN,
}


@dataclass
class Truth:
    """The measured openings of one target, sorted by start, with their class and first catch."""

    starts: list[datetime] = field(default_factory=list)
    openings: list[Opening] = field(default_factory=list)
    announced: list[bool] = field(default_factory=list)
    site_up: list[datetime | None] = field(default_factory=list)  # first instant the site answered normally


@dataclass
class Run:
    """What one scheduler did over the measured days."""

    requests: int = 0
    caught: dict[tuple[str, int], datetime] = field(default_factory=dict)
    alerts: int = 0
    false_alerts: int = 0


class Checker:
    """Turns "check target X at t" into the observation an adapter would have produced."""

    def __init__(self, world: World, seed: int) -> None:
        self.world = world
        self.rng = random.Random(f"{seed}:5xx")
        self.slots: dict[int, Slot] = {}
        # target → (from, until, visible slots, their Slot records): the visible set only changes at known instants.
        self.shown: dict[str, tuple[datetime, datetime | None, list[SimSlot], tuple[Slot, ...]]] = {}

    def observe(self, tid: str, t: datetime) -> tuple[Observation, list[SimSlot]]:
        world, target = self.world, self.world.targets[tid]
        episode = world.episode(target.host, tid, t)
        if episode is not None and episode.kind in EPISODE_OUTCOME:
            return Observation(
                tid, t, EPISODE_OUTCOME[episode.kind], episode.kind.value, retry_after_s=episode.retry_after_s
            ), []
        if self.rng.random() < world.rules.background_5xx_rate:
            return Observation(tid, t, Outcome.UNAVAILABLE, "HTTP 503"), []
        cached = self.shown.get(tid)
        if cached is not None and cached[0] <= t and (cached[1] is None or t < cached[1]):
            visible, slots = cached[2], cached[3]
        else:
            visible = world.visible_slots(tid, t)
            slots = tuple(self._slot(s) for s in visible)
            self.shown[tid] = (t, world.next_change(tid, t), visible, slots)
        notices: tuple[Notice, ...] = ()
        if target.system is System.RDVPREF and (pub := world.next_publication(tid, t)) is not None:
            notices = (Notice(NoticeKind.NEXT_PUBLICATION, pub.instant, pub.week_of),)
        outcome = Outcome.SLOTS_AVAILABLE if slots else Outcome.NO_SLOTS
        requests = requests_per_check(target, visible)
        return Observation(tid, t, outcome, "sim", slots, notices, requests=requests), visible

    def _slot(self, s: SimSlot) -> Slot:
        slot = self.slots.get(s.id)
        if slot is None:
            slot = self.slots[s.id] = Slot(s.start, guichet=s.planning_id, ref=str(s.id))
        return slot


def classify(world: World, start: datetime, m0: datetime, m1: datetime) -> dict[str, Truth]:
    """Measured openings (start in [m0, m1)) per target, announced or not (see module docstring); the
    history that may show a release window is [start, m0), what the policy saw."""
    out: dict[str, Truth] = {}
    by_target: dict[str, list[tuple[str, datetime]]] = defaultdict(list)
    for pub in world.publications:
        by_target[pub.target_id].append((pub.mode, pub.instant))
    for tid in world.targets:
        truth = out[tid] = Truth()
        for op in world.openings(tid):
            if not (m0 <= op.start < m1):
                continue
            announced = op.announced
            if not announced and op.publication_id is not None:
                pub = world.publication(op.publication_id)
                period = WINDOW_MODES.get(pub.mode)
                if period is not None:
                    earlier = [
                        t
                        for mode, t in by_target[tid]
                        if mode == pub.mode and start <= t < m0 and _same_time(t, pub.instant, period)
                    ]
                    announced = len(earlier) >= 2
            truth.starts.append(op.start)
            truth.openings.append(op)
            truth.announced.append(announced)
            truth.site_up.append(_site_up(world, tid, op))
    return out


def _site_up(world: World, tid: str, op: Opening) -> datetime | None:
    """The first instant from the opening's start when no error episode hides it (None: hidden throughout)."""
    t, host = op.start, world.targets[tid].host
    while (episode := world.episode(host, tid, t)) is not None and episode.kind in EPISODE_OUTCOME:
        t = episode.end
    return t if op.end is None or t < op.end else None


def _same_time(a: datetime, b: datetime, period: float) -> bool:
    la, lb = a.astimezone(PARIS), b.astimezone(PARIS)
    sa = la.weekday() * 86400 * (period > 86400) + la.hour * 3600 + la.minute * 60
    sb = lb.weekday() * 86400 * (period > 86400) + lb.hour * 3600 + lb.minute * 60
    return abs(sa - sb) <= 600


def _caught(run: Run, truth: dict[str, Truth], tid: str, t: datetime, visible: list[SimSlot]) -> None:
    if not visible:
        return
    mine = truth[tid]
    i = bisect.bisect_right(mine.starts, t) - 1
    if i >= 0:
        op = mine.openings[i]
        if (op.end is None or t < op.end) and (tid, i) not in run.caught:
            run.caught[(tid, i)] = t


def simulate(
    world: World,
    truth: dict[str, Truth],
    policy: Policy | None,
    start: datetime,
    m0: datetime,
    m1: datetime,
    seed: int,
    log: dict[str, list[Check]] | None = None,
) -> Run:
    """Run `policy` (None: the baseline) from `start`; count requests in [m0, m1) and catches until m1 + 1 h.
    `log` receives every check from one hour before `m0` (target → checks, in time order)."""
    run, checker = Run(), Checker(world, seed)
    log_from = m0 - timedelta(hours=1)
    reason = "baseline"
    end = m1 + timedelta(hours=1)
    states = {tid: DetectorState() for tid in world.targets}
    heap: list[tuple[datetime, int, str]] = []  # (when, priority: dense checks first, target)
    rng = random.Random(f"{seed}:phase")
    for tid, target in world.targets.items():
        if policy is None:
            heap.append((start + timedelta(seconds=rng.uniform(0, BASELINE_S)), 9, tid))
        else:
            policy.watch(tid, target.host, target.system, start)
            heap.append(_entry(policy, tid) or (end, 9, tid))
    heapq.heapify(heap)
    midnight = _next_midnight(start)
    while heap:
        t, _, tid = heapq.heappop(heap)
        if t >= end:
            break
        if policy is not None:
            if t >= midnight:
                policy.reallocate(midnight)
                midnight = _next_midnight(midnight + timedelta(hours=1))
                heap = [e for x in world.targets if (e := _entry(policy, x)) is not None]
                heapq.heapify(heap)
                continue
            if policy.next_check(tid) != t:
                continue
            wait = policy.host_wait(tid, t)
            if wait is not None:
                policy.plans[tid].next_at = wait
                heapq.heappush(heap, (wait, policy.plans[tid].next_reason.priority, tid))
                continue
            reason = policy.begin(tid, t).value
        obs, visible = checker.observe(tid, t)
        if log is not None and t >= log_from:
            log.setdefault(tid, []).append(Check(t, reason, obs.outcome.is_conclusive))
        detection = detect(states[tid], obs)
        states[tid] = detection.state
        if m0 <= t < m1:
            run.requests += 1
        if t >= m0:
            _caught(run, truth, tid, t, visible)
            for tr in detection.transitions:
                if tr.alerts and t < m1:
                    run.alerts += 1
                    ids = [int(s.ref or 0) for s in tr.new_slots]
                    run.false_alerts += any(not world.slot(i).visible_at(t) for i in ids)
        if policy is None:
            heapq.heappush(heap, (t + timedelta(seconds=BASELINE_S), 9, tid))
        else:
            policy.record(obs, detection.transitions, now=t)
            if (entry := _entry(policy, tid)) is not None:
                heapq.heappush(heap, entry)
    return run


def _entry(policy: Policy, tid: str) -> tuple[datetime, int, str] | None:
    nxt = policy.next_check(tid)
    return None if nxt is None else (nxt, policy.plans[tid].next_reason.priority, tid)


def _next_midnight(t: datetime) -> datetime:
    local = t.astimezone(PARIS)
    return datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), tzinfo=PARIS).astimezone(UTC)


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)], 1)


def score(run: Run, truth: dict[str, Truth], targets: int, days: float) -> dict[str, float | int | None]:
    delays: dict[bool, list[float]] = {True: [], False: []}
    totals = {True: 0, False: 0}
    after_up: list[float] = []
    hidden = 0
    for tid, mine in truth.items():
        for i, (op, announced) in enumerate(zip(mine.openings, mine.announced, strict=True)):
            totals[announced] += 1
            seen, up = run.caught.get((tid, i)), mine.site_up[i]
            if announced and (up is None or (up - op.start).total_seconds() > 30):
                hidden += 1
            if seen is not None:
                delays[announced].append((seen - op.start).total_seconds())
                if announced and up is not None:
                    after_up.append(max(0.0, (seen - up).total_seconds()))

    def rate(kind: bool) -> float | None:
        return round(len(delays[kind]) / totals[kind], 4) if totals[kind] else None

    caught_all = len(delays[True]) + len(delays[False])
    return {
        "catch_rate_announced": rate(True),
        "delay_announced_p50_s": _pct(delays[True], 0.5),
        "delay_announced_p95_s": _pct(delays[True], 0.95),
        "catch_rate_unannounced": rate(False),
        "delay_unannounced_p95_s": _pct(delays[False], 0.95),
        "catch_rate": round(caught_all / max(1, totals[True] + totals[False]), 4),
        "requests_per_target_day": round(run.requests / (targets * days), 1),
        "false_alerts": run.false_alerts,
        # The site's own errors (overload at the instant, maintenance) hide some announced openings for a
        # while; measured from the first instant the site answered normally:
        "delay_announced_p95_after_site_up_s": _pct(after_up, 0.95),
        "announced_hidden_over_30s_by_site_errors": hidden,
        "openings_announced": totals[True],
        "openings_unannounced": totals[False],
    }


CEILING_FIGURES = (
    "catch_rate_announced",
    "delay_announced_p50_s",
    "delay_announced_p95_s",
    "catch_rate_unannounced",
    "delay_unannounced_p95_s",
    "catch_rate",
    "requests_per_target_day",
)


def _ratio(rate: float | int | None, baseline: dict[str, float | int | None]) -> float | None:
    base = baseline["catch_rate_unannounced"]
    return round(rate / base, 3) if rate is not None and base else None


def requests_per_check(target: SimTarget, visible: Sequence[SimSlot] = ()) -> int:
    """HTTP requests one check of the simulated site sends (measured against `creneau.sim`): a legacy form 3
    to reach its guichet list and 2 per guichet (4 with a single guichet), 3 more per guichet showing its
    calendar; RDV Préfecture one slot page with a kept session; ANTS one search."""
    if target.system is not System.LEGACY:
        return 1
    guichets = len(target.plannings)
    walk = 3 + 2 * guichets if guichets > 1 else 4
    return walk + 3 * len({s.planning_id for s in visible})


def host_rules(world: World) -> dict[str, HostRules]:
    """Per-host limits for the run: each system's defaults, raised to 1.5× the checks and the requests the
    baseline itself asks of a host (the national sites serve every target from one host; the baseline
    ignores politeness)."""
    load: dict[str, int] = defaultdict(int)
    requests: dict[str, int] = defaultdict(int)
    system_of = {}
    for target in world.targets.values():
        load[target.host] += 1
        requests[target.host] += requests_per_check(target)
        system_of[target.host] = target.system
    rules = {}
    for host, n in load.items():
        base = DEFAULT_HOST_RULES[system_of[host]]
        checks_per_hour = 1.5 * n * 3600 / BASELINE_S
        per_hour = 1.5 * requests[host] * 3600 / BASELINE_S
        rules[host] = HostRules(
            min_gap_s=min(base.min_gap_s, 3600 / checks_per_hour),
            max_concurrent=base.max_concurrent,
            per_minute=max(base.per_minute, math.ceil(per_hour / 60)) if base.per_minute else 0,
            hourly_budget=max(base.hourly_budget, math.ceil(per_hour)),
            daily_budget=max(base.daily_budget, math.ceil(per_hour * 24)),
        )
    return rules


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 targets, 7 days of history + 1 measured day")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--ceiling-step", type=float, default=5.0, help="the ceiling watcher's interval (s)")
    args = parser.parse_args()
    targets, history, measured = (100, 7, 1) if args.quick else (300, 28, 7)
    began = time.monotonic()
    start = datetime(2026, 2, 2, tzinfo=PARIS).astimezone(UTC)  # a Monday, outside the holiday seasons
    world = generate_realistic_france(targets=targets, start=start, days=history + measured + 1, seed=args.seed)
    m0 = start + timedelta(days=history)
    m1 = m0 + timedelta(days=measured)
    truth = classify(world, start, m0, m1)
    print(f"world: {targets} targets, {len(world.slots)} slots ({time.monotonic() - began:.1f} s)", file=sys.stderr)

    base = simulate(world, truth, None, m0 - timedelta(seconds=BASELINE_S), m0, m1, args.seed)
    print(f"baseline done ({time.monotonic() - began:.1f} s)", file=sys.stderr)
    rules = host_rules(world)
    policy = Policy(PolicySettings(host_overrides=rules), rng=random.Random(args.seed))
    log: dict[str, list[Check]] = {}
    ours = simulate(world, truth, policy, start, m0, m1, args.seed, log)
    print(f"policy done ({time.monotonic() - began:.1f} s)", file=sys.stderr)
    oracle = Run(caught=ceiling(world, truth, m0, m1, args.ceiling_step, args.seed, EPISODE_OUTCOME.keys()))
    oracle.requests = round(targets * measured * 86400 / args.ceiling_step)
    print(report(diagnose(truth, ours, log, oracle.caught)), file=sys.stderr)
    runs = {"policy": ours.caught, "baseline": base.caught, "ceiling": oracle.caught}
    print(by_class(world, truth, runs), file=sys.stderr)

    figures = score(ours, truth, targets, measured)
    baseline = score(base, truth, targets, measured)
    figures.update({f"baseline_{k}": v for k, v in baseline.items()})
    top = score(oracle, truth, targets, measured)
    figures.update({f"ceiling_{k}": top[k] for k in CEILING_FIGURES})
    perfect = score(Run(caught=continuous(truth, m1)), truth, targets, measured)
    figures.update({f"ceiling_continuous_{k}": perfect[k] for k in CEILING_FIGURES[:5]})
    figures.update(
        {
            "ceiling_check_every_s": args.ceiling_step,
            "unannounced_vs_baseline": _ratio(figures["catch_rate_unannounced"], baseline),
            "ceiling_unannounced_vs_baseline": _ratio(top["catch_rate_unannounced"], baseline),
            "ceiling_continuous_unannounced_vs_baseline": _ratio(perfect["catch_rate_unannounced"], baseline),
        }
    )
    rpc = {tid: requests_per_check(target) for tid, target in world.targets.items()}
    best_rate, best_spent = informed(world, truth, baseline["requests_per_target_day"] or 0.0, rules, rpc)
    figures.update(
        {
            "informed_catch_rate_unannounced": round(best_rate, 4),
            "informed_requests_per_target_day": round(best_spent, 1),
            "informed_unannounced_vs_baseline": _ratio(best_rate, baseline),
        }
    )
    labels: dict[str, int] = defaultdict(int)
    for plan in policy.plans.values():
        labels[plan.summary.label if plan.summary else "?"] += 1
    figures.update(
        {
            "alerts": ours.alerts,
            "targets": targets,
            "measured_days": measured,
            "labels": dict(sorted(labels.items())),
            "seconds": round(time.monotonic() - began, 1),
        }
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
