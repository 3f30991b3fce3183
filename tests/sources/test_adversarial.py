# SPDX-License-Identifier: AGPL-3.0-or-later
"""The adversarial corpus: failure pages, garbage and mutated real pages, through every adapter.

Whatever the page, an adapter must never report `slots_available` without slot evidence, and must name
refusals, overloads, challenges and unknown layouts for what they are. Failure pages come from the
simulator's public builders, so the simulator and the adapters agree on them.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from creneau.sim.sites import failures
from creneau.sources.base import adapter_for
from creneau.sources.common import MAX_PAGE_BYTES
from creneau.sources.legacy.parse import NO_SLOT_SENTENCE
from creneau.types import Outcome, ParseResult, System

TESTS = Path(__file__).parent
URLS = {
    System.LEGACY: "https://www.val-doise.gouv.fr/booking/create/11343/2",
    System.ANTS: "https://api.rendezvouspasseport.ants.gouv.fr/api/SlotsFromPosition?longitude=2.35&latitude=48.85",
    System.RDVPREF: "https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/4321/creneau/",
}
SYSTEMS = [System.LEGACY, System.ANTS, System.RDVPREF]
LEGACY_REAL = (
    "val-doise-11343-step2-no-slot.html",
    "essonne-23014-step2-no-slot-raw-curl.html",
)
# Pages that show no slot, per system: what the garbage and the mutations start from.
NO_SLOT_PAGES = {
    System.LEGACY: [TESTS / "legacy" / "fixtures" / name for name in LEGACY_REAL],
    System.ANTS: [TESTS / "ants" / "fixtures" / "slots-from-position-meeting-points-without-slots.json"],
    System.RDVPREF: sorted((TESTS / "rdvpref" / "fixtures").glob("creneau_*empty*.html")),
}


def parse(system: System, body: bytes, status: int = 200, content_type: str = "") -> tuple[Outcome, int]:
    result = adapter_for(system).parse(body, url=URLS[system], status=status, content_type=content_type)
    return result.outcome, len(result.slots)


def base_page(system: System) -> bytes:
    return NO_SLOT_PAGES[system][0].read_bytes()


# --- failure pages -------------------------------------------------------------------------------------


def _challenge(vendor: str) -> tuple[int, bytes]:
    status, _, body = failures.challenge_page(vendor, "www.val-doise.gouv.fr", "seed")
    return status, body


FAILURES: dict[str, tuple[Callable[[], tuple[int, bytes]], Outcome]] = {
    "403-forbidden": (lambda: (403, failures.forbidden_page()), Outcome.BLOCKED),
    "403-json": (lambda: (403, b'{"detail": "Request forbidden by administrative rules."}'), Outcome.BLOCKED),
    "429": (lambda: (429, failures.too_many_requests_page()), Outcome.RATE_LIMITED),
    "502": (lambda: (502, failures.bad_gateway_page()), Outcome.UNAVAILABLE),
    "500": (lambda: (500, failures.server_error_page(500)), Outcome.UNAVAILABLE),
    "service-surcharge": (lambda: (200, failures.service_surcharge_page()), Outcome.RATE_LIMITED),
    "maintenance": (lambda: (503, failures.maintenance_page()), Outcome.UNAVAILABLE),
    "maintenance-200": (lambda: (200, failures.maintenance_page()), Outcome.UNAVAILABLE),
    "challenge-cloudflare": (lambda: _challenge("cloudflare"), Outcome.UNAVAILABLE),
    "challenge-imperva": (lambda: _challenge("imperva"), Outcome.UNAVAILABLE),
}


@pytest.mark.parametrize("system", SYSTEMS, ids=str)
@pytest.mark.parametrize("case", sorted(FAILURES))
def test_adapter_names_the_failure_when_site_refuses_or_fails(system: System, case: str) -> None:
    build, expected = FAILURES[case]
    status, body = build()
    assert parse(system, body, status) == (expected, 0)


@pytest.mark.parametrize("system", SYSTEMS, ids=str)
def test_adapter_says_layout_unknown_when_layout_changed(system: System) -> None:
    assert parse(system, failures.changed_layout_page(system)) == (Outcome.LAYOUT_UNKNOWN, 0)


@pytest.mark.parametrize("system", SYSTEMS, ids=str)
@pytest.mark.parametrize("fraction", [0.05, 0.3, 0.6], ids=lambda f: f"cut-at-{f:.0%}")
def test_adapter_never_reports_slots_when_page_is_truncated(system: System, fraction: float) -> None:
    outcome, slots = parse(system, failures.truncate_html(base_page(system), fraction))
    assert slots == 0
    assert outcome is not Outcome.SLOTS_AVAILABLE


@pytest.mark.parametrize("name", LEGACY_REAL)
def test_legacy_is_inconclusive_when_cut_before_the_no_slot_form(name: str) -> None:
    body = (TESTS / "legacy" / "fixtures" / name).read_bytes()
    cut = body[: body.index(b"FormBookingCreate") - 40]
    assert parse(System.LEGACY, cut) == (Outcome.LAYOUT_UNKNOWN, 0)


# --- garbage -----------------------------------------------------------------------------------------

GARBAGE: dict[str, Callable[[], bytes]] = {
    "empty": lambda: b"",
    "whitespace": lambda: b" \r\n\t " * 100,
    "binary": lambda: random.Random(7).randbytes(65_536),
    "png": lambda: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 16,
    "10mb-page": lambda: b"<html><body>" + b"<p class='libre'>libre</p>" * 400_000 + b"</body></html>",
    "plain-text": lambda: b"plage horaire libre " * 5_000,
    "json-null": lambda: b"null",
    "html-skeleton": lambda: b"<!DOCTYPE html><html><head><title>Rendez-vous</title></head><body></body></html>",
}


@pytest.mark.parametrize("system", SYSTEMS, ids=str)
@pytest.mark.parametrize("case", sorted(GARBAGE))
def test_adapter_says_layout_unknown_when_page_is_garbage(system: System, case: str) -> None:
    assert parse(system, GARBAGE[case]()) == (Outcome.LAYOUT_UNKNOWN, 0)


# --- the size rule shared by the HTML adapters (sources/common.py) -------------------------------------

HTML_SYSTEMS = [System.LEGACY, System.RDVPREF]
# A page with slots on each system (file, URL, page name), padded with a comment to the size wanted.
SLOT_PAGES = {
    System.LEGACY: (TESTS / "legacy" / "fixtures" / "week-with-free-cells.html", "", "week"),
    System.RDVPREF: (TESTS / "rdvpref" / "fixtures" / "creneau_slots.html", URLS[System.RDVPREF], None),
}


def padded(system: System, size: int) -> bytes:
    body = SLOT_PAGES[system][0].read_bytes()
    return body + b"<!--" + b"x" * (size - len(body) - 7) + b"-->"


def parse_slot_page(system: System, body: bytes, status: int = 200) -> ParseResult:
    _, url, page = SLOT_PAGES[system]
    return adapter_for(system).parse(body, url=url, status=status, page=page)


@pytest.fixture
def no_dom(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if an adapter parses the page (DOM or embedded state) instead of refusing it."""

    def refuse(*_: object) -> None:
        raise AssertionError("the page was parsed")

    for module in ("creneau.sources.legacy.parse", "creneau.sources.rdvpref.parse"):
        monkeypatch.setattr(f"{module}.LexborHTMLParser", refuse)
    monkeypatch.setattr("creneau.sources.rdvpref.parse.extract_state", refuse)


