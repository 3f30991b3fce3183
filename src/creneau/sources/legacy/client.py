# SPDX-License-Identifier: AGPL-3.0-or-later
"""One check of a legacy booking form, walked like a browser, covering every guichet (planning).

GET /0 (session cookie) → POST /0 (terms) → /1 planning list; then for each guichet POST /1 and follow to
/2 (no slot; /1 on the Préfecture de Police) or /3 → /4, and read that guichet's AJAX week fragments.
Every request, redirects included, comes `legacy_request_gap_s` after the previous answer from the same
host, across checks too (`Http.flow(min_gap_s=…)`): the sites answer 502 above ~1 request/s. The walk stops at the first refusal, overload or error
page. The outcome is decided by `combine`: slots on positive evidence only, "no slots" only when every
guichet was read and showed none. A page that a redirect brought from another host or form, a calendar
of another guichet, or weeks read short of the calendar's end (the site shows a calendar only when the
guichet has free slots) never count as "no slots".
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from creneau.config import Settings
from creneau.sources.base import SourceDeps, network_error, observe
from creneau.sources.errors import ErrorKind, SourceError
from creneau.sources.http import Flow, Page
from creneau.sources.legacy.parse import NEXT_BUTTON, TERMS_BUTTON, LegacyPage, PageKind, read_page
from creneau.sources.legacy.urls import BookingUrl, booking_url, step_url, week_url
from creneau.types import Observation, Outcome, ParseResult, Slot, Target

# When the configured weeks show no free cell, later weeks are read while the calendar offers them, up to
# half a year: the site leads to a calendar only when the guichet has free slots somewhere.
SEARCH_WEEKS = 26
# Which inconclusive outcome wins when several guichets fail differently: site pushback first (the
# monitor must back off), then what needs a person (layout review), then the transient ones.
_SEVERITY = (
    Outcome.BLOCKED,
    Outcome.RATE_LIMITED,
    Outcome.UNAVAILABLE,
    Outcome.LAYOUT_UNKNOWN,
    Outcome.SESSION_EXPIRED,
    Outcome.HUMAN_CHECK_REQUIRED,
    Outcome.NETWORK_ERROR,
)


@dataclass(frozen=True, slots=True)
class GuichetResult:
    """What one guichet showed; `page` is the page that decided it (kept as evidence)."""

    guichet: str | None
    label: str | None
    result: ParseResult
    page: Page | None


def request_gap_s(settings: Settings) -> float:
    """The pause before each request to a legacy host from this process. The pacing is per process, so
    `monitor_processes` monitors each wait N times the gap: together they stay one request per gap, the way
    they split the hosts' budgets."""
    return settings.legacy_request_gap_s * settings.monitor_processes


async def check(target: Target, deps: SourceDeps) -> Observation:
    started = time.perf_counter()
    settings = deps.settings or Settings.model_construct()
    flow = deps.http.flow(min_gap_s=request_gap_s(settings))
    walk = _Walk(flow, booking_url(target.url), settings)
    results = await walk.run(target.guichets)
    result, page = combine(results, walk.expected)
    if result.outcome is Outcome.NETWORK_ERROR:
        return network_error(target, SourceError(ErrorKind.NETWORK, result.evidence), clock=deps.clock, started=started)
    return observe(target, result, checked_at_clock=deps.clock, started=started, page=page)


