# SPDX-License-Identifier: AGPL-3.0-or-later
"""The pipeline behind `creneau serve`: the monitor and the sender wired to one store, in one process or in
several (`serve_cli.py` adds the web app: role `all` serves it next to these, role `web` alone).

- `role="all"` (default): both loops in one process; with the default SQLite store nothing else is needed.
- `role="monitor"` / `role="sender"`: one loop per process, typically against PostgreSQL
  (`CRENEAU_DATABASE_URL`) on any number of machines; leases keep them from doing the same work twice.
- `role="bot"`: the Telegram bot (one process only: Telegram lets one poller read a bot's updates); `all`
  runs it too when `CRENEAU_BOT_ENABLED` is true. Give it `CRENEAU_CAPTCHA_DESK=store` unless it shares
  the monitors' data_dir.

Every role opens the store (migrating it); the monitor role first loads the catalog's targets and the
operator's (`data_dir/targets.local.csv`) into it. Everything is built here from the settings and passed
down (style rule 17): the store, the HTTP clients, the captcha desk, the clock.

    async with Service(settings, role="all") as service:
        await service.run()          # until service.stop() (Ctrl-C / SIGTERM)
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Literal, Self

import aiohttp

from creneau.bot.desk import open_desk
from creneau.catalog.core import Catalog, load_catalog
from creneau.config import Settings, SettingsError
from creneau.evidence.tap import EvidenceTap, build_tap, build_worker
from creneau.evidence.worker import EvidenceWorker
from creneau.monitor.checks import split_host_rules
from creneau.monitor.policy import Policy, PolicySettings
from creneau.monitor.politeness import DEFAULT_HOST_RULES
from creneau.monitor.runner import CheckReport, MonitorRunner, RunnerOptions
from creneau.monitor.snapshot import POLICY_FILE, load_policy, save_policy
from creneau.notify import registry
from creneau.notify.fanout import describe_with
from creneau.notify.registry import Transports
from creneau.notify.sender import DeliveryReport, Sender, SenderOptions
from creneau.sim.clock import Clock, SystemClock
from creneau.sources.base import SourceDeps
from creneau.sources.http import Http
from creneau.sources.rdvpref.session import FileSessionVault
from creneau.store import Store

if TYPE_CHECKING:
    from creneau.bot.runner import BotRunner

log = logging.getLogger(__name__)
SAVE_POLICY_S = 600.0

Role = Literal["all", "monitor", "sender", "bot"]
ROLES: tuple[Role, ...] = ("all", "monitor", "sender", "bot")


def owner_name(role: str) -> str:
    """How this process names itself in leases: host, pid, role and a random suffix (restarts differ)."""
    return f"{socket.gethostname()}:{os.getpid()}:{role}:{secrets.token_hex(3)}"


async def load_targets(store: Store, catalog: Catalog, clock: Clock) -> int:
    """Put the catalog's targets (shipped + `targets.local.csv`) into the store; returns how many."""
    return await store.targets.upsert_many(catalog.watch_targets(), now=clock.now())


def runner_options(settings: Settings, owner: str) -> RunnerOptions:
    return RunnerOptions(
        owner=owner,
        concurrency=settings.monitor_concurrency,
        lease_s=settings.monitor_lease_s,
        check_timeout_s=min(settings.monitor_check_timeout_s, settings.monitor_lease_s * 0.8),
        poll_s=settings.poll_s,
        grace_s=settings.shutdown_grace_s,
    )


def sender_options(settings: Settings, owner: str) -> SenderOptions:
    """Raises `SettingsError` for an unknown kind in `CRENEAU_SENDER_KINDS`."""
    unknown = [kind for kind in settings.sender_kinds if kind not in registry.kinds()]
    if unknown:
        raise SettingsError(
            f"CRENEAU_SENDER_KINDS: unknown channel kind {unknown[0]!r} (known: {', '.join(registry.kinds())})"
        )
    return SenderOptions(
        owner=owner,
        lease_s=settings.sender_lease_s,
        batch=settings.sender_batch,
        concurrency=settings.sender_concurrency,
        poll_s=settings.poll_s,
        processes=settings.sender_processes,
        kinds=tuple(settings.sender_kinds) or None,
        max_age_s=settings.sender_max_age_h * 3600,
        grace_s=settings.shutdown_grace_s,
    )


def policy_settings(settings: Settings) -> PolicySettings:
    """The scheduling policy's settings, each host's limits split between `monitor_processes` monitors."""
    return PolicySettings(host_rules=split_host_rules(DEFAULT_HOST_RULES, settings.monitor_processes))


def default_policy(settings: Settings) -> Policy:
    return Policy(policy_settings(settings))


