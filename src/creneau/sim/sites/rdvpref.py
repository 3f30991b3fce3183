# SPDX-License-Identifier: AGPL-3.0-or-later
"""RDV Préfecture (`www.rdv-prefecture.interieur.gouv.fr`), booking-systems.md §1.

Flow: landing `…/demarche/{id}/` → `…/cgu/` (terms + `<rdv-captchetat>`) → `POST …/_validerCaptcha`
→ `…/creneau/`. The `JSESSIONID` cookie (path `/rdvpref`, Secure, HttpOnly) lives
`world.session_lifetime_s` after the last request that used it.

Redirects (relative Location, as Tomcat sends them):
- `_validerCaptcha`, wrong/expired/foreign captcha → `…/cgu/?error=invalidCaptcha` (the captcha is used up);
- `_validerCaptcha`, right code → `…/creneau/`;
- `/creneau/` without a `JSESSIONID` cookie, or with a live session that has not passed the captcha for
  this démarche → `…/cgu/`;
- `/creneau/` (or `_validerCaptcha`) with a `JSESSIONID` the server no longer knows (expired, or never
  issued) → `…/cgu/?error=errorSessionInvalide` (how servlet containers tell "expired" from "absent").
An unknown démarche id gets a 404 page (assumption: the real behaviour is undocumented).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

from aiohttp import web
from markupsafe import Markup

from creneau.sim.model import SimTarget
from creneau.sim.sites.captcha import ENDPOINT_URL, STYLE, CaptchaStore
from creneau.sim.sites.common import (
    STATIC,
    TEMPLATES,
    Call,
    SimContext,
    Site,
    departments,
    html,
    redirect,
    route,
    templates,
    text,
)
from creneau.sim.sites.failures import changed_layout_page
from creneau.sim.sites.rdvpref_slots import SlotPage, slot_page
from creneau.types import System

RDVPREF_HOST = "www.rdv-prefecture.interieur.gouv.fr"
STATIC_PREFIX = "/rdvpref/static"
_DEMARCHE = r"/rdvpref/reservation/demarche/(?P<id>\d+)/"
_NODES = ("VM-01-48-02-001", "VM-01-48-02-002", "VM-01-48-02-003", "VM-01-48-02-004")
_CONTENT_TYPES = {".js": "application/javascript", ".css": "text/css"}


@dataclass
class RdvSession:
    id: str
    last_seen: datetime
    csrf: str
    validated: set[int] = field(default_factory=set)


@cache
def static_files() -> dict[str, tuple[bytes, str]]:
    """`sim/static/` loaded once: relative path → (bytes, content type)."""
    files: dict[str, tuple[bytes, str]] = {}
    for path in STATIC.rglob("*"):
        if path.is_file() and path.suffix in _CONTENT_TYPES:
            files[path.relative_to(STATIC).as_posix()] = (path.read_bytes(), _CONTENT_TYPES[path.suffix])
    return files


def static_response(name: str) -> web.Response | None:
    found = static_files().get(name)
    if found is None:
        return None
    body, content_type = found
    return web.Response(body=body, content_type=content_type, headers={"Cache-Control": "public, max-age=86400"})


@cache
def _chrome() -> dict[str, Markup]:
    """The parts of the layout that never change, rendered once (our own autoescaped templates and JSON)."""
    env = templates()
    footer = env.get_template("rdvpref/footer.html").render(departments=departments())
    consent = env.get_template("rdvpref/consent.html").render()
    i18n = Path(TEMPLATES / "rdvpref" / "i18n.json").read_text(encoding="utf-8").strip()
    return {"footer": Markup(footer), "consent": Markup(consent), "i18n": Markup(i18n)}  # noqa: S704


class RdvPrefSite(Site):
    name = "rdvpref"

    def __init__(self, ctx: SimContext, captchas: CaptchaStore) -> None:
        super().__init__(ctx)
        self.captchas = captchas
        self.sessions: dict[str, RdvSession] = {}
        self._shells: dict[tuple[str, str, str, bool], tuple[bytes, bytes]] = {}
        self.routes = (
            route("GET", _DEMARCHE, self.for_target(self.landing)),
            route("GET", _DEMARCHE + "cgu/", self.for_target(self.cgu)),
            route("POST", _DEMARCHE + "_validerCaptcha", self.for_target(self.validate)),
            route("GET", _DEMARCHE + "creneau/", self.for_target(self.slots)),
            route("GET", STATIC_PREFIX + r"/(?P<name>[\w./-]+)", self.static),
        )
        self._templates = {
            name: templates().get_template(f"rdvpref/{name}.html")
            for name in ("landing", "cgu", "creneau", "not_found")
        }

    # --- sessions ---------------------------------------------------------------------------------
    @property
    def lifetime(self) -> timedelta:
        return timedelta(seconds=self.ctx.world.session_lifetime_s)

    def _lookup(self, request: web.Request, now: datetime) -> tuple[str, RdvSession | None]:
        """("absent" | "invalid" | "live", session); a live session is touched."""
        sid = request.cookies.get("JSESSIONID")
        if not sid:
            return "absent", None
        session = self.sessions.get(sid)
        if session is None or now - session.last_seen > self.lifetime:
            self.sessions.pop(sid, None)
            return "invalid", None
        session.last_seen = now
        return "live", session

    def _open(self, request: web.Request, now: datetime) -> tuple[RdvSession, bool]:
        """The visitor's live session, or a new one (True: the cookie must be set)."""
        _, session = self._lookup(request, now)
        if session is not None:
            return session, False
        node = self.ctx.rng.choice(_NODES)
        sid = f"{node}~{node}{self.ctx.token(32, '0123456789ABCDEF')}.{node}"
        session = RdvSession(sid, now, self.ctx.token(36))
        self.sessions[sid] = session
        if len(self.sessions) % 1024 == 0:
            self.sessions = {k: v for k, v in self.sessions.items() if now - v.last_seen <= self.lifetime}
        return session, True

    @staticmethod
    def _with_cookie(response: web.Response, session: RdvSession, new: bool) -> web.Response:
        if new:
            response.set_cookie("JSESSIONID", session.id, path="/rdvpref", secure=True, httponly=True)
        return response

    # --- pages ---------------------------------------------------------------------------------------
    def _page(
        self, name: str, target: SimTarget | None, csrf: str, static: str = STATIC_PREFIX, **extra: object
    ) -> str:
        demarche_id = target.demarche_id if target else 0
        context = {
            **_chrome(),
            "demarche_id": demarche_id,
            "demarche_name": text(target.name if target and target.name else f"Démarche n° {demarche_id}"),
            "office": text(f"Préfecture – {target.city}" if target and target.city else "Préfecture"),
            "csrf": csrf,
            "static": static,
            **extra,
        }
        return self._templates[name].render(context)

    def not_found(self, request: web.Request) -> web.Response:
        return html(self._page("not_found", None, ""), status=404)

    async def landing(self, call: Call, target: SimTarget) -> web.StreamResponse:
        session, new = self._open(call.request, call.now)
        return self._with_cookie(html(self._page("landing", target, session.csrf)), session, new)

    async def cgu(self, call: Call, target: SimTarget) -> web.StreamResponse:
        session, new = self._open(call.request, call.now)
        error = call.request.query.get("error", "")
        token = self.captchas.issue_token(session.id, target.demarche_id, call.now)
        page = self._page(
            "cgu",
            target,
            session.csrf,
            error=error if error in ("invalidCaptcha", "errorSessionInvalide") else "",
            token=token,
            style=STYLE,
            endpoint=ENDPOINT_URL,
        )
        return self._with_cookie(html(page), session, new)

    def _live(self, call: Call, target: SimTarget) -> RdvSession | web.Response:
        """The visitor's live session, or the redirect to `/cgu/` (with errorSessionInvalide when it died)."""
        state, session = self._lookup(call.request, call.now)
        if session is not None:
            return session
        error = "?error=errorSessionInvalide" if state == "invalid" else ""
        return redirect(f"/rdvpref/reservation/demarche/{target.demarche_id}/cgu/{error}")

    async def validate(self, call: Call, target: SimTarget) -> web.StreamResponse:
        session = self._live(call, target)
        if isinstance(session, web.Response):
            return session
        form = await call.request.post()
        captcha = self.captchas.consume(str(form.get("captchaId", "")), call.now)
        answer = str(form.get("captchaUsercode", "")).strip().upper()
        base = f"/rdvpref/reservation/demarche/{target.demarche_id}/"
        if (
            captcha is None
            or captcha.session_id != session.id
            or captcha.demarche_id != target.demarche_id
            or answer != captcha.code
        ):
            return redirect(base + "cgu/?error=invalidCaptcha")
        session.validated.add(target.demarche_id)
        return redirect(base + "creneau/")

    async def slots(self, call: Call, target: SimTarget) -> web.StreamResponse:
        session = self._live(call, target)
        if isinstance(session, web.Response):
            return session
        if target.demarche_id not in session.validated:
            return redirect(f"/rdvpref/reservation/demarche/{target.demarche_id}/cgu/")
        return html(self.render_slots(call, target, session.csrf))

    def render_slots(self, call: Call, target: SimTarget, csrf: str, static: str = STATIC_PREFIX) -> str | bytes:
        """The `/creneau/` page body for this request (also used by the test hook, with another static root)."""
        state: SlotPage = slot_page(self.ctx.world, target, call.now, call.request.query.get("premierJour"))
        self.ctx.record(target.id, state.slot_ids, "rdvpref/creneau")
        if call.layout_changed:
            times = tuple(f"{m // 60:02d}:{m % 60:02d}" for _, _, m in state.tranches[:4])
            return changed_layout_page(System.RDVPREF, times=times)
        head, tail = self._slot_shell(target, csrf, static, state.is_display_calendar)
        return b"".join((head, state.vue_data_json().encode(), tail))

    def _slot_shell(self, target: SimTarget, csrf: str, static: str, calendar: bool) -> tuple[bytes, bytes]:
        """The slot page around its embedded data, rendered and encoded once per (target, session, state)."""
        key = (target.id, csrf, static, calendar)
        shell = self._shells.get(key)
        if shell is None:
            marker = "\x00vue-data\x00"
            page = self._page("creneau", target, csrf, static=static, calendar=calendar, vue_data=Markup(marker))  # noqa: S704
            head, _, tail = page.partition(marker)
            if len(self._shells) >= 4096:
                self._shells.clear()
            shell = self._shells[key] = (head.encode(), tail.encode())
        return shell

    async def static(self, call: Call) -> web.StreamResponse:
        return static_response(call.match.group("name")) or self.not_found(call.request)
