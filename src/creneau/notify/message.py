# SPDX-License-Identifier: AGPL-3.0-or-later
"""What creneau tells people: the alert of an opening, and three notices about the watch itself.

A message is addressed to one channel of one watch, so it carries the delivery identity
`(event, watch, channel)`: `key` is the idempotency key of the delivery and `id` a UUID derived from it
(e-mail Message-ID, webhook delivery id). Both are deterministic: rebuilding the message after a crash
gives the same key and id, which is what lets providers and receivers drop a duplicate. When the outbox
already stored a key for the delivery, it passes it as `delivery_key` and that key is used as is.

An `Alert` refuses to exist without slots or with a link outside the official allowlist
(`UnofficialLinkError`). Everything shown to people is formatted in Europe/Paris time.
"""

from __future__ import annotations

import dataclasses
import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, ClassVar

from creneau.notify.links import require_official
from creneau.types import PARIS, Demarche, Office, Slot, Target

if TYPE_CHECKING:
    from creneau.notify.base import Locale

_NAMESPACE = uuid.UUID("6f1c5d0e-3b0a-5b8e-9d6a-0c7e1f2a4b39")


class MessageKind(StrEnum):
    ALERT = "alert"
    TARGET_UNAVAILABLE = "target_unavailable"
    HUMAN_CHECK = "human_check"
    CHANNEL_DISABLED = "channel_disabled"
    REMINDER = "reminder"


def idempotency_key(kind: MessageKind | str, event_id: str, watch_id: str, channel_id: str) -> str:
    """The unique key of one delivery: one message kind, one event (opening…), one watch, one channel."""
    raw = "\x1f".join((str(kind), event_id, watch_id, channel_id)).encode()
    return "crn1-" + hashlib.sha256(raw).hexdigest()[:40]


def _aware(value: datetime, name: str) -> None:
    if value.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware")


@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    """Base of everything a channel sends. `event_id` names what happened (an opening, a pause…)."""

    kind: ClassVar[MessageKind]
    event_id: str
    watch_id: str
    channel_id: str
    delivery_key: str | None = None

    @property
    def key(self) -> str:
        return self.delivery_key or idempotency_key(self.kind, self.event_id, self.watch_id, self.channel_id)

    @property
    def id(self) -> uuid.UUID:
        return uuid.uuid5(_NAMESPACE, self.key)

    @property
    def link(self) -> str | None:
        """The official page the message points to, if any (always allowlisted)."""
        return None

    def content(self) -> Message:
        """This message without its delivery identity: equal for every recipient of the same event, so
        a rendered body can be reused across a fan-out."""
        return dataclasses.replace(self, watch_id="", channel_id="", delivery_key=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class TargetMessage(Message):
    """Fields shared by the messages about one target (an office × démarche)."""

    target_id: str
    target_label: str
    office_name: str
    demarche_fr: str
    demarche_en: str
    booking_url: str

    def __post_init__(self) -> None:
        require_official(self.booking_url)

    @property
    def link(self) -> str:
        return self.booking_url

    def demarche(self, locale: Locale) -> str:
        return self.demarche_fr if locale == "fr" else self.demarche_en


def target_fields(target: Target, office: Office | None = None, demarche: Demarche | None = None) -> dict[str, str]:
    """The target-describing fields of a `TargetMessage`, from the catalogue's objects:
    `TargetUnavailable(event_id=…, watch_id=…, channel_id=…, reason=…, since=…, **target_fields(t, o, d))`."""
    label = target.label or target.id
    return {
        "target_id": target.id,
        "target_label": label,
        "office_name": office.name if office else label,
        "demarche_fr": demarche.name_fr if demarche else (target.demarche_key or label),
        "demarche_en": demarche.name_en if demarche else (target.demarche_key or label),
        "booking_url": target.url,
    }


@dataclass(frozen=True, slots=True, kw_only=True)
class Alert(TargetMessage):
    """Slots were seen on a target one watch follows. `slots` are those the watch's filters kept."""

    kind: ClassVar[MessageKind] = MessageKind.ALERT
    slots: tuple[Slot, ...]
    detected_at: datetime

    def __post_init__(self) -> None:
        TargetMessage.__post_init__(self)
        if not self.slots:
            raise ValueError("an alert needs at least one slot (positive evidence only)")
        _aware(self.detected_at, "detected_at")
        for slot in self.slots:
            _aware(slot.start, "slot start")

    @classmethod
    def from_opening(
        cls,
        *,
        opening_id: str,
        watch_id: str,
        channel_id: str,
        target: Target,
        slots: Iterable[Slot],
        detected_at: datetime,
        office: Office | None = None,
        demarche: Demarche | None = None,
        delivery_key: str | None = None,
    ) -> Alert:
        """Build the alert of one opening for one (watch, channel); raises `UnofficialLinkError` when the
        target's URL is not an official booking link, `ValueError` when there is no slot."""
        return cls(
            event_id=opening_id,
            watch_id=watch_id,
            channel_id=channel_id,
            slots=tuple(sorted(slots, key=lambda s: (s.start, s.guichet or "", s.place or ""))),
            detected_at=detected_at,
            delivery_key=delivery_key,
            **target_fields(target, office, demarche),
        )


class UnavailableReason(StrEnum):
    PAUSED = "paused"
    BLOCKED = "blocked"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True, slots=True, kw_only=True)
