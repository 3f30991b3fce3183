# SPDX-License-Identifier: AGPL-3.0-or-later
"""One check of an ANTS search: a single `SlotsFromPosition` request built from the target's criteria.

The date window starts today (Paris time, from `deps.clock`) and spans `days_ahead` days. The API allows
30 requests per minute per IP; one check is one request, and the monitor spaces checks. An answer that a
redirect brought from another endpoint or for other criteria is never a verdict on this search.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

from creneau.sources.ants.parse import parse
from creneau.sources.ants.urls import criteria_from_url, search_url
from creneau.sources.base import SourceDeps, network_error, observe
from creneau.sources.errors import SourceError
from creneau.types import Observation, Outcome, ParseResult, Target

_ACCEPT = {"Accept": "application/json"}


async def check(target: Target, deps: SourceDeps) -> Observation:
    """Raises SourceError(BAD_INPUT) when the target has no criteria and its URL carries none."""
    started = time.perf_counter()
    criteria = target.ants or criteria_from_url(target.url)
    url = search_url(criteria, deps.clock.now())
    try:
        page = await deps.http.flow().get(url, headers=_ACCEPT)
    except SourceError as exc:
        return network_error(target, exc, clock=deps.clock, started=started)
    result = parse(page.body, url=page.url, status=page.status, content_type=page.headers.get("Content-Type", ""))
    if page.truncated:
        result = ParseResult(Outcome.LAYOUT_UNKNOWN, "answer larger than the allowed size: not parsed")
    elif result.outcome.is_conclusive and not _same_search(page.url, url):
        evidence = f"{result.evidence}, but from {page.url} (redirected), not the search sent"
        result = ParseResult(Outcome.LAYOUT_UNKNOWN, evidence, page=result.page)
    return observe(target, result, checked_at_clock=deps.clock, started=started, page=page)


def _same_search(got: str, sent: str) -> bool:
    """True when a (possibly redirected) answer URL is the search that was sent: same endpoint, same criteria."""
    a, b = urlsplit(got), urlsplit(sent)
    same_endpoint = (a.scheme, a.netloc, a.path.rstrip("/")) == (b.scheme, b.netloc, b.path.rstrip("/"))
    return same_endpoint and parse_qs(a.query) == parse_qs(b.query)
