# SPDX-License-Identifier: AGPL-3.0-or-later
"""The fast read path of the public pages: reads off the event loop, caches that follow the store, and
dates formatted exactly as Babel does."""

from __future__ import annotations

import functools
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from babel.dates import format_datetime, format_timedelta
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, text
from sqlalchemy.exc import OperationalError

from creneau.store import Store
from creneau.types import PARIS, Outcome, Slot
from creneau.web import i18n, queries
from creneau.web.reader import Reader

from .kit import WebKit, next_publication, record_check, target


@settings(max_examples=300, deadline=None)
@given(
    value=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)),
    fmt=st.sampled_from(["short", "medium", "long"]),
    locale=st.sampled_from(i18n.LOCALES),
)
def test_when_matches_babel_when_formatting_any_instant(value: datetime, fmt: str, locale: str) -> None:
    token = i18n.use_locale(locale)
    try:
        assert i18n.when(value, fmt) == format_datetime(value.astimezone(PARIS), fmt, locale=locale)
    finally:
        i18n.reset_locale(token)


@settings(max_examples=500, deadline=None)
@given(
    seconds=st.one_of(
        st.floats(min_value=-4e8, max_value=4e8, allow_nan=False),
        st.integers(min_value=-200_000, max_value=200_000).map(lambda n: n / 2),  # unit edges: 66 s, 89.5 min
    ),
    locale=st.sampled_from(i18n.LOCALES),
)
def test_ago_matches_babel_when_wording_any_delay(seconds: float, locale: str) -> None:
    now = datetime(2026, 5, 12, 8, 30, tzinfo=UTC)
    value = now + timedelta(seconds=seconds)
    token = i18n.use_locale(locale)
    try:
        expected = format_timedelta(value - now, add_direction=True, threshold=1.1, locale=locale)
        assert i18n.ago(value, now) == expected
    finally:
        i18n.reset_locale(token)


def _mode(conn: Connection) -> tuple[str, int]:
    return str(conn.execute(text("PRAGMA journal_mode")).scalar()), int(
        conn.execute(text("PRAGMA query_only")).scalar() or 0
    )


async def test_reader_reads_sqlite_in_its_own_read_only_connection_when_the_store_is_a_file(kit: WebKit) -> None:
    reader = Reader(kit.store)
    try:
        assert await reader.run(_mode) == ("wal", 1)
    finally:
        reader.close()


async def test_reader_runs_quick_reads_on_the_loop_and_long_ones_in_its_threads(kit: WebKit) -> None:
    reader = Reader(kit.store)
    here = threading.get_ident()
    try:
        assert await reader.quick(lambda _conn: threading.get_ident()) == here
        assert await reader.run(lambda _conn: threading.get_ident()) != here
        assert await reader.quick(_mode) == ("wal", 1)
    finally:
        reader.close()


async def test_reader_hands_a_quick_read_to_its_threads_when_the_database_is_locked(
    kit: WebKit, monkeypatch: pytest.MonkeyPatch
) -> None:
    reader = Reader(kit.store)

    def locked_inline(self: Reader) -> Any:
        raise OperationalError("BEGIN", {}, sqlite3.OperationalError("database is locked"))

    monkeypatch.setattr(Reader, "_inline_connection", locked_inline)
    try:
        assert await reader.quick(lambda _conn: threading.get_ident()) != threading.get_ident()
    finally:
        reader.close()


async def test_reader_uses_the_store_itself_when_the_database_is_in_memory() -> None:
    store = await Store.open("sqlite+aiosqlite:///:memory:")
    reader = Reader(store)
    try:
        await store.targets.upsert(target(), now=datetime.now(UTC))
        rows = await reader.run(queries.target_rows)
        assert [r.id for r in rows] == ["rdvpref-3762"]
    finally:
        reader.close()
        await store.close()


async def test_reader_sees_what_was_committed_before_it_reads(kit: WebKit) -> None:
    reader = Reader(kit.store)
    try:
        await kit.store.targets.upsert(target(), now=kit.clock.now())
        await record_check(kit.store, "rdvpref-3762", Outcome.NO_SLOTS, kit.clock.now())
        detail = await reader.run(functools.partial(queries.target_detail, target_id="rdvpref-3762"))
        assert [c.outcome for c in detail.checks] == [Outcome.NO_SLOTS]
    finally:
        reader.close()


