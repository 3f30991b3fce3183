# SPDX-License-Identifier: AGPL-3.0-or-later
"""Evidence pages: evidence mode and the dossier download on a watch's page, the letter editor, the
applicant's details, the private calendar feed.

Access: every `/watches/{id}/evidence…` route belongs to the watch's owner. Another person gets 404 (we
do not confirm the watch exists). An admin may read (dossier, pack) only with `request=<reference of the
documented request>`, which is logged; without it, 403. Nobody but the owner changes anything. The calendar
feed needs no session: its unguessable token (256 bits, stored hashed) is the key.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Query, Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.responses import RedirectResponse, Response

from creneau.evidence import letters
from creneau.evidence.crypto import load_keyring
from creneau.evidence.dossier_data import NoEvidence
from creneau.evidence.letters import LetterKind, MissingFacts
from creneau.evidence.reminders import ics_feed
from creneau.evidence.service import Evidence
from creneau.store import SessionUser, WatchRecord
from creneau.store.errors import NotFound
from creneau.types import PARIS
from creneau.web import account_data, i18n
from creneau.web.deps import SignedIn, web
from creneau.web.evidence_texts import texts
from creneau.web.templating import render

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

Ref = Annotated[str, Query(alias="request", max_length=200)]
DayParam = Annotated[str, Query(max_length=10)]


async def evidence_of(request: Request) -> Evidence:
    """The app's `Evidence`, built once (loading the key may create its file: done in a thread)."""
    state = request.app.state
    if not hasattr(state, "evidence"):
        # Two first requests at once may both build it: harmless, they load the same key.
        w = web(request)
        keyring = await asyncio.to_thread(load_keyring, w.settings)
        state.evidence = Evidence(w.store, keyring, w.settings, w.catalog)
    found: Evidence = state.evidence
    return found


async def _watch(
    request: Request, user: SessionUser, watch_id: int, *, read: bool = False, ref: str = ""
) -> WatchRecord:
    """The watch if `user` may use it (see the module docstring); raises 404 or 403."""
    try:
        watch = await web(request).store.subscribers.get_watch(watch_id)
    except NotFound:
        raise HTTPException(status_code=404) from None
    if watch.subscriber_id == user.subscriber_id:
        return watch
    if read and user.is_admin:
        if not ref.strip():
            raise HTTPException(status_code=403, detail="an admin needs the reference of a documented request")
        log.warning("admin %s read the evidence of watch %s (request: %s)", user.subscriber_id, watch_id, ref.strip())
        return watch
    raise HTTPException(status_code=404)


def _day(text: str, default: date) -> date:
    if not text:
        return default
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise HTTPException(status_code=422, detail="dates are YYYY-MM-DD") from None


async def _period(request: Request, watch_id: int, first: str, last: str) -> tuple[date, date]:
    today = web(request).now().astimezone(PARIS).date()
    info = await (await evidence_of(request)).repo.chain_info(watch_id)
    start = info.created_at.astimezone(PARIS).date() if info else today - timedelta(days=90)
    period = _day(first, start), _day(last, today)
    if period[1] < period[0]:
        raise HTTPException(status_code=422, detail="the period ends before it starts")
    return period


def _file(data: bytes, name: str, media: str) -> Response:
    return Response(
        data,
        media_type=media,
        headers={"content-disposition": f'attachment; filename="{name}"', "cache-control": "private, no-store"},
    )


@router.get("/watches/{watch_id}/evidence")
async def evidence_page(request: Request, user: SignedIn, watch_id: int) -> Response:
    await _watch(request, user, watch_id)
    ev = await evidence_of(request)
    first, last = await _period(request, watch_id, "", "")
    context = {
        "t": texts(i18n.get_locale()),
        "watch_id": watch_id,
        "info": await ev.repo.chain_info(watch_id),
        "first": first.isoformat(),
        "last": last.isoformat(),
        "kinds": [(kind.value, letters.TITLES[kind][0 if i18n.get_locale() == "fr" else 1]) for kind in LetterKind],
    }
    return render(request, "evidence/watch.html", context)


@router.post("/watches/{watch_id}/evidence")
async def evidence_switch(
    request: Request, user: SignedIn, watch_id: int, action: Annotated[str, Form(max_length=10)] = ""
) -> Response:
    await _watch(request, user, watch_id)
    ev = await evidence_of(request)
    if action == "on":
        await ev.repo.enable(watch_id, now=web(request).now())
    elif action == "off":
        await ev.repo.disable(watch_id, now=web(request).now())
    else:
        raise HTTPException(status_code=422)
    return RedirectResponse(f"/watches/{watch_id}/evidence", status_code=303)