def combine(results: Sequence[GuichetResult], expected: int | None = None) -> tuple[ParseResult, Page | None]:
    """One result for the whole form. `expected` is how many guichets should have been read."""
    if not results:
        return ParseResult(Outcome.LAYOUT_UNKNOWN, "no guichet could be read"), None
    parts = [f"{r.label or r.guichet or 'guichet'}: {r.result.evidence}" for r in results]
    with_slots = [r for r in results if r.result.outcome is Outcome.SLOTS_AVAILABLE]
    if with_slots:
        slots = tuple(sorted((s for r in with_slots for s in r.result.slots), key=lambda s: (s.start, s.guichet or "")))
        return ParseResult(Outcome.SLOTS_AVAILABLE, "; ".join(parts), slots, page="week"), with_slots[0].page
    missing = max(0, (expected or 0) - len(results))
    if not missing and all(r.result.outcome is Outcome.NO_SLOTS for r in results):
        return ParseResult(Outcome.NO_SLOTS, "; ".join(parts), page=results[-1].result.page), results[-1].page
    inconclusive = [r for r in results if not r.result.outcome.is_conclusive] or list(results)
    worst = min(inconclusive, key=lambda r: _rank(r.result.outcome))
    if missing:
        parts.append(f"{missing} guichet(s) not read")
    outcome = worst.result.outcome if not worst.result.outcome.is_conclusive else Outcome.LAYOUT_UNKNOWN
    return ParseResult(outcome, "; ".join(parts), page=worst.result.page), worst.page


def _rank(outcome: Outcome) -> int:
    return _SEVERITY.index(outcome) if outcome in _SEVERITY else len(_SEVERITY)


