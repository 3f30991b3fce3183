# SPDX-License-Identifier: AGPL-3.0-or-later
"""Clocks: the simulator, the monitor and the benchmarks take `now` from one of these, never from the OS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock tests move by hand (no sleeps)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        self._now = when

    def advance(self, seconds: float) -> datetime:
        self._now += timedelta(seconds=seconds)
        return self._now


class ScenarioClock:
    """Maps real time onto scenario time: scenario `start` at the moment of creation, running `speed`× faster."""

    def __init__(self, start: datetime, speed: float = 1.0, real: Clock | None = None) -> None:
        self._real = real or SystemClock()
        self._origin = self._real.now()
        self._start = start
        self.speed = speed

    def now(self) -> datetime:
        return self._start + (self._real.now() - self._origin) * self.speed
