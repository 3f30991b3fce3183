# SPDX-License-Identifier: AGPL-3.0-or-later
"""The `creneau_*` metrics move with the pipeline: a check, an opening, a delivery, the detection-to-delivery
latency; and `creneau serve` can expose them on a port of its own."""

from __future__ import annotations

import socket
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from creneau import metrics
from creneau.sim.clock import ManualClock
from creneau.store import Store
from creneau.web.prometheus import metrics_app, serve_metrics
from creneau.web.server import WebServer

from . import pipeline_kit as kit
from .pipeline_kit import T0, running_pipeline, sim_slot, sim_world

db_url, pg_url, migrated_sqlite = kit.db_url, kit.pg_url, kit.migrated_sqlite  # fixtures

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(text: str) -> Samples:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


async def test_metrics_count_checks_openings_and_deliveries_when_the_pipeline_runs(db_url: str, tmp_path: Path) -> None:
    world = sim_world()
    async with running_pipeline(db_url, tmp_path, world) as p:
        await p.subscribe("alice@example.org")
        start = samples(metrics.exposition().decode())
        await p.round()
        checked = samples(metrics.exposition().decode())
        assert moved(start, checked, "creneau_checks_total", system="legacy", outcome="no_slots") == 1
        assert moved(start, checked, "creneau_check_duration_seconds_count", system="legacy") == 1
        assert moved(start, checked, "creneau_openings_total") == 0

        world.add_slots([sim_slot(1, days=1, hour=9, visible_from=T0 + timedelta(seconds=60))])
        await p.until_due()
        await p.until_due()
        sent = samples(metrics.exposition().decode())
        assert moved(checked, sent, "creneau_checks_total", system="legacy", outcome="slots_available") >= 1
        assert moved(checked, sent, "creneau_openings_total") == 1
        assert moved(checked, sent, "creneau_deliveries_total", channel="email", outcome="sent") == 1
        assert moved(checked, sent, "creneau_detect_to_delivery_seconds_count", channel="email") == 1
        assert len(p.fakes.smtp.messages) == 1


def test_metrics_count_a_failed_and_a_dead_delivery_by_channel() -> None:
    before = samples(metrics.exposition().decode())
    metrics.delivery_done("ntfy", "failed")
    metrics.delivery_done("ntfy", "dead")
    metrics.delivery_accepted("ntfy", T0, T0 + timedelta(seconds=3))
    after = samples(metrics.exposition().decode())
    assert moved(before, after, "creneau_deliveries_total", channel="ntfy", outcome="failed") == 1
    assert moved(before, after, "creneau_deliveries_total", channel="ntfy", outcome="dead") == 1
    assert moved(before, after, "creneau_detect_to_delivery_seconds_sum", channel="ntfy") == pytest.approx(3.0)
    assert moved(before, after, "creneau_detect_to_delivery_seconds_bucket", channel="ntfy", le="5.0") == 1
    assert moved(before, after, "creneau_detect_to_delivery_seconds_bucket", channel="ntfy", le="2.0") == 0


async def _scrape(url: str) -> tuple[int, Samples]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, samples(await response.text())


async def test_metrics_app_serves_metrics_on_its_own_port_for_creneau_serve(db_url: str, tmp_path: Path) -> None:
    from creneau.config import load_settings

    settings = load_settings(database_url=db_url, data_dir=tmp_path)
    store = await Store.open(db_url, migrate_to=None)
    try:
        app = metrics_app(settings, store, ManualClock(T0))
        async with WebServer(app, "127.0.0.1", 0) as server:
            status, found = await _scrape(server.url + "/metrics")
        assert status == 200
        assert found[("creneau_outbox_backlog", (("status", "pending"),))] == 0
        async with serve_metrics(settings, store, ManualClock(T0)):  # metrics_port 0: nothing is served
            pass
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        on_port = settings.model_copy(update={"metrics_port": port})
        async with serve_metrics(on_port, store, ManualClock(T0)):
            status, found = await _scrape(f"http://127.0.0.1:{port}/metrics")
        assert status == 200
        assert ("creneau_openings_total", ()) in found
    finally:
        await store.close()
