# SPDX-License-Identifier: AGPL-3.0-or-later
"""Record the RDV Préfecture fixtures from the simulator: `.venv/bin/python tests/sources/rdvpref/record_fixtures.py`.

Starts `SimServer` on a scripted world (fixed seed, manual clock), walks the site like a browser (the
captcha answered through the simulator's test hook, as the e2e tests do) and saves each page under
`fixtures/` named after its situation, with `fixtures/index.json` giving the official URL, HTTP status and
content type of each. When Debian's Chromium is installed (`/usr/bin/chromium`) it also saves the slot
picker as a browser renders it (`creneau_rendered_*.html`, from the `/__sim__/rdvpref/{id}/creneau/` hook),
desktop and phone widths. Re-running rewrites the files; the test expectations in `test_parse.py` follow
this script's world, so change both together.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

from creneau.sim.clock import ManualClock
from creneau.sim.model import Episode, EpisodeKind, Publication, RateRules, SimSlot, SimTarget, World
from creneau.sim.server import SimServer
from creneau.sources.http import Flow, Http, Page
from creneau.sources.rdvpref.cgu import read_captcha_html, read_widget
from creneau.types import PARIS, System

FIXTURES = Path(__file__).parent / "fixtures"
CHROMIUM = "/usr/bin/chromium"
HOST = "www.rdv-prefecture.interieur.gouv.fr"
T0 = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)  # Monday 4 May 2026, 08:00 in Paris

SLOTS = SimTarget("isere-sejour", System.RDVPREF, HOST, 3762, name="Remise de titre de séjour", city="Grenoble")
EMPTY = SimTarget("yvelines-sejour", System.RDVPREF, HOST, 4083, name="Titre de séjour", city="Versailles")
NOTICE = SimTarget("palaiseau-natu", System.RDVPREF, HOST, 2246, name="Naturalisation", city="Palaiseau")
LATER = SimTarget("boulogne-sejour", System.RDVPREF, HOST, 3720, name="Titre de séjour", city="Boulogne")
FAIL = SimTarget("cergy-sejour", System.RDVPREF, HOST, 9481, name="Titre de séjour", city="Cergy")
FAILURES = (
    EpisodeKind.FORBIDDEN,
    EpisodeKind.RATE_LIMITED,
    EpisodeKind.BAD_GATEWAY,
    EpisodeKind.OVERLOADED,
    EpisodeKind.MAINTENANCE,
    EpisodeKind.CHALLENGE,
    EpisodeKind.TRUNCATED,
    EpisodeKind.LAYOUT_CHANGED,
)
FAIL_AT = T0 + timedelta(days=7)  # episode i runs for 30 minutes from FAIL_AT + i hours
NEXT_PUB = datetime(2026, 5, 7, 8, 30, tzinfo=PARIS).astimezone(UTC)  # announced: Thursday 08:30
PUB_LAG = timedelta(seconds=45)


def at(day: date, hhmm: str) -> datetime:
    hours, minutes = map(int, hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hours, minutes, tzinfo=PARIS).astimezone(UTC)


def build_world() -> World:
    seen = T0 - timedelta(hours=1)
    times = ("09:00", "09:30", "10:00", "10:30", "11:00", "11:30", "14:00", "14:30")
    starts = [(SLOTS, at(date(2026, 5, 6), t), seen, None) for t in times]  # 8 on Wednesday: over 6 rows
    starts += [
        (SLOTS, at(date(2026, 5, 7), "09:15"), seen, None),
        (SLOTS, at(date(2026, 5, 8), "16:45"), seen, None),
        (LATER, at(date(2026, 5, 26), "10:00"), seen, None),
        (LATER, at(date(2026, 5, 26), "10:20"), seen, None),
        (NOTICE, at(date(2026, 5, 5), "15:40"), seen, None),  # a single released slot this week
        (EMPTY, at(date(2026, 5, 11), "09:00"), seen - timedelta(days=7), seen - timedelta(days=6)),
    ]
    visible = NEXT_PUB + PUB_LAG
    starts += [(NOTICE, at(date(2026, 5, 18), t), visible, None) for t in ("09:00", "09:20", "09:40")]
    slots = [
        SimSlot(90200 + i, target.id, start, since, taken, publication_id=2 if since == visible else None)
        for i, (target, start, since, taken) in enumerate(starts)
    ]
    publications = [
        Publication(1, EMPTY.id, at(date(2026, 4, 27), "11:58"), at(date(2026, 4, 27), "11:59"), date(2026, 5, 11)),
        Publication(3, NOTICE.id, at(date(2026, 4, 30), "08:30"), at(date(2026, 4, 30), "08:31"), date(2026, 5, 4)),
        Publication(2, NOTICE.id, NEXT_PUB, visible, date(2026, 5, 18), announced_at=T0 - timedelta(days=1), size=3),
    ]
    episodes = [
        Episode(kind, FAIL_AT + timedelta(hours=i), FAIL_AT + timedelta(hours=i, minutes=30), target_id=FAIL.id)
        for i, kind in enumerate(FAILURES)
    ]
    targets = {t.id: t for t in (SLOTS, EMPTY, NOTICE, LATER, FAIL)}
    return World(targets, slots, publications, episodes, rules=RateRules(rdvpref_challenge_per_min=0), seed=2026)


@dataclass
class Recorder:
    sim: SimServer
    http: Http
    clock: ManualClock
    index: dict[str, dict[str, object]]

    def save(self, name: str, page: Page, what: str) -> None:
        (FIXTURES / name).write_bytes(page.body)
        self.index[name] = {
            "url": page.url,
            "status": page.status,
            "content_type": page.headers.get("Content-Type", ""),
            "what": what,
        }
        print(f"{name}: HTTP {page.status} {len(page.body)} bytes  {page.url}")

    async def captcha(self, flow: Flow, cgu: Page) -> tuple[str, str, dict[str, str], str]:
        """(captcha id, post url, form, code from the test hook) for the captcha a cgu page shows."""
        widget = read_widget(cgu.text, cgu.url)
        assert widget is not None, cgu.url
        query = urlencode({"get": "html", "c": widget.style})
        html = await flow.get(f"{widget.endpoint_url}?{query}", headers={"Authorization": f"Bearer {widget.token}"})
        got = read_captcha_html(html.text, widget.style)
        assert got is not None
        captcha_id, hidden = got
        async with self.http.session.get(f"{self.sim.base_url}/__sim__/captcha/{captcha_id}") as resp:
            code = await resp.text()
        return captcha_id, widget.post_url, {**widget.form, **hidden}, code

    async def session(self, target: SimTarget) -> Flow:
        """A walk that has passed the captcha for `target`."""
        flow = self.http.flow()
        cgu = await flow.get(target.url + "cgu/")
        captcha_id, post_url, form, code = await self.captcha(flow, cgu)
        page = await flow.post(post_url, {**form, "captchaId": captcha_id, "captchaUsercode": code})
        assert page.path.endswith("/creneau/"), page.url
        return flow

    async def rendered(self, name: str, target: SimTarget, what: str, query: str = "", width: int = 1280) -> None:
        """The slot picker as Chromium renders it, saved like a browser's "Save page as"."""
        url = f"{self.sim.base_url}/__sim__/rdvpref/{target.demarche_id}/creneau/{query}"
        with tempfile.TemporaryDirectory() as profile:
            proc = await asyncio.create_subprocess_exec(
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}",
                f"--window-size={width},900",
                "--dump-dom",
                url,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL,
            )
            dom, _ = await proc.communicate()
        official = target.url + "creneau/" + query
        saved = f"<!-- saved from url=({len(official):04d}){official} -->\n".encode() + dom
        (FIXTURES / name).write_bytes(saved)
        self.index[name] = {"url": official, "status": 200, "content_type": "text/html; charset=utf-8", "what": what}
        print(f"{name}: rendered by Chromium, {len(saved)} bytes")


