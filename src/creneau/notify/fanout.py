# SPDX-License-Identifier: AGPL-3.0-or-later
"""From an outbox row to the message a channel sends, and the notice that tells an owner their channel died.

`message_for(delivery, describe)` rebuilds the message of a leased `Delivery` from the transition it
belongs to (`delivery.alert`) and its own payload (the slots the watch's filter kept). The event id is
the transition's key, so rebuilding the same delivery after a crash gives the same message key and id:
e-mail Message-IDs and webhook Idempotency-Keys let receivers drop a duplicate.

`enqueue_channel_disabled` records a `channel_disabled` transition and one delivery to each of the owner's
other active channels, in one transaction (idempotent per failing delivery).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select

from creneau.catalog.core import Catalog
from creneau.notify.base import Locale
from creneau.notify.message import (
    Alert,
    ChannelDisabled,
    HumanCheckNeeded,
    Message,
    TargetUnavailable,
    UnavailableReason,
    target_fields,
)
from creneau.store import DELIVERIES, Delivery, DeliveryDraft, Store
from creneau.store import models as m
from creneau.store.codec import slots_from_json
from creneau.store.fanout import enqueue
from creneau.store.sql import insert_for
from creneau.types import Demarche, Office, System, Target

Describe = Callable[[Target], tuple[Office | None, Demarche | None]]
"""The catalog's names for a target's office and démarche (None when unknown: the label stands in)."""

ALERT_KINDS = ("opened", "new_slots")
CHANNEL_DISABLED = "channel_disabled"


class UnsupportedDelivery(ValueError):
    """The row names a transition kind no message exists for (e.g. `resumed`, `closed`)."""


def describe_with(catalog: Catalog) -> Describe:
    def describe(target: Target) -> tuple[Office | None, Demarche | None]:
        office = catalog.offices.get(target.office_id)
        demarche = catalog.demarches.get(target.demarche_key)
        return (office.as_office() if office else None, demarche.as_demarche() if demarche else None)

    return describe


def no_names(target: Target) -> tuple[Office | None, Demarche | None]:
    return None, None


def locale_of(delivery: Delivery) -> Locale:
    return "en" if delivery.locale == "en" else "fr"


def event_id(delivery: Delivery) -> str:
    """The transition's key: the delivery key is `<transition key>|w<watch>|c<channel>`."""
    return delivery.idempotency_key.rsplit("|w", 1)[0]


def _target(data: Mapping[str, Any]) -> Target:
    return Target(
        id=str(data["id"]),
        system=System(data["system"]),
        url=str(data["url"]),
        office_id=str(data.get("office_id") or ""),
        demarche_key=str(data.get("demarche_key") or ""),
        label=str(data.get("label") or ""),
    )


def message_for(delivery: Delivery, describe: Describe = no_names) -> Message:
    """The message this delivery must send. Raises `UnsupportedDelivery` for a kind without a message,
    `UnofficialLinkError` for a non-official target link, `ValueError` for an alert without slots."""
    alert = delivery.alert
    kind = str(alert.get("kind", ""))
    at = datetime.fromisoformat(str(alert["at"]))
    common = {
        "event_id": event_id(delivery),
        "watch_id": "-" if delivery.watch_id is None else str(delivery.watch_id),
        "channel_id": str(delivery.channel.id),
    }
    if kind == CHANNEL_DISABLED:
        return ChannelDisabled(
            disabled_kind=str(alert["channel_kind"]),
            disabled_destination=str(alert["destination"]),
            reason=str(alert["reason"]),
            disabled_at=at,
            **common,
        )
    target = _target(alert["target"])
    office, demarche = describe(target)
    if kind in ALERT_KINDS:
        return Alert.from_opening(
            opening_id=common["event_id"],
            watch_id=common["watch_id"],
            channel_id=common["channel_id"],
            target=target,
            slots=slots_from_json(delivery.payload.get("slots") or alert.get("new_slots")),
            detected_at=at,
            office=office,
            demarche=demarche,
        )
    if kind == "paused":
        fields = target_fields(target, office, demarche)
        return TargetUnavailable(reason=UnavailableReason.PAUSED, since=at, **common, **fields)
    if kind == "human_check":
        return HumanCheckNeeded(since=at, **common, **target_fields(target, office, demarche))
    raise UnsupportedDelivery(f"no message for a {kind!r} transition")


async def enqueue_channel_disabled(
    store: Store, delivery: Delivery, *, destination: str, reason: str, now: datetime
) -> int:
    """Tell the owner of `delivery.channel` (now disabled) through their other active channels.

    Returns how many deliveries were enqueued (0: they have no other channel, or it was done already).
    """
    channel = delivery.channel
    c, tr = m.channels, m.transitions
    key = f"channel:{channel.id}:disabled:d{delivery.id}"
    async with store.write() as tx:
        others = await tx.conn.execute(
            select(c.c.id).where(
                c.c.subscriber_id == channel.subscriber_id, c.c.status == "active", c.c.id != channel.id
            )
        )
        drafts = [DeliveryDraft(None, int(cid)) for cid in others.scalars()]
        if not drafts:
            return 0
        payload = {
            "kind": CHANNEL_DISABLED,
            "at": now.isoformat(),
            "reason": reason,
            "channel_id": channel.id,
            "channel_kind": channel.kind,
            "destination": destination,
            "target": delivery.alert.get("target"),
        }
        values = {
            "key": key,
            "target_id": delivery.alert["target"]["id"],
            "opening_id": None,
            "kind": CHANNEL_DISABLED,
            "old_state": "active",
            "new_state": "disabled",
            "reason": reason,
            "at": now,
            "payload": payload,
        }
        await tx.conn.execute(insert_for(tx.conn, tr).on_conflict_do_nothing(index_elements=[tr.c.key]), values)
        transition_id = (await tx.conn.execute(select(tr.c.id).where(tr.c.key == key))).scalar_one()
        count = await enqueue(
            tx.conn, transition_id=int(transition_id), transition_key=key, opening_id=None, drafts=drafts, now=now
        )
        if count:
            await tx.wake(DELIVERIES)
        return count
