# SPDX-License-Identifier: AGPL-3.0-or-later
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from creneau.monitor.timing import Timing, current_window, next_announced, next_window, weekly_window_checks

MONDAY_0800 = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)  # Monday 08:00 in Paris
WINDOW = [(8 * 3600.0, 8 * 3600.0 + 300)]  # Monday 08:00–08:05
TIMING = Timing()


def walk(lag_s: float, after: datetime, until: datetime) -> list[float]:
    out = []
    while (t := next_window(TIMING, WINDOW, after, None, lag_s)) is not None and t < until:
        out.append((t - MONDAY_0800).total_seconds())
        after = t
    return out


@pytest.mark.parametrize(
    ("lag_s", "expected"),
    [(0.0, [0, 60, 120, 180, 240, 300]), (60.0, [20.0 * k for k in range(19)])],
    ids=["no-lag-whole-minutes", "lagged-every-20s"],
)
def test_next_window_checks_whole_minutes_or_steps_when_inside_a_window(lag_s: float, expected: list[float]) -> None:
    assert walk(lag_s, MONDAY_0800 - timedelta(minutes=1), MONDAY_0800 + timedelta(hours=1)) == expected


def test_next_window_jumps_to_next_week_when_this_week_is_satisfied() -> None:
    t = next_window(TIMING, WINDOW, MONDAY_0800 + timedelta(seconds=30), MONDAY_0800 + timedelta(minutes=6), 0.0)
    assert t == MONDAY_0800 + timedelta(days=7)


def test_current_window_includes_the_lag_when_site_shows_batches_late() -> None:
    assert current_window(WINDOW, MONDAY_0800 + timedelta(seconds=350), 60.0) is not None
    assert current_window(WINDOW, MONDAY_0800 + timedelta(seconds=350), 0.0) is None


def test_next_announced_skips_the_burst_when_already_satisfied() -> None:
    instant = MONDAY_0800
    assert next_announced(TIMING, [instant], instant - timedelta(hours=1), None) == instant - timedelta(minutes=15)
    assert next_announced(TIMING, [instant], instant - timedelta(minutes=10), instant + timedelta(minutes=5)) is None


def test_weekly_window_checks_counts_what_a_window_costs() -> None:
    assert weekly_window_checks(TIMING, WINDOW, 0.0) == 6
    assert weekly_window_checks(TIMING, WINDOW, 60.0) == 19
