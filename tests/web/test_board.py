# SPDX-License-Identifier: AGPL-3.0-or-later
"""The status board says what the last check saw, honestly, and follows the store live (SSE)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import aiohttp
import pytest
from sqlalchemy import insert

from creneau.store import models as m
from creneau.types import Outcome, Slot
from creneau.web.board import Health
from creneau.web.server import WebServer

from .kit import WebKit, next_publication, record_check, target


async def _watch(kit: WebKit, target_id: str) -> None:
    subscriber = await kit.store.subscribers.add_subscriber("w@example.org", now=kit.clock.now())
    await kit.store.subscribers.add_channel(subscriber.id, "email", "w@example.org", {}, now=kit.clock.now())
    await kit.store.subscribers.add_watch(subscriber.id, [target_id], now=kit.clock.now())


async def _status(kit: WebKit, **params: str) -> dict[str, dict[str, object]]:
    await kit.app.state.web.board.refresh()
    body = (await kit.client.get("/api/v1/status", params=params)).json()
    return {item["target_id"]: item for item in body["items"]}


@pytest.mark.parametrize(
    ("outcome", "health"),
    [
        (Outcome.SLOTS_AVAILABLE, Health.SLOTS),
        (Outcome.NO_SLOTS, Health.NO_SLOTS),
        (Outcome.HUMAN_CHECK_REQUIRED, Health.HUMAN_CHECK),
        (Outcome.BLOCKED, Health.BLOCKED),
        (Outcome.RATE_LIMITED, Health.SLOWED),
        (Outcome.UNAVAILABLE, Health.DOWN),
        (Outcome.LAYOUT_UNKNOWN, Health.UNKNOWN_PAGE),
        (Outcome.NETWORK_ERROR, Health.UNREACHABLE),
        (Outcome.SESSION_EXPIRED, Health.RETRYING),
    ],
    ids=lambda v: str(v),
)
async def test_board_shows_last_outcome_in_plain_words(kit: WebKit, outcome: Outcome, health: Health) -> None:
    await kit.store.targets.upsert(target(), now=kit.clock.now())
    await record_check(kit.store, "rdvpref-3762", outcome, kit.clock.now())
    status = await _status(kit)
    assert status["rdvpref-3762"]["health"] == health.value
    assert status["rdvpref-3762"]["last_outcome"] == outcome.value


async def test_board_never_calls_a_target_fine_before_its_first_check(kit: WebKit) -> None:
    await kit.store.targets.upsert(target(), now=kit.clock.now())
    assert (await _status(kit))["rdvpref-3762"]["health"] == "not_checked"


async def test_board_says_paused_while_a_pause_lasts(kit: WebKit) -> None:
    now = kit.clock.now()
    await kit.store.targets.upsert(target(), now=now)
    await record_check(kit.store, "rdvpref-3762", Outcome.BLOCKED, now)
    await kit.store.targets.pause("rdvpref-3762", until=now + timedelta(hours=1), reason="blocked", now=now)
    assert (await _status(kit))["rdvpref-3762"]["health"] == "paused"
    kit.clock.advance(3601)
    assert (await _status(kit))["rdvpref-3762"]["health"] == "blocked"


async def test_board_says_stale_when_a_watched_target_was_not_checked_for_long(kit: WebKit) -> None:
    await kit.store.targets.upsert(target(), now=kit.clock.now())
    await record_check(kit.store, "rdvpref-3762", Outcome.NO_SLOTS, kit.clock.now())
    await _watch(kit, "rdvpref-3762")
    kit.clock.advance(kit.settings.web_stale_after_min * 60 + 1)
    item = (await _status(kit))["rdvpref-3762"]
    assert item["health"] == "stale"
    assert item["watched"] is True


async def test_board_shows_next_announced_publication_until_it_has_passed(kit: WebKit) -> None:
    now = kit.clock.now()
    publication = now + timedelta(hours=2)
    await kit.store.targets.upsert(target(), now=now)
    await record_check(kit.store, "rdvpref-3762", Outcome.NO_SLOTS, now, notices=(next_publication(publication),))
    item = (await _status(kit))["rdvpref-3762"]
    assert datetime.fromisoformat(str(item["next_publication"])) == publication
    page = await kit.client.get("/status", headers={"accept-language": "fr"})
    assert publication.isoformat() in page.text
    kit.clock.advance(3 * 3600)
    assert (await _status(kit))["rdvpref-3762"]["next_publication"] is None


async def test_board_filters_by_departement(kit: WebKit) -> None:
    now = kit.clock.now()
    await kit.store.targets.upsert(target("rdvpref-1", office="pref-38"), now=now)
    await kit.store.targets.upsert(target("rdvpref-2", office="pref-91"), now=now)
    assert set(await _status(kit, departement="38")) == {"rdvpref-1"}
    assert set(await _status(kit)) == {"rdvpref-1", "rdvpref-2"}
    page = (await kit.client.get("/status?dept=91")).text
    assert "/targets/rdvpref-2" in page
    assert "/targets/rdvpref-1" not in page


async def test_board_filter_answers_htmx_with_the_board_block_only(kit: WebKit) -> None:
    await kit.store.targets.upsert(target(), now=kit.clock.now())
    response = await kit.client.get("/status?dept=38", headers={"hx-request": "true"})
    assert response.text.lstrip().startswith('<div id="board"')
    assert "<html" not in response.text


async def _opening(kit: WebKit, start: datetime, minutes: int, slot_minutes: tuple[int, ...]) -> None:
    async with kit.store.write() as tx:
        result = await tx.conn.execute(
            insert(m.openings).returning(m.openings.c.id),
            {
                "target_id": "rdvpref-3762", "seq": int(start.timestamp()), "started_at": start,
                "ended_at": start + timedelta(minutes=minutes), "reason": "slots", "close_reason": "gone",
                "first_slots": [{"start": (start + timedelta(days=9)).isoformat()}],
            },
        )  # fmt: skip
        opening_id = result.scalar_one()
        for n, life in enumerate(slot_minutes):
            slot = Slot(start + timedelta(days=9, hours=n))
            await tx.conn.execute(
                insert(m.opening_slots),
                {
                    "opening_id": opening_id, "slot_key": slot.key, "start": slot.start, "first_seen": start,
                    "last_seen": start + timedelta(minutes=life - 1), "gone_at": start + timedelta(minutes=life),
                },
            )  # fmt: skip


async def test_target_page_shows_openings_and_how_long_slots_lasted(kit: WebKit) -> None:
    now = kit.clock.now()
    await kit.store.targets.upsert(target(), now=now)
    await record_check(kit.store, "rdvpref-3762", Outcome.NO_SLOTS, now)
    await _opening(kit, now - timedelta(days=2), 10, (2, 4, 6))
    await _opening(kit, now - timedelta(days=1), 20, (4,))
    page = await kit.client.get("/targets/rdvpref-3762", headers={"accept-language": "en"})
    assert page.status_code == 200
    assert "Half of the slots seen here were gone within 4 minutes" in page.text
    assert "A typical opening lasted 15 minutes" in page.text
    api = (await kit.client.get("/api/v1/targets/rdvpref-3762")).json()
    assert [o["duration_s"] for o in api["openings"]] == [1200.0, 600.0]
    assert [len(o["slots"]) for o in api["openings"]] == [1, 3]
    assert api["checks"][0]["health"] == "no_slots"


async def _next_event(stream: aiohttp.StreamReader) -> tuple[str, str]:
    """(event name, data) of the next server-sent event."""
    name, data = "", []
    async for raw in stream:
        line = raw.decode().rstrip("\r\n")
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            data.append(line.removeprefix("data: "))
        elif line == "" and name:
            return name, "\n".join(data)
    raise AssertionError("the stream ended")


async def test_board_streams_changed_rows_when_a_check_is_recorded(kit: WebKit) -> None:
    await kit.store.targets.upsert(target(), now=kit.clock.now())
    board = kit.app.state.web.board
    await board.refresh()
    english = {"accept-language": "en"}
    async with (
        WebServer(kit.app, "127.0.0.1", 0) as server,
        aiohttp.ClientSession(server.url) as http,
        http.get("/status/events", headers=english) as stream,
        asyncio.timeout(10),
    ):
        assert stream.headers["content-type"].startswith("text/event-stream")
        assert await _next_event(stream.content) == ("ready", "1")
        await record_check(kit.store, "rdvpref-3762", Outcome.SLOTS_AVAILABLE, kit.clock.now())
        await board.refresh()
        name, data = await _next_event(stream.content)
    assert name == "row"
    assert 'hx-swap-oob="true"' in data
    assert "Slots available" in data