@router.get("/watches/{watch_id}/evidence/dossier")
async def dossier_download(
    request: Request,
    user: SignedIn,
    watch_id: int,
    ref: Ref = "",
    lang: str = "fr",
    first: DayParam = "",
    last: DayParam = "",
) -> Response:
    await _watch(request, user, watch_id, read=True, ref=ref)
    period = await _period(request, watch_id, first, last)
    try:
        made = await (await evidence_of(request)).export(
            watch_id, *period, lang="en" if lang == "en" else "fr", now=web(request).now()
        )
    except NoEvidence:
        raise HTTPException(status_code=404) from None
    return _file(made.pdf, f"creneau-dossier-{watch_id}-{period[0]}-{period[1]}.pdf", "application/pdf")


@router.get("/watches/{watch_id}/evidence/pack")
async def pack_download(
    request: Request, user: SignedIn, watch_id: int, ref: Ref = "", first: DayParam = "", last: DayParam = ""
) -> Response:
    await _watch(request, user, watch_id, read=True, ref=ref)
    period = await _period(request, watch_id, first, last)
    try:
        data = await (await evidence_of(request)).pack(watch_id, *period, now=web(request).now())
    except (NoEvidence, MissingFacts, ValueError) as exc:
        raise HTTPException(status_code=409 if not isinstance(exc, NoEvidence) else 404, detail=str(exc)) from None
    return _file(data, f"creneau-avocat-{watch_id}.zip", "application/zip")


def _kind(kind: str) -> LetterKind:
    try:
        return LetterKind(kind)
    except ValueError:
        raise HTTPException(status_code=404) from None


async def _letter_page(
    request: Request, watch_id: int, kind: LetterKind, *, text: str | None = None, error: str = "", status: int = 200
) -> Response:
    ev = await evidence_of(request)
    t = texts(i18n.get_locale())
    period = await _period(request, watch_id, "", "")
    note, missing = "", ""
    try:
        draft, note = await ev.letter(watch_id, kind, *period, now=web(request).now())
    except MissingFacts as exc:
        draft, missing = "", t["missing"].format(fields=", ".join(t.get(f, f) for f in exc.fields))
    except NoEvidence:
        raise HTTPException(status_code=404) from None
    context = {
        "t": t,
        "watch_id": watch_id,
        "kind": kind.value,
        "title": letters.TITLES[kind][0],
        "text": draft if text is None else text,
        "note": note,
        "missing": missing,
        "error": error,
    }
    return render(request, "evidence/letter.html", context, status_code=status)


@router.get("/watches/{watch_id}/evidence/letters/{kind}")
async def letter_editor(request: Request, user: SignedIn, watch_id: int, kind: str) -> Response:
    await _watch(request, user, watch_id)
    return await _letter_page(request, watch_id, _kind(kind))


@router.post("/watches/{watch_id}/evidence/letters/{kind}")
async def letter_save(
    request: Request, user: SignedIn, watch_id: int, kind: str, text: Annotated[str, Form(max_length=50_000)] = ""
) -> Response:
    await _watch(request, user, watch_id)
    letter = _kind(kind)
    found = letters.placeholders(text)
    if found or not text.strip():
        error = texts(i18n.get_locale())["blanks"].format(found=", ".join(found) or "—")
        return await _letter_page(request, watch_id, letter, text=text, error=error, status=422)
    ev = await evidence_of(request)
    await ev.profiles.save_letter(
        user.subscriber_id, watch_id, letter.value, text.replace("\r\n", "\n"), now=web(request).now()
    )
    return RedirectResponse(f"/watches/{watch_id}/evidence/letters/{letter.value}", status_code=303)


@router.get("/watches/{watch_id}/evidence/letters/{kind}/export")
async def letter_export(request: Request, user: SignedIn, watch_id: int, kind: str, format: str = "pdf") -> Response:
    await _watch(request, user, watch_id)
    letter = _kind(kind)
    period = await _period(request, watch_id, "", "")
    try:
        text, _ = await (await evidence_of(request)).letter(watch_id, letter, *period, now=web(request).now())
        if format == "txt":
            return _file(letters.ready(text).encode(), f"{letter.value}.txt", "text/plain; charset=utf-8")
        pdf = await asyncio.to_thread(letters.letter_pdf, text, title=letters.TITLES[letter][0])
    except NoEvidence:
        raise HTTPException(status_code=404) from None
    except ValueError as exc:  # MissingFacts too
        raise HTTPException(status_code=409, detail=str(exc)) from None
    return _file(pdf, f"{letter.value}.pdf", "application/pdf")


