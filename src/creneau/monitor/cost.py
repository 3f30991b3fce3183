# SPDX-License-Identifier: AGPL-3.0-or-later
"""What a check costs its host in HTTP requests, and how the policy keeps every host within its budgets.

A check is not one request: a legacy form walks ~4 + 2 per guichet pages (more when a guichet shows a
calendar), an RDV Préfecture démarche 1–4, ANTS one. The monitor counts what each check really sent
(`Observation.requests`); a target's expected cost is the most it sent lately, decaying slowly towards
what its complete checks send now (`DEFAULT_REQUESTS_PER_CHECK` before its first check). That expectation is
what `host_wait` asks the host's budgets for and what `charge` counts when the check starts; `settle`
replaces it with the real count when the check ends.

Routine cadences are stretched so a host's planned load fits: every watched target's routine request rate
(expected cost ÷ planned interval) is summed per host, and when the sum passes `ROUTINE_SHARE` of the
host's tightest request budget, every target on that host is checked proportionally less often. Dense
checks (announced publications, windows, retries) use the rest, and the budgets themselves stay a hard
limit (`politeness.wait_until`). A routine check also leaves room for the dense checks due on its host within
the next minute (`reserve`): at a release instant (ANTS' midnight, a learned weekly minute) every target of
the host is due at once, and a sliding minute spent just before on routine checks would make them late.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from creneau.monitor import politeness
from creneau.monitor.durations import LEVELS_S
from creneau.monitor.learning import block_of
from creneau.monitor.plan import CheckReason, TargetPlan
from creneau.monitor.politeness import HostRules, HostState
from creneau.types import Observation, System

if TYPE_CHECKING:
    from creneau.monitor.policy import Policy

# Before a target's first check: a legacy form with three guichets sends 9 requests without slots (measured
# on the simulator: 3 to reach the guichet list, 2 per guichet), an RDV Préfecture walk up to 3 (terms page,
# captcha widget, image), ANTS one search.
DEFAULT_REQUESTS_PER_CHECK: Mapping[System, float] = {System.LEGACY: 10.0, System.RDVPREF: 3.0, System.ANTS: 1.0}
# What a check may send beyond its expectation when it finds slots: a legacy guichet showing its calendar
# adds 3 requests and one per week read. A check starts only when that much more still fits the host's
# budgets, so the check that finds slots after the dense ones filled the hour does not pass them.
SURPRISE_REQUESTS: Mapping[System, int] = {System.LEGACY: 4}
# How far a target's expectation moves down towards a cheaper complete check (up: at once).
DECAY = 0.1
ROUTINE_SHARE = 0.85  # of a host's request budget; the rest stays free for dense checks and retries
_DAY = 86400.0
RESERVE_AHEAD = timedelta(minutes=1)  # the span of the tightest sliding budget (ANTS, RDV Préfecture)
_AFTER_DENSE = timedelta(seconds=1)  # look again once the reserved checks are due (and have started)


def expected_requests(plan: TargetPlan) -> int:
    """Requests the target's next check is expected to send (at least one)."""
    estimate = plan.requests_per_check
    if estimate is None:
        estimate = DEFAULT_REQUESTS_PER_CHECK.get(plan.system, 1.0)
    return max(1, math.ceil(estimate - 1e-9))


def start_requests(plan: TargetPlan) -> int:
    """Requests the host's budgets must still hold for the target's next check to start: its expectation and
    what finding slots may add (`SURPRISE_REQUESTS`)."""
    return expected_requests(plan) + SURPRISE_REQUESTS.get(plan.system, 0)


def learn(plan: TargetPlan, observation: Observation) -> None:
    """Fold what a check sent into the expectation: a costlier check raises it at once, a complete check
    (slots or "no slots") lowers it slowly; a walk cut short by an error teaches nothing about a full one."""
    sent = observation.requests
    if sent is None or sent <= 0:
        return
    old = plan.requests_per_check
    if old is None:
        if observation.outcome.is_conclusive or sent > expected_requests(plan):
            plan.requests_per_check = float(sent)
    elif sent >= old:
        plan.requests_per_check = float(sent)
    elif observation.outcome.is_conclusive:
        plan.requests_per_check = old + DECAY * (sent - old)


def request_rate_cap(rules: HostRules, requests_per_check: float | None = None) -> float:
    """Routine requests per second a host may take: `ROUTINE_SHARE` of its tightest request budget and, given
    a check's cost, of what its gap between checks allows (inf: no cap)."""
    cap = politeness.budget_rate(rules)
    if requests_per_check is not None and rules.min_gap_s > 0:
        cap = min(cap, requests_per_check / rules.min_gap_s)
    return ROUTINE_SHARE * cap


