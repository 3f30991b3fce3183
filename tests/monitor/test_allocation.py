# SPDX-License-Identifier: AGPL-3.0-or-later
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from creneau.monitor.allocation import Unit, allocate, weekly_cost
from creneau.monitor.durations import LEVELS_S

FLAT = (1.0,) * 42


def curve(rate_per_day: float, median_s: float) -> tuple[float, ...]:
    """Catches per second if openings last exactly `median_s`."""
    return tuple(rate_per_day / 86400 * min(1.0, median_s / h) for h in LEVELS_S)


def test_allocate_spends_more_on_short_frequent_openings_when_budget_is_tight() -> None:
    units = [
        Unit("hot", "h", curve(10, 40), FLAT),
        Unit("cold", "h", curve(1, 86400), FLAT),
        Unit("dead", "h", curve(0, 1), FLAT),
    ]
    chosen = allocate(units, budget=3 * 480 * 7)
    assert weekly_cost(chosen["hot"]) >= 0.9 * 3 * 480 * 7 - weekly_cost(chosen["cold"]) - weekly_cost(chosen["dead"])
    assert sum(LEVELS_S[j] for j in chosen["hot"]) / 42 <= 90
    assert LEVELS_S[min(chosen["cold"])] == LEVELS_S[-1]
    assert LEVELS_S[min(chosen["dead"])] == LEVELS_S[-1]
    assert sum(weekly_cost(v) for v in chosen.values()) <= 3 * 480 * 7


def test_allocate_follows_the_block_shape_when_openings_cluster() -> None:
    shape = tuple(3.0 if b % 6 in (2, 3, 4) else 0.1 for b in range(42))
    chosen = allocate([Unit("t", "h", curve(10, 120), shape)], budget=480 * 7)
    assert LEVELS_S[chosen["t"][2]] < LEVELS_S[chosen["t"][0]]


def test_allocate_respects_host_cap_when_host_is_shared() -> None:
    units = [Unit(f"t{i}", "h", curve(20, 30), FLAT) for i in range(4)]
    chosen = allocate(units, budget=1e9, host_caps_per_s={"h": 0.05})
    for b in range(42):
        assert sum(1 / LEVELS_S[chosen[u.target_id][b]] for u in units) <= 0.05 + 1e-9


def test_allocate_keeps_cheapest_levels_when_budget_is_below_the_floor() -> None:
    chosen = allocate([Unit("t", "h", curve(10, 40), FLAT)], budget=1)
    assert chosen["t"] == [len(LEVELS_S) - 1] * 42


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.floats(0, 50), st.floats(1, 200000)), min_size=1, max_size=12),
    st.floats(0.1, 3.0),
)
def test_allocate_never_exceeds_budget_when_it_can_afford_the_floor(
    targets: list[tuple[float, float]], share: float
) -> None:
    units = [Unit(f"t{i}", "h", curve(r, m), FLAT) for i, (r, m) in enumerate(targets)]
    floor = len(units) * 42 * 4 * 3600 / LEVELS_S[-1]
    budget = floor + share * len(units) * 480 * 7
    chosen = allocate(units, budget)
    assert sum(weekly_cost(v) for v in chosen.values()) <= budget + 1e-6


def test_allocate_only_buys_the_given_blocks_when_asked_for_one_day() -> None:
    day = [6, 7, 8, 9, 10, 11]
    chosen = allocate([Unit("t", "h", curve(10, 40), FLAT)], budget=480 * 1.0, blocks=day)
    assert weekly_cost(chosen["t"], day) <= 480
    assert all(chosen["t"][b] == len(LEVELS_S) - 1 for b in range(42) if b not in day)
