# SPDX-License-Identifier: AGPL-3.0-or-later
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from creneau.detector import DetectorState, WatchFilter, alert_slots, detect, matching_slots
from creneau.types import Outcome, Slot

from .builders import obs, slot

LATE_EVENING = Slot(datetime(2026, 5, 18, 22, 30, tzinfo=UTC), guichet="g1")  # 19 May 00:30 in Paris


@pytest.mark.parametrize(
    ("watch", "candidate", "expected"),
    [
        (WatchFilter(), slot(1), True),
        (WatchFilter.build(before=date(2026, 5, 19)), slot(1), True),
        (WatchFilter.build(before=date(2026, 5, 18)), slot(1), False),
        (WatchFilter.build(before=date(2026, 5, 19)), LATE_EVENING, False),
        (WatchFilter.build(guichets=["G1"]), slot(1, guichet="g1"), True),
        (WatchFilter.build(guichets=["g2"]), slot(1, guichet="g1"), False),
        (WatchFilter.build(guichets=["g2"]), slot(1, guichet=None), False),
        (WatchFilter.build(guichets=["Guichet 2"]), Slot(slot(1).start, "p7", "Guichet 2"), True),
        (WatchFilter.build(places=["Mairie de Lyon"]), slot(1, place="mairie de lyon"), True),
        (WatchFilter.build(places=["Mairie de Lyon"]), slot(1, place=None), False),
    ],
    ids=[
        "everything",
        "before-later-date",
        "before-same-date",
        "before-paris-date-not-utc",
        "guichet-case-insensitive",
        "other-guichet",
        "guichet-unknown",
        "guichet-by-label",
        "place",
        "place-unknown",
    ],
)
def test_watch_filter_matches_when_slot_fits(watch: WatchFilter, candidate: Slot, expected: bool) -> None:
    assert watch.matches(candidate) is expected


def test_alert_slots_is_empty_when_no_new_slot_matches() -> None:
    transition = detect(DetectorState(), obs(0, Outcome.SLOTS_AVAILABLE, [slot(1, "g1"), slot(2, "g1")])).transitions[0]
    assert alert_slots(WatchFilter.build(guichets=["g2"]), transition) == ()
    assert len(alert_slots(WatchFilter(), transition)) == 2


def test_matching_slots_keeps_order_when_filtering() -> None:
    slots = [slot(3), slot(1, "g2"), slot(2)]
    assert matching_slots(WatchFilter.build(guichets=["g1"]), slots) == (slot(3), slot(2))


def test_watch_filter_round_trips_through_dict_when_set() -> None:
    watch = WatchFilter.build(before=date(2026, 6, 1), guichets=["g1", "Guichet 2"], places=["x"])
    assert WatchFilter.from_dict(watch.to_dict()) == watch
    assert WatchFilter().is_everything
    assert not watch.is_everything
