# SPDX-License-Identifier: AGPL-3.0-or-later
"""Booking URLs of the legacy module: which host and form a URL names, and the URLs of each step."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from creneau.sources.errors import ErrorKind, SourceError

_PATH = re.compile(r"^/booking/create/(\d{1,9})(?:/(\d{1,2})(?:/\d+)?)?/?$")


@dataclass(frozen=True, slots=True)
class BookingUrl:
    host: str
    form_id: int
    step: int | None

    @property
    def start(self) -> str:
        """The official first page of the form (what alerts link to)."""
        return f"https://{self.host}/booking/create/{self.form_id}/0"


def booking_url(url: str) -> BookingUrl:
    """Split a booking URL; SourceError(BAD_INPUT) naming what is wrong when it is not one."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        raise SourceError(ErrorKind.BAD_INPUT, f"not an http(s) URL: {url!r}")
    if not host.endswith(".gouv.fr"):
        raise SourceError(ErrorKind.BAD_INPUT, f"the legacy booking module only runs on *.gouv.fr hosts, not {host}")
    match = _PATH.match(parts.path)
    if not match:
        raise SourceError(
            ErrorKind.BAD_INPUT,
            f"not a legacy booking URL (expected https://{host}/booking/create/<form id>[/<step>]): {url!r}",
        )
    return BookingUrl(host, int(match.group(1)), int(match.group(2)) if match.group(2) else None)


def step_url(form: BookingUrl, step: int) -> str:
    return f"https://{form.host}/booking/create/{form.form_id}/{step}"


def week_url(form: BookingUrl, planning_id: str, day_offset: int) -> str:
    """The AJAX week planning of one guichet, `day_offset` days ahead (0, 7, 14…)."""
    return f"https://{form.host}/ezjscore/call/bookingserver::planning::assign::{form.form_id}::{planning_id}::{day_offset}"
