# SPDX-License-Identifier: AGPL-3.0-or-later
"""Simulated-world benchmark: generating realistic France, and asking it "what does target X show at t?".

Goals: 300 targets × 35 days generated in ≤ 5 s; 2,000 targets × 7 days in ≤ 5 s; `visible_slots` ≤ 5 µs
per call on the 300-target world (timelines built); the demo scenario loads in ≤ 200 ms.
Times are process CPU time (the machine may be shared). Run: `.venv/bin/python bench/sim_world.py`.
The last stdout line is one JSON object.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random
from typing import TypeVar

from creneau.sim.generator import generate_realistic_france
from creneau.sim.scenario import load_scenario

T = TypeVar("T")
START = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)
DEMO = Path(__file__).resolve().parents[1] / "src" / "creneau" / "sim" / "scenarios" / "demo.yaml"
GOALS = {"gen_300x35_s": 5.0, "gen_2000x7_s": 5.0, "visible_slots_us": 5.0, "demo_load_ms": 200.0}


def _cpu(fn: Callable[[], T]) -> tuple[T, float]:
    t0 = time.process_time()
    out = fn()
    return out, time.process_time() - t0


def main() -> None:
    world, gen_300 = _cpu(lambda: generate_realistic_france(targets=300, start=START, days=35, seed=1))
    big, gen_2000 = _cpu(lambda: generate_realistic_france(targets=2000, start=START, days=7, seed=1))
    ids = list(world.targets)
    for tid in ids:
        world.visible_slots(tid, START)  # build every timeline once
    rng = Random(0)
    probes = [
        (ids[rng.randrange(len(ids))], START + timedelta(seconds=rng.uniform(0, 35 * 86400))) for _ in range(300_000)
    ]
    visible = world.visible_slots
    t0 = time.process_time()
    seen = sum(1 for tid, t in probes if visible(tid, t))
    per_call_us = (time.process_time() - t0) / len(probes) * 1e6
    _, demo = _cpu(lambda: load_scenario(DEMO, now=START))
    figures = {
        "gen_300x35_s": round(gen_300, 2),
        "slots_300x35": len(world.slots),
        "gen_2000x7_s": round(gen_2000, 2),
        "slots_2000x7": len(big.slots),
        "visible_slots_us": round(per_call_us, 2),
        "checks_with_slots": round(seen / len(probes), 3),
        "demo_load_ms": round(demo * 1000, 1),
    }
    figures["goals_met"] = all(figures[k] <= v for k, v in GOALS.items())
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
