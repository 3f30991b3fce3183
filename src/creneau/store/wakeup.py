# SPDX-License-Identifier: AGPL-3.0-or-later
"""Wake-ups: tell waiting workers that new work was committed, without making them poll fast.

Wake-ups are hints, never the source of truth: a worker always re-reads the tables, and always waits with a
timeout (the polling fallback), so a lost wake-up only costs latency.

- In-process (both engines): a `Subscription` is a sticky flag. A wake-up fired between a worker's empty
  claim and its `wait()` is not lost: `wait()` then returns at once.
- PostgreSQL, across processes and machines: repositories call `pg_notify` inside the writing transaction
  (delivered at commit), and one dedicated LISTEN connection per process (`PgListener`) turns notifications
  into local wake-ups. The connection is re-opened and every channel re-LISTENed after any failure, a
  periodic `SELECT 1` detects half-open connections, and every subscriber is woken once the LISTEN is back
  after a reconnect (or lands after a subscriber gave up waiting for it), since notifications may have
  been missed meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)

DELIVERIES = "creneau_deliveries"
"""Fired when deliveries are enqueued (senders wait on it)."""
TARGETS = "creneau_targets"
"""Fired when a target may have become due earlier (a new watch, a resumed target)."""
CAPTCHA = "creneau_captcha"
"""Fired when a captcha challenge is opened or answered (desks and monitors wait on it)."""
KNOWN_CHANNELS = (DELIVERIES, TARGETS, CAPTCHA)


class Subscription:
    """One waiter's view of a channel. Use it as a context manager, or `close()` it."""

    def __init__(self, hub: Wakeups, channel: str) -> None:
        self.channel = channel
        self._hub = hub
        self._flag = asyncio.Event()

    def fire(self) -> None:
        self._flag.set()

    async def wait(self, timeout_s: float | None) -> bool:
        """Return True as soon as a wake-up arrived (or had arrived since the last wait), False on timeout."""
        try:
            await asyncio.wait_for(self._flag.wait(), timeout_s)
        except TimeoutError:
            return False
        self._flag.clear()
        return True

    def close(self) -> None:
        self._hub.remove(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class Wakeups:
    """The process's wake-up hub; `conninfo` set (PostgreSQL) adds the cross-process listener."""

    def __init__(self, conninfo: str | None = None, *, listen_timeout_s: float = 15.0) -> None:
        self._subs: dict[str, set[Subscription]] = {}
        self._conninfo = conninfo
        self._listen_timeout_s = listen_timeout_s
        self._listener: PgListener | None = None

    async def subscribe(self, channel: str) -> Subscription:
        """Start receiving wake-ups for `channel`; on PostgreSQL, returns once the channel is LISTENed
        (or after `listen_timeout_s` if the server is unreachable: the caller's polling then covers it)."""
        sub = Subscription(self, channel)
        self._subs.setdefault(channel, set()).add(sub)
        if self._conninfo is not None:
            if self._listener is None:
                self._listener = PgListener(self._conninfo, self.fire_local)
            await self._listener.listen(channel, timeout_s=self._listen_timeout_s)
        return sub

    @property
    def listener(self) -> PgListener | None:
        """The PostgreSQL LISTEN connection's manager, once a subscription started it."""
        return self._listener

    def remove(self, sub: Subscription) -> None:
        self._subs.get(sub.channel, set()).discard(sub)

    def fire_local(self, channel: str) -> None:
        for sub in tuple(self._subs.get(channel, ())):
            sub.fire()

    def fire_all(self) -> None:
        for channel in tuple(self._subs):
            self.fire_local(channel)

    async def close(self) -> None:
        if self._listener is not None:
            await self._listener.close()
            self._listener = None


class PgListener:
    """One dedicated autocommit connection running `LISTEN` and a `notifies(timeout=…)` loop.

    `on_notify(channel)` is called for every notification (and for every channel after a reconnect).
    """

    def __init__(
        self,
        conninfo: str,
        on_notify: Callable[[str], None],
        *,
        poll_s: float = 1.0,
        keepalive_s: float = 30.0,
        retry_s: float = 1.0,
    ) -> None:
        self._conninfo = conninfo
        self._on_notify = on_notify
        self._poll_s = poll_s
        self._keepalive_s = keepalive_s
        self._retry_s = retry_s
        self._wanted: set[str] = set(KNOWN_CHANNELS)
        self._listening: set[str] = set()
        self._late: set[str] = set()
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.reconnects = 0
        self.backend_pid: int | None = None
        """The server process of the LISTEN connection (for monitoring and tests)."""

    async def listen(self, channel: str, *, timeout_s: float) -> bool:
        """Make sure `channel` is LISTENed; True once it is, False if that took longer than `timeout_s`."""
        self._wanted.add(channel)
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="creneau-pg-listener")
        deadline = time.monotonic() + timeout_s
        while True:
            self._changed.clear()  # before the check: a confirmation arriving in between is not missed
            if channel in self._listening:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                # Whoever gave up waiting may have committed work before the LISTEN: wake them when it lands.
                self._late.add(channel)
                log.warning("LISTEN %s not confirmed after %.1f s; relying on polling", channel, timeout_s)
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        first, failed = True, False
        while True:
            if failed:
                await asyncio.sleep(self._retry_s)
            try:
                conn = await psycopg.AsyncConnection.connect(
                    self._conninfo, autocommit=True, application_name="creneau-listener"
                )
            except psycopg.OperationalError as exc:
                log.warning("wake-up listener cannot connect (%s); retrying in %.0f s", exc, self._retry_s)
                failed = True
                continue
            failed = False
            try:
                self.backend_pid = conn.info.backend_pid
                if not first:
                    self.reconnects += 1
                    self._late |= self._wanted  # notifications may have been missed while disconnected
                first = False
                await self._serve(conn)
            except psycopg.OperationalError as exc:
                log.warning("wake-up listener lost its connection (%s); reconnecting", exc)
            finally:
                self._listening = set()
                self.backend_pid = None
                await conn.close()

    async def _serve(self, conn: psycopg.AsyncConnection[Any]) -> None:
        last_check = time.monotonic()
        while True:
            for channel in sorted(self._wanted - self._listening):
                await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                self._listening.add(channel)
                self._changed.set()
                if channel in self._late:  # listening now; wake whoever may have missed a notification
                    self._late.discard(channel)
                    self._on_notify(channel)
            gen = conn.notifies(timeout=self._poll_s)
            try:
                async for note in gen:
                    self._on_notify(note.channel)
            finally:
                await gen.aclose()  # an open notifies() generator would hang conn.close()
            if time.monotonic() - last_check >= self._keepalive_s:
                await conn.execute("SELECT 1")  # a half-open connection fails here, not silently
                last_check = time.monotonic()
