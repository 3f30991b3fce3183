# SPDX-License-Identifier: AGPL-3.0-or-later
"""The captcha desk on the web: watchers who volunteer see the security image of a page they watch and
type what it says. creneau never solves a captcha itself.

- Only a signed-in person who opted in (`/desk`) and actively watches the challenge's target sees its image
  (`/desk/{id}/image`, `Cache-Control: private, no-store`) and may answer it; anyone else gets 403 (not
  opted in) or 404 (not watching: we do not confirm the challenge exists).
- The first valid answer wins: the desk takes it (`CaptchaDesk.answer`), and the target is rescheduled to
  be checked now (`targets.reschedule`, which wakes the monitors); the check submits the answer in the walk
  the captcha belongs to. Later answers are thanked and change nothing.
- The page shows how many answers kept each page watched over the last 30 days; never who.
- At most `ANSWERS_PER_WINDOW` answers per person per `WINDOW` (429 beyond).

The desk is the pipeline's (`CRENEAU_CAPTCHA_DESK`: files in DATA_DIR/captcha on one machine, or the
store); tests may put another on `app.state.captcha_desk`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from starlette.responses import RedirectResponse, Response

from creneau.bot.desk import open_desk
from creneau.sources.captcha import CaptchaChallenge, CaptchaDesk, CaptchaDeskError, ChallengeStatus
from creneau.store import SessionUser, WatchStatus
from creneau.web.deps import SignedIn, web
from creneau.web.i18n import _
from creneau.web.templating import render
from creneau.web.watches import describe, watchers

router = APIRouter(include_in_schema=False)

WINDOW = timedelta(minutes=10)
ANSWERS_PER_WINDOW = 10
COUNT_OVER = timedelta(days=30)
MAX_ANSWER = 40
NO_STORE = {"cache-control": "private, no-store, max-age=0", "pragma": "no-cache"}


def desk_of(request: Request) -> CaptchaDesk:
    """The pipeline's desk (`CRENEAU_CAPTCHA_DESK`), built once per app."""
    state = request.app.state
    if not hasattr(state, "captcha_desk"):
        w = web(request)
        state.captcha_desk = open_desk(w.settings, w.store)
    desk: CaptchaDesk = state.captcha_desk
    return desk


async def watched_targets(request: Request, user: SessionUser) -> set[str]:
    watches = await web(request).store.subscribers.list_watches(subscriber_id=user.subscriber_id)
    return {tid for watch in watches if watch.status is WatchStatus.ACTIVE for tid in watch.target_ids}


async def _challenge(request: Request, user: SessionUser, challenge_id: str) -> CaptchaChallenge:
    """The challenge if this person may see and answer it (see the module docstring); 403 or 404."""
    if not (await watchers(request).prefs(user.subscriber_id)).desk_optin:
        raise HTTPException(status_code=403)
    try:
        challenge = await desk_of(request).get(challenge_id[:64])
    except CaptchaDeskError:
        challenge = None
    if challenge is None or challenge.target_id not in await watched_targets(request, user):
        raise HTTPException(status_code=404)
    return challenge


async def _counts(request: Request, target_ids: list[str]) -> dict[str, int]:
    since = web(request).now() - COUNT_OVER
    count = getattr(desk_of(request), "answer_count", None)
    if count is not None:  # the store desk counts answers from every desk (web and Telegram)
        return {tid: int(await count(tid, since=since)) for tid in target_ids}
    return await watchers(request).kept_alive(target_ids, since)


async def _context(request: Request, user: SessionUser, **values: Any) -> dict[str, Any]:
    w = web(request)
    prefs = await watchers(request).prefs(user.subscriber_id)
    mine = await watched_targets(request, user)
    challenges = []
    if prefs.desk_optin and mine:
        challenges = [c for c in await desk_of(request).pending(w.now()) if c.target_id in mine]
    counts = await _counts(request, sorted(mine))
    return {
        "optin": prefs.desk_optin,
        "challenges": [{"c": c, "target": describe(w, c.target_id)} for c in challenges],
        "counts": [(describe(w, tid), n) for tid, n in sorted(counts.items()) if n],
        "answered": request.query_params.get("answered", ""),
        "errors": {},
        **values,
    }


@router.get("/desk")
async def desk_page(request: Request, user: SignedIn) -> Response:
    return render(request, "desk/desk.html", await _context(request, user), headers=NO_STORE)


@router.post("/desk/optin")
async def set_optin(request: Request, user: SignedIn, optin: Annotated[str, Form(max_length=5)] = "") -> Response:
    await watchers(request).set_desk_optin(user.subscriber_id, optin == "1", now=web(request).now())
    return RedirectResponse("/desk", status_code=303)


def _media_type(image: bytes) -> str:
    if image.startswith(b"\x89PNG"):
        return "image/png"
    if image.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if image.startswith(b"GIF8"):
        return "image/gif"
    return "application/octet-stream"


@router.get("/desk/{challenge_id}/image")
async def challenge_image(request: Request, user: SignedIn, challenge_id: str) -> Response:
    challenge = await _challenge(request, user, challenge_id)
    if challenge.status is not ChallengeStatus.PENDING or not challenge.image:
        raise HTTPException(status_code=404)
    return Response(challenge.image, media_type=_media_type(challenge.image), headers=NO_STORE)


@router.post("/desk/{challenge_id}/answer")
async def answer(
    request: Request, user: SignedIn, challenge_id: str, code: Annotated[str, Form(max_length=MAX_ANSWER)] = ""
) -> Response:
    """Hand a person's answer to the desk; the first valid one resumes the target's checks for everyone."""
    w = web(request)
    challenge = await _challenge(request, user, challenge_id)
    repo = watchers(request)
    now = w.now()
    errors: dict[str, str] = {}
    if await repo.answers_since(user.subscriber_id, now - WINDOW) >= ANSWERS_PER_WINDOW:
        errors[f"code-{challenge.id}"] = _("You answered many images in a short time. Please wait a few minutes.")
        return render(request, "desk/desk.html", await _context(request, user, errors=errors), status_code=429)
    if not code.strip():
        errors[f"code-{challenge.id}"] = _("Type the characters you see in the image.")
        return render(request, "desk/desk.html", await _context(request, user, errors=errors), status_code=422)
    try:
        await desk_of(request).answer(challenge.id, code, now)
    except CaptchaDeskError:
        await repo.record_answer(user.subscriber_id, challenge.id, challenge.target_id, first=False, now=now)
        return RedirectResponse("/desk?answered=late", status_code=303)
    await repo.record_answer(user.subscriber_id, challenge.id, challenge.target_id, first=True, now=now)
    await w.store.targets.reschedule(challenge.target_id, now, only_earlier=True)
    return RedirectResponse("/desk?answered=ok", status_code=303)
