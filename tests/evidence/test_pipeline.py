# SPDX-License-Identifier: AGPL-3.0-or-later
"""Evidence from the real pipeline: `creneau serve`'s monitor checks the simulator and every check of a
watched target lands in the watch's chain, with the raw page and one capture a day."""

from __future__ import annotations

from pathlib import Path

from tests.pipeline_kit import TARGET_ID, running_pipeline, sim_world
from tests.pipeline_kit import db_url as db_url

from creneau.evidence.repo import EvidenceRepo


async def test_serve_records_every_check_as_evidence_when_the_watch_keeps_it(db_url: str, tmp_path: Path) -> None:
    async with running_pipeline(db_url, tmp_path / "var", sim_world()) as pipeline:
        person = await pipeline.subscribe("amina@example.org")
        (watch,) = await pipeline.store.subscribers.list_watches(subscriber_id=person)
        repo = EvidenceRepo(pipeline.store)
        await repo.enable(watch.id, now=pipeline.clock.now())
        tap = pipeline.service.evidence
        assert tap is not None
        await pipeline.round()
        await tap.drain()
        await pipeline.until_due()
        await tap.drain()
        records = await repo.entries(watch.id)
        attempts = [r for r in records if r.kind == "attempt"]
        assert len(attempts) == 2
        assert {r.target_id for r in attempts} == {TARGET_ID}
        assert all(r.outcome == "no_slots" and r.page_digest for r in attempts)
        assert attempts[0].body["url"].startswith("https://")
        assert [r.kind for r in records].count("capture") == 1
        assert await repo.page(attempts[0].page_digest or "") is not None
