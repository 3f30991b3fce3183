# SPDX-License-Identifier: AGPL-3.0-or-later
"""RDV Préfecture (www.rdv-prefecture.interieur.gouv.fr), the national captcha-gated booking portal.

`ADAPTER` is the adapter object of creneau.sources.base; `parse.py` reads pages, `client.py` walks the
site, `session.py` keeps the site sessions answered captchas open.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from creneau.sources.base import SourceDeps
from creneau.sources.errors import ErrorKind, SourceError
from creneau.sources.rdvpref import client
from creneau.sources.rdvpref.parse import parse as parse_page
from creneau.target_ids import target_id
from creneau.types import Observation, System, Target

HOST = "www.rdv-prefecture.interieur.gouv.fr"
HOSTS = frozenset({HOST, "rdv-prefecture.interieur.gouv.fr"})
_PATH_RE = re.compile(r"^/rdvpref/reservation/demarche/(\d{1,9})(?:/|$)")


class RdvPrefAdapter:
    """The RDV Préfecture adapter. `captcha_ttl_s`: how long a filed captcha is worth answering."""

    system = System.RDVPREF

    def __init__(self, captcha_ttl_s: float = 300.0) -> None:
        self.captcha_ttl_s = captcha_ttl_s

    def matches(self, url: str) -> bool:
        parts = urlsplit(url.strip())
        return parts.scheme in ("http", "https") and (parts.hostname or "") in HOSTS

    def target_from_url(self, url: str) -> Target:
        """The démarche of any of its pages (landing, cgu, creneau). Raises SourceError(BAD_INPUT)."""
        parts = urlsplit(url.strip())
        if not self.matches(url):
            raise SourceError(ErrorKind.BAD_INPUT, f"not an RDV Préfecture URL (expected https://{HOST}/…): {url}")
        match = _PATH_RE.match(parts.path)
        if match is None:
            raise SourceError(
                ErrorKind.BAD_INPUT,
                f"RDV Préfecture URL without a démarche id (expected https://{HOST}/rdvpref/reservation/demarche/ID/): {url}",
            )
        demarche_id = int(match.group(1))
        return Target(
            id=target_id(System.RDVPREF, HOST, demarche_id),
            system=System.RDVPREF,
            url=f"https://{HOST}/rdvpref/reservation/demarche/{demarche_id}/",
            demarche_id=demarche_id,
            label=f"RDV Préfecture démarche {demarche_id}",
        )

    parse = staticmethod(parse_page)

    async def check(self, target: Target, deps: SourceDeps) -> Observation:
        return await client.check(target, deps, captcha_ttl_s=self.captcha_ttl_s)


ADAPTER = RdvPrefAdapter()
