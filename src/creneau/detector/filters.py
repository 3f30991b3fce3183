# SPDX-License-Identifier: AGPL-3.0-or-later
"""Which slots of a transition a watch cares about.

A watch may narrow its target: only slots before a date (Paris calendar), only some guichets/plannings
(matched on id or label), only some places. A watch whose filter keeps no new slot of a transition gets no
alert for it; the opening is still recorded for everybody else.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from creneau.detector.detect import Transition
from creneau.types import PARIS, Slot


def _fold(values: Iterable[str]) -> frozenset[str]:
    return frozenset(v.strip().casefold() for v in values if v.strip())


@dataclass(frozen=True, slots=True)
class WatchFilter:
    """A watch's narrowing of its target; the default keeps every slot.

    `before`: keep slots whose Paris-local date is strictly earlier. `guichets`: keep slots whose guichet id
    or label is one of these (case-insensitive); a slot without a guichet then never matches. `places`: the
    same on `Slot.place`.
    """

    before: date | None = None
    guichets: frozenset[str] = frozenset()
    places: frozenset[str] = frozenset()

    @classmethod
    def build(
        cls, *, before: date | None = None, guichets: Iterable[str] = (), places: Iterable[str] = ()
    ) -> WatchFilter:
        return cls(before, _fold(guichets), _fold(places))

    @property
    def is_everything(self) -> bool:
        return self.before is None and not self.guichets and not self.places

    def matches(self, slot: Slot) -> bool:
        if self.before is not None and slot.start.astimezone(PARIS).date() >= self.before:
            return False
        if self.guichets:
            names = {v.casefold() for v in (slot.guichet, slot.guichet_label) if v}
            if not names & self.guichets:
                return False
        return not self.places or (slot.place is not None and slot.place.casefold() in self.places)

    def to_dict(self) -> dict[str, Any]:
        return {
            "before": self.before.isoformat() if self.before else None,
            "guichets": sorted(self.guichets),
            "places": sorted(self.places),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WatchFilter:
        before = data.get("before")
        return cls.build(
            before=date.fromisoformat(before) if before else None,
            guichets=data.get("guichets", ()),
            places=data.get("places", ()),
        )


def matching_slots(watch: WatchFilter, slots: Iterable[Slot]) -> tuple[Slot, ...]:
    """The slots the watch keeps, in their original order."""
    return tuple(slot for slot in slots if watch.matches(slot))


def alert_slots(watch: WatchFilter, transition: Transition) -> tuple[Slot, ...]:
    """The new slots of `transition` this watch must be told about; empty means no alert for this watch."""
    return matching_slots(watch, transition.new_slots)
