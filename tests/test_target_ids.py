# SPDX-License-Identifier: AGPL-3.0-or-later
"""One id per booking page, whoever names it: the catalog, the adapters (`creneau check`), `creneau target add`,
the web app and the demo all go through `target_ids.target_id`. And a watch made from a catalog target, as
the web wizard and `creneau watch add` make it, is checked by the monitor and alerts (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from creneau.catalog.core import load_catalog
from creneau.catalog.overlay import add_target
from creneau.catalog.urls import recognise, target_from_url
from creneau.pipeline_admin import resolve_targets
from creneau.sim.model import SimSlot, SimTarget
from creneau.sources.ants.urls import API_HOST, search_url
from creneau.sources.base import adapter_for, detect_system
from creneau.store import DeliveryStatus
from creneau.target_ids import target_id, target_id_of
from creneau.types import AntsCriteria, System

from . import pipeline_kit as kit
from .pipeline_kit import T0, URL, running_pipeline, sim_slot, sim_world

db_url, pg_url, migrated_sqlite = kit.db_url, kit.pg_url, kit.migrated_sqlite  # fixtures

ANTS_SEARCH = (
    f"https://{API_HOST}/api/SlotsFromPosition?longitude=3.0586&latitude=50.6292&radius_km=20"
    "&reason=CNI-PASSPORT&documents_number=1"
)
PAGES = [
    pytest.param(
        "https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/16040/cgu/",
        "rdvpref-16040",
        id="rdv",
    ),
    pytest.param(
        "https://www.hauts-de-seine.gouv.fr/booking/create/13525/1", "legacy-hauts-de-seine-13525", id="legacy"
    ),
    pytest.param("https://pprdv.interieur.gouv.fr/booking/create/989/0", "legacy-pprdv-interieur-989", id="pp"),
    pytest.param(ANTS_SEARCH, "ants-50.6292-3.0586-20-cni-passport", id="ants"),
    pytest.param(
        ANTS_SEARCH.replace("documents_number=1", "documents_number=3"),
        "ants-50.6292-3.0586-20-cni-passport-3docs",
        id="ants-3-documents",
    ),
]


@pytest.mark.parametrize(("url", "expected"), PAGES)
def test_target_id_is_the_same_when_the_catalog_or_the_adapter_reads_the_url(url: str, expected: str) -> None:
    by_adapter = adapter_for(detect_system(url)).target_from_url(url)  # `creneau check URL`
    by_catalog = target_from_url(url)  # `creneau target add URL`, the web app
    by_recogniser = recognise(url)  # the catalog's own, used by its integrity checks
    assert {by_adapter.id, by_catalog.id, by_recogniser.id, target_id_of(by_adapter)} == {expected}


def test_target_id_is_the_one_computed_from_its_url_for_every_shipped_catalog_target() -> None:
    targets = load_catalog().watch_targets()
    assert targets
    assert [t.id for t in targets] == [target_from_url(t.url).id for t in targets]


def test_target_id_refuses_when_the_identifying_part_is_missing() -> None:
    with pytest.raises(ValueError, match="démarche id"):
        target_id(System.RDVPREF, "www.rdv-prefecture.interieur.gouv.fr", None)
    with pytest.raises(ValueError, match="host and form id"):
        target_id(System.LEGACY, "", 12)
    with pytest.raises(ValueError, match="search criteria"):
        target_id(System.ANTS, API_HOST, None)


async def test_watch_of_a_catalog_target_is_checked_and_alerts_when_a_slot_opens(db_url: str, tmp_path: Path) -> None:
    catalog = load_catalog()
    (entry,) = [t for t in catalog.targets.values() if t.target.url == URL]  # what the wizard offers
    world = sim_world()
    async with running_pipeline(db_url, tmp_path, world) as p:
        subscriber = await _subscriber(p)
        ids = await resolve_targets(p.store, tmp_path, [entry.id], now=p.clock.now())  # `creneau watch add`
        await p.store.subscribers.add_watch(subscriber, ids, now=p.clock.now())
        world.add_slots([sim_slot(1, days=1, hour=9, visible_from=T0)])
        await p.round()
        await _assert_opened_and_delivered(p, entry.id)


async def test_watch_of_an_operator_added_ants_search_is_checked_and_alerts(db_url: str, tmp_path: Path) -> None:
    criteria = AntsCriteria(3.06, 50.63, radius_km=5.0)
    town_hall = SimTarget("lille", System.ANTS, API_HOST, 95000, name="Mairie de Lille", latitude=50.63, longitude=3.06)
    start = T0.replace(hour=8) + timedelta(days=2)
    world = sim_world(town_hall, slots=(SimSlot(1, town_hall.id, start, T0, None),))
    data_dir = tmp_path / "var"
    catalog = load_catalog(data_dir)
    added = add_target(catalog, data_dir, search_url(criteria), "pref-59", "id.passport", today=date(2026, 5, 4))
    assert added.id == adapter_for(System.ANTS).target_from_url(search_url(criteria)).id  # `creneau check` agrees
    async with running_pipeline(db_url, data_dir, world) as p:
        subscriber = await _subscriber(p)
        ids = await resolve_targets(p.store, data_dir, [added.id], now=p.clock.now())
        await p.store.subscribers.add_watch(subscriber, ids, now=p.clock.now())
        await p.round()
        await _assert_opened_and_delivered(p, added.id)


async def _subscriber(p: kit.Pipeline) -> int:
    from creneau.pipeline_admin import ChannelInput, enrol, validate_channels

    channels = await validate_channels(ChannelInput("alice@example.org"), allow_private=True)
    return await enrol(p.store, channels, locale="fr", name="", now=p.clock.now())


async def _assert_opened_and_delivered(p: kit.Pipeline, tid: str) -> None:
    assert (await p.store.openings.current(tid)) is not None
    assert len(p.fakes.smtp.messages) == 1
    assert (await p.store.outbox.counts())[DeliveryStatus.SENT] == 1
