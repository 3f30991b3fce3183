# SPDX-License-Identifier: AGPL-3.0-or-later
"""Replaying recorded RDV Préfecture pages (simulator recordings, Chromium renderings) through the parser.

The fixtures come from `record_fixtures.py` (its world fixes every expectation below); `index.json` gives
each page's official URL, HTTP status and content type.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest

from creneau.sources.errors import SourceError
from creneau.sources.rdvpref import ADAPTER
from creneau.sources.rdvpref.cgu import read_captcha_html, read_widget
from creneau.types import PARIS, NoticeKind, Outcome, ParseResult

FIXTURES = Path(__file__).parent / "fixtures"
INDEX: dict[str, dict[str, object]] = json.loads((FIXTURES / "index.json").read_text())
BASE = "https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/3762/"
_STATE_RE = re.compile(rb"VertigoUi\.vueData = .*?;\n")


def parse(name: str, *, rendered_only: bool = False, **kwargs: object) -> ParseResult:
    """Parse a fixture as recorded; `rendered_only` drops the embedded state so only the DOM speaks."""
    meta = INDEX[name]
    body = (FIXTURES / name).read_bytes()
    if rendered_only:
        body, count = _STATE_RE.subn(b"", body)
        assert count == 1
    return ADAPTER.parse(
        body, url=str(meta["url"]), status=int(meta["status"]), content_type=str(meta["content_type"]), **kwargs
    )  # type: ignore[arg-type]


def paris(result: ParseResult) -> list[tuple[str, str | None]]:
    return [(s.start.astimezone(PARIS).strftime("%d/%m/%Y %H:%M"), s.ref) for s in result.slots]


def notices(result: ParseResult) -> set[tuple[NoticeKind, str, date | None]]:
    return {(n.kind, n.instant.astimezone(PARIS).strftime("%d/%m/%Y %H:%M"), n.week_of) for n in result.notices}


WEDNESDAY = [f"06/05/2026 {t}" for t in ("09:00", "09:30", "10:00", "10:30", "11:00", "11:30", "14:00", "14:30")]
ALL_SLOTS = [(t, str(90200 + i)) for i, t in enumerate([*WEDNESDAY, "07/05/2026 09:15", "08/05/2026 16:45"])]
SHOWN = ALL_SLOTS[:6] + ALL_SLOTS[8:]  # the picker shows 6 rows per day until "Voir plus de créneaux"
NEXT_PUB = (NoticeKind.NEXT_PUBLICATION, "07/05/2026 08:30", date(2026, 5, 18))
LAST_PUB_2246 = (NoticeKind.LAST_PUBLICATION, "30/04/2026 08:30", date(2026, 5, 4))


@pytest.mark.parametrize(
    ("name", "rendered_only", "slots", "evidence"),
    [
        pytest.param("creneau_slots.html", False, ALL_SLOTS, "10 tranches in embedded", id="embedded"),
        pytest.param("creneau_rendered_slots.html", False, ALL_SLOTS, "8 trhId radios", id="rendered+embedded"),
        pytest.param("creneau_rendered_slots.html", True, SHOWN, "8 trhId radios", id="rendered-desktop"),
        pytest.param("creneau_rendered_slots_phone.html", True, SHOWN, "8 trhId radios", id="rendered-phone"),
        pytest.param(
            "creneau_rendered_quasar_slots.html",
            False,
            [("12/05/2026 09:00", "90211"), ("12/05/2026 09:30", "90212"), ("14/05/2026 14:00", "90307")],
            "3 trhId radios",
            id="rendered-quasar",
        ),
        pytest.param("creneau_last_week_notice.html", False, [("05/05/2026 15:40", "90212")], "1 tranches", id="last"),
        pytest.param(
            "creneau_after_publication.html",
            False,
            [(f"18/05/2026 {t}", str(90214 + i)) for i, t in enumerate(("09:00", "09:20", "09:40"))],
            "3 tranches",
            id="published",
        ),
    ],
)
def test_parse_reads_slots_in_paris_time_when_page_has_slots(
    name: str, rendered_only: bool, slots: list[tuple[str, str]], evidence: str
) -> None:
    result = parse(name, rendered_only=rendered_only)
    assert result.outcome is Outcome.SLOTS_AVAILABLE
    assert paris(result) == slots
    assert evidence in result.evidence
    assert all(s.start.utcoffset() is not None and not s.start.utcoffset() for s in result.slots)  # type: ignore[union-attr]


# Day columns: (fixture, header tag, column start tag, column end tag) for each layout.
LAYOUTS = {
    "desktop": ("creneau_rendered_slots.html", b"h3", b'<div class="col colonne-jour">', b"</div>"),
    "phone": ("creneau_rendered_slots_phone.html", b"summary", b'<details class="q-expansion-item">', b"</details>"),
}


@pytest.mark.parametrize(("name", "header", "start", "end"), LAYOUTS.values(), ids=LAYOUTS.keys())
def test_parse_leaves_radios_unread_when_their_own_column_has_no_day_header(
    name: str, header: bytes, start: bytes, end: bytes
) -> None:
    body = _STATE_RE.sub(b"", (FIXTURES / name).read_bytes())
    # Wednesday's column loses its header and moves inside Tuesday's column, which is closed after it.
    tuesday = body.index(b"mardi 05/05")
    close = body.rindex(end, tuesday, body.index(start, tuesday))
    body = body[:close] + body[close + len(end) :]
    body = re.sub(rb"<%s [^>]*>(mercredi 06/05)</%s>" % (header, header), rb"\1", body)
    thursday = body.rindex(start, 0, body.index(b"jeudi 07/05"))
    body = body[:thursday] + end + body[thursday:]
    result = ADAPTER.parse(body, url=BASE + "creneau/")
    assert paris(result) == SHOWN[6:]  # Thursday and Friday; Wednesday's radios never take Tuesday's date
    assert "6 unreadable entries ignored" in result.evidence


@pytest.mark.parametrize(
    ("name", "rendered_only", "evidence"),
    [
        pytest.param("creneau_empty.html", False, "embedded tranches []", id="embedded"),
        pytest.param("creneau_rendered_empty.html", False, "embedded tranches []", id="rendered+embedded"),
        pytest.param("creneau_rendered_empty.html", True, "rendered text 'Aucun créneau disponible'", id="rendered"),
    ],
)
def test_parse_says_no_slots_when_page_shows_the_empty_state(name: str, rendered_only: bool, evidence: str) -> None:
    result = parse(name, rendered_only=rendered_only)
    assert result.outcome is Outcome.NO_SLOTS
    assert evidence in result.evidence
    assert result.slots == ()
    assert notices(result) == {(NoticeKind.LAST_PUBLICATION, "27/04/2026 11:58", date(2026, 5, 11))}


@pytest.mark.parametrize(
    ("name", "rendered_only"),
    [
        pytest.param("creneau_last_week_notice.html", False, id="embedded"),
        pytest.param("creneau_rendered_last_week_notice.html", True, id="rendered-text"),
    ],
)
def test_parse_reads_publication_notices_when_last_bookable_week(name: str, rendered_only: bool) -> None:
    found = notices(parse(name, rendered_only=rendered_only))
    assert NEXT_PUB in found
    assert LAST_PUB_2246 in found


@pytest.mark.parametrize("rendered_only", [False, True], ids=["embedded", "rendered"])
def test_parse_is_inconclusive_when_slots_are_announced_for_a_later_week(rendered_only: bool) -> None:
    name = "creneau_rendered_later_week.html" if rendered_only else "creneau_later_week.html"
    result = parse(name, rendered_only=rendered_only)
    assert result.outcome is Outcome.LAYOUT_UNKNOWN
    assert "first availability on 26/05/2026" in result.evidence
    assert (NoticeKind.NEXT_AVAILABILITY, "26/05/2026 00:00", date(2026, 5, 25)) in notices(result)


@pytest.mark.parametrize(
    ("name", "outcome", "evidence"),
    [
        pytest.param("cgu_captcha.html", Outcome.HUMAN_CHECK_REQUIRED, "captcha page", id="cgu"),
        pytest.param("cgu_invalid_captcha.html", Outcome.HUMAN_CHECK_REQUIRED, "rejected code", id="invalid"),
        pytest.param("cgu_session_expired.html", Outcome.SESSION_EXPIRED, "errorSessionInvalide", id="expired"),
        pytest.param("landing.html", Outcome.HUMAN_CHECK_REQUIRED, "landing page", id="landing"),
        pytest.param("failure_forbidden.html", Outcome.BLOCKED, "403", id="forbidden"),
        pytest.param("failure_rate_limited.html", Outcome.RATE_LIMITED, "429", id="rate-limited"),
        pytest.param("failure_bad_gateway.html", Outcome.UNAVAILABLE, "502", id="bad-gateway"),
        pytest.param("failure_overloaded.html", Outcome.RATE_LIMITED, "Service surchargé", id="overloaded"),
        pytest.param("failure_maintenance.html", Outcome.UNAVAILABLE, "503", id="maintenance"),
        pytest.param("failure_challenge.html", Outcome.UNAVAILABLE, "challenge", id="challenge"),
        pytest.param("failure_truncated.html", Outcome.LAYOUT_UNKNOWN, "cut short", id="truncated"),
        pytest.param("failure_layout_changed.html", Outcome.LAYOUT_UNKNOWN, "neither slots", id="layout-changed"),
    ],
)
def test_parse_never_reads_slots_when_page_is_a_wall_or_a_failure(name: str, outcome: Outcome, evidence: str) -> None:
    result = parse(name)
    assert result.outcome is outcome
    assert evidence in result.evidence
    assert result.slots == ()


def test_parse_recognises_the_captcha_wall_whatever_the_url_says() -> None:
    body = (FIXTURES / "cgu_captcha.html").read_bytes()
    result = ADAPTER.parse(body, url=BASE + "creneau/", page="creneau")
    assert result.outcome is Outcome.HUMAN_CHECK_REQUIRED
    assert result.page == "cgu"


def test_parse_rejects_unknown_page_name() -> None:
    with pytest.raises(SourceError, match="unknown RDV Préfecture page"):
        parse("creneau_slots.html", page="calendar")


def test_every_fixture_is_indexed() -> None:
    assert sorted(INDEX) == sorted(p.name for p in FIXTURES.glob("*.html"))


def test_read_widget_finds_token_endpoint_style_and_post_url_when_cgu_page() -> None:
    widget = read_widget((FIXTURES / "cgu_captcha.html").read_text(), BASE + "cgu/")
    assert widget is not None
    assert widget.style == "captchaFR"
    assert widget.endpoint_url == "https://api.piste.gouv.fr/piste/captcha/simple-captcha-endpoint"
    assert widget.post_url == BASE + "_validerCaptcha"
    assert widget.token


def test_read_captcha_html_finds_captcha_id_when_widget_html() -> None:
    got = read_captcha_html((FIXTURES / "captcha_widget.html").read_text(), "captchaFR")
    assert got is not None
    captcha_id, hidden = got
    assert captcha_id
    assert hidden["BDC_VCID_captchaFR"] == captcha_id


# --- adversarial corpus: garbage never reads as slots --------------------------------------------------
def _without_empty_state(body: bytes) -> bytes:
    """The empty page minus every statement of emptiness: no tranches, no critere, no no-slot sentence."""
    body = _STATE_RE.sub(b"", body)
    return body.replace("Aucun créneau disponible".encode(), b"").replace(b"titreAucunCreneau", b"titre")


SLOTS_BODY = (FIXTURES / "creneau_slots.html").read_bytes()
GARBAGE = {
    "empty": (b"", 200, ""),
    "blank": (b" \n\t ", 200, ""),
    "binary": (bytes(range(256)) * 64, 200, "application/octet-stream"),
    "png": (b"\x89PNG\r\n\x1a\n" + b"\x00" * 2048, 200, "image/png"),
    "ten-megabytes": (b"<html><body>" + b"<div>" + b"x" * 10_000_000 + b"</div></body></html>", 200, ""),
    "json": (b'{"tranches": "soon"}', 200, "application/json"),
    "not-found": (b"<html><body><h1>404</h1></body></html>", 404, "text/html"),
    "no-empty-statement": (_without_empty_state((FIXTURES / "creneau_empty.html").read_bytes()), 200, ""),
    "truncated-in-state": (SLOTS_BODY[: SLOTS_BODY.find(b'"tranches":[') + 40], 200, ""),
}


@pytest.mark.parametrize(("body", "status", "content_type"), GARBAGE.values(), ids=GARBAGE.keys())
def test_parse_says_layout_unknown_when_page_is_garbage(body: bytes, status: int, content_type: str) -> None:
    result = ADAPTER.parse(body, url=BASE + "creneau/", status=status, content_type=content_type)
    assert result.outcome is Outcome.LAYOUT_UNKNOWN
    assert result.slots == ()


@pytest.mark.parametrize(
    ("encoding", "content_type"),
    [
        pytest.param("latin-1", "text/html; charset=utf-8", id="latin1-said-utf8"),
        pytest.param("utf-8", "text/html; charset=iso-8859-1", id="utf8-said-latin1"),
        pytest.param("cp1252", "text/html", id="cp1252-undeclared"),
    ],
)
def test_parse_still_reads_the_slots_when_charset_is_wrong(encoding: str, content_type: str) -> None:
    body = SLOTS_BODY.decode("utf-8").encode(encoding, "replace")
    result = ADAPTER.parse(body, url=BASE + "creneau/", content_type=content_type)
    assert result.outcome is Outcome.SLOTS_AVAILABLE
    assert paris(result) == ALL_SLOTS
