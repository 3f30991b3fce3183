# SPDX-License-Identifier: AGPL-3.0-or-later
"""RDV Préfecture checks against the simulator on a real port, with a test acting as the human at the desk.

The test reads the captcha's answer through the simulator's test hook (`/__sim__/captcha/{id}`) and
answers the desk with it, exactly as a person would with `creneau captcha solve`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from tests.sources.front import Answer, Front, page, redirect

from creneau.sim.clock import ManualClock
from creneau.sim.model import Episode, EpisodeKind, Publication, RateRules, SimSlot, SimTarget, World
from creneau.sim.server import SimServer
from creneau.sources.base import SourceDeps
from creneau.sources.captcha import ChallengeStatus, FileCaptchaDesk
from creneau.sources.http import Http
from creneau.sources.rdvpref import ADAPTER
from creneau.sources.rdvpref.session import MemorySessionVault
from creneau.types import PARIS, NoticeKind, Observation, Outcome, System, Target

pytestmark = pytest.mark.e2e

T0 = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)  # Monday 08:00 in Paris
HOST = "www.rdv-prefecture.interieur.gouv.fr"
SIM_TARGET = SimTarget("isere", System.RDVPREF, HOST, 3762, name="Titre de séjour", city="Grenoble")
PUB_INSTANT = T0 + timedelta(minutes=10)
PUB_LAG = timedelta(seconds=40)
SLOT_STARTS = [T0 + timedelta(days=2, hours=h) for h in (1, 1.5, 5)]
PUBLISHED_STARTS = [T0 + timedelta(days=14, hours=h) for h in (1, 2)]


def world(*episodes: Episode, with_slots: bool = True) -> World:
    seen = T0 - timedelta(hours=1)
    slots = [SimSlot(i, "isere", start, seen, None) for i, start in enumerate(SLOT_STARTS, 1)] if with_slots else []
    publication = Publication(
        7, "isere", PUB_INSTANT, PUB_INSTANT + PUB_LAG, date(2026, 5, 18), announced_at=T0 - timedelta(days=1)
    )
    slots += [
        SimSlot(100 + i, "isere", start, publication.visible_at, None, publication_id=7)
        for i, start in enumerate(PUBLISHED_STARTS)
    ]
    return World(
        {"isere": SIM_TARGET}, slots, [publication], list(episodes), rules=RateRules(rdvpref_challenge_per_min=0)
    )


@dataclass
class Site:
    sim: SimServer
    clock: ManualClock
    desk: FileCaptchaDesk
    deps: SourceDeps
    target: Target

    async def check(self) -> Observation:
        return await ADAPTER.check(self.target, self.deps)

    async def answer_as_a_human(self, code: str | None = None) -> str:
        """Answer the pending captcha with its right code (read through the test hook), or with `code`."""
        (challenge,) = await self.desk.pending(self.clock.now())
        if code is None:
            url = f"{self.sim.base_url}/__sim__/captcha/{challenge.captcha_id}"
            async with self.deps.http.session.get(url) as resp:
                assert resp.status == 200
                code = await resp.text()
        await self.desk.answer(challenge.id, code, self.clock.now())
        return challenge.id

    async def open_session(self) -> Observation:
        assert (await self.check()).outcome is Outcome.HUMAN_CHECK_REQUIRED
        await self.answer_as_a_human()
        return await self.check()


async def _site(tmp_path: Path, w: World, *, timeout_s: float = 20.0) -> AsyncIterator[Site]:
    clock = ManualClock(T0)
    async with (
        SimServer(w, clock, test_hooks=True) as sim,
        Http(user_agent="creneau-test", route_overrides=sim.route_overrides, timeout_s=timeout_s) as http,
    ):
        desk = FileCaptchaDesk(tmp_path / "captcha")
        deps = SourceDeps(http=http, clock=clock, captcha_desk=desk, sessions=MemorySessionVault())
        yield Site(sim, clock, desk, deps, ADAPTER.target_from_url(SIM_TARGET.url))


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    async for s in _site(tmp_path, world()):
        yield s


def paris(obs: Observation) -> list[str]:
    return [s.start.astimezone(PARIS).strftime("%d/%m %H:%M") for s in obs.slots]


async def test_check_files_a_captcha_then_sees_slots_when_a_human_answers(site: Site) -> None:
    first = await site.check()
    assert first.outcome is Outcome.HUMAN_CHECK_REQUIRED
    assert "filed for a person" in first.evidence
    (challenge,) = await site.desk.pending(site.clock.now())
    assert challenge.image.startswith(b"\x89PNG")
    assert challenge.target_id == "rdvpref-3762"

    waiting = await site.check()  # nobody answered yet: polite, no request at all
    assert waiting.outcome is Outcome.HUMAN_CHECK_REQUIRED
    assert waiting.http_status is None
    assert "no request sent" in waiting.evidence

    await site.answer_as_a_human()
    opened = await site.check()
    assert opened.outcome is Outcome.SLOTS_AVAILABLE
    assert f"captcha {challenge.id} accepted" in opened.evidence
    assert [s.start for s in opened.slots] == SLOT_STARTS
    accepted = await site.desk.get(challenge.id)
    assert accepted is not None
    assert accepted.status is ChallengeStatus.ACCEPTED

    site.clock.advance(300)
    again = await site.check()  # the session is reused: no new captcha
    assert again.outcome is Outcome.SLOTS_AVAILABLE
    assert "captcha" not in again.evidence
    assert await site.desk.pending(site.clock.now()) == []


async def test_check_files_a_new_captcha_when_the_answer_is_wrong(site: Site) -> None:
    await site.check()
    rejected_id = await site.answer_as_a_human("WRONG1")
    obs = await site.check()
    assert obs.outcome is Outcome.HUMAN_CHECK_REQUIRED
    assert f"captcha {rejected_id} rejected" in obs.evidence
    rejected = await site.desk.get(rejected_id)
    assert rejected is not None
    assert rejected.status is ChallengeStatus.REJECTED
    (fresh,) = await site.desk.pending(site.clock.now())
    assert fresh.id != rejected_id
    await site.answer_as_a_human()
    assert (await site.check()).outcome is Outcome.SLOTS_AVAILABLE


async def test_check_reports_session_expired_and_files_a_captcha_when_the_site_forgets_the_session(
    site: Site,
) -> None:
    assert (await site.open_session()).outcome is Outcome.SLOTS_AVAILABLE
    site.clock.advance(site.sim.dispatcher.ctx.world.session_lifetime_s + 1)
    expired = await site.check()
    assert expired.outcome is Outcome.SESSION_EXPIRED
    assert "errorSessionInvalide" in expired.evidence
    assert await site.deps.sessions.get("rdvpref-3762") is None  # type: ignore[union-attr]
    assert len(await site.desk.pending(site.clock.now())) == 1
    assert (await site.check()).http_status is None  # waits for the person, politely
    await site.answer_as_a_human()
    assert (await site.check()).outcome is Outcome.SLOTS_AVAILABLE


async def test_check_sees_the_publication_at_its_announced_instant(tmp_path: Path) -> None:
    async for site in _site(tmp_path, world(with_slots=False)):
        before = await site.open_session()
        assert before.outcome is Outcome.NO_SLOTS
        (notice,) = [n for n in before.notices if n.kind is NoticeKind.NEXT_PUBLICATION]
        assert notice.instant == PUB_INSTANT
        assert notice.week_of == date(2026, 5, 18)
        site.clock.set(PUB_INSTANT + timedelta(seconds=5))  # instant passed, backend cache not yet
        assert (await site.check()).outcome is Outcome.NO_SLOTS
        site.clock.set(PUB_INSTANT + PUB_LAG + timedelta(seconds=1))
        after = await site.check()
        assert after.outcome is Outcome.SLOTS_AVAILABLE
        assert [s.start for s in after.slots] == PUBLISHED_STARTS


EPISODE_AT = T0 + timedelta(hours=1)


@pytest.mark.parametrize(
    ("kind", "outcome"),
    [
        pytest.param(EpisodeKind.FORBIDDEN, Outcome.BLOCKED, id="forbidden"),
        pytest.param(EpisodeKind.RATE_LIMITED, Outcome.RATE_LIMITED, id="rate-limited"),
        pytest.param(EpisodeKind.BAD_GATEWAY, Outcome.UNAVAILABLE, id="bad-gateway"),
        pytest.param(EpisodeKind.OVERLOADED, Outcome.RATE_LIMITED, id="overloaded"),
        pytest.param(EpisodeKind.MAINTENANCE, Outcome.UNAVAILABLE, id="maintenance"),
        pytest.param(EpisodeKind.CHALLENGE, Outcome.UNAVAILABLE, id="challenge"),
        pytest.param(EpisodeKind.TRUNCATED, Outcome.LAYOUT_UNKNOWN, id="truncated"),
        pytest.param(EpisodeKind.LAYOUT_CHANGED, Outcome.LAYOUT_UNKNOWN, id="layout-changed"),
        pytest.param(EpisodeKind.SLOW, Outcome.SLOTS_AVAILABLE, id="slow"),
        pytest.param(EpisodeKind.TIMEOUT, Outcome.NETWORK_ERROR, id="timeout"),
    ],
)
async def test_check_reports_the_failure_and_keeps_the_session_when_the_site_fails(
    tmp_path: Path, kind: EpisodeKind, outcome: Outcome
) -> None:
    delay = 0.0 if kind is EpisodeKind.TIMEOUT else 0.01  # 0: hang until the client (0.5 s) gives up
    episode = Episode(kind, EPISODE_AT, EPISODE_AT + timedelta(minutes=10), host=HOST, delay_s=delay)
    async for site in _site(tmp_path, world(episode), timeout_s=0.5):
        site.clock.set(EPISODE_AT - timedelta(minutes=5))
        assert (await site.open_session()).outcome is Outcome.SLOTS_AVAILABLE
        site.clock.set(EPISODE_AT + timedelta(minutes=1))
        failed = await site.check()
        assert failed.outcome is outcome
        assert failed.slots == () or outcome is Outcome.SLOTS_AVAILABLE
        if kind is EpisodeKind.RATE_LIMITED:
            assert failed.retry_after_s is not None
        site.clock.set(EPISODE_AT + timedelta(minutes=11))
        recovered = await site.check()  # same session, no captcha in between
        assert recovered.outcome is Outcome.SLOTS_AVAILABLE
        assert await site.desk.pending(site.clock.now()) == []


async def test_check_reports_network_error_when_nothing_listens(tmp_path: Path) -> None:
    async with Http(user_agent="creneau-test", route_overrides={"*": "http://127.0.0.1:9"}, timeout_s=2) as http:
        deps = SourceDeps(http=http, clock=ManualClock(T0), captcha_desk=FileCaptchaDesk(tmp_path / "c"))
        obs = await ADAPTER.check(ADAPTER.target_from_url(SIM_TARGET.url), deps)
    assert obs.outcome is Outcome.NETWORK_ERROR


async def test_check_only_reads_the_captcha_page_when_no_desk_is_configured(site: Site) -> None:
    deps = SourceDeps(http=site.deps.http, clock=site.clock)
    obs = await ADAPTER.check(site.target, deps)
    assert obs.outcome is Outcome.HUMAN_CHECK_REQUIRED
    assert "no captcha desk" in obs.evidence


# --- pages the simulator does not serve: redirects to unexpected places (a local fake in front of it) ----
FIXTURES = Path(__file__).parent / "fixtures"
DEMARCHE = "/rdvpref/reservation/demarche/3762/"
OTHER = "/rdvpref/reservation/demarche/4321/creneau/"


@pytest.fixture
async def fronted(tmp_path: Path) -> AsyncIterator[tuple[Site, Front]]:
    clock = ManualClock(T0)
    async with (
        SimServer(world(), clock, test_hooks=True) as sim,
        Front(sim.base_url) as front,
        Http(user_agent="creneau-test", route_overrides=front.route_overrides) as http,
    ):
        desk = FileCaptchaDesk(tmp_path / "captcha")
        deps = SourceDeps(http=http, clock=clock, captcha_desk=desk, sessions=MemorySessionVault())
        yield Site(sim, clock, desk, deps, ADAPTER.target_from_url(SIM_TARGET.url)), front


async def test_check_files_a_new_captcha_when_the_slot_page_sends_to_the_landing_page(
    fronted: tuple[Site, Front],
) -> None:
    site, front = fronted
    assert (await site.open_session()).outcome is Outcome.SLOTS_AVAILABLE
    front.script("GET", DEMARCHE + "creneau/", lambda _, __: redirect(DEMARCHE))
    obs = await site.check()
    assert obs.outcome is Outcome.SESSION_EXPIRED
    assert "sent to 3762/" in obs.evidence
    assert await site.deps.sessions.get("rdvpref-3762") is None  # type: ignore[union-attr]
    assert len(await site.desk.pending(site.clock.now())) == 1  # a person can open a new session


async def test_check_files_a_new_captcha_when_the_slot_page_shows_a_captcha(fronted: tuple[Site, Front]) -> None:
    site, front = fronted
    assert (await site.open_session()).outcome is Outcome.SLOTS_AVAILABLE

    async def captcha_instead(request: web.Request, _: Answer) -> Answer:
        return await front.forward(request, DEMARCHE + "cgu/")

    front.script("GET", DEMARCHE + "creneau/", captcha_instead)
    obs = await site.check()
    assert obs.outcome is Outcome.SESSION_EXPIRED
    assert "site session ended (a captcha on creneau/)" in obs.evidence
    assert await site.deps.sessions.get("rdvpref-3762") is None  # type: ignore[union-attr]
    front.scripts.clear()
    await site.answer_as_a_human()
    assert (await site.check()).outcome is Outcome.SLOTS_AVAILABLE


@pytest.mark.parametrize(
    ("shown", "method", "path"),
    [
        pytest.param("creneau_slots.html", "GET", DEMARCHE + "creneau/", id="session-to-slots"),
        pytest.param("creneau_empty.html", "GET", DEMARCHE + "creneau/", id="session-to-no-slot"),
        pytest.param("creneau_slots.html", "POST", DEMARCHE + "_validerCaptcha", id="captcha-to-slots"),
    ],
)
async def test_check_is_inconclusive_when_sent_to_another_demarche_slot_page(
    fronted: tuple[Site, Front], shown: str, method: str, path: str
) -> None:
    site, front = fronted
    if method == "GET":  # a session is open, then the slot page sends elsewhere
        assert (await site.open_session()).outcome is Outcome.SLOTS_AVAILABLE
    else:  # the accepted captcha sends elsewhere
        assert (await site.check()).outcome is Outcome.HUMAN_CHECK_REQUIRED
        await site.answer_as_a_human()
    front.script(method, path, lambda _, __: redirect(OTHER))
    front.script("GET", OTHER, lambda _, __: page((FIXTURES / shown).read_bytes()))
    obs = await site.check()
    assert (obs.outcome, obs.slots) == (Outcome.LAYOUT_UNKNOWN, ())
    assert "/demarche/4321/creneau/, not the slot page of this démarche" in obs.evidence
