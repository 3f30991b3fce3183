# SPDX-License-Identifier: AGPL-3.0-or-later
"""Watches: create one from the find-my-office wizard, list them, pause, resume, delete; quiet hours.

A watch is one person's interest in one booking page (target), optionally narrowed to slots before a day
and to one counter (guichet). Every route acts only on the signed-in person's own watches: another
person's watch id answers 404, as an unknown one does (we do not confirm it exists).

Quiet hours (Paris time) are kept per person; the sender holds notices during them, and alerts too when
the person asks so (`notify/quiet.py`).
"""

from __future__ import annotations

import re
from datetime import date, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Query, Request
from starlette.responses import RedirectResponse, Response

from creneau.detector import WatchFilter
from creneau.store import SessionUser, WatchRecord, WatchStatus
from creneau.store.errors import NotFound
from creneau.store.watchers import QuietHours, WatcherRepo, export_section
from creneau.types import PARIS, Target
from creneau.web import account_data, i18n
from creneau.web.deps import SignedIn, WebState, web
from creneau.web.i18n import _
from creneau.web.templating import render

router = APIRouter(include_in_schema=False)
account_data.register_section("watching", export_section)

MAX_AHEAD = timedelta(days=2 * 366)
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def watchers(request: Request) -> WatcherRepo:
    return WatcherRepo(web(request).store)


def describe(w: WebState, target_id: str, fallback: str = "") -> dict[str, str]:
    """A booking page in words: office and démarche from the catalog, else the stored label."""
    entry = w.catalog.targets.get(target_id)
    target = entry.target if entry else None
    office = w.catalog.offices.get(target.office_id) if target else None
    demarche = w.catalog.demarches.get(target.demarche_key) if target else None
    label = (target.label if target else "") or fallback or target_id
    return {
        "id": target_id,
        "label": label,
        "office": office.name if office else label,
        "demarche": i18n.pick({"fr": demarche.name_fr, "en": demarche.name_en}) if demarche else "",
    }


async def find_target(w: WebState, target_id: str) -> Target | None:
    """The catalog's target, else one only the store knows (an operator's own), else None."""
    entry = w.catalog.targets.get(target_id)
    if entry is not None:
        return entry.target
    try:
        return (await w.store.targets.get(target_id)).target
    except NotFound:
        return None


async def owned_watch(request: Request, user: SessionUser, watch_id: int) -> WatchRecord:
    """The watch if it is the person's own; 404 otherwise (unknown and someone else's look the same)."""
    try:
        watch = await web(request).store.subscribers.get_watch(watch_id)
    except NotFound:
        raise HTTPException(status_code=404) from None
    if watch.subscriber_id != user.subscriber_id:
        raise HTTPException(status_code=404)
    return watch


def parse_day(text: str) -> date | None:
    """`2026-07-01` (a date field) or `01/07/2026` (typed by hand); None when it is neither."""
    text = text.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text)
        if found := re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text):
            return date(int(found[3]), int(found[2]), int(found[1]))
    except ValueError:
        return None
    return None


def parse_clock(text: str) -> time | None:
    found = _CLOCK.match(text.strip())
    return time(int(found[1]), int(found[2])) if found else None


def _today(w: WebState) -> date:
    return w.now().astimezone(PARIS).date()


def _filters_text(watch: WatchRecord) -> list[str]:
    parts = []
    if watch.filters.before:
        parts.append(_("only slots before %(day)s", day=i18n.day(watch.filters.before)))
    if watch.filters.guichets:
        parts.append(_("counter: %(names)s", names=", ".join(sorted(watch.filters.guichets))))
    return parts


async def _list_context(request: Request, user: SessionUser) -> dict[str, Any]:
    w = web(request)
    watches = await w.store.subscribers.list_watches(subscriber_id=user.subscriber_id)
    channels = await w.store.subscribers.list_channels(user.subscriber_id)
    prefs = await watchers(request).prefs(user.subscriber_id)
    quiet = prefs.quiet
    rows = [
        {
            "id": watch.id,
            "status": watch.status.value,
            "targets": [describe(w, tid) for tid in watch.target_ids],
            "filters": _filters_text(watch),
        }
        for watch in watches
    ]
    return {
        "watches": rows,
        "has_channel": any(c.status.value == "active" for c in channels),
        "quiet": quiet,
        "quiet_start": quiet.start.strftime("%H:%M") if quiet else "22:00",
        "quiet_end": quiet.end.strftime("%H:%M") if quiet else "07:30",
        "quiet_alerts": bool(quiet and quiet.alerts),
        "errors": {},
    }


@router.get("/watches")
async def list_watches(request: Request, user: SignedIn) -> Response:
    return render(request, "watches/list.html", await _list_context(request, user))


