# SPDX-License-Identifier: AGPL-3.0-or-later
"""The detector's memory of one target: the opening in progress and the slots it has seen.

Plain data with a JSON round trip (`to_dict` / `from_dict`) so the store can persist it as one column. The
detector never mutates a state it is given: `detect` returns a new one.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from creneau.types import Slot


def _ts(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _dt(value: Any) -> datetime | None:
    if value is None:
        return None
    parsed = datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        raise ValueError(f"naive datetime in detector state: {value!r}")
    return parsed


def _req(value: Any) -> datetime:
    parsed = _dt(value)
    if parsed is None:
        raise ValueError("missing datetime in detector state")
    return parsed


def slot_to_dict(slot: Slot) -> dict[str, Any]:
    return {
        "start": slot.start.isoformat(),
        "guichet": slot.guichet,
        "guichet_label": slot.guichet_label,
        "ref": slot.ref,
        "place": slot.place,
    }


def slot_from_dict(data: dict[str, Any]) -> Slot:
    return Slot(
        start=_req(data["start"]),
        guichet=data.get("guichet"),
        guichet_label=data.get("guichet_label"),
        ref=data.get("ref"),
        place=data.get("place"),
    )


@dataclass(frozen=True, slots=True)
class SlotLife:
    """What the detector knows of one slot's visibility.

    `first_seen`/`last_seen` are the first and last checks that showed it; `gone_at` the first conclusive
    check that no longer did (None while it is visible). The slot really became visible somewhere before
    `first_seen` and went away in (`last_seen`, `gone_at`]. While the slot is visible its record is not
    rewritten at every check: its last sighting is the state's `last_conclusive_at`.
    """

    slot: Slot
    first_seen: datetime
    last_seen: datetime
    gone_at: datetime | None = None

    @property
    def key(self) -> str:
        return self.slot.key

    @property
    def seen_s(self) -> float:
        """Seconds between the first and the last sighting: a lower bound of the slot's lifetime."""
        return (self.last_seen - self.first_seen).total_seconds()

    @property
    def upper_s(self) -> float | None:
        """Seconds from the first sighting to the check that found it gone: an upper bound (None: still visible)."""
        return None if self.gone_at is None else (self.gone_at - self.first_seen).total_seconds()

    def to_dict(self) -> dict[str, Any]:
        return {
            "slot": slot_to_dict(self.slot),
            "first_seen": _ts(self.first_seen),
            "last_seen": _ts(self.last_seen),
            "gone_at": _ts(self.gone_at),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SlotLife:
        return cls(
            slot_from_dict(data["slot"]), _req(data["first_seen"]), _req(data["last_seen"]), _dt(data.get("gone_at"))
        )


@dataclass(frozen=True, slots=True)
class DetectorState:
    """Per-target detector state.

    - `opening`: sequence number of the current (or last) opening of this target; 0 before the first.
    - `is_open`, `opened_at`: whether an opening is in progress and since which check.
    - `visible`: the slots the last conclusive check showed (key → life); `shown` the same slots as a set
      (derived, not saved: it lets an unchanged page be recognised without rebuilding anything).
    - `gone`: slots of the current opening that have gone away (their lifetimes, reported on close).
    - `recent`: slots that went away less than the flicker grace ago (key → life), across openings.
    - `last_conclusive_at`: the last check that saw the real slot state; `last_change_at` the last transition.
    - counters: conclusive and inconclusive checks, the current run of inconclusive ones, and observations
      ignored because they were older than the last conclusive one.
    """

    opening: int = 0
    is_open: bool = False
    opened_at: datetime | None = None
    visible: dict[str, SlotLife] = field(default_factory=dict)
    shown: frozenset[Slot] = field(default=frozenset(), compare=False, repr=False)
    gone: tuple[SlotLife, ...] = ()
    recent: dict[str, SlotLife] = field(default_factory=dict)
    last_conclusive_at: datetime | None = None
    last_change_at: datetime | None = None
    conclusive_checks: int = 0
    inconclusive_checks: int = 0
    inconclusive_streak: int = 0
    last_inconclusive: str = ""
    stale_ignored: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "opening": self.opening,
            "is_open": self.is_open,
            "opened_at": _ts(self.opened_at),
            "visible": [
                replace(life, last_seen=self.last_conclusive_at or life.last_seen).to_dict()
                for life in self.visible.values()
            ],
            "gone": [life.to_dict() for life in self.gone],
            "recent": [life.to_dict() for life in self.recent.values()],
            "last_conclusive_at": _ts(self.last_conclusive_at),
            "last_change_at": _ts(self.last_change_at),
            "conclusive_checks": self.conclusive_checks,
            "inconclusive_checks": self.inconclusive_checks,
            "inconclusive_streak": self.inconclusive_streak,
            "last_inconclusive": self.last_inconclusive,
            "stale_ignored": self.stale_ignored,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DetectorState:
        def lives(name: str) -> list[SlotLife]:
            return [SlotLife.from_dict(item) for item in data.get(name, ())]

        visible = {life.key: life for life in lives("visible")}
        return cls(
            opening=int(data.get("opening", 0)),
            is_open=bool(data.get("is_open", False)),
            opened_at=_dt(data.get("opened_at")),
            visible=visible,
            shown=frozenset(life.slot for life in visible.values()),
            gone=tuple(lives("gone")),
            recent={life.key: life for life in lives("recent")},
            last_conclusive_at=_dt(data.get("last_conclusive_at")),
            last_change_at=_dt(data.get("last_change_at")),
            conclusive_checks=int(data.get("conclusive_checks", 0)),
            inconclusive_checks=int(data.get("inconclusive_checks", 0)),
            inconclusive_streak=int(data.get("inconclusive_streak", 0)),
            last_inconclusive=str(data.get("last_inconclusive", "")),
            stale_ignored=int(data.get("stale_ignored", 0)),
        )
