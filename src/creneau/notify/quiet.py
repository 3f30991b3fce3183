# SPDX-License-Identifier: AGPL-3.0-or-later
"""Quiet hours at send time: the sender asks, for each delivery, whether its owner wants it later.

A person sets quiet hours on the web (Paris time, e.g. 22:00–07:30). During them, notices (a page paused,
a captcha to answer, a channel disabled, reminders) wait until the window ends; alerts wait too only when
the person chose so, since a slot announced in the morning is often gone. A held delivery goes back to the
outbox unsent (`outbox.release(until=…)`, the attempt not counted), so nothing is lost and nothing is sent
twice. Deciding at send time rather than at fan-out keeps every enqueue path (alerts, pauses, channel
notices, reminders) covered by one check, and a change of quiet hours applies to what is already queued.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

from creneau.notify.message import MessageKind
from creneau.notify.ratelimit import Clock as MonotonicClock
from creneau.store import Store
from creneau.store.watchers import QuietHours, WatcherRepo


class QuietGate:
    """Everyone's quiet hours, read from the store at most every `every_s` (few people set them)."""

    def __init__(self, store: Store, clock: MonotonicClock = time.monotonic, *, every_s: float = 60.0) -> None:
        self._repo = WatcherRepo(store)
        self._clock = clock
        self._every_s = every_s
        self._next = float("-inf")
        self._windows: dict[int, QuietHours] = {}
        self._refreshing = asyncio.Lock()

    async def hold_until(self, subscriber_id: int, kind: MessageKind, now: datetime) -> datetime | None:
        """None: send now. Otherwise the instant the delivery may go out (the end of the quiet window)."""
        if self._clock() >= self._next:
            async with self._refreshing:  # one read for all the workers that ask at the same moment
                if self._clock() >= self._next:
                    self._windows = await self._repo.quiet_hours()
                    self._next = self._clock() + self._every_s
        window = self._windows.get(subscriber_id)
        if window is None:
            return None
        return window.hold_until(now, urgent=kind is MessageKind.ALERT)
