# SPDX-License-Identifier: AGPL-3.0-or-later
"""Builders for detector tests: observations of one target at given offsets from a reference time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from creneau.types import Observation, Outcome, Slot

T0 = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)


def slot(n: int, guichet: str | None = "g1", place: str | None = None) -> Slot:
    """Slot number `n`: a distinct start time (n quarter-hours after 2026-05-18 08:00 UTC)."""
    return Slot(start=datetime(2026, 5, 18, 8, 0, tzinfo=UTC) + timedelta(minutes=15 * n), guichet=guichet, place=place)


def obs(
    at_s: float, outcome: Outcome = Outcome.NO_SLOTS, slots: Sequence[Slot] = (), target: str = "t1"
) -> Observation:
    return Observation(target, T0 + timedelta(seconds=at_s), outcome, "test", tuple(slots))


def seen(at_s: float, *numbers: int) -> Observation:
    """A check at `at_s` that shows the slots with these numbers (none: a positive "no slot" page)."""
    if not numbers:
        return obs(at_s)
    return obs(at_s, Outcome.SLOTS_AVAILABLE, [slot(n) for n in numbers])
