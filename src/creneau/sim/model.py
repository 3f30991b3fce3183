# SPDX-License-Identifier: AGPL-3.0-or-later
"""The simulated world: targets, the slots they publish, the notices they show, the error episodes.

Pure and precomputed: a scenario is expanded once (deterministic seed) into slot lifetimes and episodes;
the HTTP server and the in-process benchmarks then ask "what does target X show at time t?". Every slot
knows when it became visible and when it stopped being bookable, which is also the ground truth the
benchmarks score against (`openings`, `creneau.sim.truth`).

Queries are answered from a per-target timeline built lazily on first use: the sorted instants at which
the target's visible set changes and the visible set after each of them, so `visible_slots` is one
bisection. Changing a slot (`take`, `add_slots`) drops that target's timeline.
"""

from __future__ import annotations

import bisect
import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from creneau.sim.entities import (
    CloseReason,
    Episode,
    EpisodeKind,
    Opening,
    Planning,
    Publication,
    PublicationMode,
    RateRules,
    SimSlot,
    SimTarget,
    SlotOrigin,
)
from creneau.sim.timeline import Timeline, openings
from creneau.types import System

__all__ = [
    "CloseReason",
    "Episode",
    "EpisodeKind",
    "Opening",
    "Planning",
    "Publication",
    "PublicationMode",
    "RateRules",
    "SimSlot",
    "SimTarget",
    "SlotOrigin",
    "World",
]