async def _new_context(request: Request, target: Target, **values: Any) -> dict[str, Any]:
    w = web(request)
    return {
        "target": describe(w, target.id, target.label),
        "guichets": sorted(target.guichets.items(), key=lambda item: item[1] or item[0]),
        "before": "",
        "guichet": "",
        "min_day": (_today(w) + timedelta(days=1)).isoformat(),
        "errors": {},
        **values,
    }


@router.get("/watches/new")
async def new_watch(request: Request, user: SignedIn, target: Annotated[str, Query(max_length=200)] = "") -> Response:
    found = await find_target(web(request), target)
    if found is None:
        raise HTTPException(status_code=404)
    return render(request, "watches/new.html", await _new_context(request, found))


@router.post("/watches")
async def create_watch(
    request: Request,
    user: SignedIn,
    target: Annotated[str, Form(max_length=200)] = "",
    before: Annotated[str, Form(max_length=20)] = "",
    guichet: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Watch a booking page. Every field is checked before anything is written (nothing half-saved)."""
    w = web(request)
    found = await find_target(w, target)
    if found is None:
        raise HTTPException(status_code=404)
    errors: dict[str, str] = {}
    day = parse_day(before) if before.strip() else None
    if before.strip() and day is None:
        errors["before"] = _("Enter a day like 2026-07-01 or 01/07/2026.")
    elif day is not None and not _today(w) < day <= _today(w) + MAX_AHEAD:
        errors["before"] = _("Choose a day after today and within two years.")
    if guichet and guichet not in found.guichets:
        errors["guichet"] = _("Choose a counter from the list.")
    if errors:
        context = await _new_context(request, found, before=before, guichet=guichet, errors=errors)
        return render(request, "watches/new.html", context, status_code=422)
    if found.id in w.catalog.targets:
        await w.store.targets.upsert_many([found], now=w.now())  # the monitor may not have loaded it yet
    await w.store.subscribers.add_watch(
        user.subscriber_id,
        [found.id],
        now=w.now(),
        filters=WatchFilter.build(before=day, guichets=[guichet] if guichet else ()),
    )
    return RedirectResponse("/watches", status_code=303)


@router.post("/watches/{watch_id}/pause")
async def pause_watch(request: Request, user: SignedIn, watch_id: int) -> Response:
    await owned_watch(request, user, watch_id)
    await web(request).store.subscribers.set_watch_status(watch_id, WatchStatus.PAUSED)
    return RedirectResponse("/watches", status_code=303)


@router.post("/watches/{watch_id}/resume")
async def resume_watch(request: Request, user: SignedIn, watch_id: int) -> Response:
    await owned_watch(request, user, watch_id)
    await web(request).store.subscribers.set_watch_status(watch_id, WatchStatus.ACTIVE)
    return RedirectResponse("/watches", status_code=303)


@router.post("/watches/{watch_id}/delete")
async def delete_watch(request: Request, user: SignedIn, watch_id: int) -> Response:
    await owned_watch(request, user, watch_id)
    await web(request).store.subscribers.remove_watch(watch_id)
    return RedirectResponse("/watches", status_code=303)


@router.post("/watches/quiet")
async def set_quiet_hours(
    request: Request,
    user: SignedIn,
    quiet_start: Annotated[str, Form(max_length=10)] = "",
    quiet_end: Annotated[str, Form(max_length=10)] = "",
    quiet_alerts: Annotated[str, Form(max_length=5)] = "",
    action: Annotated[str, Form(max_length=10)] = "save",
) -> Response:
    """Set quiet hours (`action=save`) or remove them (`action=clear`)."""
    w = web(request)
    if action == "clear":
        await watchers(request).set_quiet(user.subscriber_id, None, now=w.now())
        return RedirectResponse("/watches", status_code=303)
    start, end = parse_clock(quiet_start), parse_clock(quiet_end)
    errors: dict[str, str] = {}
    if start is None:
        errors["quiet_start"] = _("Enter a time like 22:00.")
    if end is None:
        errors["quiet_end"] = _("Enter a time like 07:30.")
    elif start is not None and start == end:
        errors["quiet_end"] = _("The end must differ from the start.")
    if errors or start is None or end is None:
        context = await _list_context(request, user)
        context.update(quiet_start=quiet_start, quiet_end=quiet_end, quiet_alerts=bool(quiet_alerts), errors=errors)
        return render(request, "watches/list.html", context, status_code=422)
    quiet = QuietHours(start, end, alerts=bool(quiet_alerts))
    await watchers(request).set_quiet(user.subscriber_id, quiet, now=w.now())
    return RedirectResponse("/watches", status_code=303)
