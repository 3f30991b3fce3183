# SPDX-License-Identifier: AGPL-3.0-or-later
"""The ANTS passport/CNI town-hall hub: `https://api.rendezvouspasseport.ants.gouv.fr/api/SlotsFromPosition`.

One target is one search (position, radius, reason, number of documents); its slots name the town hall
(`place`) and carry the editor's booking link (`ref`). See booking-systems.md §3.
"""

from __future__ import annotations

from creneau.sources.ants import client
from creneau.sources.ants.parse import parse as parse_answer
from creneau.sources.ants.urls import API_HOST, criteria_from_url, search_url
from creneau.sources.base import SourceDeps
from creneau.sources.errors import SourceError
from creneau.target_ids import target_id
from creneau.types import Observation, ParseResult, System, Target


class AntsAdapter:
    system = System.ANTS

    def matches(self, url: str) -> bool:
        try:
            criteria_from_url(url)
        except SourceError:
            return False
        return True

    def target_from_url(self, url: str) -> Target:
        criteria = criteria_from_url(url)
        return Target(
            id=target_id(System.ANTS, API_HOST, None, criteria),
            system=System.ANTS,
            url=search_url(criteria),
            demarche_key=criteria.reason,
            ants=criteria,
            label=f"ANTS {criteria.reason} within {criteria.radius_km:g} km of {criteria.latitude:g},{criteria.longitude:g}",
        )

    def parse(
        self, body: bytes, *, url: str, status: int = 200, content_type: str = "", page: str | None = None
    ) -> ParseResult:
        return parse_answer(body, url=url, status=status, content_type=content_type, page=page)

    async def check(self, target: Target, deps: SourceDeps) -> Observation:
        return await client.check(target, deps)


ADAPTER = AntsAdapter()

__all__ = ["ADAPTER", "AntsAdapter"]
