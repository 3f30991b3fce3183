# SPDX-License-Identifier: AGPL-3.0-or-later
"""A target's health: backing off after errors, pausing after repeated blocks, waiting for a human.

Pure: `after_outcome(health, outcome, now, rng)` returns the new health and, when the status changed, a
`HealthChange` the monitor logs once and tells the watchers about (style rules 12 and 13). The RNG is passed
in (seeded in tests and benchmarks), so jitter is reproducible.

- `rate_limited` / `unavailable`: exponential backoff with jitter, never sooner than the site's Retry-After.
  Inside an announced publication burst the base is the burst step (the overload is expected at that instant
  and one request per target every few seconds stays far below what people refreshing the page send).
- `blocked` (403, edge challenge): exponential backoff from a long base; after `pause_after_blocks` in a row
  the target is *paused* for hours (doubling up to a day) and the watchers are told it cannot be watched.
- `human_check_required`: the target waits for the captcha desk (`human_answered`), with a slow re-try.
- `session_expired`: a quick re-try with a fresh session, then the error backoff.
- network errors and unknown layouts: the error backoff, no pause.
A conclusive outcome clears everything.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from creneau.types import PARIS, Outcome


class Health(StrEnum):
    OK = "ok"
    BACKING_OFF = "backing_off"
    PAUSED = "paused"
    NEEDS_HUMAN = "needs_human"


@dataclass(frozen=True, slots=True)
class BackoffRules:
    pushback_base_s: float = 30.0
    blocked_base_s: float = 300.0
    error_base_s: float = 30.0
    urgent_base_s: float = 10.0
    urgent_cap_s: float = 20.0
    factor: float = 2.0
    cap_s: float = 3600.0
    jitter: float = 0.5
    session_retry_s: float = 5.0
    pause_after_blocks: int = 3
    pause_s: float = 6 * 3600.0
    pause_cap_s: float = 24 * 3600.0
    human_retry_s: float = 3600.0


@dataclass(frozen=True, slots=True)
class TargetHealth:
    """`until`: no check before this instant (None: no restriction). Streaks count outcomes in a row."""

    status: Health = Health.OK
    failures: int = 0
    blocks: int = 0
    pauses: int = 0
    until: datetime | None = None
    reason: str = ""
    since: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "failures": self.failures,
            "blocks": self.blocks,
            "pauses": self.pauses,
            "until": self.until.isoformat() if self.until else None,
            "reason": self.reason,
            "since": self.since.isoformat() if self.since else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TargetHealth:
        until, since = data.get("until"), data.get("since")
        return cls(
            Health(data.get("status", "ok")),
            int(data.get("failures", 0)),
            int(data.get("blocks", 0)),
            int(data.get("pauses", 0)),
            datetime.fromisoformat(until) if until else None,
            str(data.get("reason", "")),
            datetime.fromisoformat(since) if since else None,
        )


@dataclass(frozen=True, slots=True)
class HealthChange:
    """A change of a target's status, to log once and to show the watchers (`reason` is for people)."""

    at: datetime
    old: Health
    new: Health
    reason: str


def backoff_s(base_s: float, attempt: int, rules: BackoffRules, rng: random.Random, *, cap_s: float) -> float:
    """Delay before re-try number `attempt` (1-based): base × factor^(attempt-1), capped, times U(1-jitter, 1)."""
    raw = min(cap_s, base_s * rules.factor ** max(0, attempt - 1))
    return raw * (1.0 - rules.jitter * rng.random())


def _clock(when: datetime) -> str:
    return when.astimezone(PARIS).strftime("%d/%m %H:%M")


def after_outcome(
    health: TargetHealth,
    outcome: Outcome,
    now: datetime,
    rng: random.Random,
    *,
    rules: BackoffRules | None = None,
    retry_after_s: float | None = None,
    urgent: bool = False,
) -> tuple[TargetHealth, HealthChange | None]:
    """The target's health after one check ended with `outcome` at `now`."""
    rules = rules or BackoffRules()
    if outcome.is_conclusive and health.status is Health.OK and health.failures == 0:
        return health, None
    if outcome.is_conclusive:
        new = TargetHealth(since=now if health.status is not Health.OK else health.since)
        return new, _change(health, new, now, "checks work again")
    failures = health.failures + 1
    blocks = health.blocks + 1 if outcome is Outcome.BLOCKED else 0
    if outcome is Outcome.HUMAN_CHECK_REQUIRED:
        until = now + timedelta(seconds=rules.human_retry_s)
        new = TargetHealth(
            Health.NEEDS_HUMAN,
            failures,
            0,
            health.pauses,
            until,
            "the site shows a captcha: it needs a human check in the captcha desk",
            now,
        )
        return new, _change(health, new, now, new.reason)
    if blocks >= rules.pause_after_blocks:
        pause = min(rules.pause_cap_s, rules.pause_s * rules.factor**health.pauses)
        until = now + timedelta(seconds=max(pause, retry_after_s or 0.0))
        reason = (
            f"the site refused our checks {blocks} times in a row; "
            f"this target cannot be watched right now, next try {_clock(until)} (Paris)"
        )
        new = TargetHealth(Health.PAUSED, failures, blocks, health.pauses + 1, until, reason, now)
        return new, _change(health, new, now, reason)
    if outcome is Outcome.SESSION_EXPIRED and failures == 1:
        delay = rules.session_retry_s
    elif outcome is Outcome.BLOCKED:
        delay = backoff_s(rules.blocked_base_s, blocks, rules, rng, cap_s=rules.cap_s)
    elif outcome.is_site_pushback and urgent:
        delay = backoff_s(rules.urgent_base_s, failures, rules, rng, cap_s=rules.urgent_cap_s)
    elif outcome.is_site_pushback:
        delay = backoff_s(rules.pushback_base_s, failures, rules, rng, cap_s=rules.cap_s)
    else:
        delay = backoff_s(rules.error_base_s, failures, rules, rng, cap_s=rules.cap_s)
    delay = max(delay, retry_after_s or 0.0)
    until = now + timedelta(seconds=delay)
    reason = f"{outcome.value} ×{failures}; next try in {delay:.0f} s"
    status = Health.BACKING_OFF
    new = TargetHealth(status, failures, blocks, health.pauses, until, reason, health.since or now)
    if health.status is status:
        return new, None
    return replace(new, since=now), _change(health, new, now, f"the site answers {outcome.value}; backing off")


def human_answered(health: TargetHealth, now: datetime) -> tuple[TargetHealth, HealthChange | None]:
    """The captcha desk solved the wall: check again now."""
    if health.status is not Health.NEEDS_HUMAN:
        return health, None
    new = TargetHealth(since=now)
    return new, _change(health, new, now, "a human answered the check; checks resume")


def _change(old: TargetHealth, new: TargetHealth, now: datetime, reason: str) -> HealthChange | None:
    if old.status is new.status:
        return None
    return HealthChange(now, old.status, new.status, reason)
