# SPDX-License-Identifier: AGPL-3.0-or-later
"""What a browser shows once the slot picker has rendered (a page saved from a browser, §1.3b).

Each slot is a radio `input[name=trhId]#trhId_{id}` in `li.radio-card` with a `label.fr-label` "HHhMM";
its day is the header of its own column ("lundi 12/05": `h3.celulleHeader` on desktop, the expansion item
label on phones). A radio whose own column has no day header, or headers naming several days, is counted
as unreadable, never dated from another column. Headers carry no year: it is the year, near the page's own
dates, in which that day/month falls on that weekday.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from selectolax.lexbor import LexborHTMLParser, LexborNode

WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_HEADER_RE = re.compile(rf"^\s*({'|'.join(WEEKDAYS)})\.?\s+(\d{{1,2}})/(\d{{1,2}})\s*$", re.IGNORECASE)
_TIME_RE = re.compile(r"^\s*(\d{1,2})\s*[hH:]\s*(\d{2})\s*$")
_HEADERS = "h3.celulleHeader, .q-expansion-item .q-item__label, .q-expansion-item summary, .q-expansion-item__header"
_MAX_DEPTH = 6  # input → li → ul → (expansion content →) column

# Texts the rendered picker shows when there is nothing to book (exact element texts, §1.3/§1.3b).
NO_SLOT_TEXTS = (
    "Aucun créneau disponible",
    "Aucun créneau disponible sur cette semaine",
    "Aucun créneau disponible à partir de cette date.",
    "Veuillez réessayer ultérieurement.",
)


@dataclass(frozen=True, slots=True)
class RenderedSlot:
    trh_id: str
    day: date
    minutes: int


@dataclass(frozen=True, slots=True)
class RenderedPicker:
    slots: tuple[RenderedSlot, ...]
    radios: int  # every trhId radio seen, readable or not
    unreadable: tuple[str, ...]  # why some radios could not be read


def _year_for(weekday: int, day: int, month: int, near: date) -> date | None:
    """The date with this day/month that falls on `weekday`, in the year nearest to `near`."""
    best: date | None = None
    for year in (near.year - 1, near.year, near.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate.weekday() == weekday and (best is None or abs(candidate - near) < abs(best - near)):
            best = candidate
    return best


def read_time(text: str) -> int | None:
    """Minutes since midnight from a label "09h30" (also "9h30", "09:30")."""
    match = _TIME_RE.match(text)
    if not match:
        return None
    hours, minutes = int(match.group(1)), int(match.group(2))
    return hours * 60 + minutes if hours < 24 and minutes < 60 else None


def _trh_id(node: LexborNode) -> str | None:
    """The radio's trhId from `id="trhId_{n}"` and/or `data-value`; None when absent or when they disagree."""
    ident = node.attributes.get("id") or ""
    found = {
        raw.strip()
        for raw in (
            ident.removeprefix("trhId_") if ident.startswith("trhId_") else None,
            node.attributes.get("data-value"),
        )
        if raw is not None
    }
    if len(found) != 1:
        return None
    value = found.pop()
    return value if value.isdigit() else None


def _labels(tree: LexborHTMLParser) -> dict[str, str | None]:
    """Label text by `for`; None when two labels for the same radio disagree."""
    labels: dict[str, str | None] = {}
    for label in tree.css("label[for]"):
        key, text = label.attributes.get("for") or "", label.text(strip=True)
        labels[key] = text if labels.get(key, text) == text else None
    return labels


def _label_for(node: LexborNode, labels: dict[str, str | None]) -> str | None:
    """The radio's own label: by `for`, else a `for`-less label beside it."""
    ident = node.attributes.get("id") or ""
    if ident in labels:
        return labels[ident]
    parent = node.parent
    label = parent.css_first("label.fr-label") if parent is not None else None
    return label.text(strip=True) if label is not None and "for" not in label.attributes else None


