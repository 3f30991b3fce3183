# SPDX-License-Identifier: AGPL-3.0-or-later
"""Token buckets: one global bucket per channel kind and one per destination.

Pure: the clock is a function returning monotonic seconds, passed in, so tests and simulations move it by
hand. `RateLimiter.take()` either grants a send (returns 0.0, both buckets debited) or says how long to
wait (nothing debited), so a refused caller never burns a token. The guarantee, checked by hypothesis:
over any window of `T` seconds a bucket grants at most `burst + per_s * T` sends.

The limiter is per process. Several sender processes sharing one provider cap (Telegram's 30 msg/s per
bot) must split the rate between them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class Rate:
    """`per_s` sends per second on average, up to `burst` at once after an idle period."""

    per_s: float
    burst: int = 1

    def __post_init__(self) -> None:
        if self.per_s <= 0 or self.burst < 1:
            raise ValueError("a rate needs per_s > 0 and burst >= 1")

    @classmethod
    def per_minute(cls, count: float, burst: int = 1) -> Rate:
        return cls(count / 60.0, burst)


class TokenBucket:
    """A bucket holding up to `rate.burst` tokens, refilled continuously at `rate.per_s`."""

    __slots__ = ("_tokens", "_updated", "rate")

    def __init__(self, rate: Rate, now: float) -> None:
        self.rate = rate
        self._tokens = float(rate.burst)
        self._updated = now

    def _refill(self, now: float) -> None:
        if now > self._updated:
            self._tokens = min(float(self.rate.burst), self._tokens + (now - self._updated) * self.rate.per_s)
            self._updated = now

    def wait(self, now: float) -> float:
        """Seconds until one token is available (0.0 when one is there now). Takes nothing."""
        self._refill(now)
        missing = 1.0 - self._tokens
        # A tiny epsilon keeps float rounding from granting a token a hair early.
        return 0.0 if missing <= 1e-9 else missing / self.rate.per_s

    def take(self, now: float) -> float:
        """Take one token if there is one (returns 0.0); otherwise return the wait and take nothing."""
        delay = self.wait(now)
        if delay == 0.0:
            self._tokens -= 1.0
        return delay

    def is_full(self, now: float) -> bool:
        self._refill(now)
        return self._tokens >= self.rate.burst


class RateLimiter:
    """A global bucket plus one bucket per destination key, for one channel kind.

    Idle destination buckets (full again) are dropped once more than `max_destinations` are held, so
    memory stays bounded however many destinations pass through.
    """

    def __init__(self, global_rate: Rate | None, clock: Clock, *, max_destinations: int = 50_000) -> None:
        self._clock = clock
        self._global = TokenBucket(global_rate, clock()) if global_rate else None
        self._buckets: dict[str, TokenBucket] = {}
        self._max = max_destinations

    def take(self, destination: str, rate: Rate | None) -> float:
        """Grant one send to `destination` (0.0) or return the seconds to wait before asking again."""
        now = self._clock()
        bucket = self._bucket(destination, rate, now) if rate else None
        delay = max(bucket.wait(now) if bucket else 0.0, self._global.wait(now) if self._global else 0.0)
        if delay > 0.0:
            return delay
        if bucket:
            bucket.take(now)
        if self._global:
            self._global.take(now)
        return 0.0

    async def acquire(
        self, destination: str, rate: Rate | None, *, sleep: Callable[[float], Awaitable[object]] = asyncio.sleep
    ) -> None:
        """Wait (with `sleep`) until `take()` grants a send."""
        while (delay := self.take(destination, rate)) > 0.0:
            await sleep(delay)

    def _bucket(self, destination: str, rate: Rate, now: float) -> TokenBucket:
        bucket = self._buckets.get(destination)
        if bucket is None or bucket.rate != rate:
            if len(self._buckets) >= self._max:
                self._prune(now)
            bucket = self._buckets[destination] = TokenBucket(rate, now)
        return bucket

    def _prune(self, now: float) -> None:
        for key in [k for k, b in self._buckets.items() if b.is_full(now)]:
            del self._buckets[key]

    def __len__(self) -> int:
        return len(self._buckets)