async def test_target_detail_lists_checks_newest_first_with_slot_counts(kit: WebKit) -> None:
    from creneau.types import Slot

    now = kit.clock.now()
    await kit.store.targets.upsert(target(), now=now)
    slot = Slot(now + timedelta(days=3), "G1")
    await record_check(kit.store, "rdvpref-3762", Outcome.NO_SLOTS, now - timedelta(minutes=10))
    await record_check(kit.store, "rdvpref-3762", Outcome.SLOTS_AVAILABLE, now, slots=(slot,))
    detail = await kit.app.state.web.board.reader.run(
        functools.partial(queries.target_detail, target_id="rdvpref-3762", checks=5)
    )
    assert [(c.outcome, c.slot_count) for c in detail.checks] == [(Outcome.SLOTS_AVAILABLE, 1), (Outcome.NO_SLOTS, 0)]
    assert detail.state.last_outcome is Outcome.SLOTS_AVAILABLE


async def test_announced_reads_the_last_conclusive_check_of_each_target(kit: WebKit) -> None:
    now = kit.clock.now()
    for n in (1, 2, 3):
        await kit.store.targets.upsert(target(f"rdvpref-{n}"), now=now)
    announce = now + timedelta(days=2)
    await record_check(
        kit.store, "rdvpref-1", Outcome.NO_SLOTS, now - timedelta(minutes=5), notices=(next_publication(announce),)
    )
    await record_check(kit.store, "rdvpref-1", Outcome.UNAVAILABLE, now)  # inconclusive: the notice still holds
    await record_check(kit.store, "rdvpref-2", Outcome.NO_SLOTS, now)
    found = await kit.app.state.web.board.reader.run(
        functools.partial(queries.announced, target_ids=["rdvpref-1", "rdvpref-2", "rdvpref-3"])
    )
    assert found == {"rdvpref-1": (announce,), "rdvpref-2": (), "rdvpref-3": ()}


async def test_board_row_is_rendered_again_only_when_it_changes(kit: WebKit) -> None:
    now = kit.clock.now()
    await kit.store.targets.upsert(target(), now=now)
    await record_check(kit.store, "rdvpref-3762", Outcome.NO_SLOTS, now - timedelta(minutes=3))
    board = kit.app.state.web.board
    await board.refresh()
    first = (await kit.client.get("/status")).text
    assert "il y a 3 minutes" in first
    kit.clock.advance(120)
    await board.refresh()
    second = (await kit.client.get("/status")).text
    assert "il y a 5 minutes" in second  # same row, cached, with its relative time of this snapshot
    await record_check(kit.store, "rdvpref-3762", Outcome.SLOTS_AVAILABLE, kit.clock.now())
    await board.refresh()
    third = (await kit.client.get("/status")).text
    assert "health-slots" in third
    assert "health-no_slots" not in third


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
async def test_target_page_follows_the_store_when_cached(kit: WebKit, signed_in: bool) -> None:
    now = kit.clock.now()
    client = await kit.sign_in("someone@example.org") if signed_in else kit.client
    await kit.store.targets.upsert(target(), now=now)
    await record_check(kit.store, "rdvpref-3762", Outcome.NO_SLOTS, now)
    await kit.app.state.web.board.refresh()
    assert "Aucun créneau" in (await client.get("/targets/rdvpref-3762", headers={"accept-language": "fr"})).text
    later = now + timedelta(minutes=1)
    kit.clock.advance(60)
    await record_check(kit.store, "rdvpref-3762", Outcome.SLOTS_AVAILABLE, later)
    await kit.app.state.web.board.refresh()
    page = (await client.get("/targets/rdvpref-3762", headers={"accept-language": "fr"})).text
    assert "Créneaux disponibles" in page
    assert format_datetime(later.astimezone(PARIS), "short", locale="fr") in page


@pytest.mark.parametrize(
    ("locale", "label", "words"),
    [("fr", "Vérifiée le", "Créneaux disponibles"), ("en", "Checked at", "Slots available")],
)
async def test_target_page_lists_its_checks_newest_first_in_the_visitors_language(
    kit: WebKit, locale: str, label: str, words: str
) -> None:
    start = kit.clock.now()
    await kit.store.targets.upsert(target(), now=start)
    await record_check(kit.store, "rdvpref-3762", Outcome.NO_SLOTS, start - timedelta(minutes=10))
    slots = (Slot(start + timedelta(days=3), "G1"), Slot(start + timedelta(days=4), "G1"))
    await record_check(kit.store, "rdvpref-3762", Outcome.SLOTS_AVAILABLE, start, slots=slots)
    page = (await kit.client.get("/targets/rdvpref-3762", headers={"accept-language": locale})).text
    token = i18n.use_locale(locale)
    try:
        newest = i18n.when(start)
        older = i18n.when(start - timedelta(minutes=10))
    finally:
        i18n.reset_locale(token)
    history = page[page.index('id="checks-title"') :]
    assert f'<tr><td data-label="{label}">{newest}</td>' in history
    assert history.index(newest) < history.index(older)
    assert f">{words}</td>" in history
    assert '">2</td></tr>' in history  # the slots seen by the newest check
