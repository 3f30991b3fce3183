# SPDX-License-Identifier: AGPL-3.0-or-later
"""ANTS `SlotsFromPosition` on the simulator: parameter validation, radius search, dates, 30/min/IP."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from urllib.parse import urlencode

import pytest

from .server_kit import ANTS, NO_RULES, ants_target, slot, world

LILLE = ants_target("lille", 50.6292, 3.0573, "Lille")
ROUBAIX = ants_target("roubaix", 50.6942, 3.1746, "Roubaix")  # ~10.6 km from Lille
PARIS = ants_target("paris", 48.8566, 2.3522, "Paris")
GOOD = {
    "longitude": "3.0573",
    "latitude": "50.6292",
    "start_date": "2026-05-04",
    "end_date": "2026-05-31",
    "radius_km": "20",
    "reason": "CNI",
    "documents_number": "1",
}


def url(**changes: str | None) -> str:
    params = {k: v for k, v in {**GOOD, **changes}.items() if v is not None}
    return f"https://{ANTS}/api/SlotsFromPosition?{urlencode(params)}"


@pytest.mark.parametrize("radius", ["0.99", "5", "10", "15", "20", "25", "30"])
async def test_search_accepts_every_allowed_radius(serve, http_for, radius) -> None:
    server = await serve(world(LILLE))
    page = await http_for(server).flow().get(url(radius_km=radius))
    assert page.status == 200
    assert json.loads(page.text) == []


@pytest.mark.parametrize("radius", ["7", "50", "0", "-5", "1"])
async def test_search_answers_403_when_the_radius_is_not_allowed(serve, http_for, radius) -> None:
    server = await serve(world(LILLE))
    page = await http_for(server).flow().get(url(radius_km=radius))
    assert page.status == 403
    assert json.loads(page.text) == {"detail": "radius_km value not allowed"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"reason": "VISA"}, "reason"),
        ({"reason": None}, "reason"),
        ({"documents_number": "0"}, "documents_number"),
        ({"documents_number": "6"}, "documents_number"),
        ({"start_date": "04/05/2026"}, "start_date"),
        ({"end_date": None}, "end_date"),
        ({"longitude": "east"}, "longitude"),
        ({"latitude": None}, "latitude"),
    ],
    ids=["bad-reason", "no-reason", "zero-documents", "six-documents", "french-date", "no-end", "bad-lon", "no-lat"],
)
async def test_search_answers_422_naming_the_field_when_a_parameter_is_invalid(serve, http_for, changes, field) -> None:
    server = await serve(world(LILLE))
    page = await http_for(server).flow().get(url(**changes))
    assert page.status == 422
    assert [e["loc"] for e in json.loads(page.text)["detail"]] == [["query", field]]


async def test_search_lists_points_within_the_radius_nearest_first_with_their_slots(serve, http_for, t0) -> None:
    when = t0 + timedelta(days=3, hours=2)
    slots = [
        slot(1, ROUBAIX, when),
        slot(2, LILLE, when),
        slot(3, LILLE, when + timedelta(minutes=20)),
        slot(4, PARIS, when),
    ]
    server = await serve(world(LILLE, ROUBAIX, PARIS, slots=slots))
    wide = json.loads((await http_for(server).flow().get(url(radius_km="30"))).text)
    assert [p["city_name"] for p in wide] == ["Lille", "Roubaix"]
    lille = wide[0]
    assert lille["distance_km"] == 0.0
    assert [s["datetime"] for s in lille["available_slots"]] == ["2026-05-07T08:00:00Z", "2026-05-07T08:20:00Z"]
    assert all(s["callback_url"].startswith("https://") for s in lille["available_slots"])
    assert {"id", "name", "longitude", "latitude", "public_entry_address", "zip_code", "website", "city_logo"} <= set(
        lille
    )
    assert 10 < wide[1]["distance_km"] < 11
    narrow = json.loads((await http_for(server).flow().get(url(radius_km="5"))).text)
    assert [p["city_name"] for p in narrow] == ["Lille"]


async def test_search_keeps_only_slots_between_the_dates(serve, http_for, t0) -> None:
    slots = [slot(1, LILLE, t0 + timedelta(days=1)), slot(2, LILLE, t0 + timedelta(days=40))]
    server = await serve(world(LILLE, slots=slots))
    found = json.loads((await http_for(server).flow().get(url(end_date="2026-05-10"))).text)
    assert [s["datetime"] for s in found[0]["available_slots"]] == ["2026-05-05T06:00:00Z"]


async def test_search_answers_429_with_retry_after_above_30_requests_a_minute(serve, http_for, clock) -> None:
    server = await serve(world(LILLE, rules=replace(NO_RULES, ants_per_min=30)))
    flow = http_for(server).flow()
    for _ in range(30):
        assert (await flow.get(url())).status == 200
        clock.advance(1)
    refused = await flow.get(url())
    assert refused.status == 429
    assert json.loads(refused.text) == {"error": "Rate limit exceeded: 30 per 1 minute"}
    assert refused.headers["Retry-After"] == "30"
    clock.advance(30)
    assert (await flow.get(url())).status == 200
