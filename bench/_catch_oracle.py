# SPDX-License-Identifier: AGPL-3.0-or-later
"""For `bench/catch.py`: what the budget could catch of the unannounced openings with perfect learning.

An unannounced opening (a cancellation, a surprise release) cannot be foreseen to the minute; the most a
routine cadence can do is check each target often where and when its openings come and last long enough
to be seen (checks aimed at openings that can be foreseen from what the checks saw, like held bookings
coming back one hold time after they went, are not in this bound and can pass it). `informed` asks the
policy's own allocator (`allocation.allocate`) for the best routine interval of every (target, 4-hour block)
when it knows each target's true unannounced openings of the measured days — how many come in each block of
the day and how long each stays visible — instead of learning them from what its checks saw. It spends the
whole request budget on them (no announced or window checks), under the same per-host caps, and counts an
opening visible for `d` s under checks every `h` s as min(1, d/h) caught (random phase; site errors ignored).
So its rate bounds what better learning of the routine cadences could add to the policy's unannounced catch
rate within the budget, where the ceiling watcher (a check every 5 s) and the continuous one bound every
scheduler without a budget.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from creneau.monitor.allocation import Unit, allocate
from creneau.monitor.durations import LEVELS_S
from creneau.monitor.learning import BLOCK_S, N_BLOCKS, block_of
from creneau.monitor.politeness import HostRules, budget_rate

if TYPE_CHECKING:
    from catch import Truth
    from creneau.sim.model import Opening, World

_WEEK_S = N_BLOCKS * BLOCK_S
_BLOCKS_A_DAY = 86400 // BLOCK_S


def informed(
    world: World,
    truth: Mapping[str, Truth],
    checks_per_target_day: float,
    rules: Mapping[str, HostRules],
    requests_per_check: Mapping[str, int],
) -> tuple[float, float]:
    """(Expected share of the unannounced openings caught, checks per target-day spent)."""
    units, openings = [], {}
    for tid, mine in truth.items():
        ops = [op for op, announced in zip(mine.openings, mine.announced, strict=True) if not announced]
        openings[tid] = ops
        by_day_block = [0] * _BLOCKS_A_DAY
        for op in ops:
            by_day_block[block_of(op.start) % _BLOCKS_A_DAY] += 1
        mean = len(ops) / _BLOCKS_A_DAY
        shape = tuple(by_day_block[b % _BLOCKS_A_DAY] / mean if ops else 1.0 for b in range(N_BLOCKS))
        rates = tuple(sum(_seen(op, h) for op in ops) / _WEEK_S for h in LEVELS_S)
        target = world.targets[tid]
        units.append(Unit(tid, target.host, rates, shape, requests_per_check=requests_per_check[tid]))
    caps = {host: budget_rate(rule) for host, rule in rules.items()}
    levels = allocate(units, checks_per_target_day * len(units) * _WEEK_S / 86400, caps)
    total = sum(len(ops) for ops in openings.values())
    caught = sum(_seen(op, LEVELS_S[levels[tid][block_of(op.start)]]) for tid, ops in openings.items() for op in ops)
    spent = sum(BLOCK_S / LEVELS_S[level] for chosen in levels.values() for level in chosen)
    return caught / max(1, total), spent / len(units) / (_WEEK_S / 86400)


def _seen(op: Opening, every_s: float) -> float:
    if op.end is None:
        return 1.0
    return min(1.0, (op.end - op.start).total_seconds() / every_s)
