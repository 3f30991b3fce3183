# SPDX-License-Identifier: AGPL-3.0-or-later
"""The AJAX week planning of the legacy module (booking-systems.md §2.4). Pure.

A week is a table headed by `th[colspan=7]` holding a week label ("4-10 mai"); a free slot is a link to
`/booking/create/{formId}/5/{unixTs}` in a cell marked "libre". The legend below the table also says
"libre" but links nowhere, so it never counts. A recognised week without a free cell is positive
evidence of no slot that week.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from selectolax.lexbor import LexborHTMLParser, LexborNode

from creneau.types import Outcome, ParseResult, Slot

_SLOT_HREF = re.compile(r"/booking/create/(\d+)/5/(\d{9,11})(?:[/?#]|$)")
_MONTHS = "janvier|février|fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|octobre|novembre|décembre|decembre"
_WEEK_LABEL = re.compile(rf"\b\d{{1,2}}\b.*\b({_MONTHS})\b")
_LIBRE = re.compile(r"\blibre\b")
# Unix timestamps a real slot can carry (2000-01-01 .. 2100-01-01): anything else is garbage.
_TS_MIN, _TS_MAX = 946_684_800, 4_102_444_800


@dataclass(frozen=True, slots=True)
class WeekTable:
    label: str
    table: LexborNode


def week_tables(tree: LexborHTMLParser) -> list[WeekTable]:
    """Every table headed by a recognised week label, once each."""
    weeks: list[WeekTable] = []
    for th in tree.css('th[colspan="7"]'):
        label = " ".join(th.text(deep=True).split())
        if not _WEEK_LABEL.search(label.lower()):
            continue
        table = th.parent
        while table is not None and table.tag != "table":
            table = table.parent
        if table is not None and all(w.table.mem_id != table.mem_id for w in weeks):
            weeks.append(WeekTable(label, table))
    return weeks


def read_weeks(weeks: list[WeekTable], form_id: int | None, planning_id: str | None, *, page: str) -> ParseResult:
    """Slots (or positively none) of recognised week tables; `form_id`, when known, must match the links."""
    slots: dict[str, Slot] = {}
    for week in weeks:
        for slot in _free_slots(week.table, form_id, planning_id):
            slots.setdefault(slot.key, slot)
    labels = ", ".join(repr(w.label) for w in weeks)
    if not slots:
        return ParseResult(Outcome.NO_SLOTS, f"week {labels} has no free cell", page=page)
    ordered = tuple(sorted(slots.values(), key=lambda s: s.start))
    evidence = f"{len(ordered)} free cell(s) linking to /5/{{timestamp}} in week {labels}"
    return ParseResult(Outcome.SLOTS_AVAILABLE, evidence, ordered, page=page)


def has_next_week(tree: LexborHTMLParser) -> bool | None:
    """The week navigation links the next week while a later week can be booked; on the last one the link
    is replaced by an inactive label. None when the fragment has no navigation at all."""
    if tree.css_first("a.nextWeek[href]") is not None:
        return True
    if tree.css_first(".nextWeek") is not None:
        return False
    return None


def _free_slots(table: LexborNode, form_id: int | None, planning_id: str | None) -> list[Slot]:
    """Links to step 5 inside cells marked free; a link to another form or an absurd timestamp is ignored."""
    slots: list[Slot] = []
    for link in table.css("a[href]"):
        match = _SLOT_HREF.search(link.attributes.get("href") or "")
        if not match or (form_id is not None and int(match.group(1)) != form_id):
            continue
        ts = int(match.group(2))
        if not _TS_MIN <= ts <= _TS_MAX or not _marked_free(link):
            continue
        slots.append(Slot(datetime.fromtimestamp(ts, UTC), guichet=planning_id, ref=str(ts)))
    return slots


def _marked_free(link: LexborNode) -> bool:
    node: LexborNode | None = link
    for _ in range(2):  # the link itself, then its cell
        if node is None:
            return False
        marks = f"{node.attributes.get('class') or ''} {node.attributes.get('title') or ''} {node.text(deep=True)}"
        if _LIBRE.search(marks.lower()):
            return True
        node = node.parent
        if node is not None and node.tag not in ("td", "span", "div"):
            return False
    return False
