# SPDX-License-Identifier: AGPL-3.0-or-later
"""Per-target timelines: when a target's visible set changes, what it is in between, and its openings."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from datetime import datetime

from creneau.sim.entities import Opening, Publication, SimSlot, SlotOrigin


class Timeline:
    """The instants at which one target's visible set changes and the set (sorted) after each."""

    __slots__ = ("sets", "times")

    def __init__(self, slots: Iterable[SimSlot]) -> None:
        events: list[tuple[datetime, int, SimSlot]] = []
        for s in slots:
            if s.taken_at is not None and s.taken_at <= s.visible_from:
                continue  # never visible
            events.append((s.visible_from, 1, s))
            if s.taken_at is not None:
                events.append((s.taken_at, 0, s))
        events.sort(key=lambda e: e[0])
        self.times: list[datetime] = []
        self.sets: list[tuple[SimSlot, ...]] = []
        keys: list[tuple[datetime, str, int, SimSlot]] = []
        i, n = 0, len(events)
        while i < n:
            t = events[i][0]
            while i < n and events[i][0] == t:
                _, opening, s = events[i]
                key = (s.start, s.planning_id or "", s.id)
                if opening:
                    bisect.insort(keys, (*key, s))
                else:
                    del keys[bisect.bisect_left(keys, key)]
                i += 1
            self.times.append(t)
            self.sets.append(tuple(k[3] for k in keys))

    def at(self, t: datetime) -> tuple[SimSlot, ...]:
        i = bisect.bisect_right(self.times, t)
        return self.sets[i - 1] if i else ()


def openings(target_id: str, tl: Timeline, publication: Callable[[int], Publication | None]) -> list[Opening]:
    """Every interval during which the timeline shows ≥ 1 slot, in time order (see `Opening`)."""
    out: list[Opening] = []
    opened: tuple[SimSlot, ...] = ()
    start: datetime | None = None
    seen: dict[int, None] = {}
    for t, visible in zip(tl.times, tl.sets, strict=True):
        if visible and start is None:
            start, opened, seen = t, visible, {}
        if start is not None:
            seen.update((s.id, None) for s in visible)
            if not visible:
                out.append(_opening(target_id, start, t, opened, tuple(seen), publication))
                start = None
    if start is not None:
        out.append(_opening(target_id, start, None, opened, tuple(seen), publication))
    return out


def _opening(
    target_id: str,
    start: datetime,
    end: datetime | None,
    opened: tuple[SimSlot, ...],
    ids: tuple[int, ...],
    publication: Callable[[int], Publication | None],
) -> Opening:
    pubs = [publication(s.publication_id) for s in opened if s.publication_id is not None]
    announced = any(p is not None and p.truly_announced for p in pubs)
    first = next((s for s in opened if s.origin is SlotOrigin.BATCH), opened[0])
    return Opening(target_id, start, end, announced, first.origin, first.publication_id, ids)
