# SPDX-License-Identifier: AGPL-3.0-or-later
"""Pages of the legacy eZ Publish booking module (booking-systems.md §2): the step pages inside the chrome
derived from the real Essonne capture, and the AJAX week-planning fragment. Pure rendering.

Inferred, not documented (see docs/simulator.md): the headings of steps 0, 1, 3 and 4, the error texts, the
step-image states (`etape_{n}G.png` done, `etape_{n}r.png` current, `etape_{n}.png` to come; the capture
of step 2 shows `etape_1G` and no current image), the fragment's navigation links and how it signals the
last bookable week (no `a.nextWeek` link, a `span.nextWeek.inactive` instead).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from creneau.sim.model import Planning, SimSlot, SimTarget
from creneau.sim.sites.common import MONTHS, Department, long_date, monday, paris, templates, text
from creneau.types import PARIS

STEP_IMAGES = (
    (1, "Prise de rendez-vous"),
    (3, "Descriptif"),
    (4, "Choix d'une plage"),
    (6, "Contrôle de sécurité"),
    (8, "Cordonnées personnelles"),  # sic, as on the real pages
    (9, "Valider et terminer"),
)
_CURRENT_IMAGE = {0: 1, 1: 1, 2: None, 3: 3, 4: 4, 5: 6}
HEADINGS = {
    0: "Prise de rendez-vous",
    1: "Choix du guichet",
    2: "Vérification de disponibilité",
    3: "Descriptif",
    4: "Choix d'une plage horaire",
    5: "Contrôle de sécurité",
}
_SHORT_DAYS = ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")


def progress(step: int) -> list[tuple[str, str]]:
    current = _CURRENT_IMAGE.get(step)
    reference = current if current is not None else 2
    images = []
    for n, alt in STEP_IMAGES:
        suffix = "G" if n < reference else "r" if n == current else ""
        images.append((f"etape_{n}{suffix}.png", alt))
    return images


@lru_cache(maxsize=4096)
def step_page(
    target: SimTarget,
    dept: Department,
    *,
    step: int,
    kind: str,
    action_step: int | None = None,
    error: str = "",
    planning: Planning | None = None,
    ajax_url: str = "",
    chosen: str = "",
    heading: str | None = None,
    plannings: tuple[Planning, ...] = (),
) -> bytes:
    """One step of `/booking/create/{id}/…`. `kind`: terms, plannings, no_slot, descriptif, calendar, chosen.

    A pure function of its (hashable) arguments, so each page is rendered and encoded once, then reused.
    """
    form_id = target.demarche_id
    path = f"/booking/create/{form_id}/{step}"
    return (
        templates()
        .get_template("legacy/page.html")
        .render(
            title=text(target.name or f"Prise de rendez-vous n° {form_id}"),
            dans=text(dept.dans),
            dept_slug=dept.slug,
            dept_code=dept.code,
            path=path,
            step=step,
            form_id=form_id,
            progress=[(img, text(alt)) for img, alt in progress(step)],
            heading=text(heading or HEADINGS.get(step, HEADINGS[2])),
            kind=kind,
            action=f"/booking/create/{form_id}/{step if action_step is None else action_step}",
            error=text(error),
            plannings=[(p.id, text(p.label)) for p in plannings],
            planning_label=text(planning.label if planning else ""),
            ajax_url=ajax_url,
            chosen=text(chosen),
        )
        .encode()
    )


def ajax_path(form_id: int, planning_id: str, offset: int) -> str:
    return f"/ezjscore/call/bookingserver::planning::assign::{form_id}::{planning_id}::{offset}"


def week_label(start: date) -> str:
    end = start + timedelta(days=6)
    if start.month == end.month:
        return f"{start.day}-{end.day} {MONTHS[end.month - 1]}"
    return f"{start.day} {MONTHS[start.month - 1]}-{end.day} {MONTHS[end.month - 1]}"


@dataclass(frozen=True, slots=True)
class Cell:
    href: str
    title: str
    time: str


def planning_fragment(
    host: str, form_id: int, planning_id: str, offset: int, slots: list[SimSlot], now: datetime
) -> str:
    """The week `today + offset` falls in; `slots` are the planning's free slots (any week)."""
    today = paris(now).date()
    start = monday(today + timedelta(days=offset))
    week_start = datetime.combine(start, time.min, PARIS).astimezone(UTC)  # UTC: cheap comparisons
    week_end = datetime.combine(start + timedelta(days=7), time.min, PARIS).astimezone(UTC)
    columns: list[list[Cell]] = [[] for _ in range(7)]
    last = max((s.start for s in slots), default=now)
    for slot in slots:
        if not week_start <= slot.start < week_end:
            continue
        local = paris(slot.start)
        href = f"https://{host}/booking/create/{form_id}/5/{int(slot.start.timestamp())}"
        title = f"{long_date(local.date())} à {local:%H:%M}"
        columns[(local.date() - start).days].append(Cell(href, title, f"{local:%H:%M}"))
    depth = max((len(c) for c in columns), default=0)
    rows = [[col[i] if i < len(col) else None for col in columns] for i in range(depth)]
    days = [f"{_SHORT_DAYS[i]} {(start + timedelta(days=i)).day}" for i in range(7)]
    last_week = monday(max(today, paris(last).date()))
    return (
        templates()
        .get_template("legacy/planning.html")
        .render(
            week_label=week_label(start),
            days=days,
            rows=rows,
            prev_url=ajax_path(form_id, planning_id, offset - 7) if offset >= 7 else "",
            next_url=ajax_path(form_id, planning_id, offset + 7) if start < last_week else "",
        )
    )
