# SPDX-License-Identifier: AGPL-3.0-or-later
"""Live board updates over server-sent events: `/status/events?dept=…&page=…`.

The board page connects with htmx's SSE extension (`sse-connect`); each `row` event carries the rows that
changed since the last event, each marked `hx-swap-oob`, so htmx replaces them in place. The stream
follows the board's snapshots (`Board.wait_newer`): no extra query per listener. It sends nothing for a
snapshot where none of its rows changed (after a first `ready` event naming the snapshot it starts from); sse-starlette pings every 15 s to keep proxies from closing it.
Proxies in front must not buffer it (`X-Accel-Buffering: no` is set).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from creneau.web.board import BoardRow, page_of
from creneau.web.deps import web
from creneau.web.status import PAGE_SIZE, Departement, PageNo, render_row_oob

router = APIRouter(include_in_schema=False)

WAIT_S = 15.0


async def board_events(
    request: Request, departement: str | None, page: int, *, wait_s: float = WAIT_S
) -> AsyncIterator[ServerSentEvent]:
    """The events of one listener; ends when the client goes away (or the app stops)."""
    board = web(request).board
    board.listeners += 1
    try:
        snapshot = await board.snapshot()
        seen: dict[str, BoardRow] = {r.target_id: r for r in page_of(snapshot.select(departement), page, PAGE_SIZE)[0]}
        # Tells the client (and the tests) which snapshot the stream starts from.
        yield ServerSentEvent(data=str(snapshot.generation), event="ready")
        while not await request.is_disconnected():
            newer = await board.wait_newer(snapshot.generation, wait_s)
            if newer.generation == snapshot.generation:
                continue
            snapshot = newer
            rows = page_of(snapshot.select(departement), page, PAGE_SIZE)[0]
            changed = [r for r in rows if r.target_id in seen and seen[r.target_id] != r]
            seen = {r.target_id: r for r in rows}
            if changed:
                html = "".join(render_row_oob(request, snapshot, r) for r in changed)
                yield ServerSentEvent(data=html, event="row", id=str(snapshot.generation))
    finally:
        board.listeners -= 1


@router.get("/status/events")
async def status_events(request: Request, dept: Departement = None, page: PageNo = 1) -> EventSourceResponse:
    departement = dept.upper() if dept else None
    return EventSourceResponse(
        board_events(request, departement, page),
        ping=15,
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
