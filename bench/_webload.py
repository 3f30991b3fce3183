# SPDX-License-Identifier: AGPL-3.0-or-later
"""The load generator of `bench/web.py`: keep-alive browser connections, closed-loop and paced clients, and a
writer that records checks meanwhile (so the board's rows change between snapshots, as in service)."""

from __future__ import annotations

import asyncio
import os
import random
import resource
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httptools
from sqlalchemy import insert, update

from creneau.store import Store
from creneau.store import models as m
from creneau.types import Outcome

Timings = dict[str, list[float]]


class Browser(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection that keeps its cookies, like a browser tab. Hand-rolled on
    httptools (uvicorn's parser) because aiohttp's client costs more CPU per request than the server being
    measured: with it, the load generator, not the server, set the pace."""

    def __init__(self, host: str) -> None:
        self._parser = httptools.HttpResponseParser(self)
        self._host = host
        self._cookies: dict[str, str] = {}
        self._waiter: asyncio.Future[int] | None = None
        self._transport: asyncio.Transport | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        self._parser.feed_data(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(exc or ConnectionError("connection closed"))

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == b"set-cookie":
            key, _, val = value.decode("latin-1").split(";", 1)[0].partition("=")
            self._cookies[key.strip()] = val.strip()

    def on_message_complete(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(self._parser.get_status_code())

    async def get(self, path: str) -> int:
        assert self._transport is not None
        self._waiter = asyncio.get_running_loop().create_future()
        cookie = "; ".join(f"{k}={v}" for k, v in self._cookies.items())
        head = f"GET {path} HTTP/1.1\r\nHost: {self._host}\r\nAccept-Language: fr\r\nAccept: */*\r\n"
        self._transport.write((head + (f"Cookie: {cookie}\r\n" if cookie else "") + "\r\n").encode("latin-1"))
        return await self._waiter

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


async def load(
    port: int, work: Iterator[tuple[str, str]], clients: int, *, think_s: float = 0.0, seed: int = 0
) -> tuple[Timings, int]:
    """`clients` browsers share `work` ((group, path) pairs) until it runs out: timings (ms) per group and
    the number of answers that were not 200. With `think_s` 0 each browser asks again as soon as it has
    its answer (closed loop: the server sets the pace); otherwise it waits a random time of mean `think_s`
    between requests, like a person reading the page."""
    rng = random.Random(seed)
    timings: Timings = {}
    errors = 0
    loop = asyncio.get_running_loop()

    async def connect() -> Browser:
        _, browser = await loop.create_connection(lambda: Browser(f"127.0.0.1:{port}"), "127.0.0.1", port)
        return browser

    async def client() -> None:
        nonlocal errors
        browser = await connect()
        try:
            if think_s:
                await asyncio.sleep(rng.uniform(0, think_s))
            for group, path in work:
                if browser.closed:  # the server ends idle keep-alive connections after a few seconds
                    browser = await connect()
                started = time.perf_counter()
                try:
                    status = await browser.get(path)
                except ConnectionError:
                    status = 0
                timings.setdefault(group, []).append((time.perf_counter() - started) * 1000)
                errors += status != 200
                if think_s:
                    await asyncio.sleep(rng.expovariate(1 / think_s))
        finally:
            browser.close()

    await asyncio.gather(*(client() for _ in range(clients)))
    return timings, errors


async def write_checks(url: str, target_ids: list[str], per_s: float, stop: asyncio.Event) -> int:
    """Record `per_s` checks a second (an observation and the target's new state, one transaction each)
    until `stop`, like a monitor would; returns how many."""
    if per_s <= 0:
        return 0
    store = await Store.open(url)
    rng = random.Random(5)
    done = 0
    try:
        while not stop.is_set():
            now = datetime.now(UTC)
            target_id = rng.choice(target_ids)
            outcome = rng.choice([Outcome.NO_SLOTS] * 8 + [Outcome.SLOTS_AVAILABLE, Outcome.UNAVAILABLE])
            async with store.write() as tx:
                await tx.conn.execute(
                    insert(m.observations).values(
                        target_id=target_id, checked_at=now, outcome=outcome.value, evidence="bench", slots=[],
                        notices=[], http_status=200, duration_s=0.3, url="https://www.rdv-prefecture.interieur.gouv.fr/",
                        page="", page_digest=None, retry_after_s=None,
                    )
                )  # fmt: skip
                await tx.conn.execute(
                    update(m.targets)
                    .where(m.targets.c.id == target_id)
                    .values(last_outcome=outcome.value, last_checked_at=now)
                )
            done += 1
            await asyncio.sleep(1 / per_s)
    finally:
        await store.close()
    return done


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process, all its threads (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class CpuMeter:
    """CPU used by the server process and by this process between `start()` and `stop()`, in cores."""

    def __init__(self, server_pid: int) -> None:
        self._pid = server_pid
        self._at = self._server = self._client = 0.0

    def start(self) -> None:
        self._at, self._server, self._client = time.perf_counter(), cpu_s(self._pid), own_cpu_s()

    def stop(self) -> dict[str, float]:
        elapsed = time.perf_counter() - self._at
        server, client = cpu_s(self._pid) - self._server, own_cpu_s() - self._client
        return {
            "elapsed_s": round(elapsed, 2),
            "server_cpu_cores": round(server / elapsed, 2),
            "client_cpu_cores": round(client / elapsed, 2),
            "server_cpu_s": round(server, 2),
        }


def summarise(timings: Timings, percentile: Callable[[list[float], float], float | None]) -> dict[str, Any]:
    """p50/p95/p99 over every request and per route group."""

    def stats(values: list[float]) -> dict[str, Any]:
        return {
            "n": len(values),
            **{f"p{q}_ms": _ms(percentile(values, q)) for q in (50, 95, 99)},
        }

    every = [t for values in timings.values() for t in values]
    return {**stats(every), "groups": {group: stats(values) for group, values in sorted(timings.items())}}


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
