# SPDX-License-Identifier: AGPL-3.0-or-later
from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from creneau.monitor.backoff import BackoffRules, Health, TargetHealth, after_outcome, backoff_s, human_answered
from creneau.types import Outcome

T0 = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)
RULES = BackoffRules()


def delay(health: TargetHealth) -> float:
    assert health.until is not None
    return (health.until - T0).total_seconds()


@pytest.mark.parametrize("outcome", [Outcome.RATE_LIMITED, Outcome.UNAVAILABLE], ids=lambda o: o.value)
def test_after_outcome_backs_off_exponentially_when_site_pushes_back(outcome: Outcome) -> None:
    health, delays = TargetHealth(), []
    rng = random.Random(1)
    for _ in range(5):
        health, _ = after_outcome(health, outcome, T0, rng)
        delays.append(delay(health))
    assert health.status is Health.BACKING_OFF
    for n, d in enumerate(delays, start=1):
        raw = RULES.pushback_base_s * 2 ** (n - 1)
        assert raw * (1 - RULES.jitter) <= d <= raw


def test_after_outcome_honours_retry_after_when_longer_than_backoff() -> None:
    health, _ = after_outcome(TargetHealth(), Outcome.RATE_LIMITED, T0, random.Random(0), retry_after_s=900)
    assert delay(health) == 900


def test_after_outcome_uses_short_steps_when_inside_an_announced_burst() -> None:
    health, _ = after_outcome(TargetHealth(), Outcome.UNAVAILABLE, T0, random.Random(0), urgent=True)
    assert delay(health) <= RULES.urgent_base_s


def test_after_outcome_pauses_and_says_why_when_blocked_repeatedly() -> None:
    health, changes = TargetHealth(), []
    for _ in range(RULES.pause_after_blocks):
        health, change = after_outcome(health, Outcome.BLOCKED, T0, random.Random(0))
        changes.append(change)
    assert health.status is Health.PAUSED
    assert delay(health) == RULES.pause_s
    assert "cannot be watched right now" in health.reason
    last = changes[-1]
    assert last is not None
    assert last.new is Health.PAUSED
    # Only status changes are reported: ok → backing_off → paused.
    assert [c.new for c in changes if c is not None] == [Health.BACKING_OFF, Health.PAUSED]


def test_after_outcome_doubles_the_pause_when_blocked_again_after_a_pause() -> None:
    health = TargetHealth(Health.PAUSED, 3, 3, 1)
    health, change = after_outcome(health, Outcome.BLOCKED, T0, random.Random(0))
    assert delay(health) == RULES.pause_s * 2
    assert change is None


def test_after_outcome_recovers_and_reports_when_a_check_is_conclusive() -> None:
    health, _ = after_outcome(TargetHealth(), Outcome.BLOCKED, T0, random.Random(0))
    health, change = after_outcome(health, Outcome.NO_SLOTS, T0, random.Random(0))
    assert health == TargetHealth(since=T0)
    assert change is not None
    assert change.new is Health.OK


def test_after_outcome_waits_for_a_human_when_a_captcha_wall_shows() -> None:
    health, change = after_outcome(TargetHealth(), Outcome.HUMAN_CHECK_REQUIRED, T0, random.Random(0))
    assert health.status is Health.NEEDS_HUMAN
    assert change is not None
    assert "captcha desk" in change.reason
    health, change = human_answered(health, T0 + timedelta(minutes=5))
    assert health.status is Health.OK
    assert change is not None


def test_after_outcome_retries_quickly_once_when_the_session_expired() -> None:
    health, _ = after_outcome(TargetHealth(), Outcome.SESSION_EXPIRED, T0, random.Random(0))
    assert delay(health) == RULES.session_retry_s
    health, _ = after_outcome(health, Outcome.SESSION_EXPIRED, T0, random.Random(0))
    assert delay(health) > RULES.session_retry_s


def test_target_health_round_trips_when_paused() -> None:
    health = TargetHealth(Health.PAUSED, 3, 3, 1, T0, "why", T0)
    assert TargetHealth.from_dict(health.to_dict()) == health


@given(st.integers(1, 30), st.integers(0, 2**32))
def test_backoff_s_stays_within_jitter_and_cap_when_attempts_grow(attempt: int, seed: int) -> None:
    d = backoff_s(30, attempt, RULES, random.Random(seed), cap_s=RULES.cap_s)
    raw = min(RULES.cap_s, 30 * 2 ** (attempt - 1))
    assert raw * (1 - RULES.jitter) <= d <= raw