class _Walk:
    def __init__(self, flow: Flow, form: BookingUrl, settings: Settings) -> None:
        self.flow = flow
        self.form = form
        self.weeks = settings.legacy_max_weeks
        self.expected: int | None = None

    async def run(self, known: Mapping[str, str]) -> list[GuichetResult]:
        try:
            return await self._run(known)
        except SourceError as exc:
            return [GuichetResult(None, None, ParseResult(Outcome.NETWORK_ERROR, str(exc)), None)]

    async def _run(self, known: Mapping[str, str]) -> list[GuichetResult]:
        page, seen = await self._send("GET", step_url(self.form, 0))
        if seen.kind is not PageKind.TERMS:
            return [self._stop(page, seen, "terms page (step 0) expected")]
        form = {"condition": "on", "nextButton": TERMS_BUTTON}
        page, seen = await self._send("POST", step_url(self.form, 0), form)
        if seen.kind is not PageKind.PLANNINGS:
            # One planning only: the site skips the choice and shows its answer directly.
            only = next(iter(known.items())) if len(known) == 1 else (seen.planning_id, None)
            return [await self._answer(page, seen, only[0], only[1])]
        self.expected = len(seen.plannings) + seen.unreadable_plannings
        results: list[GuichetResult] = []
        for planning_id, label in seen.plannings:
            form = {"planning": planning_id, "nextButton": NEXT_BUTTON}
            try:
                page, answer = await self._send("POST", step_url(self.form, 1), form)
                result = await self._answer(page, answer, planning_id, label or known.get(planning_id))
            except SourceError as exc:
                result = GuichetResult(planning_id, label, ParseResult(Outcome.NETWORK_ERROR, str(exc)), None)
            results.append(result)
            if result.result.outcome.is_site_pushback or result.result.outcome is Outcome.NETWORK_ERROR:
                break  # polite: no more requests to a site that refuses, is overloaded or unreachable
        return results

    async def _answer(self, page: Page, seen: LegacyPage, planning_id: str | None, label: str | None) -> GuichetResult:
        """Follow one guichet's answer to a conclusion: the no-slot page, or its calendar weeks."""
        if seen.kind is PageKind.DESCRIPTION:
            page, seen = await self._send("POST", step_url(self.form, 3), {"nextButton": NEXT_BUTTON})
        if seen.kind is PageKind.NO_SLOT:
            return GuichetResult(planning_id, label, seen.result, page)
        if seen.kind is not PageKind.CALENDAR:
            return self._stop(page, seen, "no-slot page or calendar expected", planning_id, label)
        ajax_planning = seen.planning_id or planning_id
        if ajax_planning is None:
            result = ParseResult(Outcome.LAYOUT_UNKNOWN, "calendar page does not say which guichet it shows")
            return GuichetResult(None, label, result, page)
        if planning_id is not None and ajax_planning != planning_id:
            evidence = f"calendar of guichet {ajax_planning} shown for guichet {planning_id}"
            return GuichetResult(planning_id, label, ParseResult(Outcome.LAYOUT_UNKNOWN, evidence), page)
        return await self._weeks(ajax_planning, planning_id or ajax_planning, label)

    async def _weeks(self, ajax_planning: str, planning_id: str, label: str | None) -> GuichetResult:
        """Read the guichet's weeks (0, 7, 14… days ahead): the configured count, then on while none had a
        free cell and the calendar goes on (up to SEARCH_WEEKS); "no slots" only once its last week is read."""
        slots: dict[str, Slot] = {}
        slot_page: Page | None = None
        last: Page | None = None
        more: bool | None = None
        read = 0
        while read < SEARCH_WEEKS and (read < self.weeks or (not slots and more)):
            page, seen = await self._send("GET", week_url(self.form, ajax_planning, 7 * read), hint="week")
            if seen.kind is not PageKind.WEEK:
                if slots:  # slots already seen are positive evidence; the failure still stops the walk
                    break
                return self._stop(page, seen, "week planning expected", planning_id, label)
            for slot in seen.result.slots:
                slots.setdefault(slot.key, replace(slot, guichet=planning_id, guichet_label=label))
            if seen.result.slots and slot_page is None:
                slot_page = page
            last, read, more = page, read + 1, seen.has_next_week
            if more is False:
                break
        if slots:
            ordered = tuple(sorted(slots.values(), key=lambda s: s.start))
            evidence = f"{len(ordered)} free slot(s) in the week planning"
            return GuichetResult(planning_id, label, ParseResult(Outcome.SLOTS_AVAILABLE, evidence, ordered), slot_page)
        if more is False:
            evidence = f"{read} week(s) read up to the last bookable one, no free cell"
            return GuichetResult(planning_id, label, ParseResult(Outcome.NO_SLOTS, evidence, page="week"), last)
        ending = "the calendar goes on" if more else "the calendar does not say whether it goes on"
        evidence = f"{read} week(s) read without a free cell, but {ending}"
        return GuichetResult(planning_id, label, ParseResult(Outcome.LAYOUT_UNKNOWN, evidence, page="week"), last)

    def _stop(
        self, page: Page, seen: LegacyPage, expected: str, planning_id: str | None = None, label: str | None = None
    ) -> GuichetResult:
        result = seen.result
        if seen.kind not in (PageKind.FAILURE, PageKind.UNKNOWN):  # a known page, but not at this point
            evidence = f"{expected}, got {seen.kind.value} page at {page.path} ({result.evidence})"
            result = ParseResult(Outcome.LAYOUT_UNKNOWN, evidence, page=seen.kind.value)
        return GuichetResult(planning_id, label, result, page)

    async def _send(
        self, method: str, url: str, form: Mapping[str, str] | None = None, *, hint: str | None = None
    ) -> tuple[Page, LegacyPage]:
        page = await self.flow.request(method, url, form=form)
        content_type = page.headers.get("Content-Type", "")
        seen = read_page(
            page.body, url=page.url, status=page.status, content_type=content_type, truncated=page.truncated, hint=hint
        )
        elsewhere = self._elsewhere(page, seen)
        if elsewhere is not None:
            seen = LegacyPage(PageKind.UNKNOWN, ParseResult(Outcome.LAYOUT_UNKNOWN, elsewhere, page="unknown"))
        return page, seen

    def _elsewhere(self, page: Page, seen: LegacyPage) -> str | None:
        """Why a page (not a failure page) that a redirect may have brought is not one of this form's."""
        if seen.kind is PageKind.FAILURE:
            return None
        if (urlsplit(page.url).hostname or "") != self.form.host.lower():
            return f"sent to {page.url}, away from {self.form.host}"
        if seen.form_id is not None and seen.form_id != self.form.form_id:
            return f"page of form {seen.form_id} at {page.path}, not of form {self.form.form_id}"
        return None
