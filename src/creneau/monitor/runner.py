# SPDX-License-Identifier: AGPL-3.0-or-later
"""The monitor loop: claim due targets, check each ONE time for all its watchers, record what changed.

One round (`tick`) claims due targets from the store with a lease, asks the policy whether each target's
host may take a request now (minimum gap, concurrency, daily budget) and gives back the ones it may not,
then starts a check per claimed target. A check (`_check`):

1. runs the target's adapter (`checks.run_check`: never raises);
2. feeds the detector with the target's *persisted* state;
3. tells the policy (learning, backoff, next check time);
4. `store.targets.complete_check`: the observation (raw page kept unless a routine "no slot"), the new
   schedule, the detector state, its transitions and one delivery per (matching watch, active channel),
   in ONE transaction, releasing the lease;
5. acts on health transitions, once each: a pause after repeated blocks is recorded with a "cannot be
   watched right now" notice to every watcher; every change is logged once (style rule 12).

`human_check_required` targets wait for the captcha desk; the runner watches the challenges they filed and
reschedules the target as soon as a person answered one. Several runners (processes, machines) share one
PostgreSQL store: leases keep any two from checking one target at once, and a crashed runner's claims come
back when their lease ends. `stop()` (SIGTERM) stops claiming and lets in-flight checks finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from creneau import metrics
from creneau.detector import Detection, Transition, detect
from creneau.monitor import checks
from creneau.monitor.backoff import Health, HealthChange
from creneau.monitor.policy import Policy
from creneau.sim.clock import Clock
from creneau.sources.base import SourceDeps
from creneau.sources.captcha import ChallengeStatus
from creneau.store import TARGETS, ClaimedTarget, Store, Subscription
from creneau.types import Observation, Outcome

log = logging.getLogger(__name__)
_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class RunnerOptions:
    """`owner` names this runner in leases (host:pid:monitor); `concurrency` caps checks in flight."""

    owner: str
    concurrency: int = 8
    lease_s: float = 300.0
    check_timeout_s: float = 240.0
    poll_s: float = 5.0
    sync_s: float = 60.0
    grace_s: float = 30.0
    claim_batch: int = 8


@dataclass(frozen=True, slots=True)
class CheckReport:
    """One finished check, for live views (`creneau demo`) and tests."""

    target_id: str
    observation: Observation
    transitions: tuple[Transition, ...]
    deliveries: int
    next_check_at: datetime
    owned: bool


@dataclass(slots=True)
class RunnerStats:
    checks: int = 0
    by_outcome: dict[str, int] = field(default_factory=dict)
    transitions: int = 0
    deliveries: int = 0
    lost_leases: int = 0
    released: int = 0


class MonitorRunner:
    """Build it with the store, the adapters' dependencies, a clock and the policy; `await run()` until
    `stop()`, or drive it round by round with `tick()` + `wait_idle()` (tests, `creneau serve --once`)."""

    def __init__(
        self,
        store: Store,
        deps: SourceDeps,
        *,
        clock: Clock,
        options: RunnerOptions,
        policy: Policy | None = None,
        on_check: Callable[[CheckReport], None] | None = None,
    ) -> None:
        self.store = store
        self.deps = deps
        self.clock = clock
        self.options = options
        self.policy = policy or Policy()
        self.on_check = on_check
        self.stats = RunnerStats()
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._awaiting_human: dict[str, set[str]] = {}
        self._wake = asyncio.Event()
        self._resync = False
        self._stopping = False
        self._next_sync: datetime | None = None
        self._next_realloc: datetime | None = None

    # --- one round ---------------------------------------------------------------------------------
    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    async def tick(self, *, sync: bool = False) -> int:
        """Start every check that is due and allowed now; returns how many started."""
        now = self.clock.now()
        if sync or self._next_sync is None or now >= self._next_sync:
            await self.sync(now)
        await self._resume_answered(now)
        started = 0
        while not self._stopping and (free := self.options.concurrency - self.in_flight) > 0:
            claimed = await self.store.targets.claim_due_targets(
                self.options.owner,
                now,
                min(free, self.options.claim_batch),
                self.options.lease_s,
                exclude_hosts=tuple(checks.host_waits(self.policy, now)),
            )
            if not claimed:
                break
            begun = 0
            for item in claimed:
                began, not_before = self._begin(item, now)
                if began:
                    begun += 1
                else:
                    # Not before its host allows it, else the same target would be claimed again at once.
                    await self.store.targets.release(item.target.id, self.options.owner, next_check_at=not_before)
                    self.stats.released += 1
            started += begun
            if begun == 0:
                break
        return started

    async def wait_idle(self) -> None:
        """Wait until every check started so far has been recorded."""
        while self._tasks:
            await asyncio.gather(*tuple(self._tasks.values()), return_exceptions=True)

    async def sync(self, now: datetime) -> None:
        """Align the policy with the watched targets (new watches start, abandoned targets stop) and
        re-share the budget once a day."""
        watched = await self.store.targets.list_targets(watched_only=True)
        ids = {record.target.id for record in watched}
        for record in watched:
            plan = self.policy.plans.get(record.target.id)
            if plan is None or not plan.watched:
                self.policy.watch(record.target.id, record.target.host, record.target.system, now)
        for target_id, plan in self.policy.plans.items():
            if plan.watched and target_id not in ids and target_id not in self._tasks:
                self.policy.unwatch(target_id, now)
        if self._next_realloc is None or now >= self._next_realloc:
            self.policy.reallocate(now)
            self._next_realloc = now + _DAY
        self._next_sync = now + timedelta(seconds=self.options.sync_s)

    def _begin(self, item: ClaimedTarget, now: datetime) -> tuple[bool, datetime | None]:
        """Start the claimed check; if it cannot start, when its host allows it (None: as soon as there is room)."""
        target = item.target
        if self.in_flight >= self.options.concurrency or target.id in self._tasks:
            return False, None
        plan = self.policy.plans.get(target.id)
        if plan is None or not plan.watched:
            plan = self.policy.watch(target.id, target.host, target.system, now)
        stored = item.state.last_checked_at
        if stored is not None and (plan.last_check is None or stored > plan.last_check):
            # Checked elsewhere (another process, an earlier run) since we last did: the store knows best.
            plan.health = checks.health_from_state(item.state, now)
            plan.last_check = stored
        if (wait := self.policy.host_wait(target.id, now)) is not None:
            return False, wait
        self.policy.begin(target.id, now)
        task = asyncio.create_task(self._check(item), name=f"creneau-check-{target.id}")
        self._tasks[target.id] = task
        task.add_done_callback(functools.partial(self._done, target.id))
        return True, None

    def _done(self, target_id: str, _task: asyncio.Task[None]) -> None:
        self._tasks.pop(target_id, None)
        self._wake.set()

    # --- one check ---------------------------------------------------------------------------------
    async def _check(self, item: ClaimedTarget) -> None:
        target = item.target
        try:
            observation = await checks.run_check(
                target, self.deps, timeout_s=self.options.check_timeout_s, clock=self.clock
            )
            await self._record(item, observation)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await asyncio.shield(self.store.targets.release(target.id, self.options.owner))
            raise
        except Exception:  # top of one check task: log, give the lease back, keep monitoring
            log.exception("recording the check of %s failed; its lease is given back", target.id)
            with contextlib.suppress(Exception):
                await self.store.targets.release(target.id, self.options.owner)

    async def _record(self, item: ClaimedTarget, observation: Observation) -> None:
        target = item.target
        end = self.clock.now()
        detection: Detection = detect(item.detector, observation)
        changes = self.policy.record(observation, detection.transitions, now=end)
        plan = self.policy.plans[target.id]
        next_at = plan.next_at or end + timedelta(seconds=self.policy.settings.cadence_s)
        health = plan.health
        for change in changes:
            if change.old is Health.PAUSED and change.new is not Health.PAUSED:
                await self.store.targets.resume(target.id, reason=change.reason, now=end, tell_watchers=False)
        recorded = await self.store.targets.complete_check(
            target.id,
            self.options.owner,
            observation,
            next_at,
            detection=detection,
            consecutive_failures=health.failures,
            backoff_until=health.until if health.status is Health.BACKING_OFF else None,
            keep_page=checks.keep_page(observation),
            now=end,
        )
        self._count(observation, recorded.deliveries, recorded.owned, len(recorded.transitions))
        handed = [tr for tr, kept in zip(detection.transitions, recorded.transitions, strict=False) if kept.created]
        metrics.check_recorded(target.system.value, observation, handed)  # creneau_checks_total, openings…
        if not recorded.owned:
            log.warning("lost the lease on %s before recording its check; the new holder decides", target.id)
        for change in changes:
            await self._on_health_change(target.id, change, end)
        self._report_layout(item, observation)
        if observation.outcome is Outcome.HUMAN_CHECK_REQUIRED:
            await self._note_challenges(target.id, end)
        log.debug(
            "checked %s: %s (%d slots), next at %s",
            target.id,
            observation.outcome.value,
            len(observation.slots),
            next_at.isoformat(),
        )
        if self.on_check is not None:
            transitions = detection.transitions if recorded.owned else ()
            self.on_check(
                CheckReport(target.id, observation, transitions, recorded.deliveries, next_at, recorded.owned)
            )

    def _count(self, observation: Observation, deliveries: int, owned: bool, transitions: int) -> None:
        stats = self.stats
        stats.checks += 1
        key = observation.outcome.value
        stats.by_outcome[key] = stats.by_outcome.get(key, 0) + 1
        stats.transitions += transitions
        stats.deliveries += deliveries
        stats.lost_leases += 0 if owned else 1

    async def _on_health_change(self, target_id: str, change: HealthChange, now: datetime) -> None:
        """Log once per transition; a pause is recorded and every watcher is told (once)."""
        if change.new is Health.OK:
            log.info("target %s recovered: %s", target_id, change.reason)
            self._awaiting_human.pop(target_id, None)
            return
        log.warning("target %s is %s: %s", target_id, change.new.value, change.reason)
        if change.new is Health.PAUSED:
            until = self.policy.plans[target_id].health.until or now + _DAY
            await self.store.targets.pause(target_id, until=until, reason=change.reason, now=now)

    def _report_layout(self, item: ClaimedTarget, observation: Observation) -> None:
        if observation.outcome is Outcome.LAYOUT_UNKNOWN and item.state.last_outcome is not Outcome.LAYOUT_UNKNOWN:
            log.warning(
                "target %s shows a page creneau does not recognise (%s); kept as page %s for review",
                item.target.id,
                observation.evidence,
                observation.page_digest or "-",
            )

    # --- captcha desk ------------------------------------------------------------------------------
    async def _note_challenges(self, target_id: str, now: datetime) -> None:
        desk = self.deps.captcha_desk
        if desk is None:
            return
        pending = await desk.pending(now, target_id)
        if pending:
            self._awaiting_human.setdefault(target_id, set()).update(c.id for c in pending)

    async def _resume_answered(self, now: datetime) -> None:
        """A person answered a target's captcha: check it again right away (the adapter submits the answer)."""
        desk = self.deps.captcha_desk
        if desk is None or not self._awaiting_human:
            return
        for target_id, ids in list(self._awaiting_human.items()):
            for challenge_id in sorted(ids):
                challenge = await desk.get(challenge_id)
                if challenge is None or challenge.status is not ChallengeStatus.PENDING:
                    ids.discard(challenge_id)
                if challenge is not None and challenge.status is ChallengeStatus.ANSWERED:
                    log.info("captcha %s of %s answered; checking again now", challenge_id, target_id)
                    if target_id in self.policy.plans:
                        self.policy.human_answered(target_id, now)
                    await self.store.targets.reschedule(target_id, now, only_earlier=True)
            if not ids:
                del self._awaiting_human[target_id]

    # --- the loop ----------------------------------------------------------------------------------
    async def run(self) -> None:
        """Monitor until `stop()`; then let in-flight checks finish (up to `grace_s`)."""
        sub = await self.store.subscribe(TARGETS)
        forward = asyncio.create_task(self._forward(sub), name="creneau-monitor-wakeups")
        try:
            while not self._stopping:
                self._wake.clear()
                resync, self._resync = self._resync, False
                started = await self.tick(sync=resync)
                if started and self.in_flight < self.options.concurrency:
                    continue
                timeout = await self._idle_timeout()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout)
        finally:
            forward.cancel()
            sub.close()
            await self._finish()

    async def _forward(self, sub: Subscription) -> None:
        """A new watch, a resumed or rescheduled target: look at the watched set again and claim."""
        while True:
            await sub.wait(None)
            self._resync = True
            self._wake.set()

    async def _idle_timeout(self) -> float:
        """How long to sleep: until the next target due on a host we may ask, or that host's wait."""
        now = self.clock.now()
        waits = checks.host_waits(self.policy, now)
        candidates = [self.options.poll_s, *((when - now).total_seconds() for when in waits.values())]
        if self.in_flight < self.options.concurrency:  # when full, a finishing check wakes us
            due = await self.store.targets.next_due_at(exclude_hosts=tuple(waits))
            if due is not None:
                candidates.append((due - now).total_seconds())
        if self._awaiting_human:
            candidates.append(1.0)  # look at the captcha desk again soon
        return max(0.05, min(candidates))

    def stop(self) -> None:
        """Stop claiming; `run()` returns once the checks in flight are recorded (or `grace_s` passed)."""
        self._stopping = True
        self._wake.set()

    async def _finish(self) -> None:
        if not self._tasks:
            return
        _, pending = await asyncio.wait(tuple(self._tasks.values()), timeout=self.options.grace_s)
        for task in pending:
            task.cancel()
        if pending:
            log.warning(
                "%d checks did not finish within %.0f s; their leases are given back",
                len(pending),
                self.options.grace_s,
            )
            await asyncio.gather(*pending, return_exceptions=True)