@dataclass
class World:
    """Indexed view over a scenario's targets, slots, publications and episodes."""

    targets: dict[str, SimTarget]
    slots: list[SimSlot] = field(default_factory=list)
    publications: list[Publication] = field(default_factory=list)
    episodes: list[Episode] = field(default_factory=list)
    start: datetime | None = None
    end: datetime | None = None
    session_lifetime_s: float = 1500.0
    captcha_ttl_s: float = 300.0
    rules: RateRules = field(default_factory=RateRules)
    seed: int = 0

    def __post_init__(self) -> None:
        self._by_route: dict[tuple[str, int], SimTarget] = {}
        for target in self.targets.values():
            self._by_route[(target.host, target.demarche_id)] = target
        self._by_system: dict[System, list[SimTarget]] = defaultdict(list)
        for target in self.targets.values():
            self._by_system[target.system].append(target)
        self._slot_by_id: dict[int, SimSlot] = {}
        self._slot_pos: dict[int, int] = {}
        self._slots_of: dict[str, list[int]] = defaultdict(list)
        self._timelines: dict[str, Timeline] = {}
        self._n_slots = 0
        self._index_slots()
        self._n_pubs = -1
        self._n_eps = -1

    # --- building ---------------------------------------------------------------------------
    def _index_slots(self) -> None:
        for pos in range(self._n_slots, len(self.slots)):
            slot = self.slots[pos]
            self._slot_by_id[slot.id] = slot
            self._slot_pos[slot.id] = pos
            self._slots_of[slot.target_id].append(slot.id)
            self._timelines.pop(slot.target_id, None)
        self._n_slots = len(self.slots)

    def add_slots(self, slots: Iterable[SimSlot], *, _record: bool = True) -> None:
        """Add slots to the world (`_record=False`: they are already in `self.slots`)."""
        if _record:
            self.slots.extend(slots)
        self._index_slots()

    def take(self, slot_id: int, when: datetime) -> None:
        """Mark a slot as taken at `when` (used by scripted tests to book a slot out).

        A slot already gone before `when` keeps its earlier end. Raises KeyError for an unknown id.
        """
        self._sync()
        old = self._slot_by_id[slot_id]
        if old.taken_at is not None and old.taken_at <= when:
            return
        new = dataclasses.replace(old, taken_at=when, close_reason=CloseReason.TAKEN)
        self._slot_by_id[slot_id] = new
        self.slots[self._slot_pos[slot_id]] = new
        self._timelines.pop(old.target_id, None)

    def _sync(self) -> None:
        """Pick up items appended to the public lists directly, bypassing `add_slots`."""
        if len(self.slots) != self._n_slots:
            self._index_slots()

    def _timeline(self, target_id: str) -> Timeline:
        tl = self._timelines.get(target_id)
        if tl is None:
            by_id = self._slot_by_id
            tl = self._timelines[target_id] = Timeline(by_id[i] for i in self._slots_of.get(target_id, ()))
        return tl

    def _sync_publications(self) -> None:
        if len(self.publications) == self._n_pubs:
            return
        self._pub_by_id = {p.id: p for p in self.publications}
        by_target: dict[str, list[Publication]] = defaultdict(list)
        for pub in self.publications:
            by_target[pub.target_id].append(pub)
        self._pubs: dict[str, list[Publication]] = {}
        self._pub_instants: dict[str, list[datetime]] = {}
        self._announced: dict[str, list[Publication]] = {}
        for tid, pubs in by_target.items():
            pubs.sort(key=lambda p: (p.instant, p.id))
            self._pubs[tid] = pubs
            self._pub_instants[tid] = [p.instant for p in pubs]
            self._announced[tid] = [p for p in pubs if p.announced_at is not None]
        self._n_pubs = len(self.publications)

    def _sync_episodes(self) -> None:
        if len(self.episodes) == self._n_eps:
            return
        self._ep_target: dict[str, list[tuple[int, Episode]]] = defaultdict(list)
        self._ep_host: dict[str, list[tuple[int, Episode]]] = defaultdict(list)
        self._ep_all: list[tuple[int, Episode]] = []
        for i, ep in enumerate(self.episodes):
            if ep.target_id is not None:
                self._ep_target[ep.target_id].append((i, ep))
            elif ep.host is not None:
                self._ep_host[ep.host].append((i, ep))
            else:
                self._ep_all.append((i, ep))
        self._n_eps = len(self.episodes)

    # --- queries ---------------------------------------------------------------------------
    def target_for(self, host: str, demarche_id: int) -> SimTarget | None:
        return self._by_route.get((host, demarche_id))

    def targets_of(self, system: System) -> Sequence[SimTarget]:
        return self._by_system.get(system, [])

    def slot(self, slot_id: int) -> SimSlot:
        """The slot with this id (its latest state). Raises KeyError."""
        self._sync()
        return self._slot_by_id[slot_id]

    def publication(self, publication_id: int) -> Publication:
        """Raises KeyError for an unknown id."""
        self._sync_publications()
        return self._pub_by_id[publication_id]

    def visible_slots(self, target_id: str, t: datetime) -> list[SimSlot]:
        """Slots of the target a person would see at `t`, ordered by (start, planning id, slot id)."""
        if len(self.slots) != self._n_slots:
            self._index_slots()
        tl = self._timelines.get(target_id) or self._timeline(target_id)
        return list(tl.at(t))

    def next_change(self, target_id: str, t: datetime) -> datetime | None:
        """The first instant after `t` at which the target's visible set changes (None: never)."""
        self._sync()
        times = self._timeline(target_id).times
        i = bisect.bisect_right(times, t)
        return times[i] if i < len(times) else None

    def changes_between(self, target_id: str, t0: datetime, t1: datetime) -> list[datetime]:
        """The instants in (t0, t1] at which the target's visible set changes."""
        self._sync()
        times = self._timeline(target_id).times
        return times[bisect.bisect_right(times, t0) : bisect.bisect_right(times, t1)]

    def next_publication(self, target_id: str, t: datetime) -> Publication | None:
        """The announced batch a notice shows at `t` ("Prochaine mise en ligne"), if any.

        When several are announced, the one with the earliest shown instant. The result is the publication
        *as its notice shows it at t*: before a move, `instant` is the originally announced instant (a copy;
        the real record is `publication(id)`).
        """
        self._sync_publications()
        best: Publication | None = None
        best_at: datetime | None = None
        for pub in self._announced.get(target_id, ()):
            if pub.announced_at is None or pub.announced_at > t:
                continue
            shown = pub.shown_instant(t)
            if shown > t and (best_at is None or shown < best_at):
                best, best_at = pub, shown
        if best is None or best_at is None or best_at == best.instant:
            return best
        return dataclasses.replace(best, instant=best_at)

    def last_publication(self, target_id: str, t: datetime) -> Publication | None:
        """The latest batch whose instant is at or before `t` ("Dernière mise en ligne")."""
        self._sync_publications()
        i = bisect.bisect_right(self._pub_instants.get(target_id, []), t)
        return self._pubs[target_id][i - 1] if i else None

    def episode(self, host: str, target_id: str | None, t: datetime) -> Episode | None:
        """The scripted failure in force for this host/target at `t` (the first listed wins)."""
        self._sync_episodes()
        best: tuple[int, Episode] | None = None
        lists = [self._ep_all, self._ep_host.get(host, [])]
        if target_id is not None:
            lists.append(self._ep_target.get(target_id, []))
        for candidates in lists:
            for item in candidates:
                if best is not None and item[0] >= best[0]:
                    break
                if item[1].start <= t < item[1].end:
                    best = item
                    break
        return best[1] if best else None

    def openings(self, target_id: str) -> list[Opening]:
        """Every interval during which the target showed ≥ 1 slot, in time order (see `Opening`)."""
        self._sync()
        self._sync_publications()
        return openings(target_id, self._timeline(target_id), self._pub_by_id.get)
