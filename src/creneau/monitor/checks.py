# SPDX-License-Identifier: AGPL-3.0-or-later
"""The runner's helpers around one check: running an adapter safely, and the politeness and health views
that tie the in-memory scheduling policy to what the store knows.

- `run_check` never raises: a timeout becomes a `network_error` observation, an adapter bug a
  `layout_unknown` one (inconclusive outcomes never open nor close an opening, so a bug cannot alert).
  Every observation it returns says how many HTTP requests the check sent, failed or abandoned ones too.
- `split_host_rules` gives each of N monitor processes 1/N of every host's limits, so that together they
  stay within what one polite client may ask.
- `health_from_state` rebuilds a target's health from the store's schedule columns when another process
  (or an earlier run) checked the target last: backoff state belongs to the store, not to one process.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from creneau.monitor.backoff import Health, TargetHealth
from creneau.monitor.cost import start_requests
from creneau.monitor.policy import Policy
from creneau.monitor.politeness import HostRules, wait_until
from creneau.sim.clock import Clock
from creneau.sources.base import SourceDeps, adapter_for
from creneau.sources.errors import SourceError
from creneau.sources.http import count_requests
from creneau.store import TargetState
from creneau.types import Observation, Outcome, System, Target

log = logging.getLogger(__name__)


async def run_check(target: Target, deps: SourceDeps, *, timeout_s: float, clock: Clock) -> Observation:
    """One check of `target` through its system's adapter, with the requests it sent. Always returns."""
    with count_requests() as tally:
        observation = await _observe(target, deps, timeout_s=timeout_s, clock=clock)
    return replace(observation, requests=tally.requests)


async def _observe(target: Target, deps: SourceDeps, *, timeout_s: float, clock: Clock) -> Observation:
    started = time.perf_counter()

    def failed(outcome: Outcome, evidence: str) -> Observation:
        return Observation(
            target.id, clock.now(), outcome, evidence, duration_s=time.perf_counter() - started, url=target.url
        )

    try:
        async with asyncio.timeout(timeout_s):
            return await adapter_for(target.system).check(target, deps)
    except TimeoutError:
        return failed(Outcome.NETWORK_ERROR, f"the check took longer than {timeout_s:.0f} s and was abandoned")
    except SourceError as exc:
        return failed(Outcome.NETWORK_ERROR, f"{exc.kind.value}: {exc}")
    except Exception as exc:  # top of one check: an adapter bug must not stop the monitor
        log.exception("check of %s failed inside the %s adapter", target.id, target.system.value)
        return failed(Outcome.LAYOUT_UNKNOWN, f"internal error in the {target.system.value} adapter: {exc!r}")


def keep_page(observation: Observation) -> bool:
    """Keep the raw page of every check except routine "no slot" pages: evidence of what alerted, and every
    error, captcha wall or unrecognised layout for review (stored once per digest)."""
    return observation.outcome is not Outcome.NO_SLOTS


def split_host_rules(rules: Mapping[System, HostRules], processes: int) -> dict[System, HostRules]:
    """Each of `processes` monitors gets 1/N of every limit: N× the gap, 1/N of the concurrency and budgets."""
    if processes <= 1:
        return dict(rules)
    return {
        system: HostRules(
            min_gap_s=r.min_gap_s * processes,
            max_concurrent=max(1, r.max_concurrent // processes),
            hourly_budget=_share(r.hourly_budget, processes),
            daily_budget=_share(r.daily_budget, processes),
            per_minute=_share(r.per_minute, processes),
        )
        for system, r in rules.items()
    }


def _share(budget: int, processes: int) -> int:
    return max(1, budget // processes) if budget else 0


def host_waits(policy: Policy, now: datetime) -> dict[str, datetime]:
    """Hosts that may not take a new check now → when they may (hosts the policy knows of). A host counts as
    free only when its costliest watched target's check fits, so no claimed target is refused for its cost."""
    rules: dict[str, HostRules] = {}
    requests: dict[str, int] = {}
    for plan in policy.plans.values():
        rules.setdefault(plan.host, policy.host_rules(plan))
        if plan.watched:
            requests[plan.host] = max(requests.get(plan.host, 1), start_requests(plan))
    waits = {}
    for host, state in policy.hosts.items():
        if host in rules and (when := wait_until(rules[host], state, now, requests.get(host, 1))) is not None:
            waits[host] = when
    return waits


def health_from_state(state: TargetState, now: datetime) -> TargetHealth:
    """The health the store's columns imply (failure streak, last outcome, backoff and pause)."""
    failures = state.consecutive_failures
    if failures <= 0 and not state.is_paused(now):
        return TargetHealth()
    since = state.last_checked_at
    if state.is_paused(now):
        blocks = failures if state.last_outcome is Outcome.BLOCKED else 0
        return TargetHealth(Health.PAUSED, failures, blocks, 1, state.paused_until, state.pause_reason or "", since)
    if state.last_outcome is Outcome.HUMAN_CHECK_REQUIRED:
        return TargetHealth(Health.NEEDS_HUMAN, failures, 0, 0, state.next_check_at, "captcha", since)
    blocks = failures if state.last_outcome is Outcome.BLOCKED else 0
    reason = f"{state.last_outcome.value if state.last_outcome else 'failure'} ×{failures}"
    return TargetHealth(Health.BACKING_OFF, failures, blocks, 0, state.backoff_until, reason, since)
