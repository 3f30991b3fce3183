# SPDX-License-Identifier: AGPL-3.0-or-later
"""Page checks shared by every HTML adapter: what an error, a block or a challenge looks like.

These run *before* an adapter's own parser, so no adapter can mistake an error page for a slot page.
Pure functions of (status, headers, text). Every HTML adapter starts with `screen`, which also applies
the one size rule (`MAX_PAGE_BYTES`).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable

from creneau.sources.http import decode_body
from creneau.types import Outcome, ParseResult

# Real booking pages weigh 20-100 KB (the heaviest capture, a legacy step-2 page, 81 KB; RDV Préfecture
# slot pages 50-60 KB). A body five times the heaviest is no booking page, and parsing such bodies costs
# up to seconds (some markup makes HTML parsing quadratic): it is classified from its status and its
# first `HEAD_BYTES` only, and never parsed, so the decision costs the same whatever its size.
MAX_PAGE_BYTES = 500_000
HEAD_BYTES = 200_000  # what classify_failure reads of any page

OVERLOADED_TEXT = "service surchargé"
FORBIDDEN_TEXT = "request forbidden by administrative rules"
INVALID_RESPONSE_TEXT = "the server returned an invalid or incomplete response"

# Edge protection pages (Imperva/Incapsula, Cloudflare): never a booking page.
_CHALLENGE_MARKERS = (
    "_incapsula_resource",
    "incapsula incident id",
    "cf-challenge",
    "cf-turnstile",
    "challenges.cloudflare.com",
    "vérification de sécurité",
    "verifying you are human",
    "checking your browser",
    "just a moment...",
)
_MAINTENANCE_MARKERS = ("site indisponible", "en maintenance", "opération de maintenance", "maintenance en cours")
_MARKERS = (OVERLOADED_TEXT, FORBIDDEN_TEXT, INVALID_RESPONSE_TEXT, *_CHALLENGE_MARKERS, *_MAINTENANCE_MARKERS)
# Pre-filter: normalising a whole 100 KB page costs ~0.5 ms, and most pages hold no marker. A marker's runs
# are its pieces between spaces and the characters "'", ";", "`", "k": the only ASCII characters that
# normalisation (NFC, lower(), white-space folding, ’→') makes out of others (’, U+037E, U+1FEF, U+212A; İ
# lowers to "i" + U+0307, which matters only for a marker ending in "i", and none does). So a page whose
# normalised text holds a marker holds each of its runs, verbatim, in its lower-cased UTF-8, inside the
# stretch between two tags ("<", ">") that holds the marker. Each marker's longest run is an anchor (an
# anchor holding another gives way to it); only the stretches around anchors are normalised.
_RUN = re.compile(rb"[^\x00-\x20';`k\x7f-\xff]+")
_LONGEST_RUNS = {max(_RUN.findall(marker.encode()), key=len) for marker in _MARKERS}
_ANCHORS = tuple(sorted(a for a in _LONGEST_RUNS if not any(b != a and b in a for b in _LONGEST_RUNS)))


def normalise_text(text: str) -> str:
    """Lower-case, NFC, typographic apostrophes made ASCII, white space folded: for text comparisons."""
    text = unicodedata.normalize("NFC", text).replace("\u2019", "'").replace("\u00a0", " ")
    return " ".join(text.split()).lower()  # same as re.sub(r"\s+", " ") + strip, 5x faster


def digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def may_carry_marker(text: str) -> bool:
    """False only when `normalise_text(text)` surely holds none of the markers, found without normalising
    the whole text: only the stretches between tags ("<", ">") around an anchor are."""
    raw = text.encode("utf-8", "ignore").lower()
    for anchor in _ANCHORS:
        at = raw.find(anchor)
        while at >= 0:
            start = max(raw.rfind(b"<", 0, at), raw.rfind(b">", 0, at)) + 1
            ends = [i for i in (raw.find(b"<", at), raw.find(b">", at)) if i >= 0]
            end = min(ends, default=len(raw))
            stretch = normalise_text(raw[start:end].decode())
            if any(marker in stretch for marker in _MARKERS):
                return True
            at = raw.find(anchor, end)
    return False


def screen(
    status: int,
    body: bytes,
    content_type: str = "",
    *,
    truncated: bool = False,
    decode: Callable[[bytes, str], str] = decode_body,
) -> tuple[str, ParseResult | None]:
    """The page's text, and the outcome when the page must not be parsed: a refusal, error or challenge
    (`classify_failure`), or a body over `MAX_PAGE_BYTES` or cut by the HTTP client (`truncated`), which
    is `layout_unknown`. An oversized body is decoded and searched in its first `HEAD_BYTES` only.
    """
    oversized = truncated or len(body) > MAX_PAGE_BYTES
    text = decode(_head(body) if oversized else body, content_type)
    failure = classify_failure(status, text)
    if failure is None and oversized:
        size = f"{len(body):,}{'+' if truncated else ''} bytes"
        evidence = f"{size}: over the {MAX_PAGE_BYTES:,}-byte limit for a booking page, not parsed"
        failure = ParseResult(Outcome.LAYOUT_UNKNOWN, evidence)
    return text, failure


def _head(body: bytes) -> bytes:
    """The first HEAD_BYTES, not cutting a UTF-8 character in two (it would spoil the decoding)."""
    cut = min(HEAD_BYTES, len(body))
    for _ in range(3):
        if cut < len(body) and 0x80 <= body[cut] < 0xC0:  # a continuation byte: its character began earlier
            cut -= 1
    return body[:cut]


def classify_failure(status: int, text: str) -> ParseResult | None:
    """Return the outcome when the page is a refusal, an error or a challenge; None when it may be a real page.

    Decided on the status first, then on tell-tale texts that sites serve with a 200.
    """
    head = text[:HEAD_BYTES]
    low = normalise_text(head) if may_carry_marker(head) else ""
    if status == 429:
        return ParseResult(Outcome.RATE_LIMITED, "HTTP 429")
    # Edge vendors serve their challenge with 403 or 503: a wall a person passes, not a ban of our address.
    if any(marker in low for marker in _CHALLENGE_MARKERS):
        return ParseResult(Outcome.UNAVAILABLE, f"edge challenge page (HTTP {status})")
    if status == 403 or FORBIDDEN_TEXT in low:
        return ParseResult(
            Outcome.BLOCKED, f"HTTP {status}" + (" 'Request forbidden'" if FORBIDDEN_TEXT in low else "")
        )
    if OVERLOADED_TEXT in low:
        return ParseResult(Outcome.RATE_LIMITED, "page 'Service surchargé'")
    if status >= 500:
        return ParseResult(Outcome.UNAVAILABLE, f"HTTP {status}")
    if any(marker in low for marker in _MAINTENANCE_MARKERS) or INVALID_RESPONSE_TEXT in low:
        return ParseResult(Outcome.UNAVAILABLE, "maintenance page")
    if status >= 400:
        return ParseResult(Outcome.LAYOUT_UNKNOWN, f"HTTP {status}")
    if not head or head.isspace():
        return ParseResult(Outcome.LAYOUT_UNKNOWN, "empty page")
    if "\x00" in text[:4096]:
        return ParseResult(Outcome.LAYOUT_UNKNOWN, "binary content, not a page")
    return None
