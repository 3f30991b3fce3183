# SPDX-License-Identifier: AGPL-3.0-or-later
"""One check of an RDV Préfecture démarche, walked like a browser, with a person for the captcha.

1. A kept site session → `GET /creneau/`. Sent back to `/cgu/` (or to the landing page), or shown a
   captcha → the session is over (`session_expired`): drop it and file a new captcha.
2. No session, an answered captcha on the desk → `POST _validerCaptcha` with that walk's cookies. To
   `/creneau/` → accepted: keep the session and read the slots. Back to `/cgu/?error=invalidCaptcha` →
   rejected: file the new captcha that page shows.
3. No session, a captcha still waiting for a person → `human_check_required` without any request.
4. Otherwise `GET /cgu/`, fetch the captcha (`rdv-captchetat` → widget HTML → PNG) and file it.

Slots and "no slots" are believed only from this démarche's own `/creneau/` page: a redirect anywhere
else makes the check inconclusive. creneau never solves, reads or guesses a captcha: the image only goes
to a person through the desk.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from urllib.parse import urlencode, urlsplit

from creneau.sources.base import SourceDeps, network_error, observe
from creneau.sources.captcha import (
    CaptchaChallenge,
    ChallengeStatus,
    cookies_from_jar,
    jar_from_cookies,
    new_challenge_id,
)
from creneau.sources.common import screen
from creneau.sources.errors import ErrorKind, SourceError
from creneau.sources.http import Flow, Page
from creneau.sources.rdvpref.cgu import PNG_MAGIC, demarche_base, read_captcha_html, read_widget
from creneau.sources.rdvpref.parse import parse
from creneau.sources.rdvpref.session import SiteSession, touched
from creneau.types import PARIS, NoticeKind, Observation, Outcome, ParseResult, Target

# Week navigation: the page's "Prochaine disponibilité le …" button shows the week of that date. The real
# portal's navigation request is not documented; this query shape is the simulator's (docs/simulator.md).
WEEK_QUERY = "premierJour"


@dataclass(frozen=True, slots=True)
class _Walk:
    """One check in progress: its target, dependencies, start and `now` (from the injected clock)."""

    target: Target
    deps: SourceDeps
    base: str
    now: datetime
    started: float
    captcha_ttl: timedelta

    def done(self, result: ParseResult, page: Page | None) -> Observation:
        return observe(self.target, result, checked_at_clock=self.deps.clock, started=self.started, page=page)

    def parse(self, page: Page) -> ParseResult:
        """The page's verdict; slots or "no slots" count only on this démarche's own slot page, wherever a
        redirect may have led."""
        result = parse(
            page.body,
            url=page.url,
            status=page.status,
            content_type=page.headers.get("Content-Type", ""),
            truncated=page.truncated,
            today=self.now.astimezone(PARIS).date(),
        )
        if result.outcome.is_conclusive and not self.on(page, "creneau"):
            evidence = f"{result.evidence}, but on {page.url}, not the slot page of this démarche"
            return ParseResult(Outcome.LAYOUT_UNKNOWN, evidence, notices=result.notices, page=result.page)
        return result

    def on(self, page: Page, name: str) -> bool:
        """True when `page` ended on this démarche's page `name` ("" is its landing page), on its host."""
        want, got = urlsplit(self.base + (f"{name}/" if name else "")), urlsplit(page.url)
        return (got.scheme, got.netloc, got.path) == (want.scheme, want.netloc, want.path)


def _where(page: Page) -> str:
    parts = urlsplit(page.url)
    return parts.path.rsplit("/", 2)[-2] + "/" + (f"?{parts.query}" if parts.query else "")


async def check(target: Target, deps: SourceDeps, *, captcha_ttl_s: float = 300.0) -> Observation:
    """Check one target. Network failures become a `network_error` observation; nothing else raises.

    Raises SourceError(BAD_INPUT) when the target's URL is not an RDV Préfecture démarche page.
    """
    base = demarche_base(target.url)
    if base is None:
        raise SourceError(ErrorKind.BAD_INPUT, f"not an RDV Préfecture démarche URL: {target.url}")
    walk = _Walk(target, deps, base, deps.clock.now(), time.perf_counter(), timedelta(seconds=captcha_ttl_s))
    try:
        return await _check(walk)
    except SourceError as exc:
        if exc.kind is not ErrorKind.NETWORK:
            raise
        return network_error(target, exc, clock=deps.clock, started=walk.started)


