# SPDX-License-Identifier: AGPL-3.0-or-later
"""The sender loop: lease deliveries from the outbox, send each through its channel, mark the result.

One *lane* per channel kind (its own queue, workers and rate limiter), so a slow or rate-capped kind
(Telegram's 30 msg/s) never holds up another. A lane leases only what it can send well within the lease
(`lease_deliveries(kinds=[kind])`, in the outbox's fair order: transition by transition, each one in its
own random order), broadcast destinations first (a public Telegram channel, a per-target ntfy topic: one
post reaches all their readers). For every delivery, in this order:

1. rebuild its message (`fanout.message_for`) and parse the channel's stored config; during its owner's quiet
   hours it goes back to the outbox until they end (`notify/quiet.py`);
2. take a token from the kind's global bucket and the destination's bucket BEFORE any network call; a
   wait longer than `max_wait_s` defers the delivery (`mark_retry`) instead of holding a worker;
3. `transport.send` once; then, with the result:
   - accepted → `mark_sent_many`, batched every `flush_s`: a crash can only re-send what the provider
     accepted in that short window (at-least-once; Message-IDs and Idempotency-Keys let receivers dedupe);
   - `TransientError` → `mark_retry` at now + exponential backoff with jitter, never sooner than the
     provider's `retry_after_s`;
   - `PermanentError` → `mark_permanent_failure`; with `disable_channel` the channel is disabled with the
     reason recorded, and its owner is told through their other channels.

The sender wakes on the store's DELIVERIES wake-up (LISTEN/NOTIFY on PostgreSQL, in-process on SQLite) and
polls every `poll_s` anyway. `stop()` gives unstarted deliveries back and lets the ones in flight finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from creneau import metrics
from creneau.notify import fanout
from creneau.notify.base import ConfigError, DestinationConfig
from creneau.notify.errors import PermanentError, TransientError
from creneau.notify.lanes import Broadcasts, Lane, split_rate
from creneau.notify.links import UnofficialLinkError
from creneau.notify.quiet import QuietGate
from creneau.notify.ratelimit import Clock as MonotonicClock
from creneau.notify.ratelimit import RateLimiter
from creneau.notify.registry import Transports, channel_spec, kinds
from creneau.notify.reports import DeliveryReport, SenderOptions, SenderStats
from creneau.sim.clock import Clock
from creneau.store import DELIVERIES, Delivery, DeliveryStatus, Store, Subscription

__all__ = ["DeliveryReport", "Sender", "SenderOptions", "SenderStats"]  # options and reports live in reports.py

log = logging.getLogger(__name__)


class Sender:
    """`await run()` until `stop()`, or `await drain()` to send everything due now (tests, `--once`)."""

    def __init__(
        self,
        store: Store,
        transports: Transports,
        *,
        clock: Clock,
        options: SenderOptions,
        describe: fanout.Describe = fanout.no_names,
        limiter_clock: MonotonicClock = time.monotonic,
        rng: random.Random | None = None,
        on_delivery: Callable[[DeliveryReport], None] | None = None,
        quiet: QuietGate | None = None,
    ) -> None:
        self.store = store
        self.transports = transports
        self.clock = clock
        self.options = options
        self.describe = describe
        self.on_delivery = on_delivery
        self.quiet = quiet or QuietGate(store, limiter_clock)
        self.stats = SenderStats()
        self._rng = rng or random.Random()
        capacity = max(1, min(options.batch, options.concurrency * 8))
        self._broadcasts = Broadcasts(limiter_clock)
        self._lanes = []
        for kind in options.kinds or kinds():
            spec = channel_spec(kind)
            limiter = RateLimiter(split_rate(spec.limits.global_rate, options.processes), limiter_clock)
            self._lanes.append(Lane(kind, spec, limiter, capacity))
        self._specs = {lane.kind: lane.spec for lane in self._lanes}
        self._sent: list[tuple[Delivery, str | None]] = []
        self._unstarted: list[Delivery] = []
        self._flushing = asyncio.Lock()
        self._wake = asyncio.Event()
        self._stopping = False
        self.running = False
        """True while `run()` is listening for wake-ups."""
        self._background: list[asyncio.Task[None]] = []

    async def prepare(self) -> None:
        """Open every lane's transport now (imports, pools, bots), so the first alert does not wait for
        them. A channel the operator has not configured is logged; its deliveries wait for a fix."""
        for lane in self._lanes:
            try:
                await self.transports.get(lane.kind)
            except ConfigError as exc:
                log.warning("%s channel unavailable: %s; its deliveries wait until this is fixed", lane.kind, exc)
        await self._broadcasts.refresh(self.store, self._specs, force=True)

    # --- leasing -------------------------------------------------------------------------------------
    async def pump(self) -> int:
        """Lease what each half-empty lane has room for and queue it; returns how many were leased."""
        now = self.clock.now()
        await self._broadcasts.refresh(self.store, self._specs)
        total = 0
        for lane in self._lanes:
            if lane.wants_rows and not self._stopping:
                if broadcasts := self._broadcasts.by_kind.get(lane.kind):
                    total += await self._lease(lane, now, broadcasts)
                room = lane.room
                leased = await self._lease(lane, now, None)
                lane.idle = leased < room
                total += leased
            # A worker asks again (wakes the loop) the next time its lane is half empty; a wake it sent
            # while this pump ran stays set, so it is not lost.
            lane.asked = False
        return total

    async def _lease(self, lane: Lane, now: datetime, only: frozenset[int] | None) -> int:
        """Lease into `lane` what it has room for (`only`: just these channels, served first)."""
        if lane.room <= 0 or (only is not None and not only):
            return 0
        leased = await self.store.outbox.lease_deliveries(
            self.options.owner, now, lane.room, self.options.lease_s, kinds=(lane.kind,), channel_ids=only
        )
        for delivery in leased:
            lane.queue.put_nowait(delivery)
        return len(leased)

    def _start(self) -> None:
        for lane in self._lanes:
            while len(lane.workers) < self.options.concurrency:
                name = f"creneau-send-{lane.kind}-{len(lane.workers)}"
                lane.workers.append(asyncio.create_task(self._work(lane), name=name))

    async def drain(self) -> None:
        """Send every delivery due now (by the clock) and wait until each one is marked."""
        self._start()
        while True:
            self._refresh_lanes()
            leased = await self.pump()
            for lane in self._lanes:
                await lane.queue.join()
            await self.flush()
            if leased == 0:
                return

    # --- one delivery --------------------------------------------------------------------------------
    async def _work(self, lane: Lane) -> None:
        while True:
            delivery = await lane.queue.get()
            try:
                await self._deliver(lane, delivery)
            except Exception:  # top of one delivery: log; its lease ends and it is sent again later
                log.exception("delivery %d (%s) failed unexpectedly", delivery.id, lane.kind)
            finally:
                lane.queue.task_done()
                if lane.hungry and not lane.asked:
                    lane.asked = True
                    self._wake.set()

    async def _deliver(self, lane: Lane, delivery: Delivery) -> None:
        now = self.clock.now()
        if (now - delivery.created_at).total_seconds() > self.options.max_age_s:
            hours = self.options.max_age_s / 3600
            await self._give_up(delivery, f"not delivered within {hours:g} h; given up", now, disable=False)
            return
        try:
            config = lane.spec.parse_config(delivery.channel.config)
        except ConfigError as exc:
            await self._give_up(delivery, f"invalid stored destination: {exc}", now, disable=True)
            return
        try:
            message = fanout.message_for(delivery, self.describe)
        except (fanout.UnsupportedDelivery, UnofficialLinkError, ValueError) as exc:
            log.error("delivery %d cannot be built: %s", delivery.id, exc)
            await self._give_up(delivery, str(exc), now, disable=False)
            return
        if held := await self.quiet.hold_until(delivery.channel.subscriber_id, message.kind, now):
            await self.store.outbox.release(delivery, until=held)  # the owner's quiet hours (notify/quiet.py)
            return
        if not await self._token(lane, delivery, config):
            return
        try:
            transport = await self.transports.get(lane.kind)
        except ConfigError as exc:  # the operator's configuration, not the subscriber's: never disable
            await self._retry(delivery, f"{lane.kind} not configured: {exc}", None)
            return
        try:
            receipt = await transport.send(message, config, locale=fanout.locale_of(delivery))
        except TransientError as exc:
            await self._retry(delivery, f"{exc.code or lane.kind}: {exc.reason}", exc.retry_after_s)
        except PermanentError as exc:
            error = f"{exc.code or lane.kind}: {exc.reason}"
            await self._give_up(delivery, error, self.clock.now(), disable=exc.disable_channel, config=config)
        except Exception as exc:  # a transport bug must not cost anyone their channel: retry later
            log.exception("channel %s raised an unexpected error on delivery %d", lane.kind, delivery.id)
            await self._retry(delivery, f"{lane.kind}: unexpected {type(exc).__name__}", None)
        else:
            metrics.delivery_accepted(lane.kind, delivery.created_at, self.clock.now())
            self._sent.append((delivery, receipt.provider_id))
            if len(self._sent) >= self.options.batch:
                await self.flush()

    async def _token(self, lane: Lane, delivery: Delivery, config: DestinationConfig) -> bool:
        """Take a send token (global + destination); False when the delivery was deferred instead."""
        destination, rate = config.destination_key(), lane.spec.destination_rate(config)
        while (wait := lane.limiter.take(destination, rate)) > 0.0:
            if wait > self.options.max_wait_s:
                until = self.clock.now() + timedelta(seconds=wait)
                error = f"deferred by the {lane.kind} rate limit of {config.redacted()}"
                if await self.store.outbox.mark_retry(delivery, next_attempt_at=until, error=error):
                    self.stats.deferred += 1
                return False
            await asyncio.sleep(wait)
        return True

    def backoff_s(self, attempts: int) -> float:
        raw = min(self.options.retry_cap_s, self.options.retry_base_s * 2.0 ** max(0, attempts - 1))
        return raw * (0.5 + 0.5 * self._rng.random())

    async def _retry(self, delivery: Delivery, error: str, retry_after_s: float | None) -> None:
        now = self.clock.now()
        delay = max(self.backoff_s(delivery.attempts), retry_after_s or 0.0)
        marked = await self.store.outbox.mark_retry(
            delivery, next_attempt_at=now + timedelta(seconds=delay), error=error
        )
        if marked:
            self.stats.retried += 1
        self._report(delivery, DeliveryStatus.FAILED, now, error=error, lost=not marked)

    async def _give_up(
        self, delivery: Delivery, error: str, now: datetime, *, disable: bool, config: DestinationConfig | None = None
    ) -> None:
        marked = await self.store.outbox.mark_permanent_failure(delivery, error=error, now=now, disable_channel=disable)
        if marked:
            self.stats.dead += 1
        self._report(delivery, DeliveryStatus.DEAD, now, error=error, lost=not marked)
        if not (marked and disable):
            return
        self.stats.disabled += 1
        shown = config.redacted() if config is not None else f"channel {delivery.channel.id}"
        log.warning("%s channel %d (%s) disabled: %s", delivery.channel.kind, delivery.channel.id, shown, error)
        told = await fanout.enqueue_channel_disabled(self.store, delivery, destination=shown, reason=error, now=now)
        if not told:
            log.info("the owner of channel %d has no other active channel to be told", delivery.channel.id)

    def _report(
        self,
        delivery: Delivery,
        status: DeliveryStatus,
        at: datetime,
        *,
        error: str | None = None,
        ref: str | None = None,
        lost: bool = False,
    ) -> None:
        if lost:
            self.stats.lost_leases += 1
            log.warning("lost the lease on delivery %d before marking it; another sender may resend it", delivery.id)
            return
        metrics.delivery_done(delivery.channel.kind, status.value)
        if self.on_delivery is not None:
            kind = delivery.channel.kind
            self.on_delivery(DeliveryReport(delivery.id, delivery.transition_id, kind, status, at, error, ref))

    async def flush(self) -> None:
        """Mark every accepted delivery sent, in one transaction."""
        async with self._flushing:
            batch, self._sent = self._sent, []
            if not batch:
                return
            now = self.clock.now()
            marked = await self.store.outbox.mark_sent_many(batch, now=now)
            for delivery, ref in batch:
                if delivery.id in marked:
                    self.stats.sent += 1
                self._report(delivery, DeliveryStatus.SENT, now, ref=ref, lost=delivery.id not in marked)

    # --- the loop ------------------------------------------------------------------------------------
    async def run(self) -> None:
        """Send until `stop()`; then give back what was not started and finish what was (`grace_s`)."""
        sub = await self.store.subscribe(DELIVERIES)
        self._background = [
            asyncio.create_task(self._forward(sub), name="creneau-sender-wakeups"),
            asyncio.create_task(self._flusher(), name="creneau-sender-flush"),
        ]
        await self.prepare()
        self._start()
        self.running = True
        try:
            while not self._stopping:
                self._wake.clear()
                leased = await self.pump()
                if leased and any(lane.wants_rows for lane in self._lanes):
                    continue
                try:
                    await asyncio.wait_for(self._wake.wait(), await self._idle_timeout())
                except TimeoutError:
                    self._refresh_lanes()  # something may be due now: a retry, an expired lease
        finally:
            sub.close()
            await self._shutdown()
            self.running = False

    async def _forward(self, sub: Subscription) -> None:
        while True:
            await sub.wait(None)
            self._refresh_lanes()  # new deliveries were enqueued
            self._wake.set()

    def _refresh_lanes(self) -> None:
        for lane in self._lanes:
            lane.idle = False

    async def _flusher(self) -> None:
        while True:
            await asyncio.sleep(self.options.flush_s)
            # Shielded: cancelling this task at shutdown must not drop a batch being marked.
            await asyncio.shield(self.flush())

    async def _idle_timeout(self) -> float:
        due = await self.store.outbox.next_due_at()
        wait = (due - self.clock.now()).total_seconds() if due is not None else self.options.poll_s
        # Due already yet nothing leased: a busy lane (its workers wake us when it is half empty), another
        # kind (CRENEAU_SENDER_KINDS), or rows another sender just took.
        return self.options.poll_s if wait <= 0 else max(0.005, min(self.options.poll_s, wait))

    def stop(self) -> None:
        """No new send starts from now on; `run()` gives the queued deliveries back and returns once the
        ones in flight are marked (or `grace_s` passed)."""
        self._stopping = True
        self._take_unstarted()
        self._wake.set()

    def _take_unstarted(self) -> None:
        for lane in self._lanes:
            while not lane.queue.empty():
                self._unstarted.append(lane.queue.get_nowait())
                lane.queue.task_done()

    async def close(self) -> None:
        """Stop the workers `drain()` started (`run()` stops its own)."""
        self._stopping = True
        await self._shutdown()

    async def _shutdown(self) -> None:
        self._take_unstarted()
        unstarted, self._unstarted = self._unstarted, []
        for delivery in unstarted:
            await self.store.outbox.release(delivery)
        busy = [lane.queue.join() for lane in self._lanes]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*busy), self.options.grace_s)
        workers: Sequence[asyncio.Task[None]] = [t for lane in self._lanes for t in lane.workers]
        for task in (*workers, *self._background):
            task.cancel()
        await asyncio.gather(*workers, *self._background, return_exceptions=True)
        for lane in self._lanes:
            lane.workers.clear()
        self._background = []
        await self.flush()
