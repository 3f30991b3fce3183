# SPDX-License-Identifier: AGPL-3.0-or-later
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from creneau.monitor.politeness import HostRules, HostState, begin, describe, end, next_paris_midnight, wait_until

T0 = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)  # 08:00 in Paris


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_wait_until_is_none_when_host_was_never_asked() -> None:
    assert wait_until(HostRules(), HostState(), T0) is None


def test_wait_until_enforces_min_gap_when_requests_follow_each_other() -> None:
    rules, state = HostRules(min_gap_s=5, max_concurrent=9), HostState()
    begin(state, T0)
    end(state)
    assert wait_until(rules, state, at(2)) == at(5)
    assert wait_until(rules, state, at(5)) is None


def test_wait_until_holds_requests_when_concurrency_is_full() -> None:
    rules, state = HostRules(min_gap_s=0, max_concurrent=2), HostState()
    begin(state, T0)
    begin(state, T0)
    assert wait_until(rules, state, at(1)) is not None
    end(state)
    assert wait_until(rules, state, at(1)) is None


def test_wait_until_slides_the_hourly_window_when_hourly_budget_is_spent() -> None:
    rules, state = HostRules(min_gap_s=0, max_concurrent=9, hourly_budget=3), HostState()
    for s in (0, 10, 20):
        begin(state, at(s))
        end(state)
    assert wait_until(rules, state, at(30)) == at(3600)
    assert wait_until(rules, state, at(3600)) is None


def test_wait_until_defers_to_paris_midnight_when_daily_budget_is_spent() -> None:
    rules, state = HostRules(min_gap_s=0, max_concurrent=9, daily_budget=2), HostState()
    begin(state, at(0))
    begin(state, at(1))
    midnight = next_paris_midnight(at(2))
    assert midnight == datetime(2026, 5, 4, 22, 0, tzinfo=UTC)
    assert wait_until(rules, state, at(2)) == midnight
    assert wait_until(rules, state, midnight) is None
    assert state.used_today == 0


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 3, 28, 12, 0, tzinfo=UTC), datetime(2026, 3, 28, 23, 0, tzinfo=UTC)),
        (datetime(2026, 10, 24, 12, 0, tzinfo=UTC), datetime(2026, 10, 24, 22, 0, tzinfo=UTC)),
    ],
    ids=["winter", "summer"],
)
def test_next_paris_midnight_follows_the_offset_when_dst_changes(now: datetime, expected: datetime) -> None:
    assert next_paris_midnight(now) == expected


def test_host_state_round_trips_and_forgets_in_flight_when_reloaded() -> None:
    state = HostState()
    begin(state, T0)
    again = HostState.from_dict(state.to_dict())
    assert again.in_flight == 0
    assert list(again.hour) == [T0]
    assert again.used_today == 1
    assert "1/3000 requests today" in describe(HostRules(daily_budget=3000), again, T0)


def test_wait_until_slides_the_minute_window_when_per_minute_budget_is_spent() -> None:
    rules, state = HostRules(min_gap_s=0.5, max_concurrent=9, per_minute=3), HostState()
    for s in (0, 1, 2):
        begin(state, at(s))
        end(state)
    assert wait_until(rules, state, at(3)) == at(60)
    assert wait_until(rules, state, at(60)) is None
