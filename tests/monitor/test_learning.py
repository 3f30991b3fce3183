# SPDX-License-Identifier: AGPL-3.0-or-later
from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import pytest

from creneau.monitor.durations import LEVELS_S, DurationModel, bucket_of, level_of
from creneau.monitor.learning import BIN_S, TargetStats, at_week_second, block_of, week_second

MONDAY = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)  # Monday 08:00 in Paris
MODEL = DurationModel()


@pytest.mark.parametrize(
    ("t", "expected"),
    [
        (MONDAY, 8 * 3600),
        (datetime(2026, 1, 5, 7, 0, tzinfo=UTC), 8 * 3600),  # winter: UTC+1
        (datetime(2026, 5, 10, 21, 59, tzinfo=UTC), 6 * 86400 + 23 * 3600 + 59 * 60),
    ],
    ids=["summer", "winter", "sunday-night"],
)
def test_week_second_reads_paris_wall_clock_when_offset_changes(t: datetime, expected: float) -> None:
    assert week_second(t) == expected
    assert at_week_second(t, expected) == t


def test_block_of_counts_four_hour_blocks_from_monday() -> None:
    assert block_of(MONDAY) == 2
    assert block_of(MONDAY + timedelta(days=6, hours=15)) == 41


@pytest.mark.parametrize(("n", "bucket"), [(1, 0), (2, 1), (3, 2), (5, 3), (9, 4), (40, 5)])
def test_bucket_of_groups_sightings(n: int, bucket: int) -> None:
    assert bucket_of(n) == bucket


def test_level_of_picks_nearest_level_when_interval_is_between() -> None:
    assert LEVELS_S[level_of(180)] == 180
    assert LEVELS_S[level_of(170)] == 180
    assert LEVELS_S[level_of(5)] == LEVELS_S[0]


def sightings(median: float, h: float, n: int, rng: random.Random) -> dict[tuple[int, int], float]:
    cells: dict[tuple[int, int], float] = {}
    for _ in range(n):
        d = median * math.exp(rng.gauss(0, 1.0))
        k = math.floor(d / h) + (1 if rng.random() < d / h - math.floor(d / h) else 0)
        if k:
            key = (level_of(h), bucket_of(k))
            cells[key] = cells.get(key, 0.0) + 1
    return cells


@pytest.mark.parametrize(("median", "lo", "hi"), [(60, 20, 200), (3600, 1500, 9000)], ids=["short", "long"])
def test_catch_curve_recovers_durations_when_fed_sightings(median: float, lo: float, hi: float) -> None:
    cells = sightings(median, 180, 400, random.Random(7))
    curve = MODEL.catch_curve(cells, {level_of(180): 28 * 86400})
    assert lo <= curve.median_s <= hi
    assert list(curve.p_catch) == sorted(curve.p_catch, reverse=True)
    assert curve.rate * 28 * 86400 >= sum(cells.values())


def test_catch_curve_is_zero_when_nothing_was_ever_seen() -> None:
    curve = MODEL.catch_curve({}, {level_of(180): 86400})
    assert curve.rates == (0.0,) * len(LEVELS_S)
    assert curve.evidence == 0


def test_target_stats_decay_by_half_when_a_half_life_passes() -> None:
    stats = TargetStats(half_life_s=86400)
    stats.checked(MONDAY, level=7, elapsed_s=100, positive=True, routine=True)
    stats.checked(MONDAY, level=7, elapsed_s=100, positive=False, routine=True)
    assert stats.decayed_cells(MONDAY) == {(7, 0): 1.0}
    assert stats.decayed_cells(MONDAY + timedelta(days=1)) == {(7, 0): pytest.approx(0.5)}
    assert stats.decayed_exposure(MONDAY + timedelta(days=2))[7] == pytest.approx(50)


def test_target_stats_keep_values_when_rebased_after_many_half_lives() -> None:
    stats = TargetStats(half_life_s=60)
    stats.checked(MONDAY, level=7, elapsed_s=100, positive=None, routine=True)
    later = MONDAY + timedelta(minutes=50)  # > 40 half-lives: forces a rebase
    stats.checked(later, level=7, elapsed_s=100, positive=None, routine=True)
    assert stats.decayed_exposure(later)[7] == pytest.approx(100 + 100 * 2**-50)


def test_windows_appear_when_openings_start_at_the_same_weekly_time() -> None:
    stats = TargetStats()
    for week in range(3):
        at = MONDAY + timedelta(weeks=week, minutes=31)
        stats.opening_started(at - timedelta(seconds=240), at)  # too vague to pin a minute
    windows = stats.windows(MONDAY + timedelta(weeks=3))
    assert len(windows) == 1
    lo, hi = windows[0]
    assert lo <= 8 * 3600 + 29 * 60 < 8 * 3600 + 31 * 60 <= hi
    assert hi - lo <= 2 * BIN_S


@pytest.mark.parametrize("seed", range(8))
def test_windows_stay_rare_when_openings_are_scattered(seed: int) -> None:
    stats = TargetStats()
    rng = random.Random(seed)
    for _ in range(40):
        at = MONDAY + timedelta(seconds=rng.uniform(0, 21 * 86400))
        stats.opening_started(at - timedelta(seconds=180), at)
    windows = stats.windows(MONDAY + timedelta(weeks=3))
    # Two openings may fall at the same weekly time by chance; that costs little and stays rare.
    assert sum(hi - lo for lo, hi in windows) <= 0.01 * 7 * 86400


def test_windows_repeat_every_day_when_openings_start_at_midnight() -> None:
    stats = TargetStats()
    midnight = datetime(2026, 5, 4, 22, 0, tzinfo=UTC)  # Tuesday 00:00 in Paris
    for day in range(6):
        at = midnight + timedelta(days=day, seconds=40)
        stats.opening_started(at - timedelta(seconds=180), at)
    windows = stats.windows(midnight + timedelta(days=6))
    for day in range(7):
        # Sunday 23:55 to Monday 00:05 is one window, written past the end of the week.
        assert any(lo <= second < hi for lo, hi in windows for second in (day * 86400 + 40, (day + 7) * 86400 + 40))
    assert sum(hi - lo for lo, hi in windows) <= 7 * 3 * BIN_S


def test_opening_started_is_ignored_when_start_is_too_vague() -> None:
    stats = TargetStats()
    stats.opening_started(MONDAY - timedelta(hours=2), MONDAY)
    stats.opening_started(None, MONDAY)
    assert stats.week == {}


def test_block_shape_prefers_blocks_with_more_openings_per_exposure() -> None:
    stats = TargetStats()
    t = MONDAY
    for i in range(200):
        positive = i % 4 == 0
        stats.checked(t, level=7, elapsed_s=180, positive=positive, routine=True, catch_p=0.5)
        stats.checked(t, level=7, elapsed_s=0, positive=False, routine=True, catch_p=0.5)
        t += timedelta(seconds=180)
    shape = stats.block_shape(t, [1.0] * 42)
    assert shape[block_of(MONDAY)] > 1
    assert shape[0] == pytest.approx(1.0)  # never observed: the prior


def test_target_stats_round_trip_through_json_when_filled() -> None:
    import json

    stats = TargetStats()
    stats.checked(MONDAY, level=3, elapsed_s=50, positive=True, routine=True)
    stats.opening_started(MONDAY - timedelta(seconds=30), MONDAY)
    again = TargetStats.from_dict(json.loads(json.dumps(stats.to_dict())))
    assert again == stats