class _DayColumns:
    """The picker's day columns: an `h3.celulleHeader`'s parent, a phone header's `.q-expansion-item`.

    Keeps each column's days, which of its children hold its headers, and the (tag, class) shape of every
    column: an element of that shape is a column even when its own header is gone.
    """

    def __init__(self, tree: LexborHTMLParser, near: date) -> None:
        self.days: dict[int, list[date | None]] = {}
        self.holders: dict[int, set[int]] = {}
        shapes: set[tuple[str, str]] = set()
        for header in tree.css(_HEADERS):
            match = _HEADER_RE.match(header.text(strip=True))
            if match is None:
                continue
            holder, column = header, header.parent
            if header.tag != "h3":
                while column is not None and "q-expansion-item" not in (column.attributes.get("class") or "").split():
                    holder, column = column, column.parent
            if column is None:
                continue
            weekday = WEEKDAYS.index(match.group(1).lower())
            day = _year_for(weekday, int(match.group(2)), int(match.group(3)), near)
            found = self.days.setdefault(column.mem_id, [])
            if day not in found:  # Quasar's header and its label name the same day
                found.append(day)
            self.holders.setdefault(column.mem_id, set()).add(holder.mem_id)
            shapes.add(_shape(column))
        self.shapes = frozenset(shapes)

    def day_of(self, radio: LexborNode) -> date | None:
        """The day of the radio's own column: the nearest enclosing column (by header or by shape).

        None when that column has no day header of its own, has headers naming different days, shows its
        header after the radio, or sits inside another column: a radio never takes a day it cannot tell
        for sure is its own.
        """
        child, node = radio, radio.parent
        for _ in range(_MAX_DEPTH):
            if node is None:
                return None
            days = self.days.get(node.mem_id)
            if days is not None:
                if len(days) != 1 or not self._header_before(node, child) or self._inside_a_column(node):
                    return None
                return days[0]
            if _shape(node) in self.shapes:
                return None
            child, node = node, node.parent
        return None

    def _header_before(self, column: LexborNode, child: LexborNode) -> bool:
        """True when a child of `column` holding its header comes before `child` (which holds the radio)."""
        holders = self.holders[column.mem_id]
        for node in column.iter():
            if node.mem_id == child.mem_id:
                return False
            if node.mem_id in holders:
                return True
        return False

    def _inside_a_column(self, node: LexborNode) -> bool:
        parent = node.parent
        while parent is not None:
            if parent.mem_id in self.days:
                return True
            parent = parent.parent
        return False


def _shape(node: LexborNode) -> tuple[str, str]:
    return node.tag or "", node.attributes.get("class") or ""


def read_picker(tree: LexborHTMLParser, near: date) -> RenderedPicker:
    """Read every trhId radio with its day and time; radios missing either are counted, never guessed.

    A slot shown several times counts only when every showing is readable and they all agree.
    """
    slots: dict[str, RenderedSlot] = {}
    doubtful: dict[str, str] = {}
    unreadable: list[str] = []
    radios = tree.css('input[name="trhId"]')
    if not radios:
        return RenderedPicker((), 0, ())
    columns, labels = _DayColumns(tree, near), _labels(tree)
    for node in radios:
        trh_id = _trh_id(node)
        label = _label_for(node, labels)
        minutes = read_time(label) if label is not None else None
        day = columns.day_of(node)
        if trh_id is None or minutes is None or day is None:
            unreadable.append(f"radio {node.attributes.get('id')!r}: id, time or day missing")
            if trh_id is not None:
                doubtful[trh_id] = "shown again where its time or day cannot be read"
            continue
        seen = slots.setdefault(trh_id, RenderedSlot(trh_id, day, minutes))
        if (seen.day, seen.minutes) != (day, minutes):
            doubtful[trh_id] = "shown at two different times"  # neither can be trusted
    for trh_id, why in doubtful.items():
        if slots.pop(trh_id, None) is not None:
            unreadable.append(f"radio trhId_{trh_id}: {why}")
    return RenderedPicker(tuple(slots.values()), len(radios), tuple(unreadable))


def no_slot_texts(tree: LexborHTMLParser) -> list[str]:
    """The exact no-slot texts shown as an element's whole text, outside scripts and unrendered templates."""
    found: list[str] = []
    for node in tree.css(':lexbor-contains("Aucun créneau disponible"), :lexbor-contains("Veuillez réessayer")'):
        if node.tag in ("script", "style", "template", "noscript") or _unrendered(node.attributes):
            continue
        text = _NO_SLOT_KEYS.get(re.sub(r"\s+", "", node.text(deep=True)))
        if text is not None and text not in found:
            found.append(text)
    return found


_NO_SLOT_KEYS = {re.sub(r"\s+", "", t): t for t in NO_SLOT_TEXTS} | {
    # "…à partir de cette date." + <br> + "Veuillez réessayer ultérieurement." in one element.
    re.sub(r"\s+", "", NO_SLOT_TEXTS[2] + NO_SLOT_TEXTS[3]): NO_SLOT_TEXTS[2],
}


def notice_texts(tree: LexborHTMLParser) -> list[str]:
    """Text around each publication notice (its element's parent: the notice and its week line)."""
    found: list[str] = []
    for node in tree.css(':lexbor-contains("mise en ligne"), :lexbor-contains("Prochaine disponibilit")'):
        if node.tag in ("script", "style", "template", "noscript") or _unrendered(node.attributes):
            continue
        holder = node.parent if node.parent is not None else node
        text = holder.text(separator=" ")
        if text not in found:
            found.append(text)
    return found


def _unrendered(attributes: dict[str, str | None]) -> bool:
    return any(name.startswith(("v-if", "v-else", "v-show")) for name in attributes)
