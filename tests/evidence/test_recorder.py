# SPDX-License-Identifier: AGPL-3.0-or-later
"""Evidence mode: checks become chained attempts, one shared capture per target and Paris day."""

from __future__ import annotations

from datetime import timedelta

import pytest

from creneau.evidence import chain
from creneau.evidence.records import Profile
from creneau.store.errors import NotFound
from creneau.store.evidence import captures, evidence_pages
from creneau.types import Outcome

from .conftest import T0, World, make_target, observation


def verify_stored(chain_id: str, records: list) -> chain.Verdict:
    entries = [r.entry for r in records]
    head = chain.header_for(chain_id, entries, period={}, exported_at="")
    return chain.verify(chain.write(head, entries))


async def count(world: World, table) -> int:
    from sqlalchemy import func, select

    async with world.store.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def test_recorder_appends_attempt_to_every_chain_when_target_is_checked(world: World) -> None:
    done = await world.recorder.record(world.target, observation(world.target, T0))
    assert done.attempts == 2
    for watch in (world.watch, world.stranger_watch):
        records = await world.repo.entries(watch)
        assert [r.kind for r in records] == ["attempt", "capture"]
        body = records[0].body
        assert body["outcome"] == "no_slots"
        assert body["http_status"] == 200
        assert body["url"] == world.target.url
        assert body["office"] == "Préfecture de Police"
        assert body["demarche"] == "Titre de séjour"
        assert body["at"] == "2026-03-02T07:00:00Z"
        assert body["at_paris"] == "2026-03-02T08:00:00+01:00"
        assert len(body["page_sha256"]) == 64
    assert await world.repo.page(body["page_sha256"]) is not None


async def test_recorder_keeps_one_capture_per_target_and_day_when_many_check(world: World) -> None:
    for minutes in range(0, 60 * 30, 180):  # 30 hours: two Paris days
        await world.recorder.record(world.target, observation(world.target, T0 + timedelta(minutes=minutes)))
    assert await count(world, captures) == 2
    assert await count(world, evidence_pages) == 1
    records = await world.repo.entries(world.watch)
    assert sum(r.kind == "capture" for r in records) == 2
    info = await world.repo.chain_info(world.watch)
    assert info is not None
    assert verify_stored(info.chain_id, records).ok


@pytest.mark.parametrize(
    "outcome",
    [Outcome.UNAVAILABLE, Outcome.SLOTS_AVAILABLE, Outcome.HUMAN_CHECK_REQUIRED],
    ids=lambda o: o.value,
)
async def test_recorder_logs_attempt_without_capture_when_page_is_not_a_no_slot_page(
    world: World, outcome: Outcome
) -> None:
    await world.recorder.record(world.target, observation(world.target, T0, outcome, status=503))
    records = await world.repo.entries(world.watch)
    assert [(r.kind, r.outcome) for r in records] == [("attempt", outcome.value)]


async def test_recorder_does_nothing_when_no_watch_keeps_evidence(world: World) -> None:
    lonely = make_target("lonely")
    await world.store.targets.upsert(lonely, now=T0)
    assert (await world.recorder.record(lonely, observation(lonely, T0))).attempts == 0


async def test_recorder_stops_when_evidence_mode_is_switched_off(world: World) -> None:
    await world.repo.disable(world.watch, now=T0)
    await world.recorder.record(world.target, observation(world.target, T0))
    assert await world.repo.entries(world.watch) == []
    assert len(await world.repo.entries(world.stranger_watch)) == 2


async def test_capture_now_adds_on_demand_capture_when_a_page_was_recorded(world: World) -> None:
    with pytest.raises(NotFound):
        await world.recorder.capture_now(world.target.id, now=T0)
    await world.recorder.record(world.target, observation(world.target, T0))
    capture_id = await world.recorder.capture_now(world.target.id, now=T0 + timedelta(hours=1))
    (record,) = await world.repo.captures([capture_id])
    assert record.on_demand
    assert record.status == "pending"
    assert (await world.repo.entries(world.watch))[-1].capture_id == capture_id


async def test_enable_keeps_chain_when_switched_off_and_on(world: World) -> None:
    await world.recorder.record(world.target, observation(world.target, T0))
    before = await world.repo.chain_info(world.watch)
    await world.repo.disable(world.watch, now=T0)
    after = await world.repo.enable(world.watch, now=T0)
    assert before is not None
    assert after.chain_id == before.chain_id
    assert after.head_seq == 2


async def test_enable_refuses_watch_when_it_does_not_exist(world: World) -> None:
    with pytest.raises(NotFound):
        await world.repo.enable(999_999, now=T0)


async def test_deleting_accounts_deletes_evidence_and_unshared_captures(world: World) -> None:
    await world.recorder.record(world.target, observation(world.target, T0))
    await world.profiles.save(Profile(world.owner, full_name="Amina Diallo", numero_etranger="7501234567"), now=T0)
    await world.profiles.save_letter(world.owner, world.watch, "lrar", "Madame, Monsieur", now=T0)
    await world.store.subscribers.delete_subscriber(world.owner)
    assert await world.repo.chain_info(world.watch) is None
    assert await world.repo.chains_of(world.owner) == []
    assert (await world.profiles.get(world.owner)).full_name == ""
    assert await world.profiles.letter(world.watch, "lrar") is None
    assert await world.repo.collect_garbage() == (0, 0)  # the stranger's chain still shows the capture
    await world.store.subscribers.delete_subscriber(world.stranger)
    assert await world.repo.collect_garbage() == (1, 1)
    assert await count(world, captures) == 0
    assert await count(world, evidence_pages) == 0