async def _check(walk: _Walk) -> Observation:
    deps, target = walk.deps, walk.target
    vault, desk = deps.sessions, deps.captcha_desk
    if vault is not None and (session := await vault.get(target.id)) is not None:
        return await _with_session(walk, session)
    if desk is None:
        page = await deps.http.flow().get(walk.base + "cgu/")
        result = walk.parse(page)
        return walk.done(replace(result, evidence=result.evidence + "; no captcha desk to file it"), page)
    answered = await desk.take_answer(target.id, walk.now)
    if answered is not None:
        return await _submit(walk, answered)
    waiting = await desk.pending(walk.now, target.id)
    if waiting:
        first = waiting[-1]
        evidence = (
            f"captcha {first.id} waits for a person (filed {first.created_at:%H:%M:%S %Z}, "
            f"expires {first.expires_at:%H:%M:%S %Z}); no request sent"
        )
        return walk.done(ParseResult(Outcome.HUMAN_CHECK_REQUIRED, evidence, page="cgu"), None)
    flow = deps.http.flow()
    page = await flow.get(walk.base + "cgu/")
    return walk.done(*await _file_challenge(walk, flow, page))


async def _with_session(walk: _Walk, session: SiteSession) -> Observation:
    """Replay the kept session. Sent to the terms or landing page, or shown a captcha, the session is
    over: it is dropped and a new captcha is filed from this démarche's own captcha page."""
    vault = walk.deps.sessions
    assert vault is not None
    flow = walk.deps.http.flow(jar_from_cookies(session.cookies))
    page = await flow.get(walk.base + "creneau/")
    if not (walk.on(page, "cgu") or walk.on(page, "")):
        result, page = await _read_slot_page(walk, flow, page)
        if result.outcome not in (Outcome.HUMAN_CHECK_REQUIRED, Outcome.SESSION_EXPIRED):
            if walk.on(page, "creneau") and page.status == 200:
                await vault.put(touched(session, cookies_from_jar(flow.cookies), walk.now))
            return walk.done(result, page)
    await vault.drop(walk.target.id)
    ended = f"site session ended ({'a captcha on' if walk.on(page, 'creneau') else 'sent to'} {_where(page)})"
    if not (walk.on(page, "cgu") or walk.on(page, "creneau")):  # no captcha of this démarche here
        page = await flow.get(walk.base + "cgu/")
    result, page = await _file_challenge(walk, flow, page)
    if result.outcome is Outcome.HUMAN_CHECK_REQUIRED:
        return walk.done(ParseResult(Outcome.SESSION_EXPIRED, f"{ended}; {result.evidence}", page="cgu"), page)
    return walk.done(replace(result, evidence=f"{ended}; {result.evidence}"), page)


async def _read_slot_page(walk: _Walk, flow: Flow, page: Page) -> tuple[ParseResult, Page]:
    """Parse a slot page; when it shows an empty week but announces a first availability later, open that
    week once (one more request), so slots in a later week are not missed.

    Without that second look the page stays `layout_unknown`: never "available" (no slot seen), never
    "no slots" (the site says there are some).
    """
    result = walk.parse(page)
    later = next((n for n in result.notices if n.kind is NoticeKind.NEXT_AVAILABILITY), None)
    if result.outcome is not Outcome.LAYOUT_UNKNOWN or later is None or not walk.on(page, "creneau"):
        return result, page
    monday = later.week_of or later.instant.astimezone(PARIS).date()
    week = await flow.get(walk.base + "creneau/?" + urlencode({WEEK_QUERY: f"{monday:%d/%m/%Y}"}))
    week_result = walk.parse(week)
    if week_result.outcome is Outcome.SLOTS_AVAILABLE:
        evidence = f"week of {monday:%d/%m/%Y} opened from 'Prochaine disponibilité': {week_result.evidence}"
        return replace(week_result, evidence=evidence, notices=result.notices + week_result.notices), week
    return replace(result, evidence=f"{result.evidence}; the week of {monday:%d/%m/%Y} showed no readable slot"), week


