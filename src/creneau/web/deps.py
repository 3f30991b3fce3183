# SPDX-License-Identifier: AGPL-3.0-or-later
"""What every route can reach: the app's shared objects (`WebState`) and the signed-in person.

Routes get them through `web(request)` and the `CurrentUser` / `SignedIn` dependencies. The state is built
once by `create_app` and lives on `app.state.web`, so a route never opens a client of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, HTTPException, Request

from creneau.config import Settings
from creneau.sim.clock import Clock
from creneau.store import AccountRepo, SessionUser, Store
from creneau.web.security import Csrf

if TYPE_CHECKING:
    from creneau.catalog.core import Catalog
    from creneau.catalog.resolver import Resolver
    from creneau.web.board import Board
    from creneau.web.mailer import Mailer

SESSION_COOKIE = "creneau_session"


@dataclass(slots=True)
class WebState:
    """The shared objects of one web app (see `create_app`)."""

    settings: Settings
    store: Store
    catalog: Catalog
    resolver: Resolver
    clock: Clock
    csrf: Csrf
    secret: bytes
    accounts: AccountRepo
    mailer: Mailer
    board: Board

    def now(self) -> datetime:
        return self.clock.now()

    @property
    def session_ttl(self) -> timedelta:
        return timedelta(days=self.settings.web_session_days)

    def base_url(self) -> str:
        s = self.settings
        return (s.web_base_url or f"http://{s.web_host}:{s.web_port}").rstrip("/")


def web(request: Request) -> WebState:
    state: WebState = request.app.state.web
    return state


async def load_user(request: Request) -> SessionUser | None:
    """App-wide dependency: the person signed in with the session cookie, or None (also kept on
    `request.state.user` for templates). Reads the store only when a session cookie is present."""
    if hasattr(request.state, "user"):
        cached: SessionUser | None = request.state.user
        return cached
    raw = request.state.cookies.get(SESSION_COOKIE) if hasattr(request.state, "cookies") else None
    user = None
    if raw and 20 <= len(raw) <= 100:
        w = web(request)
        user = await w.accounts.session_user(raw, now=w.now(), ttl=w.session_ttl)
    request.state.user = user
    return user


class SignInRequired(Exception):
    """Raised by `require_user` on a page that needs a session; the handler redirects to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


async def require_user(request: Request, user: Annotated[SessionUser | None, Depends(load_user)]) -> SessionUser:
    if user is None:
        raise SignInRequired(return_path(request))
    return user


def return_path(request: Request) -> str:
    """Where to come back after signing in: the page with its query (`/watches/new?target=…` must keep its
    target); a form POST comes back to its page without the query."""
    query = request.url.query
    return f"{request.url.path}?{query}" if query and request.method in ("GET", "HEAD") else request.url.path


async def require_admin(user: Annotated[SessionUser, Depends(require_user)]) -> SessionUser:
    if not user.is_admin:
        raise HTTPException(status_code=403)
    return user


CurrentUser = Annotated[SessionUser | None, Depends(load_user)]
SignedIn = Annotated[SessionUser, Depends(require_user)]
Admin = Annotated[SessionUser, Depends(require_admin)]
