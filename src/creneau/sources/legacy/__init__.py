# SPDX-License-Identifier: AGPL-3.0-or-later
"""The legacy prefecture booking module (eZ Publish `ezbooking`): `https://<host>.gouv.fr/booking/create/{formId}`.

Used by departmental prefecture sites (`www.<dept>.gouv.fr`, `rdv.<dept>.gouv.fr`) and by the Préfecture
de Police (`pprdv.interieur.gouv.fr`). See booking-systems.md §2 and §4.
"""

from __future__ import annotations

from creneau.sources.base import SourceDeps
from creneau.sources.errors import SourceError
from creneau.sources.legacy import client
from creneau.sources.legacy.parse import parse as parse_page
from creneau.sources.legacy.urls import BookingUrl, booking_url
from creneau.target_ids import target_id
from creneau.types import Observation, ParseResult, System, Target


class LegacyAdapter:
    system = System.LEGACY

    def matches(self, url: str) -> bool:
        try:
            booking_url(url)
        except SourceError:
            return False
        return True

    def target_from_url(self, url: str) -> Target:
        where = booking_url(url)
        return Target(
            id=target_id(System.LEGACY, where.host, where.form_id),
            system=System.LEGACY,
            url=where.start,
            demarche_id=where.form_id,
            label=f"{where.host} form {where.form_id}",
        )

    def parse(
        self, body: bytes, *, url: str, status: int = 200, content_type: str = "", page: str | None = None
    ) -> ParseResult:
        return parse_page(body, url=url, status=status, content_type=content_type, page=page)

    async def check(self, target: Target, deps: SourceDeps) -> Observation:
        return await client.check(target, deps)


ADAPTER = LegacyAdapter()

__all__ = ["ADAPTER", "BookingUrl", "LegacyAdapter", "booking_url"]
