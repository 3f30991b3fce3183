# SPDX-License-Identifier: AGPL-3.0-or-later
"""Reading the pages of the legacy prefecture booking module (eZ Publish `ezbooking`). Pure: no I/O.

`read_page` says which step a page is (terms, planning list, no-slot page, calendar, AJAX week fragment)
and what it proves about slots; the client walks the site from that. Slots come only from a recognised
week table whose free ("libre") cells link to `/booking/create/{formId}/5/{unixTs}`; "no slots" only
from the exact no-slot sentence (steps 1 and 2) or from a recognised week table without a free cell.
Every other page is inconclusive, whatever it lacks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import unquote, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from creneau.sources.common import normalise_text, screen
from creneau.sources.errors import ErrorKind, SourceError
from creneau.sources.legacy.week import WeekTable, has_next_week, read_weeks, week_tables
from creneau.types import Outcome, ParseResult

NO_SLOT_SENTENCE = (
    "Il n'existe plus de plage horaire libre pour votre demande de rendez-vous. Veuillez recommencer ultérieurement."
)
TERMS_BUTTON = "Effectuer une demande de rendez-vous"
NEXT_BUTTON = "Etape suivante"
PAGE_HINTS = ("auto", "week")
_NO_SLOT = normalise_text(NO_SLOT_SENTENCE)
_STEP_PATH = re.compile(r"/booking/create/(\d+)(?:/(\d+))?")
_ASSIGN = re.compile(r"bookingserver::planning::assign::(\d+)::(\d+)(?:::(\d+))?")
_INVISIBLE = ("script", "style", "noscript", "template")


class PageKind(StrEnum):
    FAILURE = "error"  # refusal, overload, maintenance, challenge, truncated…
    TERMS = "terms"  # step 0: conditions checkbox
    PLANNINGS = "plannings"  # step 1: one radio per guichet
    NO_SLOT = "no_slot"  # the exact no-slot sentence (step 2, or step 1 on the Préfecture de Police)
    DESCRIPTION = "description"  # step 3: "Descriptif", posted on to step 4
    CALENDAR = "calendar"  # step 4: the week table is loaded by AJAX
    WEEK = "week"  # the AJAX week fragment (or a calendar saved with its table)
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class LegacyPage:
    """What one page of the module is, and what it proves.

    `plannings` lists (id, label) of the step-1 radios, `unreadable_plannings` counts the radios whose
    value cannot be posted back; `planning_id` is the guichet a calendar or week page is about when the
    page or its URL says so; `has_next_week` is False when a week fragment shows that no later week can be
    booked (None when it does not say).
    """

    kind: PageKind
    result: ParseResult
    form_id: int | None = None
    step: int | None = None
    plannings: tuple[tuple[str, str], ...] = ()
    unreadable_plannings: int = 0
    planning_id: str | None = None
    has_next_week: bool | None = None


def decode(body: bytes, content_type: str = "") -> str:
    """Decode like a forgiving browser: UTF-8 when the bytes are valid UTF-8 and no other non-Latin
    charset is declared (a UTF-8 page mislabelled Latin-1 is common), else the declared charset, else Latin-1.
    """
    declared = ""
    for part in content_type.split(";"):
        name, _, value = part.strip().partition("=")
        if name.lower() == "charset":
            declared = value.strip("\"' ").lower()
    if declared in ("", "utf-8", "utf8", "iso-8859-1", "latin-1", "latin1", "windows-1252", "cp1252", "us-ascii"):
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            return body.decode("cp1252" if declared in ("windows-1252", "cp1252") else "latin-1")
    try:
        return body.decode(declared)
    except (LookupError, UnicodeDecodeError):
        return body.decode("latin-1")


def parse(
    body: bytes, *, url: str = "", status: int = 200, content_type: str = "", page: str | None = None
) -> ParseResult:
    """Classify one saved or fetched page. `page="week"` says the body is an AJAX week fragment."""
    return read_page(body, url=url, status=status, content_type=content_type, hint=page).result


def read_page(
    body: bytes,
    *,
    url: str = "",
    status: int = 200,
    content_type: str = "",
    truncated: bool = False,
    hint: str | None = None,
) -> LegacyPage:
    """Recognise a page of the module. Raises SourceError(BAD_INPUT) only for an unknown `hint`."""
    if hint not in (None, *PAGE_HINTS):
        raise SourceError(ErrorKind.BAD_INPUT, f"unknown legacy page {hint!r}: use one of {', '.join(PAGE_HINTS)}")
    text, failure = screen(status, body, content_type, truncated=truncated, decode=decode)
    if failure is not None:
        return LegacyPage(PageKind.FAILURE, _named(failure, PageKind.FAILURE))
    tree = LexborHTMLParser(text)
    form = tree.css_first("form#FormBookingCreate")
    form_id, step = _form_step(form, url)
    assign = _ASSIGN.search(unquote(url))
    if assign:
        form_id = int(assign.group(1))
    weeks = week_tables(tree)
    if hint == "week" or assign or (weeks and form is None):
        return _week_page(tree, weeks, form_id, assign.group(2) if assign else None)
    if form is not None and step in (1, 2) and _visible_text(form) == _NO_SLOT:
        where = f"step {step}" + (" (Préfecture de Police variant)" if step == 1 else "")
        result = ParseResult(Outcome.NO_SLOTS, f"exact no-slot sentence in form#FormBookingCreate on {where}")
        return LegacyPage(PageKind.NO_SLOT, _named(result, PageKind.NO_SLOT), form_id, step)
    calendar_planning = _calendar_planning(tree, text)
    if weeks:  # a calendar saved from a browser, with its week table in the DOM
        week = _week_page(tree, weeks, form_id, calendar_planning)
        return LegacyPage(PageKind.CALENDAR, week.result, form_id, step, planning_id=calendar_planning)
    plannings, unreadable = _plannings(tree)
    if plannings or unreadable:
        count = len(plannings) + unreadable
        result = _pending(PageKind.PLANNINGS, f"planning list with {count} guichet(s), no slot state yet")
        return LegacyPage(PageKind.PLANNINGS, result, form_id, step, plannings, unreadable)
    if tree.css_first("input#condition") is not None and _button(tree, "nextButton") == TERMS_BUTTON:
        return LegacyPage(PageKind.TERMS, _pending(PageKind.TERMS, "terms page (step 0)"), form_id, step)
    if form is not None and (step == 4 or _active_step(tree) == 4):
        result = _pending(PageKind.CALENDAR, "calendar page (step 4): its weeks are loaded separately")
        return LegacyPage(PageKind.CALENDAR, result, form_id, 4, planning_id=calendar_planning)
    if form is not None and step == 3 and _button(tree, "nextButton") == NEXT_BUTTON:
        result = _pending(PageKind.DESCRIPTION, "description page (step 3)")
        return LegacyPage(PageKind.DESCRIPTION, result, form_id, step)
    if form is not None and _NO_SLOT in _visible_text(form):
        evidence = "no-slot sentence found, but not as the whole form text of step 1 or 2"
    elif form is not None:
        evidence = f"booking form of step {step} not recognised"
    else:
        evidence = "page not recognised (no booking form, no week table)"
    return LegacyPage(PageKind.UNKNOWN, ParseResult(Outcome.LAYOUT_UNKNOWN, evidence, page="unknown"), form_id, step)


def _named(result: ParseResult, kind: PageKind) -> ParseResult:
    return ParseResult(result.outcome, result.evidence, result.slots, result.notices, kind.value)


def _pending(kind: PageKind, evidence: str) -> ParseResult:
    """An intermediate step: recognised, but it says nothing about slots (never conclusive)."""
    return ParseResult(Outcome.LAYOUT_UNKNOWN, evidence, page=kind.value)


def _visible_text(node: LexborNode) -> str:
    parts: list[str] = []
    for child in node.traverse(include_text=True):
        if child.tag == "-text":
            parent = child.parent
            if parent is None or parent.tag not in _INVISIBLE:
                parts.append(child.text_content or "")
    return normalise_text(" ".join(parts))


def _form_step(form: LexborNode | None, url: str) -> tuple[int | None, int | None]:
    """Form id and step from the form's action (what the server rendered), else from the page URL."""
    for source in ((form.attributes.get("action") or "") if form is not None else "", urlsplit(url).path):
        match = _STEP_PATH.search(source)
        if match:
            return int(match.group(1)), int(match.group(2)) if match.group(2) else None
    return None, None


