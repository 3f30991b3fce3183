# SPDX-License-Identifier: AGPL-3.0-or-later
"""When to check each target: the monitor's pure scheduling policy (docs/scheduling.md).

The policy is driven by the caller's clock: every method takes `now`, nothing reads the OS time, and all
state is plain data (`Policy.to_dict` / `Policy.from_dict`) the store persists. A monitor loop does:

    for target_id in policy.due(now):                # watched targets whose next check has come
        if policy.host_wait(target_id, now): continue  # the host's politeness says later
        reason = policy.begin(target_id, now)        # counts the request (host and budget)
        obs = await check(target)                    # … the adapter does its work …
        detection = detect(state, obs)               # the detector records transitions
        changes = policy.record(obs, detection.transitions, now=end)
    policy.reallocate(now)                           # once a day (or after watches change)

Budget: every watched target is worth `requests_per_target_day` requests (480 = one every 3 minutes, the
baseline). New targets are checked at that cadence while the policy learns them; then a weekly allocation
(`allocation.allocate`) shares what is left after the dense checks (announced publications, release windows,
slots coming back) and the retries between targets and 4-hour blocks of the week, where openings are expected
to be caught.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from creneau.detector.detect import Transition, TransitionKind
from creneau.monitor import cost
from creneau.monitor.backoff import BackoffRules, Health, HealthChange, after_outcome, human_answered
from creneau.monitor.budget import Ledger, reallocate
from creneau.monitor.durations import DurationModel, level_of
from creneau.monitor.explain import describe
from creneau.monitor.learning import BLOCK_S, week_second
from creneau.monitor.plan import CheckReason, PlanSummary, TargetPlan
from creneau.monitor.politeness import DEFAULT_HOST_RULES, HostRules, HostState
from creneau.monitor.timing import Timing, next_announced, next_window, series
from creneau.types import NoticeKind, Observation, Outcome, System

__all__ = ["CheckReason", "Policy", "PolicySettings", "TargetPlan"]


@dataclass(frozen=True, slots=True)
class PolicySettings:
    """Tunables; `requests_per_target_day` is the budget (480 = the baseline "every 3 minutes").

    `host_rules` are per booking system; `host_overrides` per host name (a national site serving every
    target from one host needs limits sized to how many targets are watched there).
    """

    cadence_s: float = 180.0
    requests_per_target_day: float = 480.0
    budget_margin: float = 0.02
    learning_days: float = 3.0
    min_interval_s: float = 15.0
    max_interval_s: float = 1800.0
    min_target_gap_s: float = 5.0
    half_life_days: float = 21.0
    timing: Timing = field(default_factory=Timing)
    backoff: BackoffRules = field(default_factory=BackoffRules)
    host_rules: Mapping[System, HostRules] = field(default_factory=lambda: dict(DEFAULT_HOST_RULES))
    host_overrides: Mapping[str, HostRules] = field(default_factory=dict)
    # How long after its instant a batch may take to show (slot-dynamics §6: RDV Préfecture copies free slots
    # to its cache every 60 s; the other systems show them at once).
    visibility_lag_s: Mapping[System, float] = field(
        default_factory=lambda: {System.RDVPREF: 60.0, System.LEGACY: 0.0, System.ANTS: 0.0}
    )
    # How long a booking is held before it must be confirmed, when the site is known to hold them (the legacy
    # module: 60 minutes, 5 on older forms; booking-systems.md §2.2): unconfirmed holds come back then.
    hold_s: Mapping[System, tuple[float, ...]] = field(default_factory=lambda: {System.LEGACY: (300.0, 3600.0)})


class Policy:
    """All watched targets' schedules, their hosts' politeness state and the budget ledger."""

    def __init__(
        self,
        settings: PolicySettings | None = None,
        *,
        rng: random.Random | None = None,
        model: DurationModel | None = None,
    ) -> None:
        self.settings = settings or PolicySettings()
        self.rng = rng or random.Random(0)
        self.model = model or DurationModel()
        self._prior_p = self.model.catch_curve({}, {}).p_catch
        self.plans: dict[str, TargetPlan] = {}
        self.hosts: dict[str, HostState] = {}
        self.ledger = Ledger(per_target_day=self.settings.requests_per_target_day)

    # --- membership ----------------------------------------------------------------------------
    def watch(self, target_id: str, host: str, system: System, now: datetime) -> TargetPlan:
        """Start (or resume) scheduling a target: its first check comes within one cadence, spread at random."""
        plan = self.plans.get(target_id)
        if plan is None:
            plan = TargetPlan(target_id, host, system, half_life_s=self.settings.half_life_days * 86400)
            self.plans[target_id] = plan
        if not plan.watched:
            plan.watched = True
            plan.watched_since = now
            plan.next_at = now + timedelta(seconds=self.rng.uniform(0, self.settings.cadence_s))
            plan.next_reason = CheckReason.ROUTINE
        self.hosts.setdefault(host, HostState())
        self.ledger.touch(now, self._watched_count())
        return plan

    def unwatch(self, target_id: str, now: datetime) -> None:
        """Nobody watches the target any more: it is never due again (what was learned is kept)."""
        plan = self.plans.get(target_id)
        if plan is not None and plan.watched:
            plan.watched = False
            plan.next_at = None
            cost.forget(self, plan)
            self.ledger.touch(now, self._watched_count())

    def _watched_count(self) -> int:
        return sum(1 for p in self.plans.values() if p.watched)

    # --- scheduling ----------------------------------------------------------------------------
    def next_check(self, target_id: str) -> datetime | None:
        plan = self.plans.get(target_id)
        return plan.next_at if plan is not None and plan.watched else None

    def due(self, now: datetime) -> list[str]:
        """Watched targets whose next check has come, most overdue first."""
        ready = [p for p in self.plans.values() if p.watched and p.next_at is not None and p.next_at <= now]
        ready.sort(key=lambda p: (p.next_reason.priority, p.next_at))
        return [p.target_id for p in ready]

    def host_rules(self, plan: TargetPlan) -> HostRules:
        """The host's own limits when the operator set some, else its booking system's defaults."""
        override = self.settings.host_overrides.get(plan.host)
        return override or self.settings.host_rules.get(plan.system, HostRules())

    def host_wait(self, target_id: str, now: datetime) -> datetime | None:
        """When the target's host allows the next request (None: now)."""
        plan = self.plans[target_id]
        return cost.host_wait(self, plan, now)

    def begin(self, target_id: str, now: datetime) -> CheckReason:
        """A check of the target starts now: count it against the host and the budget; returns why it runs."""
        plan = self.plans[target_id]
        cost.charge(self, plan, now)
        self.ledger.spend(plan.next_reason)
        plan.running = plan.next_reason
        plan.next_at = None
        return plan.running

    def lag_s(self, plan: TargetPlan) -> float:
        return self.settings.visibility_lag_s.get(plan.system, 60.0)

    def routine_interval(self, plan: TargetPlan, at: datetime) -> float:
        return cost.routine_interval(self, plan, at)

    def record(
        self, obs: Observation, transitions: Sequence[Transition] = (), *, now: datetime | None = None
    ) -> list[HealthChange]:
        """A check ended (`now`, default `obs.checked_at`): learn from it, back off if needed, plan the next one.

        Returns the target's health change (to log once and to tell the watchers), if any.
        """
        now = now or obs.checked_at
        plan = self.plans[obs.target_id]
        cost.settle(self, plan, obs, now)
        reason = plan.running or CheckReason.ROUTINE
        plan.running = None
        interval = self.routine_interval(plan, now)
        elapsed = min((now - plan.last_check).total_seconds(), 2 * interval) if plan.last_check else 0.0
        positive: bool | None = None
        if obs.outcome.is_conclusive:
            positive = obs.outcome is Outcome.SLOTS_AVAILABLE and bool(obs.slots)
        level = level_of(interval)
        p_catch = plan.summary.p_catch if plan.summary is not None else self._prior_p
        plan.stats.checked(
            now, level=level, elapsed_s=elapsed, positive=positive, routine=not reason.dense, catch_p=p_catch[level]
        )
        plan.checks += 1
        if positive is not None:
            keys = frozenset(slot.key for slot in obs.slots) if positive else frozenset()
            plan.returns.observe(keys, now, self.settings.hold_s.get(plan.system, ()))
        self._learn_transitions(plan, transitions, positive, now)
        self._read_notices(plan, obs, now)
        plan.health, change = after_outcome(
            plan.health,
            obs.outcome,
            now,
            self.rng,
            rules=self.settings.backoff,
            retry_after_s=obs.retry_after_s,
            urgent=self._urgent(plan, now),
        )
        plan.last_check = now
        self._plan_next(plan, now)
        return [change] if change is not None else []

    def _learn_transitions(
        self,
        plan: TargetPlan,
        transitions: Iterable[Transition],
        positive: bool | None,
        now: datetime,
    ) -> None:
        caught_new = False
        seen_any = False
        for t in transitions:
            seen_any = True
            if t.alerts:
                caught_new = True
                if t.kind is TransitionKind.OPENED:
                    # Only openings teach windows: new slots on a target already showing some matter less.
                    plan.stats.opening_started(t.since, t.at, self.lag_s(plan))
        if not seen_any and positive:
            caught_new = True  # a caller without a detector: any slot counts
        if caught_new:
            # Whatever check saw them (a burst check, a retry after an overload, a routine one), the slots a
            # dense series waited for have come: the rest of the series is skipped.
            ends = [end for _, end in self._series(plan, now)]
            if ends:
                plan.satisfied_until = max([*ends, now])

    def _series(self, plan: TargetPlan, now: datetime) -> list[tuple[datetime, datetime]]:
        """The dense series not yet satisfied that began at most `follow_up_s` before `now`."""
        found = series(self.settings.timing, plan.announced, plan.windows, now, self.lag_s(plan))
        done = plan.satisfied_until
        return [(start, end) for start, end in found if done is None or done < end]

    def _urgent(self, plan: TargetPlan, now: datetime) -> bool:
        """Whether an error now is retried quickly: `now` falls in a dense series not yet satisfied, or the site
        has answered only errors since one was running."""
        return self._erring_through(plan, now) or any(start <= now <= end for start, end in self._series(plan, now))

    def _erring_through(self, plan: TargetPlan, now: datetime) -> bool:
        """Whether the target's current error streak began while a dense series not yet satisfied was running
        (e.g. "Service surchargé" at an announced instant): then retries come quickly, each a check of its own,
        until the site answers normally or `follow_up_s` has passed since the series began."""
        health = plan.health
        if health.status is not Health.BACKING_OFF or not health.failures or health.blocks or health.since is None:
            return False  # a site that refuses us (blocked) keeps its long backoff
        since = health.since
        return any(since <= end for _, end in self._series(plan, now))

    def _read_notices(self, plan: TargetPlan, obs: Observation, now: datetime) -> None:
        upcoming = [n.instant for n in obs.notices if n.kind is NoticeKind.NEXT_PUBLICATION and n.instant > now]
        if upcoming:
            # A page shows one next publication; a new instant replaces (moves) the pending ones not yet due.
            plan.announced = sorted({t for t in plan.announced if t <= now} | {min(upcoming)})
        timing = self.settings.timing
        keep = timedelta(seconds=max(timing.burst_offsets_s[-1], timing.follow_up_s))
        plan.announced = [t for t in plan.announced if t + keep > now]

    def _plan_next(self, plan: TargetPlan, now: datetime) -> None:
        if not plan.watched:
            plan.next_at = None
            return
        s = self.settings
        earliest = now + timedelta(seconds=s.min_target_gap_s)
        candidates = []
        ann = next_announced(s.timing, plan.announced, now, plan.satisfied_until)
        if ann is not None:
            candidates.append((ann, CheckReason.ANNOUNCED))
        win = next_window(s.timing, plan.windows, now, plan.satisfied_until, self.lag_s(plan)) if plan.windows else None
        if win is not None:
            if plan.stats.run_n:
                # It shows slots already: the release can only add to them, so the targets that may open at
                # the release minute get the host's first minute.
                win += timedelta(seconds=s.timing.step(self.lag_s(plan)))
            candidates.append((win, CheckReason.WINDOW))
        back = plan.returns.next_check(now)
        if back is not None:
            candidates.append((back, CheckReason.RETURN))
        routine = self._next_routine(plan, now)
        if not any(routine <= at <= routine + cost.RESERVE_AHEAD for at, _ in candidates):
            # A routine check due less than a minute before a dense one would only spend the host's minute
            # budget the dense one needs: the dense one takes its place.
            candidates.append((routine, CheckReason.ROUTINE))
        health = plan.health
        if health.until is not None and self._erring_through(plan, now):
            candidates.append((health.until, CheckReason.RETRY))
        when, why = min(candidates, key=lambda c: (c[0], c[1].priority))  # a tie goes to the dense check
        when = max(when, earliest)
        if health.status is not Health.OK and health.until is not None and health.until > when:
            when = health.until
            why = CheckReason.PROBE if health.status in (Health.PAUSED, Health.NEEDS_HUMAN) else CheckReason.RETRY
        elif health.status is not Health.OK and why is CheckReason.ROUTINE:
            why = CheckReason.RETRY
        plan.next_at, plan.next_reason = when, why
        cost.reserve(self, plan)

    def _next_routine(self, plan: TargetPlan, now: datetime) -> datetime:
        nxt = now + timedelta(seconds=self.routine_interval(plan, now))
        if plan.levels is not None:
            # Entering a block with a shorter interval should not wait for the longer one to run out.
            boundary = now + timedelta(seconds=BLOCK_S - week_second(now) % BLOCK_S)
            if nxt > boundary:
                nxt = min(nxt, max(boundary, now + timedelta(seconds=self.routine_interval(plan, boundary))))
        return nxt

    def human_answered(self, target_id: str, now: datetime) -> list[HealthChange]:
        """The captcha desk answered the target's wall: check again right away."""
        plan = self.plans[target_id]
        plan.health, change = human_answered(plan.health, now)
        if change is not None:
            plan.next_at, plan.next_reason = now, CheckReason.PROBE
            cost.reserve(self, plan)
        return [change] if change is not None else []

    # --- budget ----------------------------------------------------------------------------------
    def reallocate(self, now: datetime) -> None:
        """Re-learn every watched target's curve and windows and share the next week's budget."""
        reallocate(self, now)
        for plan in self.plans.values():
            if plan.watched and plan.running is None and plan.last_check is not None:
                self._plan_next(plan, plan.last_check)

    def explain(self, target_id: str, now: datetime) -> str:
        """One paragraph for the status board: why this target is checked when it is."""
        return describe(self, self.plans[target_id], now)

    def summary(self, target_id: str) -> PlanSummary | None:
        return self.plans[target_id].summary

    # --- persistence -------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Everything the policy knows, JSON-ready (settings are configuration, not state)."""
        return {
            "plans": {tid: plan.to_dict() for tid, plan in self.plans.items()},
            "hosts": {host: state.to_dict() for host, state in self.hosts.items()},
            "ledger": self.ledger.to_dict(),
        }

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        settings: PolicySettings | None = None,
        *,
        rng: random.Random | None = None,
        model: DurationModel | None = None,
    ) -> Policy:
        policy = cls(settings, rng=rng, model=model)
        policy.plans = {tid: TargetPlan.from_dict(p) for tid, p in data.get("plans", {}).items()}
        policy.hosts = {host: HostState.from_dict(h) for host, h in data.get("hosts", {}).items()}
        policy.ledger = Ledger.from_dict(data.get("ledger", {}))
        for plan in policy.plans.values():
            cost.reserve(policy, plan)
        return policy
