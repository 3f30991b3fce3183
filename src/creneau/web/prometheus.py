# SPDX-License-Identifier: AGPL-3.0-or-later
"""`GET /metrics`: the Prometheus text format of `creneau.metrics`, in the web app and from `creneau serve`.

Who may read it: with `CRENEAU_METRICS_TOKEN` set, whoever sends `Authorization: Bearer <token>` (401
otherwise); without a token, only clients on this machine (127.0.0.1, ::1), others get a 404. Behind a
reverse proxy the client is the address the proxy forwards (uvicorn's `proxy_headers`), so a proxy that
does not send X-Forwarded-For makes everyone look local: set a token there, or do not route /metrics.

The outbox gauges are read from the store at each scrape (one indexed grouping, off the event loop).
`creneau serve` has no web app of its own: with `CRENEAU_METRICS_PORT` set, `serve_metrics` runs this one
route on `CRENEAU_METRICS_HOST:PORT`, so the monitor's and the sender's counters can be scraped.
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from fastapi import APIRouter, FastAPI, HTTPException, Request
from starlette.responses import Response

from creneau import metrics
from creneau.web import admin_queries
from creneau.web.reader import Reader

if TYPE_CHECKING:
    from creneau.config import Settings
    from creneau.sim.clock import Clock
    from creneau.store import Store

router = APIRouter(include_in_schema=False)


def check_access(request: Request, token: str) -> None:
    """Raise 401/404 unless the request may read the metrics (see the module docstring)."""
    if token:
        sent = request.headers.get("authorization", "")
        scheme, _, value = sent.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode(), token.encode()):
            raise HTTPException(status_code=401, headers={"WWW-Authenticate": 'Bearer realm="creneau metrics"'})
        return
    host = request.client.host if request.client else ""
    try:
        local = ipaddress.ip_address(host).is_loopback
    except ValueError:
        local = False
    if not local:
        raise HTTPException(status_code=404)


async def scrape(reader: Reader, clock: Clock) -> Response:
    lines = await reader.quick(admin_queries.outbox_backlog)
    totals, oldest_s = admin_queries.backlog_totals(lines, now=clock.now())
    metrics.set_outbox(totals, oldest_s)
    return Response(metrics.exposition(), media_type=metrics.CONTENT_TYPE, headers={"cache-control": "no-store"})


@router.get("/metrics")
async def metrics_page(request: Request) -> Response:
    w = request.app.state.web
    check_access(request, w.settings.metrics_token.get_secret_value())
    return await scrape(w.board.reader, w.clock)


def metrics_app(settings: Settings, store: Store, clock: Clock) -> FastAPI:
    """An app serving only /metrics (for `creneau serve`); closes its reader at shutdown."""
    reader = Reader(store, threads=1)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            reader.close()

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)

    @app.get("/metrics")
    async def only_metrics(request: Request) -> Response:
        check_access(request, settings.metrics_token.get_secret_value())
        return await scrape(reader, clock)

    return app


@contextlib.asynccontextmanager
async def serve_metrics(settings: Settings, store: Store | None, clock: Clock) -> AsyncIterator[None]:
    """Serve /metrics on `metrics_host:metrics_port` while inside (nothing when the port is 0)."""
    if not settings.metrics_port or store is None:
        yield
        return
    from creneau.web.server import WebServer

    async with WebServer(metrics_app(settings, store, clock), settings.metrics_host, settings.metrics_port):
        yield
