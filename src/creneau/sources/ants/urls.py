# SPDX-License-Identifier: AGPL-3.0-or-later
"""`SlotsFromPosition` URLs: validating search criteria the way the API does, and building the query.

Only the API URL is accepted. The public site (rendezvouspasseport.ants.gouv.fr) is a JavaScript search
form whose address carries no criteria, so there is nothing in it to watch.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, datetime, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

from creneau.sources.errors import ErrorKind, SourceError
from creneau.types import PARIS, AntsCriteria

API_HOST = "api.rendezvouspasseport.ants.gouv.fr"
API_PATH = "/api/SlotsFromPosition"
PUBLIC_HOST = "rendezvouspasseport.ants.gouv.fr"
RADII_KM = (0.99, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0)
REASONS = ("CNI", "PASSPORT", "CNI-PASSPORT")
MAX_DAYS_AHEAD = 180


def _bad(message: str) -> SourceError:
    return SourceError(ErrorKind.BAD_INPUT, message)


def _number(query: dict[str, list[str]], name: str, low: float, high: float) -> float:
    raw = query.get(name, [""])[-1].strip()
    if not raw:
        raise _bad(f"the ANTS search URL needs {name}")
    try:
        value = float(raw)
    except ValueError:
        raise _bad(f"{name} must be a number, not {raw!r}") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise _bad(f"{name} must be between {low} and {high}, not {raw}")
    return value


def criteria_from_url(url: str) -> AntsCriteria:
    """Read and validate the criteria of a SlotsFromPosition URL; SourceError(BAD_INPUT) says what is wrong."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if host == PUBLIC_HOST:
        raise _bad(
            f"the public ANTS site carries no search criteria in its address: use the API URL "
            f"https://{API_HOST}{API_PATH}?longitude=…&latitude=…&radius_km=20&reason=CNI-PASSPORT&documents_number=1"
        )
    if parts.scheme != "https" or host != API_HOST or parts.path.rstrip("/") != API_PATH:
        raise _bad(f"not an ANTS SlotsFromPosition URL (https://{API_HOST}{API_PATH}?…): {url!r}")
    query = parse_qs(parts.query, keep_blank_values=True)
    longitude = _number(query, "longitude", -180, 180)
    latitude = _number(query, "latitude", -90, 90)
    radius = _number(query, "radius_km", 0, 1000) if "radius_km" in query else 20.0
    if radius not in RADII_KM:
        allowed = ", ".join(f"{r:g}" for r in RADII_KM)
        raise _bad(f"radius_km value not allowed: {radius:g} (the API accepts {allowed})")
    reason = query.get("reason", ["CNI-PASSPORT"])[-1].strip().upper()
    if reason not in REASONS:
        raise _bad(f"reason must be one of {', '.join(REASONS)}, not {reason!r}")
    documents = _number(query, "documents_number", 1, 5) if "documents_number" in query else 1
    if documents != int(documents):
        raise _bad(f"documents_number must be a whole number from 1 to 5, not {documents:g}")
    address = query.get("address", [""])[-1].strip() or None
    criteria = AntsCriteria(longitude, latitude, radius, reason, int(documents), address=address)
    if query.get("start_date") and query.get("end_date"):
        # The dates move with each check; only the window's length is kept.
        start, end = _day(query, "start_date"), _day(query, "end_date")
        if not 0 < (end - start).days <= MAX_DAYS_AHEAD:
            raise _bad(f"end_date must be 1 to {MAX_DAYS_AHEAD} days after start_date")
        criteria = replace(criteria, days_ahead=(end - start).days)
    return criteria


def _day(query: dict[str, list[str]], name: str) -> date:
    raw = query[name][-1].strip()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise _bad(f"{name} must be a date YYYY-MM-DD, not {raw!r}") from None


def search_url(criteria: AntsCriteria, now: datetime | None = None) -> str:
    """The API URL for these criteria; with `now`, the date window starts on that day (Paris time)."""
    params: dict[str, str] = {
        "longitude": _decimal(criteria.longitude),
        "latitude": _decimal(criteria.latitude),
    }
    if now is not None:
        start = now.astimezone(PARIS).date()
        params["start_date"] = start.isoformat()
        params["end_date"] = (start + timedelta(days=criteria.days_ahead)).isoformat()
    params["radius_km"] = f"{criteria.radius_km:g}"
    params["reason"] = criteria.reason
    params["documents_number"] = str(criteria.documents_number)
    if criteria.address:
        params["address"] = criteria.address
    return f"https://{API_HOST}{API_PATH}?{urlencode(params)}"


def _decimal(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".")
