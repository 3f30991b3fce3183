# SPDX-License-Identifier: AGPL-3.0-or-later
"""What every simulated site shares: the request context, routing by regular expression, French date
formats (Europe/Paris) and the precompiled page templates.

A site is a small router of its own because the simulator dispatches on the Host header first (every
official host is served on one port) and only then on the path.
"""

from __future__ import annotations

import random
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Protocol

import jinja2
from aiohttp import web
from markupsafe import Markup

from creneau.sim.clock import Clock
from creneau.sim.model import Episode, EpisodeKind, SimTarget, World
from creneau.types import PARIS

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
STATIC = Path(__file__).resolve().parent.parent / "static"

WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


class TruthSink(Protocol):
    """Where the server records what it showed (optional; the scenario's own truth is written elsewhere)."""

    def served(self, *, at: datetime, target_id: str, slot_ids: Sequence[int], page: str) -> None: ...


@dataclass
class SimContext:
    """Shared by every site of one server: the world, the clock and the deterministic id source."""

    world: World
    clock: Clock
    test_hooks: bool = False
    truth: TruthSink | None = None
    rng: random.Random = field(default_factory=random.Random)

    def token(self, n: int, alphabet: str = "0123456789abcdef") -> str:
        """A session id / token: deterministic for a given world seed and request order."""
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def record(self, target_id: str, slot_ids: Sequence[int], page: str) -> None:
        if self.truth is not None:
            self.truth.served(at=self.clock.now(), target_id=target_id, slot_ids=slot_ids, page=page)


@dataclass(frozen=True, slots=True)
class Call:
    """One request as a site handler sees it, after host dispatch and the failure gate."""

    request: web.Request
    match: re.Match[str]
    host: str
    now: datetime
    target: SimTarget | None
    episode: Episode | None

    @property
    def layout_changed(self) -> bool:
        return self.episode is not None and self.episode.kind is EpisodeKind.LAYOUT_CHANGED


Handler = Callable[[Call], Awaitable[web.StreamResponse]]
TargetHandler = Callable[[Call, SimTarget], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class Route:
    methods: frozenset[str]
    pattern: re.Pattern[str]
    handler: Handler


def route(methods: str, pattern: str, handler: Handler) -> Route:
    return Route(frozenset(methods.split()), re.compile(pattern), handler)


class Site:
    """Base of the simulated sites. Subclasses fill `routes` and may override `target_for`/`not_found`."""

    name = "site"
    json_errors = False  # failure pages as JSON (APIs) rather than HTML

    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx
        self.routes: Sequence[Route] = ()

    def resolve(self, method: str, path: str) -> tuple[Route | None, re.Match[str] | None]:
        """The route for this path; (None, match) when the path exists but not for this method."""
        path_match: re.Match[str] | None = None
        for r in self.routes:
            m = r.pattern.fullmatch(path)
            if m is None:
                continue
            if method in r.methods or (method == "HEAD" and "GET" in r.methods):
                return r, m
            path_match = m
        return None, path_match

    def target_for(self, host: str, match: re.Match[str] | None) -> SimTarget | None:
        if match is None or "id" not in match.groupdict():
            return None
        return self.ctx.world.target_for(host, int(match.group("id")))

    def not_found(self, request: web.Request) -> web.Response:
        return html(NOT_FOUND_HTML, status=404)

    def for_target(self, handler: TargetHandler) -> Handler:
        """A route handler that answers this site's 404 page unless the path names a known target."""

        async def checked(call: Call) -> web.StreamResponse:
            if call.target is None:
                return self.not_found(call.request)
            return await handler(call, call.target)

        return checked


NOT_FOUND_HTML = (
    '<!DOCTYPE html>\n<html lang="fr"><head><meta charset="utf-8"><title>Page introuvable</title></head>\n'
    "<body><h1>Page introuvable</h1><p>La page que vous cherchez n'existe pas ou a été déplacée.</p>"
    "<p>Erreur 404</p></body></html>\n"
)


def text(value: str) -> Markup:
    """Escape for HTML text and double-quoted attributes, keeping apostrophes as typed (as the sites do)."""
    escaped = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    return Markup(escaped)  # noqa: S704 - escaped just above


def html(body: str | bytes, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    data = body.encode() if isinstance(body, str) else body
    return web.Response(body=data, status=status, headers=headers, content_type="text/html", charset="utf-8")


def redirect(location: str, *, status: int = 302) -> web.Response:
    return web.Response(status=status, headers={"Location": location})


# --- French dates, Europe/Paris ------------------------------------------------------------------------


def paris(t: datetime) -> datetime:
    return t.astimezone(PARIS)


def fmt_date(d: date) -> str:
    return f"{d.day:02d}/{d.month:02d}/{d.year:04d}"


def fmt_instant(t: datetime) -> str:
    """`DD/MM/YYYY HH:mm` in Paris time, the format of `instantPublication`."""
    p = paris(t)
    return f"{fmt_date(p.date())} {p.hour:02d}:{p.minute:02d}"


_FR_DATE = re.compile(r"(\d{2})/(\d{2})/(\d{4})")


def parse_fr_date(text: str | None) -> date | None:
    m = _FR_DATE.fullmatch((text or "").strip())
    if m is None:
        return None
    try:
        return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    except ValueError:
        return None


def monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def long_date(d: date) -> str:
    """`mardi 12 mars 2019`, as the legacy module writes dates."""
    return f"{WEEKDAYS[d.weekday()]} {d.day} {MONTHS[d.month - 1]} {d.year}"


# --- templates and departments --------------------------------------------------------------------------


@cache
def templates() -> jinja2.Environment:
    """One environment for the process: every template is compiled once, then only rendered."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html", "htm"]),
        undefined=jinja2.StrictUndefined,
        auto_reload=False,
        keep_trailing_newline=True,
    )


@dataclass(frozen=True, slots=True)
class Department:
    code: str
    article: int  # INSEE TNCC ("typeLiaison")
    name: str

    @property
    def dans(self) -> str:
        """`dans l'Essonne`, `dans le Val-d'Oise`, `à Paris`…"""
        prefix = {2: "dans le ", 3: "dans la ", 4: "dans les ", 5: "dans l'"}.get(self.article, "à ")
        return prefix + self.name

    @property
    def slug(self) -> str:
        folded = self.name.lower().translate(str.maketrans("éèêëàâîïôöûüùç", "eeeeaaiioouuuc"))
        return re.sub(r"[^a-z0-9]+", "-", folded.replace("'", "")).strip("-")


@cache
def departments() -> tuple[Department, ...]:
    rows = []
    for line in (TEMPLATES / "departements.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            code, article, name = line.split("\t")
            rows.append(Department(code, int(article), name))
    return tuple(rows)


@cache
def _by_slug() -> dict[str, Department]:
    return {d.slug: d for d in departments()}


@cache
def department_for_host(host: str) -> Department:
    """The department a legacy host belongs to (`www.essonne.gouv.fr` → Essonne); Paris for the PP."""
    by_slug = _by_slug()
    parts = host.split(".")
    for part in parts:
        if part in by_slug:
            return by_slug[part]
    if host.startswith("pprdv."):
        return by_slug["paris"]
    label = parts[1] if len(parts) > 2 else parts[0]
    return Department("00", 0, label.replace("-", " ").title())
