# SPDX-License-Identifier: AGPL-3.0-or-later
"""Page checks shared by every HTML adapter (`sources/common.py`): the marker pre-filter and the size rule."""

from __future__ import annotations

import sys
import unicodedata
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from creneau.sources import common
from creneau.sources.http import decode_body

TESTS = Path(__file__).parent
# Booking pages that are no failure page, among them the legacy no-slot pages headed "Vérification de
# disponibilité" and pages full of "démarches administratives".
BOOKING_PAGES = sorted(
    p
    for p in (*(TESTS / "legacy" / "fixtures").glob("*.htm*"), *(TESTS / "rdvpref" / "fixtures").glob("*.html"))
    if "failure" not in p.name and "surcharge" not in p.name
)


# --- the marker pre-filter of classify_failure hides no marker, and lets booking pages through cheaply -----
@st.composite
def marked_pages(draw: st.DrawFn) -> str:
    """A page holding one marker as a site may write it: any case, any white space, decomposed accents,
    look-alike characters that normalise to the marker's own letters."""
    marker = draw(st.sampled_from(common._MARKERS))
    chars = []
    for c in marker:
        if c == " ":
            c = draw(st.sampled_from([" ", "\n ", "\u00a0", "\t", "\r\n"]))
        elif c == "k" and draw(st.booleans()):
            c = "\u212a"  # KELVIN SIGN: NFC makes it "K"
        elif c == "i" and draw(st.integers(0, 9)) == 0:
            c = "\u0130"  # lowers to "i" + U+0307: no longer the marker
        elif not c.isascii() and draw(st.booleans()):
            c = unicodedata.normalize("NFD", c)
        chars.append(c.upper() if draw(st.booleans()) else c)
    around = draw(st.text(max_size=40))
    return f"<html><body>{around}<h1>{''.join(chars)}</h1>{around}</body></html>"


@settings(max_examples=400, deadline=None)
@given(page=marked_pages(), status=st.sampled_from([200, 403, 404, 503]))
def test_classify_failure_prefilter_never_hides_a_marker_when_page_carries_one(page: str, status: int) -> None:
    if any(marker in common.normalise_text(page) for marker in common._MARKERS):
        assert common.may_carry_marker(page)
    got = common.classify_failure(status, page)
    with mock.patch.object(common, "may_carry_marker", return_value=True):  # never skip the normalisation
        reference = common.classify_failure(status, page)
    assert got == reference


def test_prefilter_runs_leave_out_every_ascii_character_that_normalisation_can_create() -> None:
    chars = [chr(cp) for cp in range(0x80, sys.maxunicode + 1) if not 0xD800 <= cp <= 0xDFFF]
    # One call for all: "\x00" composes with nothing and no character decomposes to it.
    normalised = unicodedata.normalize("NFC", "\x00".join(chars)).lower().split("\x00")
    made = {c: n for c, n in zip(chars, normalised, strict=True) if n != c and any(x.isascii() for x in n)}
    assert sorted(made) == ["\u0130", "\u037e", "\u1fef", "\u212a"]
    for c, n in made.items():
        if len(n) == 1:  # ";", "`", "k": never part of a run
            assert common._RUN.search(n.encode()) is None, c
        else:  # "İ" → "i" + U+0307: a marker match could only end on that "i"
            assert n == "i\u0307"
            assert not any(marker.endswith("i") for marker in common._MARKERS)
    assert common._RUN.search(b"'") is None  # ’ becomes "'"


@pytest.mark.parametrize("path", BOOKING_PAGES, ids=lambda p: p.name)
def test_classify_failure_normalises_only_a_few_stretches_when_booking_page_holds_no_marker(path: Path) -> None:
    text = decode_body(path.read_bytes(), "")
    with mock.patch.object(common, "normalise_text", side_effect=common.normalise_text) as normalise:
        assert common.classify_failure(200, text) is None
    assert sum(len(call.args[0]) for call in normalise.call_args_list) < len(text) // 10
