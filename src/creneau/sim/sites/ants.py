# SPDX-License-Identifier: AGPL-3.0-or-later
"""The ANTS town-hall hub `GET /api/SlotsFromPosition` (booking-systems.md §3.1) on
`api.rendezvouspasseport.ants.gouv.fr`.

Validation as the FastAPI app does it: a missing or mistyped parameter → 422 with FastAPI's `detail` list
(`reason` must be CNI, PASSPORT or CNI-PASSPORT; `documents_number` 1–5; dates `YYYY-MM-DD`); a
`radius_km` outside {0.99, 5, 10, 15, 20, 25, 30} → 403 `{"detail":"radius_km value not allowed"}`.
The answer lists the meeting points (ANTS targets of the world) within the radius (haversine), nearest
first, each with its free `available_slots` between `start_date` and `end_date` (Paris days, inclusive);
points without a free slot are left out (assumption). The 30 requests/min/IP limit (429, slowapi's body,
with Retry-After: status assumed) is played by the rate gate. No token is required (assumption).
"""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from aiohttp import web

from creneau.sim.model import SimTarget
from creneau.sim.sites.common import Call, SimContext, Site, route
from creneau.sim.sites.failures import changed_layout_page
from creneau.types import PARIS, System

ANTS_HOST = "api.rendezvouspasseport.ants.gouv.fr"
ALLOWED_RADII = (0.99, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0)
REASONS = ("CNI", "PASSPORT", "CNI-PASSPORT")
_EARTH_KM = 6371.0088


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_KM * math.asin(math.sqrt(a))


def _missing(name: str) -> dict[str, object]:
    return {"type": "missing", "loc": ["query", name], "msg": "Field required", "input": None}


def _invalid(name: str, kind: str, msg: str, value: str) -> dict[str, object]:
    return {"type": kind, "loc": ["query", name], "msg": msg, "input": value}


class _Params:
    """The query, checked field by field; `errors` collects FastAPI-style 422 entries."""

    def __init__(self, query: dict[str, str]) -> None:
        self.query = query
        self.errors: list[dict[str, object]] = []

    def number(self, name: str, default: float | None = None) -> float:
        raw = self.query.get(name)
        if raw is None:
            if default is None:
                self.errors.append(_missing(name))
            return default or 0.0
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            msg = "Input should be a valid number, unable to parse string as a number"
            self.errors.append(_invalid(name, "float_parsing", msg, raw))
            return 0.0
        return value

    def day(self, name: str) -> date:
        raw = self.query.get(name)
        if raw is None:
            self.errors.append(_missing(name))
            return date.min
        try:
            return date.fromisoformat(raw)
        except ValueError:
            self.errors.append(_invalid(name, "date_from_datetime_parsing", "Input should be a valid date", raw))
            return date.min

    def reason(self) -> str:
        raw = self.query.get("reason")
        if raw is None:
            self.errors.append(_missing("reason"))
        elif raw not in REASONS:
            self.errors.append(_invalid("reason", "enum", "Input should be 'CNI', 'PASSPORT' or 'CNI-PASSPORT'", raw))
        return raw or ""

    def documents(self) -> int:
        raw = self.query.get("documents_number")
        if raw is None:
            self.errors.append(_missing("documents_number"))
            return 0
        if not raw.isdigit() or not 1 <= int(raw) <= 5:
            msg = "Input should be greater than or equal to 1 and less than or equal to 5"
            self.errors.append(_invalid("documents_number", "value_error", msg, raw))
            return 0
        return int(raw)


class AntsSite(Site):
    name = "ants"
    json_errors = True

    def __init__(self, ctx: SimContext) -> None:
        super().__init__(ctx)
        self.routes = (route("GET", "/api/SlotsFromPosition", self.slots_from_position),)

    def not_found(self, request: web.Request) -> web.Response:
        return web.json_response({"detail": "Not Found"}, status=404)

    async def slots_from_position(self, call: Call) -> web.StreamResponse:
        params = _Params(dict(call.request.query))
        longitude, latitude = params.number("longitude"), params.number("latitude")
        start, end = params.day("start_date"), params.day("end_date")
        radius = params.number("radius_km", default=20.0)
        params.reason()
        params.documents()
        if params.errors:
            return web.json_response({"detail": params.errors}, status=422)
        if not any(math.isclose(radius, r) for r in ALLOWED_RADII):
            return web.json_response({"detail": "radius_km value not allowed"}, status=403)
        if call.layout_changed:
            return web.Response(body=changed_layout_page(System.ANTS), content_type="application/json")
        found = self.meeting_points(call.host, latitude, longitude, radius, start, end, call.now)
        return web.Response(text="[" + ", ".join(found) + "]", content_type="application/json")

    def meeting_points(
        self, host: str, lat: float, lon: float, radius: float, start: date, end: date, now: datetime
    ) -> list[str]:
        """The JSON objects of the meeting points within `radius` km that have free slots, nearest first."""
        since = datetime.combine(start, time.min, PARIS).astimezone(UTC)  # UTC: cheap comparisons
        until = datetime.combine(end + timedelta(days=1), time.min, PARIS).astimezone(UTC)
        found: list[tuple[float, str]] = []
        for target in self.ctx.world.targets_of(System.ANTS):
            if target.host != host:
                continue
            distance = haversine_km(lat, lon, target.latitude, target.longitude)
            if distance > radius:
                continue
            slots = [
                s for s in self.ctx.world.visible_slots(target.id, now) if s.start > now and since <= s.start < until
            ]
            self.ctx.record(target.id, [s.id for s in slots], "ants/SlotsFromPosition")
            if slots:
                entries = ", ".join(_slot_json(target.demarche_id, s.start) for s in slots)
                found.append((distance, f'{_point_head(target, round(distance, 2))}, "available_slots": [{entries}]}}'))
        found.sort(key=lambda pair: pair[0])
        return [point for _, point in found]


def _point_head(target: SimTarget, distance: float) -> str:
    """The meeting point's JSON object without its closing brace (slots are appended to it)."""
    city_slug = "".join(c if c.isalnum() else "-" for c in (target.city or "commune").lower()).strip("-")
    point = {
        "id": str(target.demarche_id),
        "name": target.name or f"Mairie de {target.city}",
        "longitude": target.longitude,
        "latitude": target.latitude,
        "public_entry_address": "Place de la Mairie",
        "zip_code": target.zip_code,
        "city_name": target.city,
        "website": f"https://www.ville-{city_slug}.fr",
        "city_logo": f"https://www.ville-{city_slug}.fr/logo.png",
        "distance_km": distance,
    }
    return json.dumps(point, ensure_ascii=False)[:-1]


@lru_cache(maxsize=65536)
def _slot_json(meeting_point: int, start: datetime) -> str:
    """One `available_slots` entry, cached: an answer may list hundreds of slots, asked again and again."""
    u = start.astimezone(UTC)
    when = f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:{u.second:02d}Z"
    callback = f"https://rdv.anct.gouv.fr/prendre_rdv?lieu_id={meeting_point}&starts_at={when}"
    return json.dumps({"datetime": when, "callback_url": callback})
