# SPDX-License-Identifier: AGPL-3.0-or-later
"""RDV Préfecture pages → ParseResult. Pure: bytes and context in, outcome and evidence out.

Order of decisions: error/refusal and oversized pages (`screen`), then the captcha page, then the slot page.
Slots come only from positive evidence: tranche entries of the embedded state, or rendered `trhId`
radios. "No slots" comes only from positive evidence of the empty state: embedded `tranches: []` next to
recognised props or `critere`, `critere.datePremiereDispo == ""`, or an element whose whole text is one of
the site's no-slot sentences. Anything else on a slot page is `layout_unknown`.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from urllib.parse import parse_qs, urlsplit

from selectolax.lexbor import LexborHTMLParser

from creneau.sources.common import screen
from creneau.sources.errors import ErrorKind, SourceError
from creneau.sources.rdvpref.embedded import EmbeddedState, extract_state
from creneau.sources.rdvpref.notices import (
    announced_availability,
    merge,
    paris_instant,
    parse_date,
    state_notices,
    text_notices,
)
from creneau.sources.rdvpref.rendered import RenderedPicker, no_slot_texts, notice_texts, read_picker
from creneau.types import PARIS, Notice, NoticeKind, Outcome, ParseResult, Slot

PAGES = ("landing", "cgu", "creneau")
CAPTCHA_MARKERS = ("<rdv-captchetat", "captchaUsercode", "captchaFormulaireExtInput")
_SLOT_PAGE_MARKERS = ("rdv-choix-tranche", "trhId", '"critere"', "Choisissez votre créneau")
_LANDING_TEXT = "Prendre un rendez-vous"
_LANDING_RE = re.compile(r"/rdvpref/reservation/demarche/\d+/?$")
_ANY_DATE_RE = re.compile(r"\b(\d{2}/\d{2}/\d{4})\b")
# Cheap, case-sensitive substring tests (the site's own spelling; lower-casing 100 KB costs more than the
# whole decision) that say whether the DOM must be parsed at all.
_RADIO_HINT = re.compile(r"name\s*=\s*[\"']?trhId")
_NOTICE_HINTS = ("mise en ligne", "Prochaine disponibilit")
_NO_SLOT_HINTS = ("Aucun cr", "Veuillez r")
_CRITERE_KEYS = ("premierJour", "dateMin", "dateMax", "datePremiereDispo", "minutesMin", "ageIds")


def has_captcha(text: str) -> bool:
    """True when the page carries the captcha widget or its answer field."""
    return "captch" in text and any(m in text for m in CAPTCHA_MARKERS)


def detect_page(url: str, text: str, captcha: bool | None = None) -> str:
    """Page name from the URL path, else from tell-tale markup ("" when nothing says)."""
    path = urlsplit(url).path
    if path.endswith("/cgu/") or (has_captcha(text) if captcha is None else captcha):
        return "cgu"
    if path.endswith("/creneau/") or any(m in text for m in _SLOT_PAGE_MARKERS):
        return "creneau"
    if _LANDING_RE.search(path) or _LANDING_TEXT in text:
        return "landing"
    return ""


def parse(
    body: bytes,
    *,
    url: str,
    status: int = 200,
    content_type: str = "",
    page: str | None = None,
    truncated: bool = False,
    today: date | None = None,
) -> ParseResult:
    """Classify one page. `today` (Paris) only helps date rendered day headers on pages that carry no year.

    Raises SourceError(BAD_INPUT) for an unknown page name.
    """
    if page is not None and page not in PAGES:
        raise SourceError(ErrorKind.BAD_INPUT, f"unknown RDV Préfecture page {page!r}; use one of {', '.join(PAGES)}")
    text, failure = screen(status, body, content_type, truncated=truncated)
    captcha = has_captcha(text)
    name = page or detect_page(url, text, captcha)
    if failure is not None:
        return ParseResult(failure.outcome, failure.evidence, page=name)
    if captcha:
        return _captcha_result(url)
    if name == "cgu":
        return ParseResult(Outcome.LAYOUT_UNKNOWN, "terms page without the captcha widget", page="cgu")
    if name == "landing":
        if _LANDING_TEXT in text:
            return ParseResult(
                Outcome.HUMAN_CHECK_REQUIRED,
                "landing page ('Prendre un rendez-vous'): slots are only shown after the captcha",
                page="landing",
            )
        return ParseResult(
            Outcome.LAYOUT_UNKNOWN, "landing page without its 'Prendre un rendez-vous' button", page=name
        )
    return _slot_page(text, name, today)


def _captcha_result(url: str) -> ParseResult:
    error = (parse_qs(urlsplit(url).query).get("error") or [""])[0]
    if error == "errorSessionInvalide":
        return ParseResult(
            Outcome.SESSION_EXPIRED, "sent back to the captcha page with ?error=errorSessionInvalide", page="cgu"
        )
    if error == "invalidCaptcha":
        return ParseResult(
            Outcome.HUMAN_CHECK_REQUIRED, "captcha page after a rejected code (?error=invalidCaptcha)", page="cgu"
        )
    return ParseResult(
        Outcome.HUMAN_CHECK_REQUIRED, "captcha page (rdv-captchetat): a person must solve it", page="cgu"
    )


def _reference_date(state: EmbeddedState, text: str, today: date | None) -> date:
    critere = state.critere or {}
    for raw in (state.props.get("premierJour"), critere.get("premierJour"), critere.get("dateMin")):
        if isinstance(raw, str) and (day := parse_date(raw)) is not None:
            return day
    match = _ANY_DATE_RE.search(text)
    if match and (day := parse_date(match.group(1))) is not None:
        return day
    return today or datetime.now(UTC).astimezone(PARIS).date()


def tranche_slots(tranches: list[object]) -> tuple[list[Slot], int]:
    """Slots of the embedded `tranches` entries, and how many entries could not be read."""
    slots: list[Slot] = []
    bad = 0
    for entry in tranches:
        if not isinstance(entry, dict):
            bad += 1
            continue
        trh_id, day_raw, minutes = entry.get("trhId"), entry.get("dateLocale"), entry.get("minutesDebut")
        day = parse_date(day_raw) if isinstance(day_raw, str) else None
        if isinstance(minutes, str) and minutes.isdigit():
            minutes = int(minutes)
        ident = str(trh_id) if isinstance(trh_id, int | str) and str(trh_id).isdigit() else None
        if day is None or ident is None or not isinstance(minutes, int) or not 0 <= minutes < 1440:
            bad += 1
            continue
        slots.append(Slot(start=paris_instant(day, minutes), ref=ident))
    return slots, bad


def _recognised(state: EmbeddedState) -> str | None:
    """Which embedded data, besides `tranches`, shows this is the real picker state (None: nothing)."""
    critere = state.critere
    if critere is not None and any(k in critere for k in _CRITERE_KEYS):
        return "critere"
    for name in ("premierJour", "premiereDispo", "prochainePub", "precedentePub"):
        if name in state.props:
            return name
    return None


class _Tree:
    """The page's DOM, parsed only when a decision needs it (most server pages are decided without it)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._tree: LexborHTMLParser | None = None

    @property
    def tree(self) -> LexborHTMLParser:
        if self._tree is None:
            self._tree = LexborHTMLParser(self.text)
        return self._tree


