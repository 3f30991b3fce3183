# SPDX-License-Identifier: AGPL-3.0-or-later
"""Replaying `SlotsFromPosition` answers through the ANTS parser."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from creneau.sources.ants import ADAPTER
from creneau.types import Outcome

FIXTURES = Path(__file__).parent / "fixtures"
URL = "https://api.rendezvouspasseport.ants.gouv.fr/api/SlotsFromPosition?longitude=3.06&latitude=50.63"


def answer(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_parse_reads_every_slot_with_its_town_hall_when_meeting_points_have_slots() -> None:
    result = ADAPTER.parse(answer("slots-from-position-with-slots.json"), url=URL)
    assert result.outcome is Outcome.SLOTS_AVAILABLE
    assert [(s.start, s.place, s.guichet) for s in result.slots] == [
        (datetime(2026, 6, 2, 8, 20, tzinfo=UTC), "Mairie de Villeneuve-d'Ascq", "1213"),
        (datetime(2026, 6, 2, 8, 40, tzinfo=UTC), "Mairie de Villeneuve-d'Ascq", "1213"),
        (datetime(2026, 6, 15, 12, 0, tzinfo=UTC), "Mairie de Roubaix", "4410"),
    ]
    assert result.slots[0].ref == "https://rdv.anct.gouv.fr/prendre_rdv?lieu_id=1213&starts_at=2026-06-02T08:20:00Z"
    assert "3 available slot(s) at 2 meeting point(s)" in result.evidence


def test_parse_says_no_slots_when_json_list_is_empty() -> None:
    result = ADAPTER.parse(answer("slots-from-position-empty.json"), url=URL)
    assert (result.outcome, result.evidence) == (Outcome.NO_SLOTS, "empty JSON list")


def test_parse_says_no_slots_when_no_meeting_point_has_a_slot() -> None:
    result = ADAPTER.parse(answer("slots-from-position-meeting-points-without-slots.json"), url=URL)
    assert result.outcome is Outcome.NO_SLOTS
    assert "3 meeting point(s)" in result.evidence


def test_parse_keeps_the_api_reason_when_radius_is_refused() -> None:
    result = ADAPTER.parse(answer("radius-not-allowed-403.json"), url=URL, status=403)
    assert result.outcome is Outcome.BLOCKED
    assert "radius_km value not allowed" in result.evidence


def test_parse_reads_naive_times_as_paris_time() -> None:
    body = json.dumps(
        [{"id": 1, "name": "Mairie", "available_slots": [{"datetime": "2026-01-05T09:00:00", "callback_url": "u"}]}]
    ).encode()
    (slot,) = ADAPTER.parse(body, url=URL).slots
    assert slot.start == datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    assert slot.guichet == "1"


@pytest.mark.parametrize(
    ("body", "status", "outcome"),
    [
        pytest.param(b'{"detail": "Too many requests"}', 429, Outcome.RATE_LIMITED, id="429"),
        pytest.param(b"<html><body>502 Bad Gateway</body></html>", 502, Outcome.UNAVAILABLE, id="502"),
        pytest.param(b"<html><title>Just a moment...</title></html>", 200, Outcome.UNAVAILABLE, id="challenge-200"),
        pytest.param(b'[{"id": "1", "name": "Mairie", "available_slots"', 200, Outcome.LAYOUT_UNKNOWN, id="cut-json"),
        pytest.param(b'{"meeting_points": []}', 200, Outcome.LAYOUT_UNKNOWN, id="object-not-list"),
        pytest.param(
            b'[{"id": "1", "name": "M", "available_slots": [{"datetime": "demain"}]}]',
            200,
            Outcome.LAYOUT_UNKNOWN,
            id="bad-slot",
        ),
        pytest.param(
            b'[{"id": "1", "name": "M", "available_slots": null}]', 200, Outcome.LAYOUT_UNKNOWN, id="null-slots"
        ),
        pytest.param(b"[1, 2, 3]", 200, Outcome.LAYOUT_UNKNOWN, id="numbers"),
        pytest.param(b"", 200, Outcome.LAYOUT_UNKNOWN, id="empty-body"),
        pytest.param(b"not json", 200, Outcome.LAYOUT_UNKNOWN, id="text"),
        pytest.param(b"[]", 404, Outcome.LAYOUT_UNKNOWN, id="404"),
    ],
)
def test_parse_never_reports_slots_when_answer_is_not_a_slot_list(body: bytes, status: int, outcome: Outcome) -> None:
    result = ADAPTER.parse(body, url=URL, status=status)
    assert (result.outcome, result.slots) == (outcome, ())