@pytest.mark.parametrize("system", HTML_SYSTEMS, ids=str)
def test_adapter_reads_the_slots_when_page_is_at_the_size_limit(system: System) -> None:
    result = parse_slot_page(system, padded(system, MAX_PAGE_BYTES))
    assert (result.outcome, len(result.slots) > 0) == (Outcome.SLOTS_AVAILABLE, True)


@pytest.mark.usefixtures("no_dom")
@pytest.mark.parametrize("system", HTML_SYSTEMS, ids=str)
@pytest.mark.parametrize(
    "body",
    [
        pytest.param(lambda system: padded(system, MAX_PAGE_BYTES + 1), id="slot-page-one-byte-over"),
        pytest.param(lambda _: b"<html><body>" + b"<ul><li>" * 1_250_000 + b"</body></html>", id="10mb-nested"),
        pytest.param(lambda _: b"<html><body>" + b"<td class='libre'>libre</td>" * 360_000, id="10mb-stray-cells"),
    ],
)
def test_adapter_refuses_unparsed_when_page_is_over_the_size_limit(
    system: System, body: Callable[[System], bytes]
) -> None:
    result = parse_slot_page(system, body(system))
    assert (result.outcome, result.slots) == (Outcome.LAYOUT_UNKNOWN, ())
    assert f"over the {MAX_PAGE_BYTES:,}-byte limit for a booking page, not parsed" in result.evidence


@pytest.mark.usefixtures("no_dom")
@pytest.mark.parametrize("system", HTML_SYSTEMS, ids=str)
@pytest.mark.parametrize(
    ("status", "page", "expected"),
    [
        pytest.param(429, b"", Outcome.RATE_LIMITED, id="429"),
        pytest.param(503, b"", Outcome.UNAVAILABLE, id="503"),
        pytest.param(200, "<h1>Service surchargé</h1>".encode(), Outcome.RATE_LIMITED, id="overloaded"),
    ],
)
def test_adapter_keeps_the_refusal_when_an_oversized_page_is_an_error_page(
    system: System, status: int, page: bytes, expected: Outcome
) -> None:
    body = b"<html><body>" + page + "<p>é</p>".encode() * 300_000
    assert parse_slot_page(system, body, status).outcome is expected


