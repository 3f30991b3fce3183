# SPDX-License-Identifier: AGPL-3.0-or-later
"""One target's schedule as plain data: what the store persists per target for the policy."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from creneau.monitor.backoff import TargetHealth
from creneau.monitor.learning import TargetStats
from creneau.monitor.politeness import Charge
from creneau.monitor.returns import Returns
from creneau.types import System


class CheckReason(StrEnum):
    """Why a check runs; dense reasons go first when several targets are due at once."""

    ANNOUNCED = "announced"  # around an announced publication instant
    WINDOW = "window"  # inside a learned release window
    RETURN = "return"  # when slots that went away may come back (unconfirmed holds, `monitor.returns`)
    PROBE = "probe"  # first try after a pause or a captcha answer
    RETRY = "retry"  # after an error, once the backoff ran out
    ROUTINE = "routine"  # the allocated cadence

    @property
    def priority(self) -> int:
        return _PRIORITY[self]

    @property
    def dense(self) -> bool:
        """Aimed at a moment slots may appear (not the routine cadence, not a retry): its sightings do not
        teach how long openings last."""
        return self in (CheckReason.ANNOUNCED, CheckReason.WINDOW, CheckReason.RETURN)

    @property
    def timed(self) -> bool:
        """Aimed at an instant releases are announced or learned to fall on: its host keeps room for it, and
        routine checks and the more speculative checks for slots coming back give way."""
        return self in (CheckReason.ANNOUNCED, CheckReason.WINDOW)


_PRIORITY = {reason: i for i, reason in enumerate(CheckReason)}


@dataclass(frozen=True, slots=True)
class PlanSummary:
    """What the last allocation concluded about a target (for `explain` and the status board)."""

    label: str
    openings_per_day: float
    median_visible_s: float
    evidence: float
    p_catch: tuple[float, ...]
    requests_per_day: float
    windows: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "openings_per_day": self.openings_per_day,
            "median_visible_s": self.median_visible_s,
            "evidence": self.evidence,
            "p_catch": list(self.p_catch),
            "requests_per_day": self.requests_per_day,
            "windows": self.windows,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PlanSummary:
        return cls(
            str(data["label"]),
            float(data["openings_per_day"]),
            float(data["median_visible_s"]),
            float(data["evidence"]),
            tuple(float(p) for p in data["p_catch"]),
            float(data["requests_per_day"]),
            int(data["windows"]),
        )


def _ts(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _dt(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _float(value: Any) -> float | None:
    return float(value) if value is not None else None


@dataclass(slots=True)
class TargetPlan:
    """A target's schedule. `levels` (per 4-hour block of the week, indices into `LEVELS_S`) is None while the
    target is being learned at the default cadence; `announced` holds pending publication instants;
    `satisfied_until` ends a dense series once it caught new slots; `returns` follows the slots that went away
    and may come back; `running` is the reason of the check in progress and `charge` what it was counted for
    on its host; `requests_per_check` is what a check of the target is expected to send (None: not checked
    yet, see `monitor.cost`)."""

    target_id: str
    host: str
    system: System
    half_life_s: float = 21 * 86400.0
    watched: bool = False
    watched_since: datetime | None = None
    next_at: datetime | None = None
    next_reason: CheckReason = CheckReason.ROUTINE
    running: CheckReason | None = None
    last_check: datetime | None = None
    levels: list[int] | None = None
    windows: list[tuple[float, float]] = field(default_factory=list)
    announced: list[datetime] = field(default_factory=list)
    satisfied_until: datetime | None = None
    health: TargetHealth = field(default_factory=TargetHealth)
    stats: TargetStats = field(default_factory=TargetStats)
    returns: Returns = field(default_factory=Returns)
    summary: PlanSummary | None = None
    checks: int = 0
    requests_per_check: float | None = None
    charge: Charge | None = None

    def __post_init__(self) -> None:
        self.stats.half_life_s = self.half_life_s

    def to_dict(self) -> dict[str, Any]:
        return {
            "target_id": self.target_id,
            "host": self.host,
            "system": self.system.value,
            "half_life_s": self.half_life_s,
            "watched": self.watched,
            "watched_since": _ts(self.watched_since),
            "next_at": _ts(self.next_at),
            "next_reason": self.next_reason.value,
            "last_check": _ts(self.last_check),
            "levels": self.levels,
            "windows": [list(w) for w in self.windows],
            "announced": [t.isoformat() for t in self.announced],
            "satisfied_until": _ts(self.satisfied_until),
            "health": self.health.to_dict(),
            "stats": self.stats.to_dict(),
            "returns": self.returns.to_dict(),
            "summary": self.summary.to_dict() if self.summary else None,
            "checks": self.checks,
            "requests_per_check": self.requests_per_check,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TargetPlan:
        """Rebuild a saved plan. A check that was running when it was saved is forgotten (it will run again)."""
        summary = data.get("summary")
        levels = data.get("levels")
        plan = cls(
            target_id=str(data["target_id"]),
            host=str(data["host"]),
            system=System(data["system"]),
            half_life_s=float(data.get("half_life_s", 21 * 86400.0)),
            watched=bool(data.get("watched", False)),
            watched_since=_dt(data.get("watched_since")),
            next_at=_dt(data.get("next_at")),
            next_reason=CheckReason(data.get("next_reason", "routine")),
            last_check=_dt(data.get("last_check")),
            levels=[int(v) for v in levels] if levels is not None else None,
            windows=[(float(a), float(b)) for a, b in data.get("windows", ())],
            announced=[datetime.fromisoformat(t) for t in data.get("announced", ())],
            satisfied_until=_dt(data.get("satisfied_until")),
            health=TargetHealth.from_dict(data.get("health", {})),
            stats=TargetStats.from_dict(data.get("stats", {})),
            returns=Returns.from_dict(data.get("returns", {})),
            summary=PlanSummary.from_dict(summary) if summary else None,
            checks=int(data.get("checks", 0)),
            requests_per_check=_float(data.get("requests_per_check")),
        )
        if plan.watched and plan.next_at is None:
            plan.next_at = plan.last_check or plan.watched_since
        return plan