def _state(policy: Policy, plan: TargetPlan) -> HostState:
    return policy.hosts.setdefault(plan.host, HostState())


def host_wait(policy: Policy, plan: TargetPlan, now: datetime) -> datetime | None:
    """When the target's host has room for the target's next check (None: now); a routine check, or one for
    slots coming back, also needs room for the announced and window checks due on the host within
    `RESERVE_AHEAD`."""
    state, rules = _state(policy, plan), policy.host_rules(plan)
    requests = start_requests(plan)
    wait = politeness.wait_until(rules, state, now, requests)
    if wait is not None or plan.next_reason not in (CheckReason.ROUTINE, CheckReason.RETURN):
        return wait
    # A dense check more than a minute overdue is running elsewhere or waits for the host anyway.
    lo, hi = now - RESERVE_AHEAD, now + RESERVE_AHEAD
    due = [(at, n) for tid, (at, n) in state.dense.items() if lo <= at <= hi and tid != plan.target_id]
    reserved = sum(n for _, n in due)
    if reserved and not politeness.fits(rules, state, requests + reserved):
        return max(now, *(at for at, _ in due)) + _AFTER_DENSE
    return None


def reserve(policy: Policy, plan: TargetPlan) -> None:
    """Keep the host's list of announced and window checks to come in step with the target's next check."""
    dense = _state(policy, plan).dense
    if plan.watched and plan.next_at is not None and plan.next_reason.timed:
        dense[plan.target_id] = (plan.next_at, expected_requests(plan))
    else:
        dense.pop(plan.target_id, None)


def charge(policy: Policy, plan: TargetPlan, now: datetime) -> None:
    """A check of the target starts now: count its expected requests against its host."""
    state = _state(policy, plan)
    plan.charge = politeness.begin(state, now, expected_requests(plan))
    state.dense.pop(plan.target_id, None)  # it runs: nothing to hold for it any more


def settle(policy: Policy, plan: TargetPlan, observation: Observation, now: datetime) -> None:
    """The check ended: free its place, count what it really sent, learn its cost, re-plan the host's load."""
    state = _state(policy, plan)
    politeness.end(state)
    if plan.charge is not None and observation.requests is not None:
        politeness.settle(state, plan.charge, observation.requests, now)
    plan.charge = None
    learn(plan, observation)
    plan_rate(policy, plan, now)


def planned_interval(policy: Policy, plan: TargetPlan, at: datetime) -> float:
    """The routine interval the allocation chose for `at` (the default cadence while the target is learned)."""
    if plan.levels is None:
        return policy.settings.cadence_s
    return LEVELS_S[plan.levels[block_of(at)]]


def routine_interval(policy: Policy, plan: TargetPlan, at: datetime) -> float:
    """The planned interval, stretched as much as the host's planned load passes its routine request cap."""
    return planned_interval(policy, plan, at) * stretch(policy, plan)


def stretch(policy: Policy, plan: TargetPlan) -> float:
    """How many times longer than planned every routine interval on the target's host must be (≥ 1)."""
    cap = request_rate_cap(policy.host_rules(plan))
    load = _state(policy, plan).planned_rate
    return max(1.0, load / cap) if cap > 0 else 1.0


def plan_rate(policy: Policy, plan: TargetPlan, now: datetime) -> None:
    """Record the routine request rate the target is planned at on its host (none once unwatched)."""
    state = _state(policy, plan)
    old = state.planned.pop(plan.target_id, 0.0)
    new = expected_requests(plan) / planned_interval(policy, plan, now) if plan.watched else 0.0
    if new > 0:
        state.planned[plan.target_id] = new
    state.planned_rate = max(0.0, state.planned_rate - old + new)


def forget(policy: Policy, plan: TargetPlan) -> None:
    """The target is no longer watched: its planned load leaves its host."""
    state = _state(policy, plan)
    state.planned_rate = max(0.0, state.planned_rate - state.planned.pop(plan.target_id, 0.0))
    state.dense.pop(plan.target_id, None)


def replan(policy: Policy, now: datetime) -> None:
    """Recompute every host's planned load from scratch (after a re-allocation changed the intervals)."""
    for state in policy.hosts.values():
        state.planned.clear()
        state.planned_rate = 0.0
    for plan in policy.plans.values():
        if plan.watched:
            plan_rate(policy, plan, now)