@pytest.mark.parametrize("system", SYSTEMS, ids=str)
@pytest.mark.parametrize(
    ("encoding", "declared"),
    [("latin-1", "utf-8"), ("utf-8", "iso-8859-1"), ("cp1252", ""), ("utf-8", "")],
    ids=["latin1-declared-utf8", "utf8-declared-latin1", "cp1252-undeclared", "utf8-undeclared"],
)
def test_adapter_keeps_its_verdict_when_charset_is_wrong(system: System, encoding: str, declared: str) -> None:
    original = base_page(system)
    body = original.decode("utf-8").encode(encoding, errors="replace")
    content_type = f"text/html; charset={declared}" if declared else ""
    expected, _ = parse(system, original)
    outcome, slots = parse(system, body, content_type=content_type)
    assert slots == 0
    # A tolerant decoder keeps the verdict; a page it cannot read is at worst unknown, never available.
    allowed = {expected} if system is System.LEGACY else {expected, Outcome.LAYOUT_UNKNOWN}
    assert outcome in allowed


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda s: s.replace(NO_SLOT_SENTENCE, ""), id="sentence-missing"),
        pytest.param(lambda s: s.replace("plage horaire libre", "plage libre"), id="sentence-altered"),
        pytest.param(lambda s: s.replace("ultérieurement.", "ultérieurement"), id="full-stop-missing"),
        pytest.param(lambda s: s.replace("Il n'existe plus", "Il existe encore"), id="sentence-inverted"),
        pytest.param(lambda s: s.replace(NO_SLOT_SENTENCE, f"<b>{NO_SLOT_SENTENCE}</b> Nouveau : "), id="more-text"),
        pytest.param(lambda s: s.replace('id="FormBookingCreate"', 'id="FormBookingCreateV2"'), id="form-renamed"),
    ],
)
@pytest.mark.parametrize("name", LEGACY_REAL)
def test_legacy_is_inconclusive_when_no_slot_sentence_is_not_exact(name: str, edit: Callable[[str], str]) -> None:
    text = (TESTS / "legacy" / "fixtures" / name).read_bytes().decode()
    changed = edit(text)
    assert changed != text
    assert parse(System.LEGACY, changed.encode()) == (Outcome.LAYOUT_UNKNOWN, 0)


# What shows "no slot" on each system's no-slot page; without it the page proves nothing.
NO_SLOT_EVIDENCE: dict[System, Callable[[str], str]] = {
    System.LEGACY: lambda s: s.replace(NO_SLOT_SENTENCE, ""),
    System.ANTS: lambda s: '{"meeting_points": ' + s + "}",
    System.RDVPREF: lambda s: re.sub(
        r"VertigoUi\.vueData = .*", "", s.replace("Aucun créneau disponible", "").replace("Veuillez réessayer", "")
    ),
}


@pytest.mark.parametrize("system", SYSTEMS, ids=str)
def test_adapter_says_layout_unknown_when_no_slot_evidence_is_missing(system: System) -> None:
    for path in NO_SLOT_PAGES[system]:
        text = path.read_bytes().decode()
        changed = NO_SLOT_EVIDENCE[system](text)
        assert changed != text
        assert parse(system, changed.encode()) == (Outcome.LAYOUT_UNKNOWN, 0), path.name


# --- mutations ----------------------------------------------------------------------------------------

# Structure a mutation may insert: everything a slot page is made of except the slot evidence itself.
TAGS = (
    "<div>",
    "</div>",
    "<table>",
    "</table>",
    "<tr>",
    "<td>",
    '<td class="libre">',
    '<th colspan="7">',
    "</th>",
    "<p>libre</p>",
    '<form id="FormBookingCreate" action="/booking/create/11343/4">',
    "</form>",
    '<input type="radio" name="planning" value="1">',
    '<input type="radio" id="trhId_1" name="trhId" value="1">',
    "<script>",
    "</script>",
    "<!--",
    "-->",
    '<a href="#">',
    "</a>",
    "\x00",
)


@st.composite
def mutated(draw: st.DrawFn, original: str) -> str:
    text = original
    for _ in range(draw(st.integers(1, 4))):
        size = len(text)
        start = draw(st.integers(0, size))
        end = draw(st.integers(start, min(size, start + 2_000)))
        action = draw(st.sampled_from(("delete", "duplicate", "replace", "truncate", "case", "insert")))
        if action == "delete":
            text = text[:start] + text[end:]
        elif action == "duplicate":
            text = text[:end] + text[start:end] + text[end:]
        elif action == "replace":
            text = text[:start] + draw(st.text(alphabet="<>/\"'= libre5:abcé0123456789", max_size=40)) + text[end:]
        elif action == "truncate":
            text = text[:start]
        elif action == "case":
            text = text[:start] + text[start:end].swapcase() + text[end:]
        else:
            text = text[:start] + draw(st.sampled_from(TAGS)) + text[start:]
    return text


def _mutation_cases() -> list[tuple[System, Path]]:
    return [(system, path) for system in SYSTEMS for path in NO_SLOT_PAGES[system]]


@pytest.mark.parametrize(("system", "path"), _mutation_cases(), ids=lambda v: getattr(v, "name", str(v)))
def test_adapter_never_reports_slots_when_a_no_slot_page_is_mutated(system: System, path: Path) -> None:
    original = path.read_bytes().decode("utf-8")

    @settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(mutated(original))
    def check(text: str) -> None:
        outcome, slots = parse(system, text.encode("utf-8", errors="replace"))
        assert outcome is not Outcome.SLOTS_AVAILABLE
        assert slots == 0

    check()
