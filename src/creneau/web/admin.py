# SPDX-License-Identifier: AGPL-3.0-or-later
"""The operator view (`/admin`, operator role only): is creneau watching well, and what needs a person.

- `/admin`: counts (targets, watched ones, subscribers, active watches, openings today), the sources'
  health per booking system and host (last outcomes, blocks and rate limits of the last 24 h, paused and
  backing-off targets), paused targets with their reason, the human-check backlog, and the delivery backlog
  per channel kind (pending, leased, retrying, dead, oldest pending).
- `/admin/review`: pages to look at: the latest unrecognised pages, and the alerts people called false
  alarms (who did is never shown), each with the raw page the check kept; `POST /admin/review/{id}` marks
  a false alarm reviewed.
- `/admin/pages/{digest}`: a kept raw page shown as escaped source, never rendered (it came from another
  site and may hold scripts); `/admin/pages/{digest}/raw` downloads it as a plain-text attachment.

Every route needs the operator role (`deps.Admin`): 403 for other people, the sign-in page for visitors.
Operators are named by `CRENEAU_WEB_ADMIN_EMAILS` at sign-in or by `creneau admin grant EMAIL`.
"""

from __future__ import annotations

import functools
from datetime import datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request
from starlette.responses import RedirectResponse, Response

from creneau.store.watchers import WatcherRepo
from creneau.types import PARIS
from creneau.web import admin_queries as q
from creneau.web.board import health_label, health_of
from creneau.web.deps import Admin, web
from creneau.web.templating import render

router = APIRouter(include_in_schema=False)

REFUSALS_WINDOW = timedelta(hours=24)
SHOWN_BYTES = 512 * 1024
DIGEST = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")]


def outcome_label(outcome: str) -> str:
    """An outcome in the board's plain words (the operator reads the same language as everyone)."""
    from creneau.types import Outcome

    try:
        return health_label(health_of(Outcome(outcome)))
    except ValueError:
        return outcome


def day_start(now: datetime) -> datetime:
    """Today's midnight in Paris."""
    return datetime.combine(now.astimezone(PARIS).date(), time(0), tzinfo=PARIS)


def _overview(now: datetime, conn: Any) -> dict[str, Any]:
    backlog = q.outbox_backlog(conn)
    totals, oldest_s = q.backlog_totals(backlog, now=now)
    return {
        "counts": q.counts(conn, day_start=day_start(now)),
        "hosts": q.source_health(conn, now=now, since=now - REFUSALS_WINDOW),
        "paused": q.paused_targets(conn, now=now),
        "human": q.human_checks(conn),
        "backlog": backlog,
        "backlog_totals": totals,
        "oldest_pending_s": oldest_s,
    }


@router.get("/admin")
async def overview(request: Request, user: Admin) -> Response:
    w = web(request)
    now = w.now()
    context = await w.board.reader.run(functools.partial(_overview, now))
    return render(request, "admin/overview.html", {**context, "outcome_label": outcome_label, "now": now})


def _review(conn: Any) -> dict[str, Any]:
    return {"unknown": q.unknown_pages(conn), "flags": q.false_alarms(conn)}


@router.get("/admin/review")
async def review(request: Request, user: Admin) -> Response:
    context = await web(request).board.reader.run(_review)
    return render(request, "admin/review.html", {**context, "outcome_label": outcome_label})


@router.post("/admin/review/{flag_id}")
async def mark_reviewed(request: Request, user: Admin, flag_id: Annotated[int, Path(ge=1, le=2**62)]) -> Response:
    w = web(request)
    if not await WatcherRepo(w.store).mark_reviewed(flag_id, now=w.now()):
        raise HTTPException(status_code=404)
    return RedirectResponse("/admin/review", status_code=303)


async def _page(request: Request, digest: str) -> bytes:
    body = await web(request).store.observations.page(digest)
    if body is None:
        raise HTTPException(status_code=404)
    return body


@router.get("/admin/pages/{digest}")
async def page_source(request: Request, user: Admin, digest: DIGEST) -> Response:
    """The kept page as escaped text (autoescaped by the template): read, never rendered."""
    body = await _page(request, digest)
    text = body[:SHOWN_BYTES].decode("utf-8", errors="replace")
    context = {"digest": digest, "source": text, "size": len(body), "cut": len(body) > SHOWN_BYTES}
    return render(request, "admin/page.html", context)


@router.get("/admin/pages/{digest}/raw")
async def page_download(request: Request, user: Admin, digest: DIGEST) -> Response:
    """The kept page as a plain-text attachment: a browser saves it, it never runs it."""
    body = await _page(request, digest)
    return Response(
        body,
        media_type="text/plain; charset=utf-8",
        headers={
            "content-disposition": f'attachment; filename="page-{digest[:16]}.html.txt"',
            "cache-control": "no-store",
        },
    )