def _button(tree: LexborHTMLParser, name: str) -> str:
    node = tree.css_first(f'input[name="{name}"]')
    return " ".join((node.attributes.get("value") or "").split()) if node is not None else ""


def _active_step(tree: LexborHTMLParser) -> int | None:
    """The progress bar marks the current step with `etape_{n}r.png`."""
    for img in tree.css("#Progress_Booking img"):
        match = re.search(r"etape_(\d+)r\.png", img.attributes.get("src") or "")
        if match:
            return int(match.group(1))
    return None


def _plannings(tree: LexborHTMLParser) -> tuple[tuple[tuple[str, str], ...], int]:
    """(id, label) of each guichet radio, and how many radios carry a value that cannot be posted back."""
    found: dict[str, str] = {}
    unreadable: set[str] = set()
    for radio in tree.css('input[name="planning"]'):
        if (radio.attributes.get("type") or "").lower() == "hidden":
            continue  # a calendar page's own guichet, not a choice
        value = (radio.attributes.get("value") or "").strip()
        if not re.fullmatch(r"[\w-]{1,40}", value):
            unreadable.add(value)
            continue
        if value in found:
            continue
        label = ""
        radio_id = radio.attributes.get("id")
        if radio_id:
            node = tree.css_first(f'label[for="{radio_id}"]')
            label = node.text(deep=True) if node is not None else ""
        if not label and radio.parent is not None and radio.parent.tag == "label":
            label = radio.parent.text(deep=True)
        found[value] = " ".join(label.split())
    return tuple(found.items()), len(unreadable)


def _calendar_planning(tree: LexborHTMLParser, text: str) -> str | None:
    """The guichet a calendar page loads its weeks for: its own AJAX URL, else a checked planning input."""
    match = _ASSIGN.search(text)
    if match:
        return match.group(2)
    node = tree.css_first('input[name="planning"][type="hidden"]') or tree.css_first('input[name="planning"][checked]')
    value = (node.attributes.get("value") or "").strip() if node is not None else ""
    return value or None


def _week_page(
    tree: LexborHTMLParser, weeks: list[WeekTable], form_id: int | None, planning_id: str | None
) -> LegacyPage:
    if not weeks:
        evidence = "not a week planning: no table headed by a week label (th colspan=7)"
        return LegacyPage(PageKind.UNKNOWN, ParseResult(Outcome.LAYOUT_UNKNOWN, evidence, page="unknown"), form_id)
    result = read_weeks(weeks, form_id, planning_id, page=PageKind.WEEK.value)
    return LegacyPage(PageKind.WEEK, result, form_id, planning_id=planning_id, has_next_week=has_next_week(tree))
