# SPDX-License-Identifier: AGPL-3.0-or-later
"""The request budget: what watched targets have earned, what was spent, and the weekly re-allocation.

Every watched target earns `requests_per_target_day` requests a day. Requests spent beyond what was earned
(a debt) come off the next allocation; requests saved are *not* carried over, so the policy never spends
more than the baseline over any stretch of days. The allocation, redone every day for the next 24 hours,
first sets aside the dense checks (announced bursts and release windows, sized from what they cost recently,
from the notices pending and from the windows known now), the checks for slots coming back, the retries,
and the targets still being learned at the default cadence, then shares the rest with `allocation.allocate`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from creneau.monitor import cost as check_cost
from creneau.monitor.allocation import Unit, allocate, weekly_cost
from creneau.monitor.durations import LEVELS_S
from creneau.monitor.learning import N_BLOCKS, WEEK_S, block_of
from creneau.monitor.plan import CheckReason, PlanSummary, TargetPlan
from creneau.monitor.timing import weekly_window_checks

if TYPE_CHECKING:
    from creneau.monitor.policy import Policy

_DAY = 86400.0


@dataclass(slots=True)
class Ledger:
    """Requests earned and spent. `rates` are smoothed requests per day for each check reason."""

    per_target_day: float = 480.0
    earned: float = 0.0
    spent: int = 0
    watched: int = 0
    last: datetime | None = None
    by_reason: dict[str, int] = field(default_factory=dict)
    mark: dict[str, int] = field(default_factory=dict)
    mark_at: datetime | None = None
    rates: dict[str, float] = field(default_factory=dict)

    def touch(self, now: datetime, watched: int) -> None:
        """Credit the time since the last touch at the old number of watched targets, then take the new one."""
        if self.last is not None and now > self.last:
            self.earned += self.watched * self.per_target_day * (now - self.last).total_seconds() / _DAY
        self.last = max(now, self.last) if self.last else now
        self.watched = watched

    def spend(self, reason: CheckReason) -> None:
        self.spent += 1
        self.by_reason[reason.value] = self.by_reason.get(reason.value, 0) + 1

    @property
    def debt(self) -> float:
        return max(0.0, self.spent - self.earned)

    def smooth(self, now: datetime, alpha_per_day: float = 0.3) -> None:
        """Update the per-reason daily rates from what was spent since the last call."""
        if self.mark_at is not None and now > self.mark_at:
            days = (now - self.mark_at).total_seconds() / _DAY
            weight = min(1.0, alpha_per_day * days) if self.rates else 1.0
            for reason in CheckReason:
                rate = (self.by_reason.get(reason.value, 0) - self.mark.get(reason.value, 0)) / days
                self.rates[reason.value] = (1 - weight) * self.rates.get(reason.value, rate) + weight * rate
        self.mark, self.mark_at = dict(self.by_reason), now

    def to_dict(self) -> dict[str, Any]:
        return {
            "per_target_day": self.per_target_day,
            "earned": self.earned,
            "spent": self.spent,
            "watched": self.watched,
            "last": self.last.isoformat() if self.last else None,
            "by_reason": dict(self.by_reason),
            "mark": dict(self.mark),
            "mark_at": self.mark_at.isoformat() if self.mark_at else None,
            "rates": dict(self.rates),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Ledger:
        last, mark_at = data.get("last"), data.get("mark_at")
        return cls(
            float(data.get("per_target_day", 480.0)),
            float(data.get("earned", 0.0)),
            int(data.get("spent", 0)),
            int(data.get("watched", 0)),
            datetime.fromisoformat(last) if last else None,
            {k: int(v) for k, v in data.get("by_reason", {}).items()},
            {k: int(v) for k, v in data.get("mark", {}).items()},
            datetime.fromisoformat(mark_at) if mark_at else None,
            {k: float(v) for k, v in data.get("rates", {}).items()},
        )


def _label(openings_per_day: float, median_s: float, evidence: float, p_slowest: float) -> str:
    if evidence < 0.5:
        return "dead"
    if p_slowest >= 0.9:
        return "cold"
    if openings_per_day >= 1 and median_s < 600:
        return "hot"
    return "warm"


def _pooled_shape(plans: list[TargetPlan], now: datetime) -> list[float]:
    """Relative opening rate per block over all targets (each weighted by its own rate), half-way to flat."""
    seen = [0.0] * N_BLOCKS
    expected = [0.0] * N_BLOCKS
    for plan in plans:
        counts, exposure = plan.stats.block_rates(now)
        total_e = sum(exposure)
        rate = sum(counts) / total_e if total_e > 0 else 0.0
        for b in range(N_BLOCKS):
            seen[b] += counts[b]
            expected[b] += rate * exposure[b]
    return [0.5 + 0.5 * (s / e if e > 0 else 1.0) for s, e in zip(seen, expected, strict=True)]


def reallocate(policy: Policy, now: datetime) -> None:
    """Recompute every watched target's windows, duration curve and per-block intervals (see module doc)."""
    s = policy.settings
    ledger = policy.ledger
    plans = [p for p in policy.plans.values() if p.watched]
    ledger.touch(now, len(plans))
    ledger.smooth(now)
    if not plans:
        return
    prior = _pooled_shape(plans, now)

    lo = next(i for i, h in enumerate(LEVELS_S) if h >= s.min_interval_s)
    hi = max(i for i, h in enumerate(LEVELS_S) if h <= s.max_interval_s)
    units: list[Unit] = []
    fixed = 0.0
    window_cost = 0
    pending = 0
    for plan in plans:
        plan.windows = plan.stats.windows(now)
        window_cost += weekly_window_checks(s.timing, plan.windows, policy.lag_s(plan))
        pending += sum(1 for t in plan.announced if t > now) * s.timing.burst_checks
        curve = policy.model.catch_curve(plan.stats.decayed_cells(now), plan.stats.decayed_exposure(now))
        learning = plan.stats.observed_s < s.learning_days * _DAY
        per_day = curve.rate * _DAY
        label = "learning" if learning else _label(per_day, curve.median_s, curve.evidence, curve.p_catch[hi])
        if learning:
            plan.levels = None
            fixed += WEEK_S / s.cadence_s
        else:
            shape = tuple(plan.stats.block_shape(now, prior))
            units.append(
                Unit(plan.target_id, plan.host, curve.rates, shape, lo, hi, check_cost.expected_requests(plan))
            )
        cost = _DAY / s.cadence_s if learning else 0.0
        plan.summary = PlanSummary(
            label, per_day, curve.median_s, curve.evidence, curve.p_catch, cost, len(plan.windows)
        )

    # One day at a time, so that no day costs more than the baseline (a week-long plan would let busy
    # weekdays borrow from the weekend).
    horizon = list(dict.fromkeys(block_of(now + timedelta(hours=h)) for h in range(24)))
    rates = ledger.rates
    soon = now + timedelta(days=1)
    pending_day = sum(1 for p in plans for t in p.announced if now < t <= soon) * s.timing.burst_checks
    reserve = (
        max(rates.get(CheckReason.ANNOUNCED.value, 0.0), pending_day, pending / 7)
        + max(rates.get(CheckReason.WINDOW.value, 0.0), 0.5 * window_cost / 7)
        + rates.get(CheckReason.RETURN.value, 0.0)
        + rates.get(CheckReason.RETRY.value, 0.0)
        + rates.get(CheckReason.PROBE.value, 0.0)
    )
    budget = len(plans) * s.requests_per_target_day * (1 - s.budget_margin) - fixed / 7 - reserve - ledger.debt
    caps = _host_caps(policy, plans)
    chosen = allocate(units, budget * len(horizon) / 6, caps, horizon)
    for unit in units:
        plan = policy.plans[unit.target_id]
        levels = chosen[unit.target_id]
        if plan.levels is not None:
            levels = [levels[b] if b in horizon else plan.levels[b] for b in range(N_BLOCKS)]
        plan.levels = levels
        if plan.summary is not None:
            plan.summary = replace(plan.summary, requests_per_day=weekly_cost(levels, horizon[:6]))
    check_cost.replan(policy, now)


def _host_caps(policy: Policy, plans: list[TargetPlan]) -> dict[str, float]:
    """Routine HTTP requests per second each host may take (its costliest check sizes the gap's share)."""
    costliest: dict[str, tuple[int, TargetPlan]] = {}
    for plan in plans:
        requests = check_cost.expected_requests(plan)
        if plan.host not in costliest or requests > costliest[plan.host][0]:
            costliest[plan.host] = (requests, plan)
    return {host: check_cost.request_rate_cap(policy.host_rules(plan), n) for host, (n, plan) in costliest.items()}
