# SPDX-License-Identifier: AGPL-3.0-or-later
"""Plain-language account of a target's schedule, for the status board (`Policy.explain`)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from creneau.monitor import cost, politeness
from creneau.monitor.durations import LEVELS_S
from creneau.monitor.learning import BLOCK_S, block_of
from creneau.monitor.plan import TargetPlan
from creneau.monitor.returns import STEP_S
from creneau.types import PARIS

if TYPE_CHECKING:
    from creneau.monitor.policy import Policy

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _span(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def _week_time(second: float) -> str:
    day, rest = divmod(int(second), 86400)
    return f"{_DAYS[day % 7]} {rest // 3600:02d}:{rest % 3600 // 60:02d}"


def describe(policy: Policy, plan: TargetPlan, now: datetime) -> str:
    s = policy.settings
    if not plan.watched:
        return f"{plan.target_id}: nobody watches this target, so it is not checked."
    lines = []
    summary = plan.summary
    if plan.levels is None:
        lines.append(
            f"{plan.target_id}: learning — checked every {_span(s.cadence_s)} "
            f"for its first {s.learning_days:g} days of watching."
        )
    else:
        current = LEVELS_S[plan.levels[block_of(now)]]
        shortest, longest = min(plan.levels), max(plan.levels)
        block_start = int(block_of(now) * BLOCK_S)
        label = summary.label if summary else "?"
        lines.append(
            f"{plan.target_id} ({label}): every {_span(current)} now "
            f"({_week_time(block_start)}–{_week_time(block_start + BLOCK_S)[4:]}), "
            f"between {_span(LEVELS_S[shortest])} and {_span(LEVELS_S[longest])} over the week."
        )
    if summary is not None:
        if summary.evidence >= 0.5:
            level = plan.levels[block_of(now)] if plan.levels is not None else None
            catch = f"; at this interval ≈ {summary.p_catch[level]:.0%} of them are caught" if level is not None else ""
            lines.append(
                f"About {summary.openings_per_day:.1f} openings a day, typically visible {_span(summary.median_visible_s)}"
                f"{catch} (every 3 min: {summary.p_catch[LEVELS_S.index(180)]:.0%})."
            )
        else:
            lines.append("No opening seen recently: checked slowly until one appears.")
        lines.append(
            f"Routine budget ≈ {summary.requests_per_day:.0f} requests/day "
            f"(the budget is {s.requests_per_target_day:.0f} per target-day, shared across targets)."
        )
    for instant in plan.announced:
        lines.append(
            f"Announced publication {instant.astimezone(PARIS):%d/%m %H:%M}: dense checks from the instant to "
            f"+{s.timing.burst_offsets_s[-1]:.0f} s."
        )
    minutes = [lo for lo, hi in plan.windows if lo == hi]
    spans = [(lo, hi) for lo, hi in plan.windows if hi > lo]
    if spans:
        text = ", ".join(f"{_week_time(lo)}–{_week_time(hi)[4:]}" for lo, hi in spans)
        step = s.timing.step(policy.lag_s(plan))
        lines.append(f"Learned release windows (checked every {step:.0f} s): {text}.")
    if minutes:
        lag = policy.lag_s(plan)
        after = f", then every {s.timing.step(lag):.0f} s for {lag:.0f} s" if lag else ""
        text = ", ".join(_week_time(lo) for lo in minutes)
        lines.append(f"Learned release minutes (checked at the minute{after}): {text}.")
    delay = plan.returns.delay(now)
    if delay is not None:
        lines.append(
            f"Slots that go away come back after {_span(delay[0])}–{_span(delay[1])} (held bookings nobody "
            f"confirmed): checked again then, every {STEP_S:.0f} s."
        )
    health = plan.health
    if health.status.value != "ok":
        lines.append(f"Status {health.status.value}: {health.reason}.")
    rules = policy.host_rules(plan)
    sent = "expected" if plan.requests_per_check is None else "seen lately"
    lines.append(f"A check sends up to {cost.expected_requests(plan)} HTTP requests ({sent}).")
    factor = cost.stretch(policy, plan)
    if factor > 1.0:
        lines.append(
            f"Routine checks are {factor:.1f}× further apart than planned to keep the host within its budgets."
        )
    lines.append(f"Host {plan.host}: {politeness.describe(rules, policy.hosts[plan.host], now)}.")
    if plan.next_at is not None:
        lines.append(f"Next check {plan.next_at.astimezone(PARIS):%d/%m %H:%M:%S} ({plan.next_reason.value}).")
    return " ".join(lines)
