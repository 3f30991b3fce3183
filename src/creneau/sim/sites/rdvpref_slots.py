# SPDX-License-Identifier: AGPL-3.0-or-later
"""What the RDV Préfecture slot page carries, computed from the world: the `rdv-choix-tranche` props and
the Vertigo `critere` object (booking-systems.md §1.3, §1.3b). Pure: no I/O.

Choices where the sources are silent (also listed in docs/simulator.md):
- the page opens on the week of the first availability, or on the current week when there is none;
  `?premierJour=DD/MM/YYYY` (any day of the week) moves to another week, clamped to [dateMin, dateMax];
- `premiereDispo` / `datePremiereDispo` is the first free date from `premierJour` on, as Vertigo's
  `getDateDePremiereDisponibilite(critere)` computes it, so it is "" on the initial page only when nothing
  is free at all;
- `dateMax` is the end of the last published week (or of the last free slot's week, or of this week);
- `nombreDeJour` is 5 (Monday–Friday) unless the week has a weekend slot (then 7); `nombreDeLigne` is 6.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from creneau.sim.model import Publication, SimTarget, World
from creneau.sim.sites.common import fmt_date, fmt_instant, monday, paris, parse_fr_date
from creneau.types import PARIS

ROWS_SHOWN = 6  # nombreDeLigne: rows shown per day before "Voir plus de créneaux"


@dataclass(frozen=True, slots=True)
class SlotPage:
    premier_jour: date
    date_min: date
    minutes_min: int
    date_max: date
    premiere_dispo: date | None
    tranches: tuple[tuple[int, date, int], ...]  # (trhId, local date, minutes since midnight)
    is_display_calendar: bool
    prochaine_pub: Publication | None
    precedente_pub: Publication | None
    age_ids: tuple[int, ...]
    nombre_de_jour: int = 5
    slot_ids: tuple[int, ...] = field(default=())

    @property
    def is_current_min_week(self) -> bool:
        return self.premier_jour <= monday(self.date_min)

    @property
    def is_current_max_week(self) -> bool:
        return self.premier_jour >= monday(self.date_max)

    def critere(self) -> dict[str, object]:
        return {
            "ageIds": list(self.age_ids),
            "premierJour": fmt_date(self.premier_jour),
            "dateMin": fmt_date(self.date_min),
            "minutesMin": self.minutes_min,
            "dateMax": fmt_date(self.date_max),
            "datePremiereDispo": fmt_date(self.premiere_dispo) if self.premiere_dispo else "",
        }

    def vue_data(self) -> dict[str, object]:
        """The page's embedded data: the component's props plus `critere` (a flat object, as bots regex it)."""
        return {
            "critere": self.critere(),
            "isDisplayCalendar": self.is_display_calendar,
            "isCurrentMinWeek": self.is_current_min_week,
            "isCurrentMaxWeek": self.is_current_max_week,
            "premierJour": fmt_date(self.premier_jour),
            "premiereDispo": fmt_date(self.premiere_dispo) if self.premiere_dispo else "",
            "tranches": [
                {"trhId": trh, "dateLocale": fmt_date(day), "minutesDebut": minutes}
                for trh, day, minutes in self.tranches
            ],
            "nombreDeJour": self.nombre_de_jour,
            "nombreDeLigne": ROWS_SHOWN,
            "precedentePub": _pub(self.precedente_pub),
            "prochainePub": _pub(self.prochaine_pub),
        }

    def vue_data_json(self) -> str:
        """JSON safe inside a `<script>` element."""
        text = json.dumps(self.vue_data(), ensure_ascii=False, separators=(",", ":"))
        return text.replace("</", "<\\/")


def _pub(pub: Publication | None) -> dict[str, str] | None:
    if pub is None:
        return None
    return {
        "dateMin": fmt_date(pub.week_of),
        "dateMax": fmt_date(pub.week_of + timedelta(days=6)),
        "instantPublication": fmt_instant(pub.instant),
    }


def _utc_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, PARIS).astimezone(UTC)


def slot_page(world: World, target: SimTarget, now: datetime, requested: str | None = None) -> SlotPage:
    """The state of `target`'s slot page at `now`, on the requested week (`DD/MM/YYYY`) or the default one."""
    local_now = paris(now)
    today = local_now.date()
    free = [s for s in world.visible_slots(target.id, now) if s.start > now]  # ordered by start
    last_pub = world.last_publication(target.id, now)
    ends = [monday(today) + timedelta(days=6)]
    if free:
        ends.append(paris(free[-1].start).date())
    if last_pub is not None:
        ends.append(last_pub.week_of + timedelta(days=6))
    date_max = max(ends)
    first_week, last_week = monday(today), monday(date_max)
    wanted = parse_fr_date(requested)
    if wanted is not None:
        week = min(max(monday(wanted), first_week), last_week)
    else:
        week = monday(paris(free[0].start).date()) if free else first_week
    since, until = _utc_midnight(week), _utc_midnight(week + timedelta(days=7))
    in_week = []
    for s in free:
        if since <= s.start < until:
            local = paris(s.start)
            in_week.append((s.id, local.date(), local.hour * 60 + local.minute))
    later = next((s.start for s in free if s.start >= since), None)
    age_ids = tuple(int(p.id) for p in target.plannings if p.id.isdigit()) or (target.demarche_id,)
    return SlotPage(
        premier_jour=week,
        date_min=today,
        minutes_min=local_now.hour * 60 + local_now.minute,
        date_max=date_max,
        premiere_dispo=paris(later).date() if later is not None else None,
        tranches=tuple(in_week),
        is_display_calendar=bool(free),
        prochaine_pub=world.next_publication(target.id, now),
        precedente_pub=last_pub,
        age_ids=age_ids,
        nombre_de_jour=7 if any(d.weekday() >= 5 for _, d, _ in in_week) else 5,
        slot_ids=tuple(t[0] for t in in_week),
    )
