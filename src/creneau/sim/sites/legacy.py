# SPDX-License-Identifier: AGPL-3.0-or-later
"""The legacy prefecture booking module (`/booking/create/{id}/{step}`), booking-systems.md §2 and §4, on
every legacy host of the world, `pprdv.interieur.gouv.fr` (Préfecture de Police variant) included.

- `eZSESSID` cookie (path `/`, no Secure/HttpOnly flag, as the captured curl jar shows), idle lifetime
  `world.session_lifetime_s`; a step ≥ 1 without a live session that accepted the terms → 302 `/0`
  (assumption);
- `POST /0` (`condition=on`) → 302 `/1`; `/1` lists the plannings (radios `planning{N}`), or, when the form
  has one planning, goes straight on as if it had been chosen;
- `POST /1` → 302 `/2` (no free slot: the exact sentence as the whole text of `form#FormBookingCreate`) or
  → 302 `/3` (forms with a "Descriptif" step, chosen per form from the seed) / `/4` (slots);
  Préfecture de Police: no slot → the sentence on `/1` itself (HTTP 200), slots → 302 `/4`;
- `/4`: the calendar page; its week comes from the AJAX fragment
  `/ezjscore/call/bookingserver::planning::assign::{formId}::{planningId}::{dayOffset}` (GET or POST, no
  session needed: assumption), the week that holds today + `dayOffset` days;
- `/5/{unixTs}` shows the chosen slot and a reCAPTCHA; nothing further is simulated (no booking).
Redirect locations are absolute (`https://{host}/…`), as PHP applications usually send them.
"""

from __future__ import annotations

import io
import re
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from aiohttp import web
from PIL import Image, ImageDraw, ImageFont

from creneau.sim.model import Planning, SimSlot, SimTarget
from creneau.sim.sites.common import (
    Call,
    Handler,
    SimContext,
    Site,
    department_for_host,
    html,
    long_date,
    paris,
    redirect,
    route,
)
from creneau.sim.sites.failures import changed_layout_page
from creneau.sim.sites.legacy_pages import ajax_path, planning_fragment, step_page
from creneau.types import System

PP_HOST = "pprdv.interieur.gouv.fr"
_FORM = r"/booking/create/(?P<id>\d+)"
_SID_ALPHABET = "0123456789abcdefghijklmnopqrstuv"
ERROR_CONDITION = "Vous devez accepter les conditions d'utilisation pour continuer."
ERROR_PLANNING = "Veuillez choisir un guichet."


@dataclass
class FormProgress:
    accepted: bool = False
    planning: str | None = None


StepHandler = Callable[["Call", SimTarget, "FormProgress", Planning | None], Awaitable[web.StreamResponse]]


@dataclass
class LegacySession:
    id: str
    last_seen: datetime
    forms: dict[int, FormProgress] = field(default_factory=dict)


def plannings_of(target: SimTarget) -> tuple[Planning, ...]:
    """The form's guichets; a form declared without any gets one (`{id + 1}`), as the module always has one."""
    return target.plannings or (Planning(str(target.demarche_id + 1), "Guichet unique"),)


@cache
def step_image(name: str) -> bytes:
    """`etape_{n}[G|r].png`: a 129×45 tab (green done, red current, grey to come)."""
    colour = {"G": (46, 125, 50), "r": (200, 30, 40)}.get(name[-1], (150, 150, 150))
    image = Image.new("RGB", (129, 45), colour)
    ImageDraw.Draw(image).text(
        (10, 12), f"Étape {name.rstrip('Gr')}", fill=(255, 255, 255), font=ImageFont.load_default(size=16)
    )
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


