# SPDX-License-Identifier: AGPL-3.0-or-later
"""Replaying recorded pages of the legacy booking module through its parser."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from creneau.sources.errors import SourceError
from creneau.sources.legacy import ADAPTER
from creneau.sources.legacy.parse import NO_SLOT_SENTENCE, PageKind, read_page
from creneau.types import Outcome

FIXTURES = Path(__file__).parent / "fixtures"
WEEK_URL = "https://www.seine-saint-denis.gouv.fr/ezjscore/call/bookingserver::planning::assign::9846::17638::0"

# The real captures of /work/shared/data/pages/legacy-booking, with the sha256 its README lists.
REAL_CAPTURES = {
    "val-doise-11343-step2-no-slot.html": "faa221db142996b2bfe4310cc267c2af8cfd0dd24c12acaf9d852b505492ff82",
    "val-doise-11343-step1-service-surcharge.htm": "b5ddcfa5a8f4bd623875bea2df95b21e5c4d4ac672b8e5e21d9fac86f7b3e8af",
    "essonne-23014-step2-no-slot-raw-curl.html": "e2ca1f238c211b65f9273e3e21a8140c6e54251e241c749eb3a4a6c1389d7cba",
    "essonne-23014-cookies-redacted.txt": "21a798d596ac66653d06975d57e7cfd3ec2e4ec610be85a6f3cc07644a6668b4",
}


def page(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.mark.parametrize("name", sorted(REAL_CAPTURES))
def test_fixture_real_capture_is_byte_identical_to_the_shared_copy(name: str) -> None:
    assert hashlib.sha256(page(name)).hexdigest() == REAL_CAPTURES[name]


@pytest.mark.parametrize(
    ("name", "url", "outcome"),
    [
        pytest.param(
            "val-doise-11343-step2-no-slot.html",
            "https://www.val-doise.gouv.fr/booking/create/11343/2",
            Outcome.NO_SLOTS,
            id="val-doise-browser-saved",
        ),
        pytest.param("val-doise-11343-step2-no-slot.html", "", Outcome.NO_SLOTS, id="val-doise-without-url"),
        pytest.param(
            "essonne-23014-step2-no-slot-raw-curl.html",
            "https://www.essonne.gouv.fr/booking/create/23014/2",
            Outcome.NO_SLOTS,
            id="essonne-raw-curl",
        ),
        pytest.param(
            "val-doise-11343-step1-service-surcharge.htm",
            "https://www.val-doise.gouv.fr/booking/create/11343/1",
            Outcome.RATE_LIMITED,
            id="service-surcharge",
        ),
    ],
)
def test_parse_classifies_real_capture_when_replayed(name: str, url: str, outcome: Outcome) -> None:
    result = ADAPTER.parse(page(name), url=url)
    assert result.outcome is outcome
    assert result.slots == ()


@pytest.mark.parametrize(
    ("name", "kind", "outcome"),
    [
        pytest.param("terms.html", PageKind.TERMS, Outcome.LAYOUT_UNKNOWN, id="terms"),
        pytest.param("plannings-3-guichets.html", PageKind.PLANNINGS, Outcome.LAYOUT_UNKNOWN, id="plannings"),
        pytest.param("no-slot-step2.html", PageKind.NO_SLOT, Outcome.NO_SLOTS, id="no-slot-step2"),
        pytest.param("pp-step1-no-slot.html", PageKind.NO_SLOT, Outcome.NO_SLOTS, id="prefecture-de-police-step1"),
        pytest.param("description-step3.html", PageKind.DESCRIPTION, Outcome.LAYOUT_UNKNOWN, id="description"),
        pytest.param("calendar-step4.html", PageKind.CALENDAR, Outcome.LAYOUT_UNKNOWN, id="calendar"),
    ],
)
def test_read_page_recognises_step_when_replayed(name: str, kind: PageKind, outcome: Outcome) -> None:
    seen = read_page(page(name))
    assert (seen.kind, seen.result.outcome, seen.result.page) == (kind, outcome, kind.value)


def test_read_page_lists_every_guichet_with_its_label_when_planning_list() -> None:
    seen = read_page(page("plannings-3-guichets.html"))
    assert seen.plannings == (
        ("17637", "Guichet 1 - Titres de séjour"),
        ("17638", "Guichet 2 - Titres de séjour"),
        ("17639", "Guichet 3"),
    )


def test_read_page_finds_ajax_guichet_when_calendar() -> None:
    assert read_page(page("calendar-step4.html")).planning_id == "17638"


def test_parse_reads_slots_with_guichet_when_week_has_free_cells() -> None:
    result = ADAPTER.parse(page("week-with-free-cells.html"), url=WEEK_URL)
    assert result.outcome is Outcome.SLOTS_AVAILABLE
    assert [(s.start, s.guichet, s.ref) for s in result.slots] == [
        (datetime(2026, 5, 5, 7, 0, tzinfo=UTC), "17638", "1777964400"),
        (datetime(2026, 5, 7, 12, 30, tzinfo=UTC), "17638", "1778157000"),
    ]


def test_parse_says_no_slots_when_week_has_no_free_cell() -> None:
    result = ADAPTER.parse(page("week-without-free-cell.html"), url=WEEK_URL)
    assert (result.outcome, result.slots) == (Outcome.NO_SLOTS, ())
    assert "11-17 mai" in result.evidence


def test_parse_reads_fragment_without_url_when_page_hint_is_week() -> None:
    result = ADAPTER.parse(page("week-with-free-cells.html"), url="", page="week")
    assert result.outcome is Outcome.SLOTS_AVAILABLE
    assert {s.guichet for s in result.slots} == {None}


def test_parse_rejects_unknown_page_hint() -> None:
    with pytest.raises(SourceError, match="unknown legacy page"):
        ADAPTER.parse(page("terms.html"), url="", page="calendar-ish")


def _variant(old: str, new: str, name: str = "no-slot-step2.html") -> bytes:
    body = page(name).decode()
    assert old in body
    return body.replace(old, new).encode()


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(_variant("Veuillez recommencer", "Veuillez réessayer"), id="sentence-altered"),
        pytest.param(_variant(NO_SLOT_SENTENCE, ""), id="sentence-missing"),
        pytest.param(_variant(NO_SLOT_SENTENCE, NO_SLOT_SENTENCE + " Merci."), id="sentence-with-more-text"),
        pytest.param(_variant("/booking/create/9846/2", "/booking/create/9846/4"), id="sentence-on-step-4"),
        pytest.param(_variant('id="FormBookingCreate"', 'id="FormBooking"'), id="form-renamed"),
    ],
)
def test_parse_is_inconclusive_when_no_slot_page_is_not_exact(body: bytes) -> None:
    assert ADAPTER.parse(body, url="").outcome is Outcome.LAYOUT_UNKNOWN


def test_parse_accepts_sentence_when_whitespace_and_apostrophe_differ() -> None:
    body = _variant(NO_SLOT_SENTENCE, NO_SLOT_SENTENCE.replace("n'existe", "n\u2019existe").replace(" ", "\n  "))
    assert ADAPTER.parse(body, url="").outcome is Outcome.NO_SLOTS


FREE = (
    '<td class="libre"><a href="https://www.seine-saint-denis.gouv.fr/booking/create/9846/5/1777964400" '
    'title="mardi 5 mai 2026 à 09:00">09:00<br />libre</a></td>'
)


@pytest.mark.parametrize(
    "cell",
    [
        pytest.param('<td class="libre">libre</td>', id="free-cell-without-link"),
        pytest.param('<td class="libre"><a href="/booking/create/9846/5/99">libre</a></td>', id="absurd-timestamp"),
        pytest.param('<td class="libre"><a href="/booking/create/1234/5/1777964400">libre</a></td>', id="other-form"),
        pytest.param('<td class="occupe"><a href="/booking/create/9846/5/1777964400">09:00</a></td>', id="not-free"),
        pytest.param('<td class="libre"><a href="/booking/create/9846/4">libre</a></td>', id="not-a-step-5-link"),
    ],
)
def test_parse_ignores_cell_when_not_a_free_slot_link(cell: str) -> None:
    body = _variant(FREE, cell, "week-with-free-cells.html")
    result = ADAPTER.parse(body, url=WEEK_URL)
    assert [s.ref for s in result.slots] == ["1778157000"]


def test_parse_is_inconclusive_when_fragment_lost_its_week_label() -> None:
    body = _variant('<th colspan="7">11-17 mai</th>', "<th>11-17 mai</th>", "week-without-free-cell.html")
    assert ADAPTER.parse(body, url=WEEK_URL).outcome is Outcome.LAYOUT_UNKNOWN


def test_parse_never_counts_the_legend_when_week_is_empty() -> None:
    body = page("week-without-free-cell.html")
    assert b'<span class="carre libre"></span>libre' in body
    assert ADAPTER.parse(body, url=WEEK_URL).outcome is Outcome.NO_SLOTS


@pytest.mark.parametrize(
    ("name", "has_next", "slots"),
    [
        pytest.param("week-with-free-cells.html", True, 2, id="first-week"),
        pytest.param("week-without-free-cell.html", True, 0, id="empty-week-before-a-later-slot"),
        pytest.param("week-last-bookable.html", False, 1, id="last-bookable-week"),
    ],
)
def test_read_page_says_whether_a_later_week_can_be_booked(name: str, has_next: bool, slots: int) -> None:
    seen = read_page(page(name), url=WEEK_URL)
    assert (seen.kind, seen.has_next_week, len(seen.result.slots)) == (PageKind.WEEK, has_next, slots)


def test_read_page_reads_the_week_of_a_calendar_saved_from_a_browser() -> None:
    # A browser's "Save page as" keeps the week the page's script loaded into div#planning_Booking.
    calendar = page("calendar-step4.html").decode()
    loading = '<p class="loading">Chargement du planning…</p>'
    assert loading in calendar
    saved = calendar.replace(loading, page("week-with-free-cells.html").decode()).encode()
    seen = read_page(saved, url="https://www.seine-saint-denis.gouv.fr/booking/create/9846/4")
    assert (seen.kind, seen.result.outcome, seen.planning_id) == (PageKind.CALENDAR, Outcome.SLOTS_AVAILABLE, "17638")
    assert [s.guichet for s in seen.result.slots] == ["17638", "17638"]
