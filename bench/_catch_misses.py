# SPDX-License-Identifier: AGPL-3.0-or-later
"""For `bench/catch.py`: the ceiling (an oracle watcher) and why announced openings are missed or late.

- `ceiling`: a watcher that checks every target every `step_s` seconds (random phase per target), ignoring
  budgets and politeness, and sees what the world shows (error episodes and the background 5xx included).
  No scheduler with checks `step_s` apart catches more or sooner, so its figures bound what is achievable.
  `continuous` is the limit of a check at every instant.
- `diagnose`: every announced opening the policy missed or caught more than 30 s after it showed, sorted
  into the causes of `CAUSES`, so the figures say which lateness is the policy's and which is the site's.
"""

from __future__ import annotations

import bisect
import random
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from catch import Run, Truth
    from creneau.sim.model import EpisodeKind, World

LATE_S = 30.0
DENSE = ("announced", "window")

CAUSES = {
    "hidden_throughout": "the site answered errors for as long as the opening showed",
    "beyond_ceiling": "the ceiling watcher missed it or saw it > 30 s late although the site was up",
    "hidden_by_site_errors": "the site hid it > 30 s; the policy saw it within 30 s of the first normal answer",
    "late_after_site_errors": "the site hid it > 30 s; the policy saw it > 30 s after the site answered again",
    "not_expected": "no announced or window check near its start: the policy did not know it was due",
    "dense_checks_too_early": "announced or window checks ran, all before it showed",
    "dense_checks_failed": "announced or window checks after it showed got error answers (background 5xx)",
    "other": "anything else",
}


@dataclass(frozen=True, slots=True)
class Check:
    """One check of the policy run: when, why (the policy's reason) and whether the site answered normally."""

    at: datetime
    reason: str
    answered: bool


def ceiling(
    world: World,
    truth: Mapping[str, Truth],
    m0: datetime,
    m1: datetime,
    step_s: float,
    seed: int,
    hiding: Collection[EpisodeKind],
) -> dict[tuple[str, int], datetime]:
    """When an every-`step_s` watcher, started at `m0`, first sees each measured opening (like `Run.caught`;
    catches until `m1` + 1 h). `hiding`: the episode kinds that hide the page (answered as errors)."""
    rng = random.Random(f"{seed}:ceiling")
    step = timedelta(seconds=step_s)
    end = m1 + timedelta(hours=1)
    caught: dict[tuple[str, int], datetime] = {}
    for tid, mine in truth.items():
        host = world.targets[tid].host
        phase = m0 + timedelta(seconds=rng.uniform(0, step_s))
        for i, op in enumerate(mine.openings):
            t = phase + step * _steps_to(op.start - phase, step)
            stop = end if op.end is None else min(end, op.end)
            while t < stop:
                episode = world.episode(host, tid, t)
                if episode is not None and episode.kind in hiding:
                    t += step * max(1, _steps_to(episode.end - t, step))
                elif rng.random() < world.rules.background_5xx_rate:
                    t += step
                else:
                    caught[(tid, i)] = t
                    break
    return caught


def continuous(truth: Mapping[str, Truth], m1: datetime) -> dict[tuple[str, int], datetime]:
    """A perfect watcher: each opening seen at the first instant the site answered normally while it showed."""
    end = m1 + timedelta(hours=1)
    return {
        (tid, i): up for tid, mine in truth.items() for i, up in enumerate(mine.site_up) if up is not None and up < end
    }


def _steps_to(gap: timedelta, step: timedelta) -> int:
    """The number of whole steps that covers `gap` (0 when `gap` ≤ 0)."""
    return max(0, -(-gap // step))


def diagnose(
    truth: Mapping[str, Truth],
    run: Run,
    checks: Mapping[str, Sequence[Check]],
    oracle: Mapping[tuple[str, int], datetime],
) -> Counter[str]:
    """How many announced openings missed or seen > 30 s late fall under each cause of `CAUSES`."""
    causes: Counter[str] = Counter()
    for tid, mine in truth.items():
        mine_checks = checks.get(tid, ())
        times = [c.at for c in mine_checks]
        for i, (op, announced) in enumerate(zip(mine.openings, mine.announced, strict=True)):
            seen = run.caught.get((tid, i))
            if not announced or (seen is not None and (seen - op.start).total_seconds() <= LATE_S):
                continue
            near = _near(mine_checks, times, op.start)
            causes[_cause(op.start, seen, mine.site_up[i], oracle.get((tid, i)), near)] += 1
    return causes


def _near(checks: Sequence[Check], times: list[datetime], start: datetime) -> Sequence[Check]:
    lo = bisect.bisect_left(times, start - timedelta(seconds=120))
    hi = bisect.bisect_right(times, start + timedelta(seconds=LATE_S))
    return checks[lo:hi]


def _cause(
    start: datetime, seen: datetime | None, up: datetime | None, oracle_at: datetime | None, near: Sequence[Check]
) -> str:
    if up is None:
        return "hidden_throughout"
    hidden = (up - start).total_seconds() > LATE_S
    if hidden:
        if seen is not None and (seen - up).total_seconds() <= LATE_S:
            return "hidden_by_site_errors"
        return "late_after_site_errors"
    if oracle_at is None or (oracle_at - start).total_seconds() > LATE_S:
        return "beyond_ceiling"
    dense = [c for c in near if c.reason in DENSE]
    if not dense:
        return "not_expected"
    if all(c.at < start for c in dense):
        return "dense_checks_too_early"
    if any(c.at >= start and not c.answered for c in dense):
        return "dense_checks_failed"
    return "other"


def report(causes: Counter[str]) -> str:
    """The breakdown for stderr, one cause a line, largest first."""
    lines = [f"announced openings missed or seen > {LATE_S:.0f} s late: {sum(causes.values())}"]
    lines += [f"  {n:4d}  {cause}: {CAUSES[cause]}" for cause, n in causes.most_common()]
    return "\n".join(lines)


def by_class(world: World, truth: Mapping[str, Truth], caught: Mapping[str, Mapping[tuple[str, int], datetime]]) -> str:
    """Unannounced openings caught per office class, for each run (`caught`: run name → catches)."""
    totals: Counter[str] = Counter()
    hits: dict[str, Counter[str]] = {name: Counter() for name in caught}
    for tid, mine in truth.items():
        cls = world.targets[tid].office_class
        for i, announced in enumerate(mine.announced):
            if announced:
                continue
            totals[cls] += 1
            for name, run in caught.items():
                hits[name][cls] += (tid, i) in run
    lines = ["unannounced openings caught, by office class: " + " / ".join(caught)]
    for cls, n in totals.most_common():
        lines.append(f"  {cls:8s} {n:4d}: " + " / ".join(str(hits[name][cls]) for name in caught))
    return "\n".join(lines)
