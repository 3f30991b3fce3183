# SPDX-License-Identifier: AGPL-3.0-or-later
"""What every source adapter provides, and the registry that finds them (kind → module, imported lazily).

An adapter module `creneau.sources.<system>` exposes `ADAPTER`, an object with:
- `system`: its `System`;
- `matches(url) -> bool` and `target_from_url(url) -> Target` (raise SourceError(BAD_INPUT) when the URL
  is not one of its pages);
- `parse(body, *, url, status=200, content_type="", page=None) -> ParseResult`: pure, no I/O;
- `async check(target, deps) -> Observation`: walks the site like a browser with `deps.http`.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from creneau.config import Settings
from creneau.sim.clock import Clock, SystemClock
from creneau.sources.common import digest
from creneau.sources.errors import ErrorKind, SourceError
from creneau.sources.http import Http, Page, retry_after_seconds
from creneau.types import Observation, Outcome, ParseResult, System, Target

if TYPE_CHECKING:
    from creneau.sources.captcha import CaptchaDesk
    from creneau.sources.rdvpref.session import SessionVault

ADAPTER_MODULES: Mapping[System, str] = {
    System.RDVPREF: "creneau.sources.rdvpref",
    System.LEGACY: "creneau.sources.legacy",
    System.ANTS: "creneau.sources.ants",
}


@dataclass
class SourceDeps:
    """Everything an adapter's `check` may use; built once and passed down."""

    http: Http
    clock: Clock = field(default_factory=SystemClock)
    captcha_desk: CaptchaDesk | None = None  # where captchas wait for a person (None: none is filed)
    sessions: SessionVault | None = None  # site sessions opened by answered captchas
    settings: Settings | None = None  # None: the defaults of every setting


class Adapter(Protocol):
    system: System

    def matches(self, url: str) -> bool: ...

    def target_from_url(self, url: str) -> Target: ...

    def parse(
        self, body: bytes, *, url: str, status: int = 200, content_type: str = "", page: str | None = None
    ) -> ParseResult: ...

    async def check(self, target: Target, deps: SourceDeps) -> Observation: ...


def adapter_for(system: System) -> Adapter:
    module = importlib.import_module(ADAPTER_MODULES[system])
    adapter: Adapter = module.ADAPTER
    return adapter


def detect_system(url: str) -> System:
    """Which adapter handles this URL; SourceError(BAD_INPUT) when none does."""
    for system in ADAPTER_MODULES:
        if adapter_for(system).matches(url):
            return system
    raise SourceError(ErrorKind.BAD_INPUT, f"no adapter recognises this URL: {url}")


def observe(
    target: Target,
    result: ParseResult,
    *,
    checked_at_clock: Clock,
    started: float,
    page: Page | None,
) -> Observation:
    """Wrap a parse result and the last page seen into the immutable Observation."""
    body = page.body if page is not None else b""
    return Observation(
        target_id=target.id,
        checked_at=checked_at_clock.now(),
        outcome=result.outcome,
        evidence=result.evidence,
        slots=result.slots if result.outcome is Outcome.SLOTS_AVAILABLE else (),
        notices=result.notices,
        http_status=page.status if page is not None else None,
        duration_s=time.perf_counter() - started,
        url=page.url if page is not None else target.url,
        page=result.page,
        page_digest=digest(body) if body else "",
        raw_page=body,
        retry_after_s=retry_after_seconds(page.headers) if page is not None else None,
    )


def network_error(target: Target, error: SourceError, *, clock: Clock, started: float) -> Observation:
    return Observation(
        target_id=target.id,
        checked_at=clock.now(),
        outcome=Outcome.NETWORK_ERROR,
        evidence=str(error),
        duration_s=time.perf_counter() - started,
        url=target.url,
    )
