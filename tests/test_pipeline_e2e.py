# SPDX-License-Identifier: AGPL-3.0-or-later
"""The whole pipeline on real ports: the simulator (ManualClock), the real monitor runner and sender, and the
fake providers (SMTP sink, Telegram Bot API, ntfy, webhook). Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import collections
import itertools
import os
import signal
import sys
import time
from asyncio.subprocess import DEVNULL, PIPE
from collections.abc import AsyncIterator, Awaitable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import aiohttp
import pytest

from creneau.monitor.runner import CheckReport, MonitorRunner, RunnerOptions
from creneau.notify.fakes.smtp import SmtpSink
from creneau.sim.model import Episode, EpisodeKind, Planning, SimSlot, SimTarget
from creneau.sources.base import SourceDeps
from creneau.sources.captcha import FileCaptchaDesk
from creneau.sources.http import Http
from creneau.store import ChannelStatus, DeliveryState, DeliveryStatus, Store
from creneau.types import Outcome, System, Target

from . import pipeline_kit as kit
from .pipeline_kit import SSD, T0, TARGET_ID, URL, Pipeline, running_pipeline, sim_slot, sim_world, wait_until

db_url, pg_url, migrated_sqlite = kit.db_url, kit.pg_url, kit.migrated_sqlite  # fixtures

pytestmark = pytest.mark.e2e
RDV = "www.rdv-prefecture.interieur.gouv.fr"
ISERE = "rdvpref-3762"  # a catalog target: Préfecture de l'Isère


@dataclass
class _Recorded:
    """A monitor runner of its own (own engine, own HTTP client) that records when each check ran."""

    runner: MonitorRunner
    reports: list[tuple[CheckReport, tuple[float, float]]] = field(default_factory=list)

    def record(self, report: CheckReport) -> None:
        end = time.monotonic()
        self.reports.append((report, (end - report.observation.duration_s, end)))

    async def tick(self, *, sync: bool) -> int:
        return await self.runner.tick(sync=sync)

    async def wait_idle(self) -> None:
        await self.runner.wait_idle()


@asynccontextmanager
async def two_runners(p: Pipeline, url: str) -> AsyncIterator[list[_Recorded]]:
    """Two runners as two processes would be: separate engines and clients on one PostgreSQL database."""
    async with AsyncExitStack() as stack:
        recorded = []
        for name in ("a", "b"):
            store = await Store.open(url, migrate_to=None)
            stack.push_async_callback(store.close)
            http = Http(user_agent="creneau-test", route_overrides=p.sim.route_overrides, timeout_s=5)
            stack.push_async_callback(http.close)
            deps = SourceDeps(http=http, clock=p.clock, settings=p.service.settings)
            runner = MonitorRunner(store, deps, clock=p.clock, options=RunnerOptions(owner=name, claim_batch=1))
            item = _Recorded(runner)
            runner.on_check = item.record
            recorded.append(item)
        yield recorded


async def test_pipeline_alerts_every_channel_once_when_a_slot_is_published(db_url: str, tmp_path: Path) -> None:
    world = sim_world()
    async with running_pipeline(db_url, tmp_path, world) as p:
        hook = p.fakes.webhook.endpoint("/alice")
        await p.subscribe("alice@example.org", telegram="424242", ntfy="alice-creneau-7f3k", webhook=hook)
        await p.round()
        assert len(p.fakes.smtp.messages) == 0
        world.add_slots([sim_slot(1, days=1, hour=9, visible_from=T0 + timedelta(seconds=60))])
        await p.until_due()
        await p.until_due()

        assert len(p.fakes.smtp.messages) == 1
        assert len(p.fakes.telegram.sent_to(424242)) == 1
        assert len(p.fakes.ntfy.on("alice-creneau-7f3k")) == 1
        assert len(p.fakes.webhook.received) == 1
        mail = p.fakes.smtp.messages[0].message
        text = mail.get_body(("plain",))
        assert text is not None
        body = text.get_content()
        for expected in ("Seine-Saint-Denis", "Autre rendez-vous étrangers", "mardi 5 mai 2026", "09:00", URL):
            assert expected in body
        assert p.fakes.telegram.messages[0].plain.count("09:00") == 1
        hook_body = p.fakes.webhook.received[0]
        assert hook_body.verified
        assert hook_body.json["booking_url"] == URL
        assert hook_body.json["slots"][0]["guichet_label"] == "Guichet A"
        counts = await p.store.outbox.counts()
        assert counts[DeliveryStatus.SENT] == 4
        assert sum(counts.values()) == 4


async def test_pipeline_alerts_only_watches_whose_filter_keeps_the_slots_when_filtered(
    db_url: str, tmp_path: Path
) -> None:
    world = sim_world(slots=(sim_slot(1, days=1, hour=9),))  # Tuesday 5 May 2026
    async with running_pipeline(db_url, tmp_path, world) as p:
        await p.subscribe("early@example.org", before=date(2026, 5, 5))
        await p.subscribe("later@example.org", before=date(2026, 5, 6))
        await p.subscribe("anytime@example.org")
        await p.round()

        received = sorted(rcpt for mail in p.fakes.smtp.messages for rcpt in mail.rcpt_tos)
        assert received == ["anytime@example.org", "later@example.org"]


async def test_pipeline_never_alerts_nor_closes_when_the_site_fails_mid_opening(db_url: str, tmp_path: Path) -> None:
    episode = Episode(EpisodeKind.BAD_GATEWAY, T0 + timedelta(seconds=30), T0 + timedelta(hours=1), host=SSD)
    world = sim_world(slots=(sim_slot(1, days=1, hour=9),), episodes=(episode,))
    async with running_pipeline(db_url, tmp_path, world) as p:
        await p.subscribe("alice@example.org")
        await p.round()
        assert len(p.fakes.smtp.messages) == 1
        opening = await p.store.openings.current(TARGET_ID)
        assert opening is not None

        for _ in range(3):  # 502s while the opening is open
            await p.until_due()
        outcomes = [o.observation.outcome for o in await p.store.observations.recent(TARGET_ID)]
        assert outcomes.count(Outcome.UNAVAILABLE) == 3
        p.clock.set(T0 + timedelta(hours=1, seconds=1))
        await p.until_due()

        assert len(p.fakes.smtp.messages) == 1
        still = await p.store.openings.current(TARGET_ID)
        assert still is not None
        assert (still.id, still.ended_at) == (opening.id, None)
        kinds = [t.kind for t in await p.store.openings.transitions(TARGET_ID)]
        assert kinds == ["opened"]


async def test_pipeline_pauses_and_tells_watchers_once_when_blocked_repeatedly(db_url: str, tmp_path: Path) -> None:
    blocked = Episode(EpisodeKind.FORBIDDEN, T0, T0 + timedelta(days=3), host=SSD)
    world = sim_world(episodes=(blocked,))
    async with running_pipeline(db_url, tmp_path, world) as p:
        await p.subscribe("alice@example.org", telegram="515151")
        for _ in range(3):
            await p.until_due()
        state = (await p.store.targets.get(TARGET_ID)).state
        assert state.paused_until is not None
        assert state.paused_until > p.clock.now()
        await p.until_due()  # the probe after the pause is refused again: still paused, nobody told again

        assert [t.kind for t in await p.store.openings.transitions(TARGET_ID)] == ["paused"]
        assert len(p.fakes.smtp.messages) == 1
        assert len(p.fakes.telegram.sent_to(515151)) == 1
        subject = str(p.fakes.smtp.messages[0].message["Subject"])
        assert "Seine-Saint-Denis" in subject
        outcomes = [o.observation.outcome for o in await p.store.observations.recent(TARGET_ID)]
        assert outcomes == [Outcome.BLOCKED] * 4


async def test_pipeline_disables_a_channel_and_tells_its_owner_when_the_provider_refuses_for_good(
    db_url: str, tmp_path: Path
) -> None:
    world = sim_world(slots=(sim_slot(1, days=1, hour=9),))
    async with running_pipeline(db_url, tmp_path, world) as p:
        subscriber = await p.subscribe("alice@example.org", telegram="616161")
        p.fakes.telegram.blocked.add(616161)
        await p.round()
        await p.round()  # the owner's notice, enqueued by the failure, goes out

        channels = {c.kind: c for c in await p.store.subscribers.list_channels(subscriber)}
        assert channels["telegram"].status is ChannelStatus.DISABLED
        assert "blocked" in (channels["telegram"].disabled_reason or "")
        assert channels["email"].status is ChannelStatus.ACTIVE
        subjects = [str(mail.message["Subject"]) for mail in p.fakes.smtp.messages]
        assert len(subjects) == 2
        assert any("Telegram" in s or "telegram" in s for s in subjects)


async def test_pipeline_resumes_a_target_when_a_person_answers_its_captcha(db_url: str, tmp_path: Path) -> None:
    isere = SimTarget("isere", System.RDVPREF, RDV, 3762, name="Titre de séjour", city="Grenoble")
    world = sim_world(isere, slots=(SimSlot(1, "isere", T0 + timedelta(days=2, hours=1), T0, None),))
    async with running_pipeline(db_url, tmp_path, world, test_hooks=True) as p:
        await p.subscribe("alice@example.org", targets=(ISERE,))
        await p.round()
        state = (await p.store.targets.get(ISERE)).state
        assert state.last_outcome is Outcome.HUMAN_CHECK_REQUIRED
        assert state.next_check_at > p.clock.now() + timedelta(minutes=30)  # waits for a person, no polling
        desk = FileCaptchaDesk(tmp_path / "captcha")
        (challenge,) = await desk.pending(p.clock.now())
        hook = f"{p.sim.base_url}/__sim__/captcha/{challenge.captcha_id}"
        async with aiohttp.ClientSession() as http, http.get(hook) as answer:
            code = await answer.text()
        await desk.answer(challenge.id, code, p.clock.now())

        await p.round(after_s=5)  # past the host's minimum gap: the answer alone brings the check forward

        assert (await p.store.targets.get(ISERE)).state.last_outcome is Outcome.SLOTS_AVAILABLE
        assert len(p.fakes.smtp.messages) == 1
        assert "Isère" in str(p.fakes.smtp.messages[0].message["Subject"])


@pytest.mark.postgres
async def test_runners_never_check_one_target_at_once_when_sharing_postgresql(pg_url: str, tmp_path: Path) -> None:
    kit.truncate(pg_url)
    forms = [
        SimTarget(f"d{i}", System.LEGACY, f"www.d{i}.gouv.fr", 100 + i, (Planning("1", "Guichet"),)) for i in range(6)
    ]
    slow = Episode(EpisodeKind.SLOW, T0, T0 + timedelta(days=1), delay_s=0.05)
    world = sim_world(*forms, episodes=(slow,))
    targets = [
        Target(f"t{i}", System.LEGACY, f"https://www.d{i}.gouv.fr/booking/create/{100 + i}/0", guichets={"1": "G"})
        for i in range(6)
    ]
    async with running_pipeline(pg_url, tmp_path, world, role="monitor") as p, two_runners(p, pg_url) as runners:
        await p.store.targets.upsert_many(targets, now=T0)
        await p.subscribe("alice@example.org", targets=tuple(t.id for t in targets))
        for _ in range(3):
            p.clock.advance(400)
            await asyncio.gather(*(r.tick(sync=True) for r in runners))
            await asyncio.gather(*(r.wait_idle() for r in runners))
        checked = [[(report.target_id, span) for report, span in r.reports] for r in runners]

    by_target: dict[str, list[tuple[float, float]]] = {}
    for reports in checked:
        for target_id, span in reports:
            by_target.setdefault(target_id, []).append(span)
    assert sorted(by_target) == [t.id for t in targets]
    assert all(len(spans) == 3 for spans in by_target.values())  # once per round, by one runner or the other
    for spans in by_target.values():
        spans.sort()
        assert all(a_end <= b_start for (_, a_end), (b_start, _) in itertools.pairwise(spans))
    assert all(checked), "both runners took part"


class _GatedSink(SmtpSink):
    """An SMTP sink that, from its `hold_after`-th message on, keeps the messages but holds its replies: the
    provider has the message, the sender has not heard it was accepted."""

    def __init__(self, hold_after: int) -> None:
        super().__init__()
        self.hold_after = hold_after
        self.holding = asyncio.Event()
        self.gate = asyncio.Event()

    async def record(self, mail_from: str, rcpt_tos: list[str], data: bytes) -> str:
        reply = await super().record(mail_from, rcpt_tos, data)
        if len(self.messages) >= self.hold_after and not self.gate.is_set():
            self.holding.set()
            await self.gate.wait()
        return reply


def _sender_process(db_url: str, tmp_path: Path, sink: SmtpSink) -> Awaitable[asyncio.subprocess.Process]:
    env = os.environ | {
        "CRENEAU_DATABASE_URL": db_url,
        "CRENEAU_DATA_DIR": str(tmp_path / "sender"),
        "CRENEAU_SMTP_HOST": sink.host,
        "CRENEAU_SMTP_PORT": str(sink.port),
        "CRENEAU_SMTP_POOL_SIZE": "2",
        "CRENEAU_SENDER_KINDS": '["email"]',
        "CRENEAU_SENDER_LEASE_S": "2",
        "CRENEAU_SENDER_MAX_AGE_H": "1000000",  # the alerts were made in simulated (past) time
        "CRENEAU_POLL_S": "0.2",
        "CRENEAU_LOG_LEVEL": "WARNING",
    }
    command = (sys.executable, "-m", "creneau.cli", "serve", "--role", "sender")
    return asyncio.create_subprocess_exec(*command, env=env, stdout=DEVNULL, stderr=PIPE)


async def test_pipeline_loses_nothing_when_a_sender_is_killed_mid_fanout(db_url: str, tmp_path: Path) -> None:
    crowd = 30
    async with running_pipeline(db_url, tmp_path, sim_world(slots=(sim_slot(1, days=1, hour=9),)), role="monitor") as p:
        subscriber = await p.subscribe("person0@example.org")
        for i in range(1, crowd):
            address = f"person{i}@example.org"
            await p.store.subscribers.add_channel(subscriber, "email", address, {"address": address}, now=T0)
        await p.round()
        assert (await p.store.outbox.counts())[DeliveryStatus.PENDING] == crowd

        async with _GatedSink(hold_after=12) as sink:
            first = await _sender_process(db_url, tmp_path, sink)
            async with asyncio.timeout(60):
                await sink.holding.wait()
            await wait_until(lambda: _sent_count(p.store, at_least=10))  # the accepted ones are committed
            first.kill()  # kill -9 in the middle of the fan-out
            assert await first.wait() == -signal.SIGKILL
            marked = {d.channel_id for d in await _deliveries(p.store) if d.status is DeliveryStatus.SENT}
            assert 0 < len(marked) < crowd
            sink.gate.set()

            second = await _sender_process(db_url, tmp_path, sink)
            try:
                await wait_until(lambda: _sent_count(p.store, at_least=crowd), timeout_s=60)
            finally:
                second.send_signal(signal.SIGTERM)
                assert await second.wait() == 0  # graceful stop

        channels = {c.id: c.address for c in await p.store.subscribers.list_channels(subscriber)}
        received = collections.Counter(rcpt for mail in sink.messages for rcpt in mail.rcpt_tos)
        assert sorted(received) == sorted(channels.values())  # nothing lost
        unmarked = {channels[cid] for cid in channels if cid not in marked}
        duplicated = {address for address, n in received.items() if n > 1}
        assert duplicated  # the held message: the provider had it, we never heard so
        assert duplicated <= unmarked  # only what the provider accepted before our commit came twice


async def _deliveries(store: Store) -> list[DeliveryState]:
    (opened,) = [t for t in await store.openings.transitions(TARGET_ID) if t.kind == "opened"]
    return await store.outbox.for_transition(opened.id)


async def _sent_count(store: Store, *, at_least: int) -> bool:
    return sum(d.status is DeliveryStatus.SENT for d in await _deliveries(store)) >= at_least
