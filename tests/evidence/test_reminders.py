# SPDX-License-Identifier: AGPL-3.0-or-later
"""Expiry reminders: dates, evidence window, slot-after-expiry guidance, the calendar feed, and sending
them by e-mail in the person's language through the notification transports."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import aiohttp
import pytest

from creneau.config import load_settings
from creneau.detector import DetectorState, detect
from creneau.evidence import reminders
from creneau.evidence.records import Profile
from creneau.evidence.reminders import ReminderKind
from creneau.evidence.worker import EvidenceWorker
from creneau.notify.fakes.smtp import SmtpSink
from creneau.notify.registry import Transports
from creneau.sim.clock import ManualClock
from creneau.types import Observation, Outcome, Slot

from .conftest import T0, World

EXPIRY = date(2026, 5, 31)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        pytest.param(date(2026, 7, 31), 2, date(2026, 5, 31), id="same-day"),
        pytest.param(date(2026, 4, 30), 2, date(2026, 2, 28), id="clamped-february"),
        pytest.param(date(2026, 2, 15), 4, date(2025, 10, 15), id="previous-year"),
    ],
)
def test_months_before_clamps_to_month_end_when_needed(day: date, months: int, expected: date) -> None:
    assert reminders.months_before(day, months) == expected


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        pytest.param(datetime(2026, 1, 30, 7, tzinfo=UTC), None, id="before-four-months"),
        pytest.param(datetime(2026, 1, 31, 8, tzinfo=UTC), ReminderKind.FOUR_MONTHS, id="four-months"),
        pytest.param(datetime(2026, 3, 31, 7, tzinfo=UTC), ReminderKind.TWO_MONTHS, id="two-months"),
        pytest.param(datetime(2026, 5, 20, 7, tzinfo=UTC), ReminderKind.TWO_MONTHS, id="given-late"),
        pytest.param(datetime(2026, 6, 1, 7, tzinfo=UTC), None, id="expired"),
    ],
)
def test_due_reminder_picks_the_latest_due_when_time_passes(now: datetime, expected: ReminderKind | None) -> None:
    assert reminders.due_reminder(EXPIRY, now) == expected


def test_evidence_window_covers_the_two_months_before_expiry() -> None:
    assert not reminders.in_evidence_window(EXPIRY, date(2026, 3, 30))
    assert reminders.in_evidence_window(EXPIRY, date(2026, 3, 31))
    assert reminders.in_evidence_window(EXPIRY, EXPIRY)


def test_slots_after_expiry_only_when_every_slot_is_later() -> None:
    now = datetime(2026, 5, 1, tzinfo=UTC)
    after, before = datetime(2026, 6, 10, 8, tzinfo=UTC), datetime(2026, 5, 20, 8, tzinfo=UTC)
    assert reminders.slots_after_expiry([after], EXPIRY, now)
    assert not reminders.slots_after_expiry([after, before], EXPIRY, now)
    assert not reminders.slots_after_expiry([], EXPIRY, now)


def test_ics_feed_lists_expiry_and_reminders_in_the_persons_language() -> None:
    feed = reminders.ics_feed(7, EXPIRY, "fr", now=T0)
    assert feed.startswith("BEGIN:VCALENDAR\r\n")
    assert feed.endswith("END:VCALENDAR\r\n")
    assert "DTSTART;VALUE=DATE:20260531" in feed
    assert "DTSTART;VALUE=DATE:20260131" in feed
    assert "DTSTART;VALUE=DATE:20260331" in feed
    assert "Expiration du titre de séjour" in feed
    assert all(len(line.encode()) <= 75 for line in feed.split("\r\n"))
    assert "Residence permit expires" in reminders.ics_feed(7, EXPIRY, "en", now=T0)


@pytest.fixture
def db_url(sqlite_url: str) -> str:
    return sqlite_url


@pytest.fixture
async def sink() -> AsyncIterator[SmtpSink]:
    async with SmtpSink() as server:
        yield server


@pytest.fixture
async def worker(world: World, sink: SmtpSink) -> AsyncIterator[EvidenceWorker]:
    settings = load_settings(smtp_host="127.0.0.1", smtp_port=sink.port, smtp_from="creneau <r@creneau.example>")
    async with aiohttp.ClientSession() as session:
        transports = Transports(settings, session)
        yield EvidenceWorker(
            world.repo, world.profiles, transports=transports, clock=ManualClock(T0), chromium="/nonexistent"
        )
        await transports.close()


async def test_worker_sends_each_reminder_once_in_the_persons_language(
    world: World, worker: EvidenceWorker, sink: SmtpSink
) -> None:
    await world.store.subscribers.add_channel(
        world.owner, "email", "owner@example.org", {"address": "owner@example.org"}, now=T0
    )
    await world.profiles.save(Profile(world.owner, permit_expiry=EXPIRY), now=T0)
    first = await worker.run_once(datetime(2026, 1, 31, 9, tzinfo=UTC))
    again = await worker.run_once(datetime(2026, 2, 1, 9, tzinfo=UTC))
    assert (first.planned, first.sent, again.planned, again.sent) == (1, 1, 0, 0)
    (mail,) = sink.messages
    assert "expire le 31/05/2026" in mail.message["Subject"]
    later = await worker.run_once(datetime(2026, 3, 31, 9, tzinfo=UTC))
    assert (later.planned, later.sent) == (1, 1)
    assert "deux mois" in list(sink.messages)[-1].message["Subject"]


async def test_worker_writes_in_english_when_the_person_reads_english(
    world: World, worker: EvidenceWorker, sink: SmtpSink
) -> None:
    person = await world.store.subscribers.add_subscriber("en@example.org", now=T0, locale="en")
    await world.store.subscribers.add_channel(
        person.id, "email", "en@example.org", {"address": "en@example.org"}, now=T0
    )
    await world.profiles.save(Profile(person.id, permit_expiry=EXPIRY), now=T0)
    assert (await worker.run_once(datetime(2026, 4, 2, 9, tzinfo=UTC))).sent == 1
    (mail,) = sink.messages
    assert mail.message["Subject"].startswith("Your residence permit expires on 2026-05-31")


async def test_worker_switches_evidence_mode_on_inside_the_window_but_respects_a_refusal(
    world: World, worker: EvidenceWorker
) -> None:
    fresh = await world.store.subscribers.add_watch(world.owner, [world.target.id], now=T0)
    await world.repo.disable(world.watch, now=T0)
    await world.profiles.save(Profile(world.owner, permit_expiry=EXPIRY), now=T0)
    assert (await worker.run_once(datetime(2026, 3, 1, 9, tzinfo=UTC))).auto_enabled == 0
    assert (await worker.run_once(datetime(2026, 4, 1, 9, tzinfo=UTC))).auto_enabled == 1
    info = await world.repo.chain_info(fresh.id)
    assert info is not None
    assert info.enabled
    assert info.auto
    refused = await world.repo.chain_info(world.watch)
    assert refused is not None
    assert not refused.enabled


async def test_worker_sends_anef_guidance_when_the_only_slot_is_after_expiry(
    world: World, worker: EvidenceWorker, sink: SmtpSink
) -> None:
    await world.store.subscribers.add_channel(
        world.owner, "email", "owner@example.org", {"address": "owner@example.org"}, now=T0
    )
    await world.profiles.save(Profile(world.owner, permit_expiry=date(2026, 3, 20)), now=T0)
    late = Slot(datetime(2026, 4, 2, 8, tzinfo=UTC))
    obs = Observation(
        target_id=world.target.id, checked_at=T0, outcome=Outcome.SLOTS_AVAILABLE, evidence="t", slots=(late,)
    )
    for transition in detect(DetectorState(), obs).transitions:
        await world.store.outbox.open_opening_and_enqueue(transition, now=T0)
    done = await worker.run_once(T0 + timedelta(minutes=5))
    assert done.guidance == 1
    mail = list(sink.messages)[-1].message
    assert "après l'expiration" in mail["Subject"]
    assert "attestation de prolongation" in mail.get_body(("plain",)).get_content()
    assert (await worker.run_once(T0 + timedelta(minutes=10))).guidance == 0
