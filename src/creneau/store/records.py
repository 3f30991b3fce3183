# SPDX-License-Identifier: AGPL-3.0-or-later
"""The immutable records the repositories return and accept.

Repositories never hand out ORM objects: a record is a frozen snapshot, safe to keep after the
transaction that read it ended.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from creneau.detector import DetectorState, WatchFilter
from creneau.types import Observation, Outcome, Slot, Target


class ChannelStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"


class WatchStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"


class DeliveryStatus(StrEnum):
    """Life of an outbox row.

    pending → leased → sent; leased → failed (transient, retried at `next_attempt_at`) → leased …;
    leased → dead (permanent failure or retries given up). A leased row whose lease expired is claimable
    again, which is what makes delivery at-least-once after a crash.
    """

    PENDING = "pending"
    LEASED = "leased"
    SENT = "sent"
    FAILED = "failed"
    DEAD = "dead"


class CaptchaStatus(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    USED = "used"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class TargetState:
    """A target's scheduling state as the store knows it."""

    next_check_at: datetime
    last_outcome: Outcome | None = None
    last_checked_at: datetime | None = None
    consecutive_failures: int = 0
    backoff_until: datetime | None = None
    paused_until: datetime | None = None
    pause_reason: str | None = None
    lease_owner: str | None = None
    lease_until: datetime | None = None

    def is_paused(self, now: datetime) -> bool:
        return self.paused_until is not None and self.paused_until > now


@dataclass(frozen=True, slots=True)
class TargetRecord:
    """A stored target: the domain `Target`, its scheduling state and the detector's memory of it."""

    target: Target
    state: TargetState
    detector: DetectorState


@dataclass(frozen=True, slots=True)
class ClaimedTarget:
    """A target leased to `owner` until `lease_until`; finish with `complete_check` or `release`."""

    target: Target
    state: TargetState
    detector: DetectorState
    owner: str
    lease_until: datetime


@dataclass(frozen=True, slots=True)
class RecordedTransition:
    """A transition as stored: `created` is False when the same key had been recorded before."""

    id: int
    key: str
    opening_id: int | None
    created: bool
    deliveries: int


@dataclass(frozen=True, slots=True)
class CheckRecorded:
    """What `complete_check` did. `owned` False: the lease had been lost, only the observation was kept."""

    observation_id: int
    owned: bool
    transitions: tuple[RecordedTransition, ...] = ()

    @property
    def deliveries(self) -> int:
        return sum(t.deliveries for t in self.transitions)


@dataclass(frozen=True, slots=True)
class StoredObservation:
    id: int
    observation: Observation


@dataclass(frozen=True, slots=True)
class SlotLifetime:
    """One slot of an opening: first and last sighting, and when a check first found it gone."""

    slot: Slot
    first_seen: datetime
    last_seen: datetime
    gone_at: datetime | None


@dataclass(frozen=True, slots=True)
class OpeningRecord:
    id: int
    target_id: str
    seq: int
    started_at: datetime
    ended_at: datetime | None
    reason: str
    close_reason: str | None
    first_slots: tuple[Slot, ...]
    slots: tuple[SlotLifetime, ...] = ()


@dataclass(frozen=True, slots=True)
class TransitionRecord:
    id: int
    key: str
    target_id: str
    opening_id: int | None
    kind: str
    old_state: str
    new_state: str
    reason: str
    at: datetime
    payload: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class SubscriberRecord:
    id: int
    email: str | None
    locale: str
    name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ChannelRecord:
    """`config` may hold secrets: never log it; the channel's own config model knows how to redact."""

    id: int
    subscriber_id: int
    kind: str
    address: str
    config: Mapping[str, Any] = field(repr=False)
    status: ChannelStatus
    disabled_reason: str | None
    disabled_at: datetime | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class WatchRecord:
    id: int
    subscriber_id: int
    target_ids: tuple[str, ...]
    filters: WatchFilter
    label: str
    status: WatchStatus
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Route:
    """One (watch, channel) pair that must hear about a target's alerts."""

    watch_id: int
    subscriber_id: int
    locale: str
    filters: WatchFilter
    channel_id: int
    channel_kind: str


@dataclass(frozen=True, slots=True)
class DeliveryDraft:
    """A delivery to enqueue: `payload` is what this (watch, channel) must be told (e.g. its filtered slots)."""

    watch_id: int | None
    channel_id: int
    payload: Mapping[str, Any] = field(default_factory=dict)
    channel_kind: str | None = None
    """Known when planned from routes (active channels): spares a lookup; None = look it up (and skip the
    draft if the channel is not active)."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """A leased outbox row, with what a sender needs: the channel, the alert and this row's payload.

    Pass it back unchanged to `mark_sent` / `mark_retry` / `mark_permanent_failure`: (id, lease_owner,
    attempts) is the lease token, so a sender whose lease expired and was re-claimed cannot mark it.
    """

    id: int
    idempotency_key: str
    transition_id: int
    opening_id: int | None
    watch_id: int | None
    channel: ChannelRecord
    locale: str
    payload: Mapping[str, Any]
    alert: Mapping[str, Any]
    attempts: int
    lease_owner: str
    lease_until: datetime
    shuffle_key: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DeliveryState:
    """A delivery row's status, for inspection and tests (no lease token)."""

    id: int
    idempotency_key: str
    transition_id: int
    channel_id: int
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    sent_at: datetime | None
    provider_ref: str | None
    shuffle_key: int


@dataclass(frozen=True, slots=True)
class CaptchaChallenge:
    id: int
    target_id: str
    status: CaptchaStatus
    prompt: str
    image: bytes | None = field(repr=False)
    image_type: str | None
    session: Mapping[str, Any] = field(repr=False)
    answer: str | None
    answered_by: str | None
    created_at: datetime
    expires_at: datetime
    answered_at: datetime | None
