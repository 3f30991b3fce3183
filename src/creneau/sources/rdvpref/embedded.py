# SPDX-License-Identifier: AGPL-3.0-or-later
"""The slot picker's state as the server embeds it in `/creneau/` (booking-systems.md §1.3, §1.3b).

The server sends the data the browser renders from: the `rdv-choix-tranche` props (`tranches`,
`premiereDispo`, `prochainePub`…) and a `"critere":{…}` object. Where they sit is not fixed (component
attributes, HTML-escaped JSON in an attribute, a script), so they are found with regular expressions on the
raw text and decoded as JSON: no tree walk, and a key whose value does not decode to the expected type is
ignored (a stray word "tranches" in prose or script is never data).
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field

PROPS = (
    "tranches",
    "critere",
    "premiereDispo",
    "premierJour",
    "prochainePub",
    "precedentePub",
)
_CANONICAL = {p.lower(): p for p in PROPS}
_KEBAB = {re.sub(r"[A-Z]", lambda m: "-" + m.group().lower(), p): p for p in PROPS}
_NAMES = "|".join(sorted({*PROPS, *_KEBAB}, key=len, reverse=True))

# Names are found with `str.find` (a regex scan of 100 KB costs milliseconds), then
# read with these patterns anchored at each hit: `:tranches="…"` / `premier-jour='…'` (component attributes)
# and `"tranches":[…]` / `tranches: […]` (JSON or a script object).
_NEEDLES = ("tranches", "critere", "premi", "prochaine", "precedente")
_ATTR_AT = re.compile(rf"({_NAMES})\s*=\s*([\"'])", re.IGNORECASE)
_KEY_AT = re.compile(rf"({_NAMES})([\"']?)\s*:\s*", re.IGNORECASE)
_DECODER = json.JSONDecoder()

_LIST_PROPS = {"tranches"}
_DICT_PROPS = {"critere", "prochainePub", "precedentePub"}


@dataclass(frozen=True, slots=True)
class EmbeddedState:
    """Props found in the page, by canonical name; `where` says where each came from (for the evidence)."""

    props: dict[str, object] = field(default_factory=dict)
    where: dict[str, str] = field(default_factory=dict)
    unreadable: frozenset[str] = frozenset()

    @property
    def critere(self) -> dict[str, object] | None:
        value = self.props.get("critere")
        return value if isinstance(value, dict) else None


def _canonical(name: str) -> str:
    low = name.lower()
    return _KEBAB.get(low) or _CANONICAL[low.replace("-", "")]


def _fits(name: str, value: object) -> bool:
    if name in _LIST_PROPS:
        return isinstance(value, list)
    if name in _DICT_PROPS:
        return value is None or isinstance(value, dict)
    return value is None or isinstance(value, str)


def _attr_value(raw: str, bound: bool) -> object:
    """Decode one attribute value, or `_NotData` when it holds no literal.

    A bound prop (`:tranches="…"`) is a JS expression: only a JSON literal or a quoted string is data
    (`vueData.tranches` points elsewhere). A plain attribute is text, or JSON when it looks like JSON.
    """
    value = html.unescape(raw).strip()
    if value and (value[0] in '[{"' or value in ("true", "false", "null") or value.isdigit()):
        try:
            return json.loads(value)
        except ValueError:
            return _Unreadable
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1]
    return _NotData if bound else value


class _Unreadable:
    """Marker for a value that is present but does not decode."""


class _NotData:
    """Marker for a bound prop whose value is an expression (the data sits elsewhere)."""


def _hits(text: str) -> list[int]:
    """Where a prop name may start, in page order (names are camelCase or kebab-case: lower-case first)."""
    found: set[int] = set()
    for needle in _NEEDLES:
        i = text.find(needle)
        while i >= 0:
            found.add(i)
            i = text.find(needle, i + 1)
    return sorted(found)


def _word_before(text: str, i: int) -> bool:
    """True when the character before `i` continues an identifier (so the name there is not a prop name)."""
    return i > 0 and (text[i - 1].isalnum() or text[i - 1] in "_$-")


def extract_state(text: str) -> EmbeddedState:
    """Find the slot picker's props anywhere in the page; the first well-typed value of each wins.

    Component attributes come first, then JSON keys; when `tranches` or `critere` is still missing, the
    page is read again HTML-unescaped and with JS string escapes removed.
    """
    props: dict[str, object] = {}
    where: dict[str, str] = {}
    unreadable: set[str] = set()
    hits = _hits(text)
    for i in hits:
        match = _ATTR_AT.match(text, i)
        if match is None:
            continue
        name = _canonical(match.group(1))
        bound = text[i - 1 : i] == ":"
        head = i - 1 - (6 if text[max(0, i - 7) : i - 1] == "v-bind" else 0) if bound else i
        if name in props or (head > 0 and (text[head - 1].isalnum() or text[head - 1] in "_:-")):
            continue
        end = text.find(match.group(2), match.end())
        if end < 0:
            unreadable.add(name)
            continue
        value = _attr_value(text[match.end() : end], bound=bound)
        if value is _NotData:
            continue
        if value is not _Unreadable and _fits(name, value):
            props[name], where[name] = value, "component attribute"
        else:
            unreadable.add(name)
    _scan_keys(text, hits, props, where, unreadable, "embedded JSON")
    missing = not ({"tranches", "critere"} <= props.keys())
    if missing and ("&quot;" in text or "&#34;" in text):
        unescaped = html.unescape(text)
        _scan_keys(unescaped, _hits(unescaped), props, where, unreadable, "HTML-escaped JSON")
    if missing and ('\\"tranches\\"' in text or '\\"critere\\"' in text):
        plain = text.replace('\\"', '"')
        _scan_keys(plain, _hits(plain), props, where, unreadable, "JSON in a script string")
    return EmbeddedState(props, where, frozenset(unreadable - props.keys()))


def _scan_keys(
    text: str, hits: list[int], props: dict[str, object], where: dict[str, str], unreadable: set[str], label: str
) -> None:
    for i in hits:
        match = _KEY_AT.match(text, i)
        if match is None:
            continue
        quote = match.group(2)
        opened = text[i - 1 : i] if i else ""
        if (quote or (opened and opened in "\"'")) and opened != quote:
            continue
        name = _canonical(match.group(1))
        if name in props or _word_before(text, i - len(quote)):
            continue
        try:
            value, _ = _DECODER.raw_decode(text, match.end())
        except ValueError:
            if name in _LIST_PROPS | _DICT_PROPS and text[match.end() : match.end() + 1] in "[{":
                unreadable.add(name)
            continue
        if _fits(name, value):
            props[name], where[name] = value, label
