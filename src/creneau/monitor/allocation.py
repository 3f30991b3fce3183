# SPDX-License-Identifier: AGPL-3.0-or-later
"""Share a budget of routine checks between targets and 4-hour blocks of the week.

Each (target, 4-hour block) gets one check interval. The value of an interval is the number of openings it is
expected to catch there (`Curve.rates` × the block's share of openings); its cost is the number of checks.
Catching more is worth less and less per extra request (the curves are concave in the request rate), so a
greedy that always buys the step with the most openings per request, walking each curve's concave hull, gives
the best allocation for the budget. A per-host cap on HTTP requests per second (each check costs its target's
`requests_per_check`) keeps the load on one site polite.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from creneau.monitor.durations import LEVELS_S
from creneau.monitor.learning import BLOCK_S, N_BLOCKS


@dataclass(frozen=True, slots=True)
class Unit:
    """One target's input: expected catches per second at each level, the relative opening rate per block
    (mean 1), the host it lives on, the range of levels it may use (indices into LEVELS_S) and the HTTP
    requests one of its checks sends."""

    target_id: str
    host: str
    rates: tuple[float, ...]
    shape: tuple[float, ...]
    min_level: int = 0
    max_level: int = len(LEVELS_S) - 1
    requests_per_check: float = 1.0


def _hull(unit: Unit) -> list[int]:
    """Levels on the upper concave hull of (checks per second, catches per second), cheapest first."""
    points = [(1.0 / LEVELS_S[j], unit.rates[j], j) for j in range(unit.max_level, unit.min_level - 1, -1)]
    hull: list[tuple[float, float, int]] = []
    for p in points:
        while len(hull) >= 2:
            (x1, y1, _), (x2, y2, _) = hull[-2], hull[-1]
            # Drop the middle point when it lies on or under the chord from hull[-2] to p.
            if (y2 - y1) * (p[0] - x1) <= (p[1] - y1) * (x2 - x1):
                hull.pop()
            else:
                break
        hull.append(p)
    return [j for _, _, j in hull]


def allocate(
    units: Sequence[Unit],
    budget: float,
    host_caps_per_s: Mapping[str, float] | None = None,
    blocks: Sequence[int] | None = None,
) -> dict[str, list[int]]:
    """Level index per block for each unit, spending at most `budget` checks over `blocks` (default: the
    whole week). Blocks outside `blocks` get their cheapest level; when the cheapest levels alone cost more
    than the budget, every block keeps its cheapest level."""
    caps = host_caps_per_s or {}
    todo = range(N_BLOCKS) if blocks is None else blocks
    chosen: dict[str, list[int]] = {}
    hulls: dict[str, list[int]] = {}
    position: dict[tuple[str, int], int] = {}
    load: dict[tuple[str, int], float] = {}
    spent = 0.0
    heap: list[tuple[float, str, int]] = []
    by_id = {u.target_id: u for u in units}
    for unit in units:
        hull = _hull(unit)
        hulls[unit.target_id] = hull
        chosen[unit.target_id] = [hull[0]] * N_BLOCKS
        for b in todo:
            position[(unit.target_id, b)] = 0
            spent += BLOCK_S / LEVELS_S[hull[0]]
            key = (unit.host, b)
            load[key] = load.get(key, 0.0) + unit.requests_per_check / LEVELS_S[hull[0]]
            _push(heap, unit, hull, 0, b)
    while heap and spent < budget:
        _, target_id, b = heapq.heappop(heap)
        unit, hull = by_id[target_id], hulls[target_id]
        i = position[(target_id, b)]
        old, new = hull[i], hull[i + 1]
        extra = 1.0 / LEVELS_S[new] - 1.0 / LEVELS_S[old]
        cost = BLOCK_S * extra
        cap = caps.get(unit.host)
        requests = extra * unit.requests_per_check
        if spent + cost > budget or (cap is not None and load[(unit.host, b)] + requests > cap):
            continue
        spent += cost
        load[(unit.host, b)] += requests
        position[(target_id, b)] = i + 1
        chosen[target_id][b] = new
        _push(heap, unit, hull, i + 1, b)
    return chosen


def _push(heap: list[tuple[float, str, int]], unit: Unit, hull: list[int], i: int, block: int) -> None:
    if i + 1 >= len(hull):
        return
    old, new = hull[i], hull[i + 1]
    gain = unit.shape[block] * (unit.rates[new] - unit.rates[old])
    extra = 1.0 / LEVELS_S[new] - 1.0 / LEVELS_S[old]
    if gain > 0:
        heapq.heappush(heap, (-gain / extra, unit.target_id, block))


def weekly_cost(levels: Sequence[int], blocks: Sequence[int] | None = None) -> float:
    """Requests one target's per-block levels cost over `blocks` (default: the whole week)."""
    return sum(BLOCK_S / LEVELS_S[levels[b]] for b in (range(N_BLOCKS) if blocks is None else blocks))