class Service:
    """The roles of one process. `on_check` / `on_delivery` receive every finished check and delivery
    attempt (the demo's live view)."""

    def __init__(
        self,
        settings: Settings,
        *,
        role: Role = "all",
        clock: Clock | None = None,
        catalog: Catalog | None = None,
        policy: Policy | None = None,
        on_check: Callable[[CheckReport], None] | None = None,
        on_delivery: Callable[[DeliveryReport], None] | None = None,
    ) -> None:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r} (one of {', '.join(ROLES)})")
        self.settings = settings
        self.role = role
        self.clock = clock or SystemClock()
        self.catalog = catalog
        self.policy = policy
        self.on_check = on_check
        self.on_delivery = on_delivery
        self.store: Store | None = None
        self.runner: MonitorRunner | None = None
        self.sender: Sender | None = None
        self._http: Http | None = None
        self._notify_session: aiohttp.ClientSession | None = None
        self._transports: Transports | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.stopping = False
        self.evidence: EvidenceTap | None = None
        self.evidence_worker: EvidenceWorker | None = None
        self.bot: BotRunner | None = None

    @property
    def monitors(self) -> bool:
        return self.role in ("all", "monitor")

    @property
    def sends(self) -> bool:
        return self.role in ("all", "sender")

    @property
    def bots(self) -> bool:
        return self.role == "bot" or (self.role == "all" and self.settings.bot_enabled)

    async def start(self) -> Self:
        settings = self.settings
        self.store = await Store.open(settings.resolved_database_url())
        catalog = self.catalog or load_catalog(settings.data_dir)
        if self.monitors:
            count = await load_targets(self.store, catalog, self.clock)
            log.info("monitor: %d targets known (catalog and %s)", count, settings.data_dir / "targets.local.csv")
            self._http = Http.from_settings(settings)
            deps = SourceDeps(
                http=self._http,
                clock=self.clock,
                captcha_desk=open_desk(settings, self.store),
                # A file vault: with leases, a target's next check may run in another process of this machine.
                sessions=FileSessionVault(settings.data_dir / "sessions"),
                settings=settings,
            )
            self.evidence = build_tap(self.store, catalog)
            self.runner = MonitorRunner(
                self.store,
                deps,
                clock=self.clock,
                options=runner_options(settings, owner_name("monitor")),
                policy=self.policy or await load_policy(self.policy_file, policy_settings(settings)),
                on_check=self.evidence.hook(self.on_check),
            )
        if self.sends:
            timeout = aiohttp.ClientTimeout(total=settings.notify_timeout_s)
            self._notify_session = aiohttp.ClientSession(
                timeout=timeout, headers={"User-Agent": settings.resolved_user_agent()}
            )
            self._transports = Transports(settings, self._notify_session)
            self.sender = Sender(
                self.store,
                self._transports,
                clock=self.clock,
                options=sender_options(settings, owner_name("sender")),
                describe=describe_with(catalog),
                on_delivery=self.on_delivery,
            )
            await self.sender.prepare()
            self.evidence_worker = build_worker(self.store, settings, self._transports, self.clock)
        if self.bots:
            from creneau.bot.runner import BotRunner

            self.bot = BotRunner(settings, self.store, catalog, desk=open_desk(settings, self.store), clock=self.clock)
            await self.bot.start()
        return self

    async def run(self, *, once: bool = False) -> None:
        """Run the roles until `stop()`; with `once`, do one monitoring round and send what is due, then return."""
        if once:
            if self.runner is not None:
                await self.runner.tick(sync=True)
                await self.runner.wait_idle()
                await save_policy(self.runner.policy, self.policy_file)
            if self.evidence is not None:
                await self.evidence.drain()
            if self.evidence_worker is not None:
                await self.evidence_worker.run_once()
            if self.sender is not None:
                await self.sender.drain()
                await self.sender.close()
            return
        loops = [loop.run() for loop in (self.runner, self.sender, self.evidence_worker, self.bot) if loop is not None]
        self._tasks = [asyncio.create_task(coro) for coro in loops]
        savers = [asyncio.create_task(self._save_policy_every(SAVE_POLICY_S))] if self.runner is not None else []
        try:
            await asyncio.gather(*self._tasks)
        finally:
            for task in (*self._tasks, *savers):
                task.cancel()
            await asyncio.gather(*self._tasks, *savers, return_exceptions=True)
            self._tasks = []
            if self.runner is not None:
                await save_policy(self.runner.policy, self.policy_file)

    @property
    def policy_file(self) -> Path:
        return self.settings.data_dir / POLICY_FILE

    async def _save_policy_every(self, period_s: float) -> None:
        assert self.runner is not None
        while True:
            await asyncio.sleep(period_s)
            await save_policy(self.runner.policy, self.policy_file)

    def stop(self) -> None:
        """Graceful stop: no new checks or sends; what is in flight finishes (`shutdown_grace_s`)."""
        self.stopping = True
        for loop in (self.runner, self.sender, self.evidence_worker, self.bot):
            if loop is not None:
                loop.stop()

    async def close(self) -> None:
        if self.evidence is not None:
            await self.evidence.drain()
        if self.bot is not None:
            await self.bot.close()
        if self._transports is not None:
            await self._transports.close()
        if self._notify_session is not None:
            await self._notify_session.close()
        if self._http is not None:
            await self._http.close()
        if self.store is not None:
            await self.store.close()

    async def __aenter__(self) -> Self:
        try:
            return await self.start()
        except BaseException:
            await self.close()
            raise

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
