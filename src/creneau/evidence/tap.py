# SPDX-License-Identifier: AGPL-3.0-or-later
"""How the monitor feeds the evidence logs: a tap on its `on_check` hook.

The monitor calls `on_check(report)` after recording each check; the tap starts one small task that
records the check's observation (with its raw page, which the store does not keep for routine "no slot"
pages) in the chains of the watches keeping evidence for that target, then passes the report on to the
next hook. Recording costs one read when nobody keeps evidence for the target. `drain()` waits for the
tasks still running (shutdown); a failure is logged and never stops the monitor.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, TypeVar

from creneau.evidence.recorder import EvidenceRecorder
from creneau.store.errors import NotFound
from creneau.types import Observation

if TYPE_CHECKING:
    from creneau.catalog.core import Catalog
    from creneau.config import Settings
    from creneau.evidence.worker import EvidenceWorker
    from creneau.notify.registry import Transports
    from creneau.sim.clock import Clock
    from creneau.store import Store

log = logging.getLogger(__name__)


class _Report(Protocol):
    @property
    def target_id(self) -> str: ...

    @property
    def observation(self) -> Observation: ...


R = TypeVar("R", bound=_Report)


class EvidenceTap:
    def __init__(self, recorder: EvidenceRecorder) -> None:
        self.recorder = recorder
        self._tasks: set[asyncio.Task[None]] = set()

    def hook(self, then: Callable[[R], None] | None = None) -> Callable[[R], None]:
        """An `on_check` hook that records the check, then calls `then` (the caller's own hook)."""

        def on_check(report: R) -> None:
            task = asyncio.get_running_loop().create_task(self.record(report.target_id, report.observation))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            if then is not None:
                then(report)

        return on_check

    async def record(self, target_id: str, observation: Observation) -> None:
        repo = self.recorder.repo
        try:
            if not await repo.has_chains(target_id):
                return
            target = (await repo.store.targets.get(target_id)).target
            await self.recorder.record(target, observation)
        except NotFound:
            return
        except Exception:  # a task of its own: log it, the monitor must go on
            log.exception("could not record the check of %s as evidence", target_id)

    async def drain(self) -> None:
        while self._tasks:
            await asyncio.gather(*tuple(self._tasks), return_exceptions=True)


def build_tap(store: Store, catalog: Catalog | None) -> EvidenceTap:
    """The monitor's evidence tap (see `Service.start`)."""
    from creneau.evidence.repo import EvidenceRepo
    from creneau.evidence.service import describe_with

    return EvidenceTap(EvidenceRecorder(EvidenceRepo(store), describe=describe_with(catalog)))


def build_worker(store: Store, settings: Settings, transports: Transports, clock: Clock) -> EvidenceWorker:
    """The evidence worker of a sending process (reminders go out through its transports)."""
    from creneau.evidence.crypto import load_keyring
    from creneau.evidence.profiles import ProfileRepo
    from creneau.evidence.repo import EvidenceRepo
    from creneau.evidence.worker import EvidenceWorker

    return EvidenceWorker(
        EvidenceRepo(store),
        ProfileRepo(store, load_keyring(settings)),
        transports=transports,
        clock=clock,
        chromium=settings.evidence_chromium,
        capture_timeout_s=settings.evidence_capture_timeout_s,
    )