async def record() -> None:
    clock = ManualClock(T0)
    FIXTURES.mkdir(exist_ok=True)
    async with (
        SimServer(build_world(), clock, test_hooks=True) as sim,
        Http(user_agent="creneau-fixtures", route_overrides=sim.route_overrides) as http,
    ):
        rec = Recorder(sim, http, clock, {})
        flow = http.flow()
        rec.save("landing.html", await flow.get(SLOTS.url), "landing page of a démarche")
        cgu = await flow.get(SLOTS.url + "cgu/")
        rec.save("cgu_captcha.html", cgu, "terms page with the captcha (rdv-captchetat)")
        widget = read_widget(cgu.text, cgu.url)
        assert widget is not None
        query = urlencode({"get": "html", "c": widget.style})
        auth = {"Authorization": f"Bearer {widget.token}"}
        rec.save("captcha_widget.html", await flow.get(f"{widget.endpoint_url}?{query}", headers=auth), "captcha HTML")
        captcha_id, post_url, form, _ = await rec.captcha(flow, cgu)
        wrong = await flow.post(post_url, {**form, "captchaId": captcha_id, "captchaUsercode": "WRONG1"})
        rec.save("cgu_invalid_captcha.html", wrong, "back on the terms page after a wrong code")

        session = await rec.session(SLOTS)
        rec.save("creneau_slots.html", await session.get(SLOTS.url + "creneau/"), "10 slots this week (embedded)")
        clock.advance(1600)  # past the session lifetime
        rec.save("cgu_session_expired.html", await session.get(SLOTS.url + "creneau/"), "expired session bounced")
        clock.set(T0)

        for target, name, what, query in (
            (EMPTY, "creneau_empty.html", "nothing free; last publication notice", ""),
            (NOTICE, "creneau_last_week_notice.html", "one slot, last week, next publication announced", ""),
            (LATER, "creneau_later_week.html", "empty week, slots in a later week", "?premierJour=04/05/2026"),
        ):
            walk = await rec.session(target)
            rec.save(name, await walk.get(target.url + "creneau/" + query), what)
        clock.set(NEXT_PUB + PUB_LAG + timedelta(seconds=5))
        walk = await rec.session(NOTICE)
        rec.save("creneau_after_publication.html", await walk.get(NOTICE.url + "creneau/"), "after the publication")

        for i, kind in enumerate(FAILURES):
            clock.set(FAIL_AT + timedelta(hours=i, minutes=-2))
            walk = await rec.session(FAIL)
            clock.set(FAIL_AT + timedelta(hours=i, minutes=1))
            page = await walk.get(FAIL.url + "creneau/")
            rec.save(f"failure_{kind.value}.html", page, f"{kind.value} episode on /creneau/")

        if shutil.which(CHROMIUM):
            clock.set(T0)
            await rec.rendered("creneau_rendered_slots.html", SLOTS, "slots, desktop (first 6 rows per day)")
            await rec.rendered("creneau_rendered_slots_phone.html", SLOTS, "slots, phone width", width=400)
            await rec.rendered("creneau_rendered_empty.html", EMPTY, "nothing free, calendar hidden")
            await rec.rendered("creneau_rendered_last_week_notice.html", NOTICE, "last week with notices")
            await rec.rendered("creneau_rendered_later_week.html", LATER, "empty week", query="?premierJour=04/05/2026")
        else:
            print(f"{CHROMIUM} not found: rendered fixtures not refreshed", file=sys.stderr)
        index = dict(sorted({**_old_index(), **rec.index}.items()))
        (FIXTURES / "index.json").write_text(json.dumps(index, ensure_ascii=False, indent=1) + "\n")


def _old_index() -> dict[str, dict[str, object]]:
    path = FIXTURES / "index.json"
    return dict(json.loads(path.read_text())) if path.exists() else {}


if __name__ == "__main__":
    asyncio.run(record())
