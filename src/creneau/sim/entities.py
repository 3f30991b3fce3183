# SPDX-License-Identifier: AGPL-3.0-or-later
"""The simulated world's records: targets, slots, publications, episodes, rate rules, openings.

Immutable values; `creneau.sim.model` re-exports them with the `World` that indexes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from creneau.types import System


class EpisodeKind(StrEnum):
    """Failure modes the simulator can play, per host or per target, scripted or triggered by rate."""

    FORBIDDEN = "forbidden"  # 403 "Request forbidden by administrative rules"
    RATE_LIMITED = "rate_limited"  # 429 (+ Retry-After)
    BAD_GATEWAY = "bad_gateway"  # 502
    OVERLOADED = "overloaded"  # 200 "Service surchargé"
    MAINTENANCE = "maintenance"  # 503 maintenance page
    CHALLENGE = "challenge"  # edge challenge page (Imperva/Cloudflare-like)
    SLOW = "slow"  # answers after `delay_s`
    TIMEOUT = "timeout"  # never answers within any sane timeout
    TRUNCATED = "truncated"  # HTML cut in the middle
    LAYOUT_CHANGED = "layout_changed"  # the page no longer has the markup adapters know


class SlotOrigin(StrEnum):
    BATCH = "batch"
    CANCELLATION = "cancellation"
    SWAP = "swap"  # a reseller's cancel-and-rebook, visible for seconds
    HOLD_RETURN = "hold_return"  # legacy unconfirmed hold coming back


class CloseReason(StrEnum):
    """Why a slot stopped being visible at `SimSlot.taken_at`."""

    TAKEN = "taken"  # somebody booked (or held) it
    EXPIRED = "expired"  # its appointment time came too close to be booked


class PublicationMode(StrEnum):
    """How a batch was put online (slot-dynamics.md §8); `Publication.mode` holds one of these."""

    WEEKLY_FIXED = "weekly_fixed"  # same weekday and time every week, scheduled (announced on rdvpref)
    RANDOM_IN_WEEK = "random_in_week"  # scheduled at a random office time (announced on rdvpref)
    PUBLISH_NOW = "publish_now"  # an agent's click, online 60 s later, never announced
    SCHEDULED = "scheduled"  # a scenario's scheduled batch
    ROLLING = "rolling"  # ANTS: one more day becomes bookable at midnight
    AD_HOC = "ad_hoc"  # ANTS town hall opening extra slots in office hours


@dataclass(frozen=True, slots=True)
class Planning:
    id: str
    label: str


@dataclass(frozen=True, slots=True)
class SimTarget:
    """One booking page of the simulated world.

    rdvpref: `demarche_id` is the démarche id; legacy: `demarche_id` is the form id and `plannings` the
    guichets; ants: a town-hall meeting point at (`latitude`, `longitude`).
    """

    id: str
    system: System
    host: str
    demarche_id: int
    plannings: tuple[Planning, ...] = ()
    name: str = ""
    office_class: str = "warm"
    latitude: float = 0.0
    longitude: float = 0.0
    zip_code: str = ""
    city: str = ""

    @property
    def url(self) -> str:
        if self.system is System.RDVPREF:
            return f"https://{self.host}/rdvpref/reservation/demarche/{self.demarche_id}/"
        if self.system is System.LEGACY:
            return f"https://{self.host}/booking/create/{self.demarche_id}/0"
        return f"https://{self.host}/api/SlotsFromPosition"


@dataclass(frozen=True, slots=True)
class SimSlot:
    """One bookable appointment time, visible from `visible_from` until `taken_at` (None: to the end).

    `taken_at` is when it stopped being visible, for `close_reason`. A slot that comes back (cancellation,
    swap, hold return) is a new `SimSlot` whose `returns_slot` is the id of the booking it undoes.
    """

    id: int
    target_id: str
    start: datetime
    visible_from: datetime
    taken_at: datetime | None  # None: never taken during the run
    planning_id: str | None = None
    origin: SlotOrigin = SlotOrigin.BATCH
    publication_id: int | None = None
    close_reason: CloseReason = CloseReason.TAKEN
    returns_slot: int | None = None

    def visible_at(self, t: datetime) -> bool:
        return self.visible_from <= t and (self.taken_at is None or t < self.taken_at)


@dataclass(frozen=True, slots=True)
class Publication:
    """A batch put online at `instant` (visible from `visible_at`, the backend's cache lag later).

    `announced_at` is when the "Prochaine mise en ligne" notice starts showing (None: unannounced).
    A moved announcement (§6: a new publish action re-stamps scheduled slices) showed `announced_instant`
    until `moved_at`, then `instant`.
    """

    id: int
    target_id: str
    instant: datetime
    visible_at: datetime
    week_of: date
    announced_at: datetime | None = None
    size: int = 0
    mode: str = "weekly_fixed"
    announced_instant: datetime | None = None
    moved_at: datetime | None = None

    def shown_instant(self, t: datetime) -> datetime:
        """The instant the notice displays at `t`."""
        if self.announced_instant is not None and self.moved_at is not None and t < self.moved_at:
            return self.announced_instant
        return self.instant

    @property
    def truly_announced(self) -> bool:
        """A notice showed the real instant before it fell (not moved, or corrected in time)."""
        if self.announced_at is None or self.announced_at > self.instant:
            return False
        return self.moved_at is None or self.moved_at <= self.instant


@dataclass(frozen=True, slots=True)
class Episode:
    kind: EpisodeKind
    start: datetime
    end: datetime
    host: str | None = None  # None with target_id None: every host
    target_id: str | None = None
    delay_s: float = 0.0
    retry_after_s: int | None = None

    def applies(self, host: str, target_id: str | None, t: datetime) -> bool:
        if not (self.start <= t < self.end):
            return False
        if self.target_id is not None:
            return self.target_id == target_id
        return self.host is None or self.host == host


@dataclass(frozen=True, slots=True)
class RateRules:
    """Failures the simulator triggers from how hard one client IP hits a host (0 disables a rule).

    Defaults follow slot-dynamics.md §8: legacy > 1 req/s for 10 s → 502 for 60 s; > 200 req/h → 403 for an
    hour; RDV Préfecture edge challenge above 30 req/min; ANTS 429 above 30 req/min.
    """

    legacy_burst_rps: float = 1.0
    legacy_burst_window_s: float = 10.0
    legacy_bad_gateway_s: float = 60.0
    legacy_hourly_limit: int = 200
    legacy_ban_s: float = 3600.0
    rdvpref_challenge_per_min: int = 30
    rdvpref_challenge_s: float = 300.0
    ants_per_min: int = 30
    background_5xx_rate: float = 0.0


@dataclass(frozen=True, slots=True)
class Opening:
    """A maximal interval during which the target showed at least one slot (ground truth).

    `end` is None when a slot stays visible for good. `announced` is True when a slot that made the set
    non-empty at `start` came from a publication whose notice showed its true instant before that instant
    fell (`Publication.truly_announced`); otherwise the opening was unannounced (cancellation, swap, hold
    return, unannounced or mis-announced batch). `publication_id` and `origin` describe the slot(s) that
    opened it (a batch slot is preferred); `slot_ids` lists every slot visible at some time in the interval.
    """

    target_id: str
    start: datetime
    end: datetime | None
    announced: bool
    origin: SlotOrigin
    publication_id: int | None
    slot_ids: tuple[int, ...]
