# SPDX-License-Identifier: AGPL-3.0-or-later
"""Which URLs are ANTS searches, how their criteria are validated, and the query a check sends."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from creneau.sources.ants import ADAPTER
from creneau.sources.ants.urls import search_url
from creneau.sources.errors import ErrorKind, SourceError
from creneau.types import AntsCriteria, System

API = "https://api.rendezvouspasseport.ants.gouv.fr/api/SlotsFromPosition"


def test_target_from_url_keeps_every_criterion_when_url_is_valid() -> None:
    url = (
        f"{API}?longitude=3.0586&latitude=50.6292&start_date=2026-05-04&end_date=2026-06-03"
        "&radius_km=0.99&reason=PASSPORT&documents_number=2&address=Lille%2059000"
    )
    target = ADAPTER.target_from_url(url)
    assert target.system is System.ANTS
    assert target.ants == AntsCriteria(3.0586, 50.6292, 0.99, "PASSPORT", 2, 30, "Lille 59000")
    assert target.id == "ants-50.6292-3.0586-0.99-passport-2docs"
    # The target URL is the canonical search without dates (they move with every check).
    again = ADAPTER.target_from_url(target.url)
    assert (again.id, again.ants) == (target.id, replace(target.ants, days_ahead=60))


def test_target_from_url_uses_the_api_defaults_when_optional_criteria_are_missing() -> None:
    target = ADAPTER.target_from_url(f"{API}?longitude=2.35&latitude=48.85")
    assert target.ants == AntsCriteria(2.35, 48.85)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        pytest.param("longitude=2.35&latitude=48.85&radius_km=7", "radius_km value not allowed", id="radius"),
        pytest.param("longitude=2.35&latitude=48.85&reason=VISA", "reason must be one of", id="reason"),
        pytest.param("longitude=2.35&latitude=48.85&documents_number=6", "documents_number", id="documents-6"),
        pytest.param("longitude=2.35&latitude=48.85&documents_number=0", "documents_number", id="documents-0"),
        pytest.param("longitude=2.35&latitude=48.85&documents_number=1.5", "whole number", id="documents-1.5"),
        pytest.param("latitude=48.85", "needs longitude", id="no-longitude"),
        pytest.param("longitude=east&latitude=48.85", "must be a number", id="longitude-text"),
        pytest.param("longitude=2.35&latitude=95", "between", id="latitude-range"),
        pytest.param("longitude=nan&latitude=48.85", "between", id="nan"),
        pytest.param("longitude=2.35&latitude=48.85&start_date=2026-05-04&end_date=2026-05-01", "end_date", id="dates"),
        pytest.param(
            "longitude=2.35&latitude=48.85&start_date=04/05/2026&end_date=2026-06-01", "YYYY-MM-DD", id="date"
        ),
    ],
)
def test_target_from_url_says_which_criterion_is_wrong(query: str, message: str) -> None:
    with pytest.raises(SourceError, match=message) as caught:
        ADAPTER.target_from_url(f"{API}?{query}")
    assert caught.value.kind is ErrorKind.BAD_INPUT
    assert not ADAPTER.matches(f"{API}?{query}")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        pytest.param("https://rendezvouspasseport.ants.gouv.fr/", "public ANTS site", id="public-site"),
        pytest.param("http://api.rendezvouspasseport.ants.gouv.fr/api/SlotsFromPosition?x=1", "not an ANTS", id="http"),
        pytest.param("https://api.rendezvouspasseport.ants.gouv.fr/api/searchCity?x=1", "not an ANTS", id="other-path"),
        pytest.param("https://ants.example.com/api/SlotsFromPosition?longitude=1&latitude=1", "not an ANTS", id="host"),
    ],
)
def test_target_from_url_refuses_other_urls(url: str, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        ADAPTER.target_from_url(url)


def test_search_url_spans_days_ahead_from_today_in_paris() -> None:
    criteria = AntsCriteria(2.3522, 48.8566, 10, "CNI", 3, days_ahead=45)
    url = search_url(criteria, datetime(2026, 5, 3, 22, 30, tzinfo=UTC))  # already 4 May in Paris
    query = parse_qs(urlsplit(url).query)
    assert {k: v[0] for k, v in query.items()} == {
        "longitude": "2.3522",
        "latitude": "48.8566",
        "start_date": "2026-05-04",
        "end_date": "2026-06-18",
        "radius_km": "10",
        "reason": "CNI",
        "documents_number": "3",
    }