async def _submit(walk: _Walk, challenge: CaptchaChallenge) -> Observation:
    desk = walk.deps.captcha_desk
    assert desk is not None
    flow = walk.deps.http.flow(jar_from_cookies(challenge.cookies))
    form = {**challenge.form, "captchaId": challenge.captcha_id, "captchaUsercode": challenge.answer}
    try:
        page = await flow.post(challenge.post_url or walk.base + "_validerCaptcha", form)
    except SourceError:
        await desk.resolve(challenge.id, ChallengeStatus.UNCONFIRMED, walk.now)
        raise
    if walk.on(page, "creneau"):
        await desk.resolve(challenge.id, ChallengeStatus.ACCEPTED, walk.now)
        if walk.deps.sessions is not None:
            cookies = cookies_from_jar(flow.cookies)
            await walk.deps.sessions.put(SiteSession(walk.target.id, cookies, walk.now, walk.now))
        result, page = await _read_slot_page(walk, flow, page)
        return walk.done(replace(result, evidence=f"captcha {challenge.id} accepted; {result.evidence}"), page)
    if walk.on(page, "cgu"):
        await desk.resolve(challenge.id, ChallengeStatus.REJECTED, walk.now)
        result, page = await _file_challenge(walk, flow, page)
        rejected = f"captcha {challenge.id} rejected (sent to {_where(page)})"
        return walk.done(replace(result, evidence=f"{rejected}; {result.evidence}"), page)
    await desk.resolve(challenge.id, ChallengeStatus.UNCONFIRMED, walk.now)
    result = walk.parse(page)
    return walk.done(replace(result, evidence=f"captcha {challenge.id} submitted, no verdict; {result.evidence}"), page)


async def _file_challenge(walk: _Walk, flow: Flow, page: Page) -> tuple[ParseResult, Page]:
    """From a captcha page, fetch the captcha and file it; or say why the page allows no such thing."""
    result = walk.parse(page)
    desk = walk.deps.captcha_desk
    if result.outcome not in (Outcome.HUMAN_CHECK_REQUIRED, Outcome.SESSION_EXPIRED) or desk is None:
        return result, page
    widget = read_widget(page.text, page.url)
    if widget is None:
        return ParseResult(Outcome.LAYOUT_UNKNOWN, "captcha page without a readable rdv-captchetat", page="cgu"), page
    auth = {"Authorization": f"Bearer {widget.token}"}
    sep = "&" if "?" in widget.endpoint_url else "?"
    html = await flow.get(widget.endpoint_url + sep + urlencode({"get": "html", "c": widget.style}), headers=auth)
    _, failure = screen(html.status, html.body, html.headers.get("Content-Type", ""), truncated=html.truncated)
    got = read_captcha_html(html.text, widget.style) if failure is None else None
    if got is None:
        why = failure.evidence if failure is not None else f"no BDC_VCID_{widget.style} in its HTML"
        outcome = failure.outcome if failure is not None else Outcome.LAYOUT_UNKNOWN
        return ParseResult(outcome, f"captcha service: {why}", page="cgu"), html
    captcha_id, hidden = got
    query = urlencode({"get": "image", "c": widget.style, "t": captcha_id})
    image = await flow.get(widget.endpoint_url + sep + query, headers=auth)
    if image.status != 200 or not image.body.startswith(PNG_MAGIC):
        _, failure = screen(image.status, image.body, image.headers.get("Content-Type", ""))
        why = failure.evidence if failure is not None else "the captcha image is not a PNG"
        outcome = failure.outcome if failure is not None else Outcome.LAYOUT_UNKNOWN
        return ParseResult(outcome, f"captcha service: {why}", page="cgu"), page
    challenge = CaptchaChallenge(
        id=new_challenge_id(),
        target_id=walk.target.id,
        url=walk.target.url,
        captcha_id=captcha_id,
        style=widget.style,
        image=image.body,
        created_at=walk.now,
        expires_at=walk.now + walk.captcha_ttl,
        cookies=cookies_from_jar(flow.cookies),
        post_url=widget.post_url,
        form={**widget.form, **hidden},
    )
    await desk.file(challenge)
    evidence = f"{result.evidence}; captcha {challenge.id} filed for a person (creneau captcha solve {challenge.id})"
    return ParseResult(Outcome.HUMAN_CHECK_REQUIRED, evidence, page="cgu"), page
