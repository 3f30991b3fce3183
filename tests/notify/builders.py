# SPDX-License-Identifier: AGPL-3.0-or-later
"""Messages to send in the notification tests: an opening at the Isère prefecture, and the notices."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from creneau.notify.message import (
    Alert,
    ChannelDisabled,
    HumanCheckNeeded,
    Message,
    TargetUnavailable,
    UnavailableReason,
    target_fields,
)
from creneau.types import Demarche, Office, Slot, System, Target

OFFICIAL = "https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/3762/"
DETECTED = datetime(2026, 5, 4, 6, 0, 5, tzinfo=UTC)  # 08:00:05 in Paris
TARGET = Target(id="isere-titres", system=System.RDVPREF, url=OFFICIAL, label="Isère — titres de séjour")
OFFICE = Office(id="pref-38", name="Préfecture de l'Isère", kind="prefecture", departement="38", town="Grenoble")
DEMARCHE = Demarche(key="titre-sejour", name_fr="Remise de titre de séjour", name_en="Residence permit collection")


def slots(count: int = 3) -> list[Slot]:
    """`count` slots from Tuesday 5 May 2026 09:30 Paris time, two per day, on two counters."""
    start = datetime(2026, 5, 5, 7, 30, tzinfo=UTC)
    return [
        Slot(
            start + timedelta(days=i // 2, minutes=30 * (i % 2)),
            guichet=f"{i % 2 + 1}",
            guichet_label=f"Guichet {i % 2 + 1}",
        )
        for i in range(count)
    ]


def make_alert(channel_id: str = "ch-1", count: int = 3, **overrides: Any) -> Alert:
    fields: dict[str, Any] = {
        "opening_id": "op-1",
        "watch_id": "w-1",
        "channel_id": channel_id,
        "target": TARGET,
        "office": OFFICE,
        "demarche": DEMARCHE,
        "slots": slots(count),
        "detected_at": DETECTED,
    }
    return Alert.from_opening(**(fields | overrides))


def make_notices(channel_id: str = "ch-1") -> list[Message]:
    common = {"watch_id": "w-1", "channel_id": channel_id}
    return [
        TargetUnavailable(
            event_id="pause-1", reason=UnavailableReason.PAUSED, since=DETECTED, **common,
            **target_fields(TARGET, OFFICE, DEMARCHE),
        ),
        HumanCheckNeeded(event_id="captcha-1", since=DETECTED, **common, **target_fields(TARGET, OFFICE, DEMARCHE)),
        ChannelDisabled(
            event_id="disable-1", disabled_kind="telegram", disabled_destination="chat 12…89",
            reason="Forbidden: bot was blocked by the user", disabled_at=DETECTED, **common,
        ),
    ]  # fmt: skip


# What every alert must say, per locale: office, démarche, the slots in Paris time, the official link,
# the free-appointment reminder and the "act now" advice.
EXPECTED = {
    "fr": ["Préfecture de l'Isère", "Remise de titre de séjour", "mardi 5 mai 2026", "09:30", "10:00",
           "mercredi 6 mai 2026", "Guichet 1", OFFICIAL, "gratuits", "Ne payez jamais", "Agissez maintenant",
           "lundi 4 mai 2026 à 08:00:05"],
    "en": ["Préfecture de l'Isère", "Residence permit collection", "Tuesday 5 May 2026", "09:30", "10:00",
           "Wednesday 6 May 2026", "Guichet 1", OFFICIAL, "free", "Never pay", "Act now",
           "Monday 4 May 2026 at 08:00:05"],
}  # fmt: skip
