# SPDX-License-Identifier: AGPL-3.0-or-later
"""A small pool of SMTP connections: SMTP sends one message at a time per connection, so throughput is
the number of connections (bounded by `size`).

A connection idle for more than `check_after_s` is health-checked with NOOP before reuse, because a
kept-alive aiosmtplib client can hang after the server timed it out (cole/aiosmtplib#243). A connection
that fails at the transport level is closed and forgotten; the next checkout opens a fresh one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress

import aiosmtplib

# Errors after which a connection cannot be trusted any more (the server answered nothing usable).
BROKEN = (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError, ConnectionError, TimeoutError, OSError)


class SmtpPool:
    def __init__(
        self,
        factory: Callable[[], aiosmtplib.SMTP],
        size: int,
        *,
        check_after_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._factory = factory
        self._slots = asyncio.Semaphore(size)
        self._idle: list[tuple[aiosmtplib.SMTP, float]] = []
        self._check_after_s = check_after_s
        self._clock = clock
        self.opened = 0  # connections opened so far (tests and metrics)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[aiosmtplib.SMTP]:
        """Lend one healthy connection. After an SMTP error reply it goes back to the pool (aiosmtplib has
        already reset the envelope); after anything else (disconnect, timeout, cancellation) it is closed."""
        async with self._slots:
            client = await self._checkout()
            try:
                yield client
            except BaseException as exc:
                if _answered(exc) and client.is_connected:
                    self._idle.append((client, self._clock()))
                else:
                    client.close()
                raise
            self._idle.append((client, self._clock()))

    async def _checkout(self) -> aiosmtplib.SMTP:
        while self._idle:
            client, since = self._idle.pop()
            if not client.is_connected:
                client.close()
                continue
            if self._clock() - since > self._check_after_s:
                try:
                    await client.noop()
                except (aiosmtplib.SMTPException, *BROKEN):
                    client.close()
                    continue
            return client
        client = self._factory()
        await client.connect()
        self.opened += 1
        return client

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for client, _ in idle:
            with suppress(aiosmtplib.SMTPException, *BROKEN):
                await client.quit()
            client.close()


def _answered(exc: BaseException) -> bool:
    """True when the server gave a proper reply, other than 421 "closing the channel" (RFC 5321 §3.8)."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return True
    return isinstance(exc, aiosmtplib.SMTPResponseException) and exc.code != 421
