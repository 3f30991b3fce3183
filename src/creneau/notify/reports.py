# SPDX-License-Identifier: AGPL-3.0-or-later
"""The sender's options and what it reports: per delivery (live views, tests) and in totals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from creneau.store import DeliveryStatus

__all__ = ["DeliveryReport", "SenderOptions", "SenderStats"]


@dataclass(frozen=True, slots=True)
class SenderOptions:
    owner: str
    lease_s: float = 120.0
    batch: int = 200
    concurrency: int = 16
    poll_s: float = 5.0
    processes: int = 1
    kinds: tuple[str, ...] | None = None
    max_age_s: float = 86_400.0
    retry_base_s: float = 10.0
    retry_cap_s: float = 3_600.0
    max_wait_s: float = 5.0
    flush_s: float = 0.05
    grace_s: float = 30.0


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """What became of one delivery attempt (for live views and tests)."""

    delivery_id: int
    transition_id: int
    kind: str
    status: DeliveryStatus
    at: datetime
    error: str | None = None
    provider_ref: str | None = None


@dataclass(slots=True)
class SenderStats:
    sent: int = 0
    retried: int = 0
    deferred: int = 0
    dead: int = 0
    disabled: int = 0
    lost_leases: int = 0