@router.get("/account/evidence")
async def profile_page(request: Request, user: SignedIn, calendar: str = "", saved: str = "") -> Response:
    ev = await evidence_of(request)
    watches = await web(request).store.subscribers.list_watches(subscriber_id=user.subscriber_id)
    context = {
        "t": texts(i18n.get_locale()),
        "profile": await ev.profiles.get(user.subscriber_id),
        "watches": watches,
        "calendar_url": calendar,
        "saved": bool(saved),
    }
    return render(request, "evidence/profile.html", context)


@router.post("/account/evidence")
async def profile_save(
    request: Request,
    user: SignedIn,
    full_name: Annotated[str, Form(max_length=300)] = "",
    postal_address: Annotated[str, Form(max_length=1000)] = "",
    numero_etranger: Annotated[str, Form(max_length=40)] = "",
    birth_date: Annotated[str, Form(max_length=10)] = "",
    nationality: Annotated[str, Form(max_length=100)] = "",
    permit_expiry: Annotated[str, Form(max_length=10)] = "",
    action: Annotated[str, Form(max_length=10)] = "save",
) -> Response:
    ev = await evidence_of(request)
    now = web(request).now()
    if action == "calendar":
        token = await ev.profiles.new_ics_token(user.subscriber_id, now=now)
        url = f"{web(request).base_url()}/calendar/{token}.ics"
        return await profile_page(request, user, calendar=url)
    await ev.profiles.update(
        user.subscriber_id,
        now=now,
        full_name=full_name.strip(),
        postal_address=postal_address.replace("\r\n", "\n").strip(),
        numero_etranger=numero_etranger.strip(),
        birth_date=_day(birth_date, date.min) if birth_date else None,
        nationality=nationality.strip(),
        permit_expiry=_day(permit_expiry, date.min) if permit_expiry else None,
    )
    return RedirectResponse("/account/evidence?saved=1", status_code=303)


@router.get("/calendar/{token}.ics")
async def calendar_feed(request: Request, token: str) -> Response:
    ev = await evidence_of(request)
    subscriber_id = await ev.profiles.subscriber_for_ics(token)
    if subscriber_id is None:
        raise HTTPException(status_code=404)
    profile = await ev.profiles.get(subscriber_id)
    person = await web(request).store.subscribers.get_subscriber(subscriber_id)
    body = ics_feed(subscriber_id, profile.permit_expiry, person.locale, now=web(request).now())
    return Response(body, media_type="text/calendar; charset=utf-8", headers={"cache-control": "private, no-store"})


# --- "Download my data": the evidence section ---------------------------------------------------------


async def _export_section(conn: AsyncConnection, subscriber_id: int) -> Any:
    """The person's evidence: chains (not their entries: the dossier is their readable export), profile
    (the numéro étranger stays encrypted here; the evidence page shows it), reminders and letter dates."""
    from creneau.store.evidence import chains, profiles, reminders
    from creneau.store.evidence import letters as letter_rows

    def rows(result: Any) -> list[dict[str, Any]]:
        return [dict(row) for row in result.mappings()]

    c, p, r, lt = chains.c, profiles.c, reminders.c, letter_rows.c
    return {
        "chains": rows(
            await conn.execute(
                select(c.watch_id, c.chain_id, c.enabled, c.auto, c.head_seq, c.head_hash, c.created_at)
                .where(c.subscriber_id == subscriber_id)
                .order_by(c.watch_id)
            )
        ),
        "profile": rows(
            await conn.execute(
                select(
                    p.full_name,
                    p.postal_address,
                    p.birth_date,
                    p.nationality,
                    p.numero_etranger,
                    p.permit_expiry,
                    p.updated_at,
                ).where(p.subscriber_id == subscriber_id)
            )
        ),
        "reminders": rows(
            await conn.execute(
                select(r.kind, r.due_at, r.status, r.sent_at).where(r.subscriber_id == subscriber_id).order_by(r.id)
            )
        ),
        "letters": rows(
            await conn.execute(
                select(lt.watch_id, lt.kind, lt.updated_at).where(lt.subscriber_id == subscriber_id).order_by(lt.id)
            )
        ),
    }


if "evidence" not in account_data.SECTIONS:
    account_data.register_section("evidence", _export_section)
