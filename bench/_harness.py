# SPDX-License-Identifier: AGPL-3.0-or-later
"""Shared by `bench/pipeline.py` and `bench/fanout.py`: the fake providers with arrival times, the
simulator world helpers, statistics, memory, the store on either engine, and the final JSON line.

Benchmarks run the real service code (`creneau.service.Service`, the monitor runner, the outbox sender
and the channel transports) on real ports; only the providers are local fakes speaking their protocols.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import logging
import math
import os
import resource
import sys
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from pydantic import SecretStr

from creneau.config import Settings, load_settings
from creneau.notify.fakes.providers import FakeProviders
from creneau.notify.fakes.server import Inbox
from creneau.sim.model import RateRules, SimSlot
from creneau.types import PARIS

T = TypeVar("T")
NO_RULES = RateRules(
    legacy_burst_rps=0, legacy_hourly_limit=0, rdvpref_challenge_per_min=0, ants_per_min=0, background_5xx_rate=0
)
"""The simulated sites never push back: the benchmarks measure creneau's pipeline, not a site's limits."""


class StampedInbox(Inbox[T]):
    """An inbox that also records when (wall clock, `time.time()`) each item arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    async def put(self, item: T) -> None:
        self.times.append(time.time())
        await super().put(item)


def stamp(fakes: FakeProviders) -> None:
    """Give the SMTP sink and the fake Telegram stamped inboxes (before any message arrives)."""
    fakes.smtp.messages = StampedInbox()
    fakes.telegram.messages = StampedInbox()


def arrivals(inbox: Inbox[Any]) -> list[float]:
    assert isinstance(inbox, StampedInbox)
    return list(inbox.times)


def preload_transports() -> float:
    """Import every channel's transport now (aiogram's import alone takes seconds of CPU), so that no
    measured interval includes it; returns how long it took."""
    started = time.perf_counter()
    for module in ("email", "telegram", "ntfy", "webhook"):
        importlib.import_module(f"creneau.notify.channels.{module}.transport")
    return time.perf_counter() - started


def bench_settings(database_url: str, data_dir: Path, fakes: FakeProviders, **overrides: Any) -> Settings:
    """Settings for the benchmarked service: its store, every channel on the fakes, quiet logs."""
    return load_settings(
        database_url=database_url, data_dir=data_dir, log_level="WARNING", **(fakes.settings_overrides() | overrides)
    )


def quiet_logs() -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")


# --- the simulated world ---------------------------------------------------------------------------------
def bookable_day(now: datetime, days: int = 2, hour: int = 10, minute: int = 0) -> datetime:
    """A weekday at least `days` ahead, at `hour`:`minute` Paris time (a slot a site would offer)."""
    day = (now.astimezone(PARIS) + timedelta(days=days)).date()
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS).astimezone(UTC)


def slot(slot_id: int, target_id: str, start: datetime, visible_from: datetime, planning: str | None = None) -> SimSlot:
    return SimSlot(slot_id, target_id, start, visible_from, None, planning_id=planning)


# --- statistics and resources --------------------------------------------------------------------------
def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0–100) by linear interpolation; None without values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def rounded(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def peak_rss_mb(*, children: bool = False) -> float:
    """Peak resident memory of this process (or of its finished children), in MiB (Linux: ru_maxrss in KiB)."""
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    return resource.getrusage(who).ru_maxrss / 1024.0


@dataclass
class Timer:
    """Seconds since the benchmark started, for the `elapsed_s` figure and progress lines."""

    started: float = 0.0

    def __post_init__(self) -> None:
        self.started = time.monotonic()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started


def progress(message: str) -> None:
    """One progress line on stderr (stdout's last line is the JSON)."""
    print(message, file=sys.stderr, flush=True)


async def sleep_until(wall: float) -> None:
    """Sleep until the wall-clock time `wall` (`time.time()`)."""
    delay = wall - time.time()
    if delay > 0:
        await asyncio.sleep(delay)


# --- the store on either engine ------------------------------------------------------------------------
@contextlib.asynccontextmanager
async def store_url(engine: str, folder: Path) -> AsyncIterator[str | None]:
    """A migrated, empty store URL: SQLite in `folder`, or a private PostgreSQL schema (None, with a
    message on stderr, when no PostgreSQL server is reachable)."""
    from creneau.store import Store

    if engine == "sqlite":
        url = f"sqlite+aiosqlite:///{(folder / 'bench.sqlite3').as_posix()}"
        await (await Store.open(url)).close()
        yield url
        return
    from creneau.store.testing import postgres_base_url, temp_pg_schema

    base, reason = postgres_base_url()
    if base is None:
        progress(f"PostgreSQL skipped: {reason}")
        yield None
        return
    with temp_pg_schema(base) as url:
        await (await Store.open(url)).close()
        yield url


def emit(figures: dict[str, Any]) -> None:
    """The final stdout line: one JSON object."""
    print(json.dumps(figures, ensure_ascii=False))


def env_for_child(settings: Settings, **extra: str) -> dict[str, str]:
    """Environment for a child process that must build the same settings (CRENEAU_* variables)."""
    env = dict(os.environ)
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if isinstance(value, str | Path):
            env[f"CRENEAU_{name.upper()}"] = str(value)
        elif value is not None:
            env[f"CRENEAU_{name.upper()}"] = json.dumps(value)
    env.update(extra)
    return env


def chunks(items: Sequence[T], size: int) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- subscribers -----------------------------------------------------------------------------------------
def channel(channel_kind: str, **data: str) -> tuple[str, str, dict[str, Any]]:
    """One (kind, address, stored config) channel, validated the way the CLI validates it."""
    from creneau.notify.registry import parse_destination

    config = parse_destination(channel_kind, data).stored()
    return channel_kind, next(iter(data.values())), dict(config)


def person(target_ids: Sequence[str], *, email: str | None = None, chat: str | None = None) -> Any:
    """A subscriber with an e-mail and/or a Telegram channel watching `target_ids` (for the bulk import)."""
    from creneau.store import NewSubscription

    channels = []
    if email is not None:
        channels.append(channel("email", address=email))
    if chat is not None:
        kind = "channel" if chat.startswith(("@", "-100")) else "chat"
        channels.append(channel("telegram", chat=chat, kind=kind))
    return NewSubscription(email, channels, list(target_ids))
