# SPDX-License-Identifier: AGPL-3.0-or-later
"""The simulator's HTTP server: every official host on one port, dispatched on the Host header.

`build_app(world, clock)` returns the aiohttp application; `SimServer` runs it on 127.0.0.1 (port 0 by
default) for tests, benchmarks and the demo, and gives the `route_overrides` that make our `Http` client
send official URLs to it. Each request goes through, in order:

1. test hooks (`/__sim__/…`, any host, only with `test_hooks=True`);
2. the Host header → a site (unknown host → 404), the path → a route (unknown path → 404, wrong method → 405);
3. the failure gate: the rate rules count the request (per client IP and host), then a scripted episode
   (`world.episode(host, target_id, now)`) or a rate decision may replace the page (403, 429, 502,
   "Service surchargé", maintenance, edge challenge), delay it (slow, timeout: the server hangs until the
   client gives up) or alter it (truncated body, changed layout);
4. the site's handler, with `now` from the injected clock.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import re
from types import TracebackType

from aiohttp import web

from creneau.sim.clock import Clock
from creneau.sim.model import Episode, EpisodeKind, World
from creneau.sim.sites.ants import ANTS_HOST, AntsSite
from creneau.sim.sites.captcha import CAPTCHA_HOST, CaptchaSite, CaptchaStore
from creneau.sim.sites.common import NOT_FOUND_HTML, Call, SimContext, Site, TruthSink, html
from creneau.sim.sites.failures import failure_response, server_error_page, truncate_html
from creneau.sim.sites.legacy import LegacySite
from creneau.sim.sites.ratelimit import RateGate
from creneau.sim.sites.rdvpref import RDVPREF_HOST, RdvPrefSite, static_response
from creneau.types import System

HANG_S = 3600.0  # a TIMEOUT episode without delay_s hangs this long (or until the client leaves)
_ALTERING = (EpisodeKind.SLOW, EpisodeKind.TIMEOUT, EpisodeKind.TRUNCATED, EpisodeKind.LAYOUT_CHANGED)


class Dispatcher:
    """Host → site → route, with the failure gate in between. One per application."""

    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx
        self.captchas = CaptchaStore(ctx)
        self.rdvpref = RdvPrefSite(ctx, self.captchas)
        legacy, ants = LegacySite(ctx), AntsSite(ctx)
        by_system: dict[System, Site] = {System.RDVPREF: self.rdvpref, System.LEGACY: legacy, System.ANTS: ants}
        self.sites: dict[str, Site] = {
            RDVPREF_HOST: self.rdvpref,
            CAPTCHA_HOST: CaptchaSite(ctx, self.captchas),
            ANTS_HOST: ants,
        }
        for target in ctx.world.targets.values():
            self.sites.setdefault(target.host.lower(), by_system[target.system])
        self.gate = RateGate(ctx.world.rules, random.Random(f"{ctx.world.seed}:5xx"))
        self._hooks = (
            (re.compile(r"/__sim__/captcha/(?P<id>[0-9a-f]+)"), self._hook_captcha),
            (re.compile(r"/__sim__/rdvpref/(?P<id>\d+)/creneau/"), self._hook_slot_page),
            (re.compile(r"/__sim__/static/(?P<name>[\w./-]+)"), self._hook_static),
            (re.compile(r"/__sim__/now"), self._hook_now),
        )

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path.startswith("/__sim__/") and self.ctx.test_hooks:
            return await self._hook(request)
        host = (request.host or "").lower()
        host = "" if host.startswith("[") else host.split(":", 1)[0]
        site = self.sites.get(host)
        if site is None:
            return html(NOT_FOUND_HTML, status=404)
        route, match = site.resolve(request.method, path)
        now = self.ctx.clock.now()
        target = site.target_for(host, match)
        decision = self.gate.check(site.name, host, request.remote or "unknown", now)
        episode = self.ctx.world.episode(host, target.id if target else None, now)
        seed = f"{request.remote}|{now.isoformat()}"
        if episode is not None and episode.kind not in _ALTERING:
            retry = episode.retry_after_s or max(1, math.ceil((episode.end - now).total_seconds()))
            refused = failure_response(
                episode.kind, host=host, json_api=site.json_errors, retry_after_s=retry, seed=seed
            )
            if refused is not None:
                return refused
        if decision is not None:
            refused = failure_response(
                decision.kind, host=host, json_api=site.json_errors, retry_after_s=decision.retry_after_s, seed=seed
            )
            if refused is not None:
                return refused
        slowed = episode is not None and episode.kind in (EpisodeKind.SLOW, EpisodeKind.TIMEOUT)
        if slowed and episode is not None and await self._wait(episode):
            return html(server_error_page(504), status=504)
        if route is None:
            if match is not None:
                return web.Response(status=405, text="405 Method Not Allowed")
            return site.not_found(request)
        assert match is not None
        response = await route.handler(Call(request, match, host, now, target, episode))
        if episode is not None and episode.kind is EpisodeKind.TRUNCATED:
            _truncate(response)
        return response

    @staticmethod
    async def _wait(episode: Episode) -> bool:
        """Delay a slow answer; hang for a timeout. True when the caller should answer 504 afterwards."""
        if episode.kind is EpisodeKind.SLOW:
            await asyncio.sleep(max(0.0, episode.delay_s))
            return False
        # The handler is cancelled when the client disconnects (handler_cancellation=True).
        await asyncio.sleep(episode.delay_s if episode.delay_s > 0 else HANG_S)
        return True

    # --- test hooks (documented in docs/simulator.md: for tests only) -----------------------------------
    async def _hook(self, request: web.Request) -> web.StreamResponse:
        for pattern, handler in self._hooks:
            match = pattern.fullmatch(request.path)
            if match is not None and request.method in ("GET", "HEAD"):
                return await handler(request, match)
        return html(NOT_FOUND_HTML, status=404)

    async def _hook_captcha(self, request: web.Request, match: re.Match[str]) -> web.StreamResponse:
        answer = self.captchas.answer(match.group("id"))
        if answer is None:
            return web.Response(status=404, text="unknown or used captcha")
        return web.Response(text=answer)

    async def _hook_slot_page(self, request: web.Request, match: re.Match[str]) -> web.StreamResponse:
        target = self.ctx.world.target_for(RDVPREF_HOST, int(match.group("id")))
        if target is None:
            return html(NOT_FOUND_HTML, status=404)
        call = Call(request, match, RDVPREF_HOST, self.ctx.clock.now(), target, None)
        return html(self.rdvpref.render_slots(call, target, "hook", static="/__sim__/static"))

    async def _hook_static(self, request: web.Request, match: re.Match[str]) -> web.StreamResponse:
        return static_response(match.group("name")) or html(NOT_FOUND_HTML, status=404)

    async def _hook_now(self, request: web.Request, match: re.Match[str]) -> web.StreamResponse:
        return web.json_response({"now": self.ctx.clock.now().isoformat()})


DISPATCHER = web.AppKey("creneau_sim_dispatcher", Dispatcher)


def _truncate(response: web.StreamResponse) -> None:
    if isinstance(response, web.Response) and response.status == 200 and isinstance(response.body, bytes):
        response.body = truncate_html(response.body)


def build_app(
    world: World, clock: Clock, *, test_hooks: bool = False, truth: TruthSink | None = None
) -> web.Application:
    """The simulator as an aiohttp application (run it with `handler_cancellation=True` for timeouts)."""
    ctx = SimContext(world, clock, test_hooks=test_hooks, truth=truth, rng=random.Random(world.seed))
    dispatcher = Dispatcher(ctx)
    app = web.Application()
    app[DISPATCHER] = dispatcher
    app.router.add_route("*", "/{tail:.*}", dispatcher.handle)
    return app


class SimServer:
    """Run the simulator on a real port: `async with SimServer(world, clock) as sim: sim.base_url`."""

    def __init__(
        self,
        world: World,
        clock: Clock,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        test_hooks: bool = False,
        truth: TruthSink | None = None,
    ) -> None:
        self.app = build_app(world, clock, test_hooks=test_hooks, truth=truth)
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    @property
    def dispatcher(self) -> Dispatcher:
        return self.app[DISPATCHER]

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def route_overrides(self) -> dict[str, str]:
        """For `Http(route_overrides=…)` / `CRENEAU_ROUTE_OVERRIDES`: every host goes to this server."""
        return {"*": self.base_url}

    def route_overrides_json(self) -> str:
        return json.dumps(self.route_overrides)

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, handler_cancellation=True, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SimServer:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()
