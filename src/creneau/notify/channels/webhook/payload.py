# SPDX-License-Identifier: AGPL-3.0-or-later
"""The webhook JSON body, schema version 1 (documented in docs/notifications.md).

The body depends only on the message and the locale, so a retried delivery sends the same bytes (only the
timestamp header and its signature change). Slot times are ISO 8601 with the Paris offset.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from creneau.notify.base import Locale
from creneau.notify.message import Alert, ChannelDisabled, Message, TargetMessage, TargetNotice, TargetUnavailable
from creneau.notify.render import phrase, render_fitted
from creneau.types import PARIS

VERSION = 1
TEMPLATES = Path(__file__).resolve().parent / "templates"
MAX_SLOTS = 500
TEXT_MAX = 8000


def build(message: Message, locale: Locale) -> dict[str, Any]:
    """The JSON-ready body of one message."""
    body: dict[str, Any] = {
        "version": VERSION,
        "type": message.kind.value,
        "id": str(message.id),
        "idempotency_key": message.key,
        "watch_id": message.watch_id,
        "channel_id": message.channel_id,
        "locale": locale,
        "title": phrase("title", message, locale),
        "text": render_fitted(TEMPLATES, "body.txt.j2", message, locale, max_chars=TEXT_MAX, max_slots=30),
    }
    if isinstance(message, TargetMessage):
        body["target"] = {
            "id": message.target_id,
            "label": message.target_label,
            "office": message.office_name,
            "demarche": message.demarche(locale),
            "demarche_fr": message.demarche_fr,
            "demarche_en": message.demarche_en,
        }
        body["booking_url"] = message.booking_url
    if isinstance(message, Alert):
        body["detected_at"] = message.detected_at.isoformat()
        body["slots"] = [
            {"start": s.start.astimezone(PARIS).isoformat(), "guichet": s.guichet, "guichet_label": s.guichet_label,
             "place": s.place}
            for s in message.slots[:MAX_SLOTS]
        ]  # fmt: skip
        body["slots_total"] = len(message.slots)
    if isinstance(message, TargetNotice):
        body["since"] = message.since.isoformat()
    if isinstance(message, TargetUnavailable):
        body["reason"] = message.reason.value
    if isinstance(message, ChannelDisabled):
        body["channel"] = {"kind": message.disabled_kind, "destination": message.disabled_destination}
        body["reason"] = message.reason
        body["disabled_at"] = message.disabled_at.isoformat()
    return body
