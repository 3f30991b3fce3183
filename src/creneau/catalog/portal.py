# SPDX-License-Identifier: AGPL-3.0-or-later
"""The portal guide: for one démarche, where to go, what to prepare, the official fees on a given day, and
whether creneau can watch it. Appointments are free; the guide always says so.
"""

from __future__ import annotations

from datetime import date

from creneau.catalog.core import Catalog
from creneau.catalog.model import DemarcheInfo


def guide(catalog: Catalog, demarche: DemarcheInfo, today: date) -> dict[str, object]:
    """A JSON-ready guide (what `creneau portal KEY --json` prints)."""
    portals = [catalog.portals[key] for key in demarche.portals if key in catalog.portals]
    current = catalog.fees_for(demarche.key, today)
    dated = [f for f in catalog.fees if demarche.key in f.demarches]
    watchable_systems = sorted({p.system.value for p in portals if p.system is not None})
    return {
        "key": demarche.key,
        "name_fr": demarche.name_fr,
        "name_en": demarche.name_en,
        "competence": demarche.competence.value,
        "portals": [
            {"key": p.key, "name_en": p.name_en, "name_fr": p.name_fr, "url": p.url or None, "role": p.role}
            for p in portals
        ],
        "note": demarche.note_en,
        "prepare_en": list(demarche.prepare_en),
        "prepare_fr": list(demarche.prepare_fr),
        "fees_on": today.isoformat(),
        "fees": [
            {
                "id": f.id,
                "amount_eur": f.amount_eur,
                "label_en": f.label_en,
                "label_fr": f.label_fr,
                "valid_from": f.valid_from.isoformat(),
                "valid_until": f.valid_until.isoformat() if f.valid_until else None,
                "in_force": f in current,
                "source": f.source,
            }
            for f in dated
        ],
        "watchable": demarche.watchable,
        "watch_systems": watchable_systems if demarche.watchable else [],
        "appointments_free": True,
        "notice_en": catalog.notice.get("free_en", ""),
        "notice_fr": catalog.notice.get("free_fr", ""),
        "timbre_url": catalog.notice.get("timbre_url", ""),
    }
