# SPDX-License-Identifier: AGPL-3.0-or-later
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from creneau.monitor.politeness import (
    HostRules,
    HostState,
    begin,
    describe,
    end,
    next_paris_midnight,
    settle,
    wait_until,
)

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
    begin(state, T0, 9)
    again = HostState.from_dict(json.loads(json.dumps(state.to_dict())))
    assert again.in_flight == 0
    assert [(c.at, c.requests) for c in again.hour] == [(T0, 9)]
    assert (again.hour_requests, again.used_today) == (9, 9)
    assert "9/3600 requests today, 9/160 in the last hour" in describe(
        HostRules(hourly_budget=160, daily_budget=3600), again, T0
    )


def test_host_state_counts_one_request_per_start_when_loaded_from_an_older_snapshot() -> None:
    old = {"hour": [T0.isoformat(), at(10).isoformat()], "day": "2026-05-04", "used_today": 2}
    state = HostState.from_dict(old)
    assert state.hour_requests == 2
    assert wait_until(HostRules(min_gap_s=0, hourly_budget=3), state, at(20), requests=2) == at(3600)


def test_wait_until_counts_requests_when_checks_cost_several() -> None:
    rules, state = HostRules(min_gap_s=0, max_concurrent=9, hourly_budget=20), HostState()
    for s in (0, 600):
        begin(state, at(s), 9)
        end(state)
    assert wait_until(rules, state, at(700), requests=2) is None
    assert wait_until(rules, state, at(700), requests=9) == at(3600)  # the first check must leave the hour
    assert wait_until(rules, state, at(3600), requests=9) is None


def test_settle_frees_the_budget_when_a_check_sent_fewer_requests_than_expected() -> None:
    rules, state = HostRules(min_gap_s=0, max_concurrent=9, per_minute=10, daily_budget=100), HostState()
    charge = begin(state, T0, 10)
    assert wait_until(rules, state, at(1), requests=4) == at(60)
    settle(state, charge, 4, at(5))
    end(state)
    assert wait_until(rules, state, at(6), requests=4) is None
    assert (state.minute_requests, state.hour_requests, state.used_today) == (4, 4, 4)


def test_settle_charges_the_overrun_when_a_check_sent_more_than_expected() -> None:
    rules, state = HostRules(min_gap_s=0, max_concurrent=9, hourly_budget=20), HostState()
    charge = begin(state, T0, 4)
    settle(state, charge, 18, at(30))
    assert wait_until(rules, state, at(60), requests=4) == at(3600)


def test_wait_until_waits_for_an_empty_window_when_one_check_costs_more_than_the_budget() -> None:
    rules, state = HostRules(min_gap_s=0, max_concurrent=9, per_minute=5), HostState()
    begin(state, T0, 3)
    end(state)
    assert wait_until(rules, state, at(1), requests=12) == at(60)
    assert wait_until(rules, state, at(60), requests=12) is None


def test_wait_until_slides_the_minute_window_when_per_minute_budget_is_spent() -> None:
    rules, state = HostRules(min_gap_s=0.5, max_concurrent=9, per_minute=3), HostState()
    for s in (0, 1, 2):
        begin(state, at(s))
        end(state)
    assert wait_until(rules, state, at(3)) == at(60)
    assert wait_until(rules, state, at(60)) is None
