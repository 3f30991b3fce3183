# SPDX-License-Identifier: AGPL-3.0-or-later
"""`create_app`: the web app as one FastAPI object, ready to be served by uvicorn or mounted in `creneau serve`.

```python
app = create_app(settings, store, catalog)          # shares the caller's store (not closed by the app)
app = create_app(settings)                          # opens (and closes) its own store in the lifespan
uvicorn.Server(uvicorn.Config(app, host=settings.web_host, port=settings.web_port)).serve()
```

Given a store, everything is built at once, so the app also works mounted inside another ASGI app (whose
lifespan would not run ours); the lifespan then only stops the board's background work and the mailer.
Add pages with `app.include_router(router)` or `create_app(..., routers=[...])`: every route gets the CSRF
check and the signed-in person (`deps.CurrentUser`) for free; templates go in `web/templates/`.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from creneau import __version__
from creneau.catalog.core import Catalog, load_catalog
from creneau.catalog.resolver import Resolver
from creneau.config import Settings
from creneau.sim.clock import Clock, SystemClock
from creneau.store import AccountRepo, Store
from creneau.web import errors
from creneau.web.board import Board
from creneau.web.deps import WebState, load_user
from creneau.web.mailer import Mailer, SmtpMailer
from creneau.web.security import Csrf, WebMiddleware, csrf_protect
from creneau.web.shared import SharedMiddleware
from creneau.web.templating import build_templates

STATIC = Path(__file__).resolve().parent / "static"


def web_secret(settings: Settings) -> bytes:
    """`CRENEAU_WEB_SECRET`, or a random key generated once and kept (mode 0600) in DATA_DIR/web_secret."""
    configured = settings.web_secret.get_secret_value()
    if configured:
        return configured.encode()
    path = settings.data_dir / "web_secret"
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(value)
    return value


def build_state(settings: Settings, store: Store, catalog: Catalog, *, clock: Clock, mailer: Mailer | None) -> WebState:
    secret = web_secret(settings)
    board = Board(
        store,
        catalog,
        clock,
        refresh_s=settings.web_board_refresh_s,
        stale_after=timedelta(minutes=settings.web_stale_after_min),
    )
    return WebState(
        settings=settings,
        store=store,
        catalog=catalog,
        resolver=Resolver(catalog),
        clock=clock,
        csrf=Csrf(secret),
        secret=secret,
        accounts=AccountRepo(store),
        mailer=mailer or SmtpMailer(settings),
        board=board,
    )


def create_app(
    settings: Settings,
    store: Store | None = None,
    catalog: Catalog | None = None,
    *,
    clock: Clock | None = None,
    mailer: Mailer | None = None,
    routers: Sequence[APIRouter] = (),
) -> FastAPI:
    """The web app. Without `store`, it opens `settings.resolved_database_url()` at start-up and closes it
    at shutdown; without `catalog`, it loads the shipped catalog plus the instance's overlay."""
    from creneau.web import (
        admin,
        alerts,
        api,
        auth,
        channels,
        desk,
        evidence,
        prometheus,
        public,
        push,
        sse,
        status,
        watches,
    )

    clock = clock or SystemClock()
    catalog = catalog or load_catalog(settings.data_dir)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own_store = None
        if not hasattr(app.state, "web"):
            own_store = await Store.open(settings.resolved_database_url())
            app.state.web = build_state(settings, own_store, catalog, clock=clock, mailer=mailer)
        try:
            yield
        finally:
            state: WebState = app.state.web
            await state.board.close()
            await state.mailer.close()
            if own_store is not None:
                await own_store.close()
                del app.state.web

    app = FastAPI(
        title="creneau",
        version=__version__,
        summary="Public, read-only data of creneau: offices, démarches, watched booking pages and their status.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=lifespan,
        dependencies=[Depends(csrf_protect), Depends(load_user)],
    )
    app.state.templates = build_templates()
    if store is not None:
        app.state.web = build_state(settings, store, catalog, clock=clock, mailer=mailer)
    app.add_middleware(SharedMiddleware)  # inside WebMiddleware: it needs the cookies, language and headers
    app.add_middleware(WebMiddleware)
    errors.install(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for router in (
        public.router,
        status.router,
        sse.router,
        auth.router,
        api.router,
        api.docs_router,
        evidence.router,
        watches.router,
        alerts.router,
        channels.router,
        push.router,
        desk.router,
        admin.router,
        prometheus.router,
        *routers,
    ):
        app.include_router(router)
    return app