class LegacySite(Site):
    name = "legacy"

    def __init__(self, ctx: SimContext) -> None:
        super().__init__(ctx)
        self.sessions: dict[str, LegacySession] = {}
        self.routes = (
            route("GET", _FORM, self.for_target(self.terms)),
            route("GET", _FORM + "/0", self.for_target(self.terms)),
            route("POST", _FORM + "/0", self.for_target(self.accept)),
            route("GET", _FORM + "/1", self._step(self.plannings, planning=False)),
            route("POST", _FORM + "/1", self._step(self.choose, planning=False)),
            route("GET", _FORM + "/2", self._step(self.availability, planning=True)),
            route("GET", _FORM + "/3", self._step(self.descriptif, planning=True)),
            route("POST", _FORM + "/3", self._step(self.after_descriptif, planning=True)),
            route("GET", _FORM + "/4", self._step(self.calendar, planning=True)),
            route("POST", _FORM + "/4", self._step(self.first_free, planning=True)),
            route("GET", _FORM + r"/5/(?P<ts>\d+)", self._step(self.chosen, planning=True)),
            route(
                "GET POST",
                r"/ezjscore/call/bookingserver::planning::assign::(?P<id>\d+)::(?P<planning>[\w-]+)::(?P<offset>\d+)",
                self.for_target(self.fragment),
            ),
            route("GET", r"/extension/ezbooking/design/ezbooking/images/etape_(?P<img>\d[Gr]?)\.png", self.image),
        )

    def target_for(self, host: str, match: re.Match[str] | None) -> SimTarget | None:
        target = super().target_for(host, match)
        return target if target is not None and target.system is System.LEGACY else None

    # --- sessions -----------------------------------------------------------------------------------
    def _session(self, request: web.Request, now: datetime) -> LegacySession | None:
        sid = request.cookies.get("eZSESSID", "")
        session = self.sessions.get(sid)
        if session is None or (now - session.last_seen).total_seconds() > self.ctx.world.session_lifetime_s:
            self.sessions.pop(sid, None)
            return None
        session.last_seen = now
        return session

    def _open(self, request: web.Request, now: datetime) -> tuple[LegacySession, bool]:
        session = self._session(request, now)
        if session is not None:
            return session, False
        session = LegacySession(self.ctx.token(26, _SID_ALPHABET), now)
        self.sessions[session.id] = session
        if len(self.sessions) % 1024 == 0:
            limit = timedelta(seconds=self.ctx.world.session_lifetime_s)
            self.sessions = {k: v for k, v in self.sessions.items() if now - v.last_seen <= limit}
        return session, True

    @staticmethod
    def _cookie(response: web.Response, session: LegacySession, new: bool) -> web.Response:
        if new:
            response.set_cookie("eZSESSID", session.id, path="/")
        return response

    # --- helpers ------------------------------------------------------------------------------------------
    @staticmethod
    def _url(call: Call, step: int | str) -> str:
        assert call.target is not None
        return f"https://{call.host}/booking/create/{call.target.demarche_id}/{step}"

    def _page(self, call: Call, step: int, kind: str, **extra: Any) -> bytes:
        assert call.target is not None
        return step_page(call.target, department_for_host(call.host), step=step, kind=kind, **extra)

    def _free(self, target: SimTarget, planning_id: str, now: datetime) -> list[SimSlot]:
        """Free future slots of one guichet (a slot without a planning belongs to the first one)."""
        first = plannings_of(target)[0].id
        return [
            s
            for s in self.ctx.world.visible_slots(target.id, now)
            if s.start > now and (s.planning_id or first) == planning_id
        ]

    def _has_descriptif(self, call: Call) -> bool:
        assert call.target is not None
        if call.host == PP_HOST:
            return False
        return zlib.crc32(f"{self.ctx.world.seed}:{call.target.demarche_id}".encode()) % 2 == 0

    def _no_slot(self, call: Call, step: int) -> web.Response:
        assert call.target is not None
        self.ctx.record(call.target.id, (), "legacy/no_slot")
        if call.layout_changed:
            return html(changed_layout_page(System.LEGACY, times=()))
        return html(self._page(call, step, "no_slot", heading="Vérification de disponibilité"))

    def _after_choice(self, call: Call, planning_id: str) -> web.Response:
        assert call.target is not None
        if not self._free(call.target, planning_id, call.now):
            if call.host == PP_HOST:
                return self._no_slot(call, 1)
            return redirect(self._url(call, 2))
        return redirect(self._url(call, 3 if self._has_descriptif(call) else 4))

    # --- steps ----------------------------------------------------------------------------------------------
    def _step(self, handler: StepHandler, *, planning: bool) -> Handler:
        """A step ≥ 1: known form, live session that accepted the terms (and chose a planning if needed)."""

        async def gated(call: Call, target: SimTarget) -> web.StreamResponse:
            session = self._session(call.request, call.now)
            progress = session.forms.get(target.demarche_id) if session else None
            if progress is None or not progress.accepted:
                return redirect(self._url(call, 0))
            chosen = next((p for p in plannings_of(target) if p.id == progress.planning), None)
            if planning and chosen is None:
                return redirect(self._url(call, 1))
            return await handler(call, target, progress, chosen)

        return self.for_target(gated)

    async def terms(self, call: Call, target: SimTarget) -> web.StreamResponse:
        session, new = self._open(call.request, call.now)
        session.forms.setdefault(target.demarche_id, FormProgress())
        return self._cookie(html(self._page(call, 0, "terms")), session, new)

    async def accept(self, call: Call, target: SimTarget) -> web.StreamResponse:
        session, new = self._open(call.request, call.now)
        progress = session.forms.setdefault(target.demarche_id, FormProgress())
        form = await call.request.post()
        if str(form.get("condition", "")).lower() not in ("on", "1", "true", "yes"):
            return self._cookie(html(self._page(call, 0, "terms", error=ERROR_CONDITION)), session, new)
        progress.accepted = True
        return self._cookie(redirect(self._url(call, 1)), session, new)

    async def plannings(
        self, call: Call, target: SimTarget, progress: FormProgress, _: Planning | None
    ) -> web.StreamResponse:
        choices = plannings_of(target)
        if len(choices) == 1:
            progress.planning = choices[0].id
            return self._after_choice(call, choices[0].id)
        return html(self._page(call, 1, "plannings", plannings=choices))

    async def choose(
        self, call: Call, target: SimTarget, progress: FormProgress, _: Planning | None
    ) -> web.StreamResponse:
        form = await call.request.post()
        wanted = str(form.get("planning", ""))
        choices = plannings_of(target)
        if wanted not in {p.id for p in choices}:
            return html(self._page(call, 1, "plannings", plannings=choices, error=ERROR_PLANNING))
        progress.planning = wanted
        return self._after_choice(call, wanted)

    async def availability(
        self, call: Call, target: SimTarget, _: FormProgress, planning: Planning | None
    ) -> web.StreamResponse:
        assert planning is not None
        if self._free(target, planning.id, call.now):
            return redirect(self._url(call, 3 if self._has_descriptif(call) else 4))
        return self._no_slot(call, 2)

    async def descriptif(
        self, call: Call, target: SimTarget, _: FormProgress, planning: Planning | None
    ) -> web.StreamResponse:
        return html(self._page(call, 3, "descriptif", planning=planning))

    async def after_descriptif(
        self, call: Call, target: SimTarget, _: FormProgress, planning: Planning | None
    ) -> web.StreamResponse:
        return redirect(self._url(call, 4))

    async def calendar(
        self, call: Call, target: SimTarget, _: FormProgress, planning: Planning | None
    ) -> web.StreamResponse:
        assert planning is not None
        if call.layout_changed:
            return html(changed_layout_page(System.LEGACY))
        ajax = ajax_path(target.demarche_id, planning.id, 0)
        return html(self._page(call, 4, "calendar", planning=planning, ajax_url=ajax))

    async def first_free(
        self, call: Call, target: SimTarget, _: FormProgress, planning: Planning | None
    ) -> web.StreamResponse:
        assert planning is not None
        free = self._free(target, planning.id, call.now)
        return redirect(self._url(call, f"5/{int(free[0].start.timestamp())}" if free else 2))

    async def chosen(
        self, call: Call, target: SimTarget, _: FormProgress, planning: Planning | None
    ) -> web.StreamResponse:
        assert planning is not None
        ts = int(call.match.group("ts"))
        slot = next((s for s in self._free(target, planning.id, call.now) if int(s.start.timestamp()) == ts), None)
        if slot is None:
            return self._no_slot(call, 2)
        local = paris(slot.start)
        text = f"{long_date(local.date())} à {local:%H:%M}"
        return html(self._page(call, 5, "chosen", action_step=6, chosen=text))

    async def fragment(self, call: Call, target: SimTarget) -> web.StreamResponse:
        planning_id = call.match.group("planning")
        if planning_id not in {p.id for p in plannings_of(target)}:
            return self.not_found(call.request)
        free = self._free(target, planning_id, call.now)
        self.ctx.record(target.id, [s.id for s in free], "legacy/planning")
        if call.layout_changed:
            return html(changed_layout_page(System.LEGACY, times=tuple(f"{paris(s.start):%H:%M}" for s in free[:4])))
        offset = int(call.match.group("offset"))
        return html(planning_fragment(call.host, target.demarche_id, planning_id, offset, free, call.now))

    async def image(self, call: Call) -> web.StreamResponse:
        return web.Response(body=step_image(call.match.group("img")), content_type="image/png")
