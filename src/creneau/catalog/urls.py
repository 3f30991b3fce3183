# SPDX-License-Identifier: AGPL-3.0-or-later
"""Recognise a booking URL: which system, which ids, and the catalog's stable target id for it.

`target_from_url` prefers the source adapters (`creneau.sources.base.detect_system` and the adapter's own
`target_from_url`) when they are installed, and falls back to the three URL shapes documented in
docs/catalog.md otherwise. Either way the target id comes from `creneau.target_ids.target_id`, the one
scheme every part of creneau uses, so the same page always gets the same id. Raises `UrlError` with a
one-line reason.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from creneau.catalog.official import is_official_url
from creneau.target_ids import target_id
from creneau.types import AntsCriteria, System, Target

RDVPREF_HOST = "www.rdv-prefecture.interieur.gouv.fr"
ANTS_HOST = "api.rendezvouspasseport.ants.gouv.fr"
_RDVPREF_PATH = re.compile(r"^/rdvpref/reservation/demarche/(\d{1,9})(?:/.*)?$")
_LEGACY_PATH = re.compile(r"^/booking/create/(\d{1,9})(?:/\d{1,2}(?:/\d+)?)?/?$")


class UrlError(ValueError):
    """The URL is not an official booking page creneau can watch."""


def canonical_url(system: System, host: str, demarche_id: int | None, url: str) -> str:
    """The page a person opens for this target (what alerts link to)."""
    if system is System.RDVPREF:
        return f"https://{RDVPREF_HOST}/rdvpref/reservation/demarche/{demarche_id}/"
    if system is System.LEGACY:
        return f"https://{host}/booking/create/{demarche_id}/0"
    return url


def recognise(url: str) -> Target:
    """The catalog's own recogniser for the three URL shapes (no adapter needed)."""
    url = url.strip()
    if not is_official_url(url):
        raise UrlError(f"not an https URL on an official gouv.fr domain: {url}")
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    path = parts.path or "/"
    if host == RDVPREF_HOST:
        match = _RDVPREF_PATH.match(path)
        if not match:
            raise UrlError(f"an RDV Préfecture URL must look like …/rdvpref/reservation/demarche/<id>/: {url}")
        return _target(System.RDVPREF, host, int(match.group(1)), url)
    if host == ANTS_HOST:
        return _ants(url, parts.path, parts.query)
    match = _LEGACY_PATH.match(path)
    if match:
        return _target(System.LEGACY, host, int(match.group(1)), url)
    raise UrlError(f"not a booking page creneau knows (RDV Préfecture, /booking/create/<id>, ANTS search): {url}")


def target_from_url(url: str) -> Target:
    """The target for `url`, using the source adapters when they are installed (see the module docstring)."""
    fallback = recognise(url)
    try:
        from creneau.sources.base import adapter_for, detect_system
        from creneau.sources.errors import SourceError

        system = detect_system(url)
        found = adapter_for(system).target_from_url(url)
    except (ImportError, AttributeError):
        return fallback  # adapters not installed yet: the catalog's own recogniser decides
    except SourceError as exc:
        raise UrlError(str(exc)) from None
    if not is_official_url(found.url):
        raise UrlError(f"the adapter produced a non-official URL for {url}")
    return found


def _target(system: System, host: str, demarche_id: int, url: str) -> Target:
    return Target(
        id=target_id(system, host, demarche_id),
        system=system,
        url=canonical_url(system, host, demarche_id, url),
        demarche_id=demarche_id,
    )


_ANTS_REASONS = {"CNI", "PASSPORT", "CNI-PASSPORT"}
_ANTS_RADII = {0.99, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0}


def _ants(url: str, path: str, query: str) -> Target:
    if path.rstrip("/") != "/api/SlotsFromPosition":
        raise UrlError(f"an ANTS URL must be the …/api/SlotsFromPosition search: {url}")
    params = {key: values[0] for key, values in parse_qs(query).items()}
    try:
        criteria = AntsCriteria(
            longitude=float(params["longitude"]),
            latitude=float(params["latitude"]),
            radius_km=float(params.get("radius_km", 20)),
            reason=params.get("reason", "CNI-PASSPORT"),
            documents_number=int(params.get("documents_number", 1)),
            address=params.get("address"),
        )
    except (KeyError, ValueError):
        raise UrlError(f"an ANTS search URL needs numeric longitude and latitude: {url}") from None
    if not (-180 <= criteria.longitude <= 180 and -90 <= criteria.latitude <= 90):
        raise UrlError(f"longitude or latitude out of range: {url}")
    if criteria.reason not in _ANTS_REASONS or criteria.radius_km not in _ANTS_RADII:
        raise UrlError(f"ANTS reason must be CNI, PASSPORT or CNI-PASSPORT and radius_km one of 0.99-30: {url}")
    if not 1 <= criteria.documents_number <= 5:
        raise UrlError(f"ANTS documents_number must be between 1 and 5: {url}")
    return Target(
        id=target_id(System.ANTS, ANTS_HOST, None, criteria),
        system=System.ANTS,
        url=url,
        ants=criteria,
    )