def _slot_page(text: str, name: str, today: date | None) -> ParseResult:
    state = extract_state(text)
    dom = _Tree(text)
    if _RADIO_HINT.search(text):
        picker = read_picker(dom.tree, _reference_date(state, text, today))
    else:
        picker = RenderedPicker((), 0, ())
    rendered_notices = (
        [n for t in notice_texts(dom.tree) for n in text_notices(t)] if any(h in text for h in _NOTICE_HINTS) else []
    )
    notices = merge([rendered_notices, state_notices(state)])
    page = name or "creneau"

    def result(outcome: Outcome, evidence: str, slots: tuple[Slot, ...] = ()) -> ParseResult:
        return ParseResult(outcome, evidence, slots, notices, page)

    tranches = state.props.get("tranches")
    embedded, bad = tranche_slots(tranches) if isinstance(tranches, list) else ([], 0)
    merged = {s.ref: s for s in embedded}
    for r in picker.slots:
        start = paris_instant(r.day, r.minutes)
        if merged.setdefault(r.trh_id, Slot(start=start, ref=r.trh_id)).start != start:
            del merged[r.trh_id]  # the page contradicts itself about this slot: not evidence
            bad += 1
    if merged:
        parts = []
        if embedded:
            parts.append(f"{len(embedded)} tranches in embedded rdv-choix-tranche props ({state.where['tranches']})")
        if picker.slots:
            parts.append(f"{len(picker.slots)} trhId radios in the rendered slot picker")
        if bad or picker.unreadable:
            parts.append(f"{bad + len(picker.unreadable)} unreadable entries ignored")
        slots = tuple(sorted(merged.values(), key=lambda s: (s.start, s.ref or "")))
        return result(Outcome.SLOTS_AVAILABLE, "; ".join(parts), slots)
    if bad:
        return result(Outcome.LAYOUT_UNKNOWN, f"{bad} slot entries unreadable or contradicting each other, none usable")
    if picker.radios:
        detail = f" ({picker.unreadable[0]})" if picker.unreadable else ""
        return result(Outcome.LAYOUT_UNKNOWN, f"{picker.radios} trhId radios, none readable{detail}")
    if "tranches" in state.unreadable:
        return result(Outcome.LAYOUT_UNKNOWN, "embedded tranches present but not decodable")
    if "</html" not in text[-4096:].lower():
        # "No slots" is a statement about the whole page: a page cut short may have lost its slots.
        return result(Outcome.LAYOUT_UNKNOWN, "page cut short (no </html>) and no slot in what arrived")
    outcome, evidence = _empty_state(state, dom, text, rendered_notices, name)
    return result(outcome, evidence)


def _empty_state(state: EmbeddedState, dom: _Tree, text: str, rendered: list[Notice], name: str) -> tuple[Outcome, str]:
    """Decide a page that shows no slot: `no_slots` needs positive evidence, else `layout_unknown`."""
    critere = state.critere
    if state.props.get("tranches") == [] and (why := _recognised(state)):
        evidence = f"embedded tranches [] ({state.where['tranches']}) next to {why}"
    elif "tranches" not in state.props and critere is not None and critere.get("datePremiereDispo") == "":
        evidence = f"embedded critere.datePremiereDispo '' ({state.where['critere']})"
    elif any(h in text for h in _NO_SLOT_HINTS) and (texts := no_slot_texts(dom.tree)):
        evidence = f"rendered text '{texts[0]}'"
    elif name:
        return Outcome.LAYOUT_UNKNOWN, "slot page with neither slots nor a recognised empty state"
    else:
        return Outcome.LAYOUT_UNKNOWN, "page not recognised as an RDV Préfecture page"
    later = announced_availability(state) or next(
        (f"{n.instant.astimezone(PARIS):%d/%m/%Y}" for n in rendered if n.kind is NoticeKind.NEXT_AVAILABILITY), None
    )
    if later is not None:
        # Slots exist in a later week this page does not show: neither "available" (no slot seen) nor
        # "no slots" (the site says there are some).
        return Outcome.LAYOUT_UNKNOWN, f"{evidence}, but a first availability on {later} is announced"
    return Outcome.NO_SLOTS, evidence
