# SPDX-License-Identifier: AGPL-3.0-or-later
"""The public JSON API: shapes, errors as JSON, filters, CORS, the OpenAPI schema and its docs page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert

from creneau.catalog.core import Catalog
from creneau.store import models as m
from creneau.types import Outcome

from .kit import WebKit, record_check, target


@pytest.fixture
async def seeded(kit: WebKit, catalog: Catalog) -> WebKit:
    await kit.store.targets.upsert_many(catalog.watch_targets(), now=kit.clock.now())
    await record_check(kit.store, "rdvpref-3762", Outcome.NO_SLOTS, kit.clock.now())
    return kit


async def test_api_offices_lists_catalog_offices_with_filter(seeded: WebKit, catalog: Catalog) -> None:
    everything = (await seeded.client.get("/api/v1/offices")).json()
    assert len(everything) == len(catalog.offices)
    isere = (await seeded.client.get("/api/v1/offices", params={"departement": "38"})).json()
    assert {o["departement"] for o in isere} == {"38"}
    one = (await seeded.client.get("/api/v1/offices/pref-38")).json()
    assert set(one) == {
        "id", "kind", "departement", "name", "address", "postcode", "town", "website", "phone", "last_verified"
    }  # fmt: skip
    assert one["kind"] == "prefecture"


async def test_api_demarches_carry_portals_and_dated_fees(seeded: WebKit) -> None:
    items = (await seeded.client.get("/api/v1/demarches")).json()
    first = next(d for d in items if d["key"] == "sejour.first")
    assert first["watchable"] is True
    assert {p["key"] for p in first["portals"]} >= {"anef", "rdvpref"}
    assert all({"amount_eur", "valid_from", "valid_until", "in_force"} <= set(f) for f in first["fees"])
    assert (await seeded.client.get("/api/v1/demarches/sejour.first")).json() == first


async def test_api_targets_filter_by_office_and_demarche(seeded: WebKit) -> None:
    items = (await seeded.client.get("/api/v1/targets", params={"office": "pref-38"})).json()
    assert [t["id"] for t in items] == ["rdvpref-3762"]
    assert items[0]["url"].startswith("https://")
    assert items[0]["departement"] == "38"
    none = (await seeded.client.get("/api/v1/targets", params={"demarche": "natz.decree"})).json()
    assert none == []


async def test_api_status_pages_through_the_board(seeded: WebKit) -> None:
    page = (await seeded.client.get("/api/v1/status", params={"limit": 5, "offset": 0})).json()
    assert set(page) == {"generated_at", "total", "limit", "offset", "items"}
    assert len(page["items"]) == 5
    assert page["total"] >= 5
    item = page["items"][0]
    assert {"target_id", "health", "health_label_fr", "health_label_en", "last_checked_at", "next_publication"} <= set(
        item
    )
    isere = (await seeded.client.get("/api/v1/status", params={"departement": "38"})).json()
    assert isere["items"][0]["health_label_fr"] == "Aucun créneau"
    assert isere["items"][0]["health_label_en"] == "No slots"


async def test_api_openings_are_newest_first_and_filtered_by_date(seeded: WebKit) -> None:
    now = seeded.clock.now()
    async with seeded.store.write() as tx:
        for n, started in enumerate((now - timedelta(days=3), now - timedelta(hours=1))):
            await tx.conn.execute(
                insert(m.openings),
                {"target_id": "rdvpref-3762", "seq": n + 1, "started_at": started, "ended_at": started + timedelta(minutes=5),
                 "reason": "slots", "first_slots": []},
            )  # fmt: skip
    both = (await seeded.client.get("/api/v1/openings")).json()
    assert [o["target_id"] for o in both] == ["rdvpref-3762", "rdvpref-3762"]
    assert both[0]["started_at"] > both[1]["started_at"]
    assert both[0]["slots"] is None
    since = (now - timedelta(days=1)).isoformat()
    recent = (await seeded.client.get("/api/v1/openings", params={"since": since})).json()
    assert len(recent) == 1


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/offices/nope", 404),
        ("/api/v1/demarches/nope", 404),
        ("/api/v1/targets/rdvpref-0", 404),
        ("/api/v1/status?limit=0", 422),
        ("/api/v1/status?departement=ZZZ", 422),
        ("/api/v1/openings?since=2026-01-01T00:00:00", 422),
        ("/api/v1/openings?since=1900-01-01T00:00:00Z", 422),
        ("/api/v1/nothing", 404),
    ],
)
async def test_api_errors_are_json_when_request_is_wrong(seeded: WebKit, path: str, status: int) -> None:
    response = await seeded.client.get(path)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert "detail" in response.json()


async def test_api_allows_any_site_to_read_it(seeded: WebKit) -> None:
    response = await seeded.client.get("/api/v1/status", headers={"origin": "https://other.example"})
    assert response.headers["access-control-allow-origin"] == "*"


async def test_api_schema_lists_every_public_endpoint_and_no_page(seeded: WebKit) -> None:
    schema = (await seeded.client.get("/api/openapi.json")).json()
    assert set(schema["paths"]) == {
        "/api/v1/offices", "/api/v1/offices/{office_id}", "/api/v1/demarches", "/api/v1/demarches/{key}",
        "/api/v1/targets", "/api/v1/targets/{target_id}", "/api/v1/status", "/api/v1/openings",
    }  # fmt: skip
    docs = (await seeded.client.get("/api/docs")).text
    assert "/api/v1/status" in docs


async def test_api_target_detail_knows_targets_outside_the_catalog(kit: WebKit) -> None:
    await kit.store.targets.upsert(target("rdvpref-77", office="pref-91"), now=kit.clock.now())
    detail = (await kit.client.get("/api/v1/targets/rdvpref-77")).json()
    assert detail["target"]["departement"] == "91"
    assert detail["status"]["health"] == "not_checked"
    assert detail["openings"] == []