class TargetNotice(TargetMessage):
    """A notice about the watch of a target since `since` (no slot news: watchers must check themselves)."""

    since: datetime

    def __post_init__(self) -> None:
        TargetMessage.__post_init__(self)
        _aware(self.since, "since")


@dataclass(frozen=True, slots=True, kw_only=True)
class TargetUnavailable(TargetNotice):
    """The target cannot be watched right now (paused after repeated blocks, site down…)."""

    kind: ClassVar[MessageKind] = MessageKind.TARGET_UNAVAILABLE
    reason: UnavailableReason


@dataclass(frozen=True, slots=True, kw_only=True)
class HumanCheckNeeded(TargetNotice):
    """The site asks for a human check (captcha); checks resume once someone answers it at the desk."""

    kind: ClassVar[MessageKind] = MessageKind.HUMAN_CHECK


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelDisabled(Message):
    """One of the owner's channels was disabled after a permanent error; sent through another channel.

    `disabled_destination` is the channel's redacted form (never a secret); `reason` the provider's words.
    """

    kind: ClassVar[MessageKind] = MessageKind.CHANNEL_DISABLED
    disabled_kind: str
    disabled_destination: str
    reason: str
    disabled_at: datetime

    def __post_init__(self) -> None:
        _aware(self.disabled_at, "disabled_at")


@dataclass(frozen=True, slots=True, kw_only=True)
class Reminder(Message):
    """A note about the person's own case (permit expiry reminders, guidance), already worded in their
    language by `creneau.evidence.reminders`; `official_url` must be allowlisted when given."""

    kind: ClassVar[MessageKind] = MessageKind.REMINDER
    subject: str
    text: str
    official_url: str | None = None

    def __post_init__(self) -> None:
        if self.official_url:
            require_official(self.official_url)

    @property
    def link(self) -> str | None:
        return self.official_url


# --- display in Paris time ----------------------------------------------------------------------

_WEEKDAYS = {
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
_MONTHS = {
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
           "novembre", "décembre"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
}  # fmt: skip


def format_day(day: date, locale: Locale) -> str:
    """`lundi 4 mai 2026` / `Monday 4 May 2026`."""
    first = "1er" if locale == "fr" and day.day == 1 else str(day.day)
    return f"{_WEEKDAYS[locale][day.weekday()]} {first} {_MONTHS[locale][day.month - 1]} {day.year}"


def format_instant(moment: datetime, locale: Locale) -> str:
    """`lundi 4 mai 2026 à 08:00:05` / `Monday 4 May 2026 at 08:00:05`, in Paris time."""
    local = moment.astimezone(PARIS)
    joint = "à" if locale == "fr" else "at"
    return f"{format_day(local.date(), locale)} {joint} {local:%H:%M:%S}"


@dataclass(frozen=True, slots=True)
class SlotLine:
    start: datetime
    time: str
    where: str


@dataclass(frozen=True, slots=True)
class DayGroup:
    day: date
    label: str
    slots: tuple[SlotLine, ...]


def slots_by_day(slots: Iterable[Slot], locale: Locale, limit: int | None = None) -> tuple[list[DayGroup], int]:
    """Group slots by Paris day, earliest first; show at most `limit`. Returns (groups, hidden count)."""
    ordered = sorted(slots, key=lambda s: s.start)
    shown = ordered if limit is None else ordered[:limit]
    groups: dict[date, list[SlotLine]] = {}
    for slot in shown:
        local = slot.start.astimezone(PARIS)
        where = " · ".join(p for p in (slot.guichet_label or slot.guichet, slot.place) if p)
        groups.setdefault(local.date(), []).append(SlotLine(local, f"{local:%H:%M}", where))
    days = [DayGroup(d, format_day(d, locale), tuple(lines)) for d, lines in groups.items()]
    return days, len(ordered) - len(shown)
