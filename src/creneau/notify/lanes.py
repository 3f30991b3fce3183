# SPDX-License-Identifier: AGPL-3.0-or-later
"""The sender's lanes (one queue, worker pool and rate limiter per channel kind) and the broadcast
destinations it serves first."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field

from creneau.notify.base import ChannelSpec, ConfigError
from creneau.notify.ratelimit import Clock as MonotonicClock
from creneau.notify.ratelimit import Rate, RateLimiter
from creneau.store import ChannelStatus, Delivery, Store


def split_rate(rate: Rate | None, processes: int) -> Rate | None:
    """1/N of a provider's global rate for each of N sender processes."""
    if rate is None or processes <= 1:
        return rate
    return Rate(rate.per_s / processes, max(1, rate.burst // processes))


@dataclass(slots=True)
class Lane:
    """One channel kind's deliveries waiting to be sent. `capacity` bounds what is leased ahead, so every
    queued delivery is sent well within its lease; `asked` is set once a worker asked for a refill.
    `idle` is set when a lease found fewer due rows than it asked for: nothing more is due for this kind,
    so refills wait for a wake-up (new deliveries) or the next due time instead of claiming nothing in an
    empty write transaction after every send."""

    kind: str
    spec: ChannelSpec
    limiter: RateLimiter
    capacity: int
    queue: asyncio.Queue[Delivery] = field(default_factory=asyncio.Queue)
    workers: list[asyncio.Task[None]] = field(default_factory=list)
    asked: bool = False
    idle: bool = False

    @property
    def room(self) -> int:
        return self.capacity - self.queue.qsize()

    @property
    def hungry(self) -> bool:
        """Half empty: worth one lease of many rows (leasing a few at a time would cost a transaction each)."""
        return self.queue.qsize() <= self.capacity // 2

    @property
    def wants_rows(self) -> bool:
        return self.hungry and not self.idle


class Broadcasts:
    """Which active channels are broadcast destinations (`DestinationConfig.is_broadcast`), per kind.

    The sender leases their deliveries before anyone's personal ones: one post to a public channel reaches
    all its readers at once. Refreshed at most every `every_s` (new public channels are rare); a channel's
    answer is remembered, so a refresh parses only channels it has not seen yet.
    """

    def __init__(self, clock: MonotonicClock, *, every_s: float = 60.0) -> None:
        self._clock = clock
        self._every_s = every_s
        self._next = float("-inf")
        self._known: dict[int, bool] = {}
        self.by_kind: dict[str, frozenset[int]] = {}

    async def refresh(self, store: Store, specs: Mapping[str, ChannelSpec], *, force: bool = False) -> None:
        if not force and self._clock() < self._next:
            return
        found: dict[str, set[int]] = {}
        for channel in await store.subscribers.list_channels():
            spec = specs.get(channel.kind)
            if spec is None or channel.status is not ChannelStatus.ACTIVE:
                continue
            flag = self._known.get(channel.id)
            if flag is None:
                try:
                    flag = spec.parse_config(channel.config).is_broadcast()
                except ConfigError:
                    flag = False  # the sender gives such a delivery up with the reason
                self._known[channel.id] = flag
            if flag:
                found.setdefault(channel.kind, set()).add(channel.id)
        self.by_kind = {kind: frozenset(ids) for kind, ids in found.items()}
        self._next = self._clock() + self._every_s
