# SPDX-License-Identifier: AGPL-3.0-or-later
"""Alert history with outcome buttons: "I booked it", "already gone", "false alarm".

The history lists the alerts that reached the signed-in person's channels, newest first, with each
channel's delivery status. An outcome is one per (person, alert) and can be changed:
- "I booked it" also pauses the watch it came through (the person has their appointment; resuming it is
  one click on /watches);
- "false alarm" flags the booking page for the operator's review (`WatcherRepo.flags_for_review`): an
  alert must only ever come from slots seen on the page.
Someone else's alert answers 404, like an unknown one.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from starlette.responses import RedirectResponse, Response

from creneau.store import WatchStatus
from creneau.store.alert_history import alert_history, alert_of
from creneau.store.watchers import Outcome
from creneau.web.deps import SignedIn, web
from creneau.web.i18n import _
from creneau.web.templating import render
from creneau.web.watches import describe, watchers

router = APIRouter(include_in_schema=False)

SHOWN_SLOTS = 5


def outcome_labels() -> dict[str, str]:
    return {
        Outcome.BOOKED.value: _("I booked it"),
        Outcome.GONE.value: _("Already gone"),
        Outcome.FALSE_ALARM.value: _("False alarm"),
    }


def said_labels() -> dict[str, str]:
    return {
        Outcome.BOOKED.value: _("You booked an appointment from this alert. The watch is paused."),
        Outcome.GONE.value: _("You found the slots already gone."),
        Outcome.FALSE_ALARM.value: _("You reported a false alarm; the operator will look at this page."),
    }


def status_labels() -> dict[str, str]:
    return {
        "pending": _("waiting"),
        "leased": _("sending"),
        "failed": _("will retry"),
        "sent": _("sent"),
        "dead": _("not delivered"),
    }


@router.get("/alerts")
async def alerts_page(request: Request, user: SignedIn) -> Response:
    w = web(request)
    entries = await alert_history(w.store, user.subscriber_id)
    rows = [
        {
            "id": e.transition_id,
            "watch_id": e.watch_id,
            "target": describe(w, e.target_id),
            "at": e.at,
            "slots": e.slots[:SHOWN_SLOTS],
            "more": max(0, len(e.slots) - SHOWN_SLOTS),
            "channels": e.channels,
            "outcome": e.outcome.value if e.outcome else None,
        }
        for e in entries
    ]
    context = {
        "alerts": rows,
        "buttons": outcome_labels(),
        "said": said_labels(),
        "statuses": status_labels(),
    }
    return render(request, "watches/alerts.html", context)


@router.post("/alerts/{transition_id}/outcome")
async def set_outcome(
    request: Request, user: SignedIn, transition_id: int, outcome: Annotated[str, Form(max_length=20)] = ""
) -> Response:
    try:
        verdict = Outcome(outcome)
    except ValueError:
        raise HTTPException(status_code=400) from None
    w = web(request)
    alert = await alert_of(w.store, user.subscriber_id, transition_id)
    if alert is None:
        raise HTTPException(status_code=404)
    await watchers(request).set_outcome(
        user.subscriber_id, transition_id, alert.watch_id, alert.target_id, verdict, now=w.now()
    )
    if verdict is Outcome.BOOKED and alert.watch_id is not None:
        await w.store.subscribers.set_watch_status(alert.watch_id, WatchStatus.PAUSED)
    return RedirectResponse(f"/alerts#alert-{transition_id}", status_code=303)
