# SPDX-License-Identifier: AGPL-3.0-or-later
"""The status board: every office × démarche creneau knows, in plain words, from one shared snapshot.

Reading the store for every visitor would not scale, so `Board` keeps a snapshot (`Snapshot`: one
`BoardRow` per target) and rebuilds it at most every `web_board_refresh_s` while someone is looking:
requests that find it stale trigger one rebuild in the background and are served the previous snapshot
meanwhile (stale-while-revalidate); only the very first request waits. A rebuild reads the targets and
the openings in one snapshot transaction, and the announced publications only of targets checked since the
previous rebuild. Each rebuild has a new `generation`; rendered fragments are cached per generation
(`Board.cached`), and SSE listeners wait for the next generation (`Board.wait_newer`).

A row's health is decided here, never guessed from a missing "no slot" sentence: it is the last check's
outcome, except that a pause, a never-checked target and a watched target not checked for
`web_stale_after_min` say so instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Connection

from creneau.types import Outcome
from creneau.web import i18n, queries
from creneau.web.i18n import _
from creneau.web.reader import Reader
from creneau.web.shared import SharedAnswers

if TYPE_CHECKING:
    from creneau.catalog.core import Catalog
    from creneau.sim.clock import Clock
    from creneau.store import Store


class Health(StrEnum):
    SLOTS = "slots"
    NO_SLOTS = "no_slots"
    HUMAN_CHECK = "human_check"
    BLOCKED = "blocked"
    SLOWED = "slowed"
    DOWN = "down"
    UNKNOWN_PAGE = "unknown_page"
    UNREACHABLE = "unreachable"
    RETRYING = "retrying"
    PAUSED = "paused"
    STALE = "stale"
    NOT_CHECKED = "not_checked"


_FROM_OUTCOME = {
    Outcome.SLOTS_AVAILABLE: Health.SLOTS,
    Outcome.NO_SLOTS: Health.NO_SLOTS,
    Outcome.HUMAN_CHECK_REQUIRED: Health.HUMAN_CHECK,
    Outcome.BLOCKED: Health.BLOCKED,
    Outcome.RATE_LIMITED: Health.SLOWED,
    Outcome.UNAVAILABLE: Health.DOWN,
    Outcome.LAYOUT_UNKNOWN: Health.UNKNOWN_PAGE,
    Outcome.NETWORK_ERROR: Health.UNREACHABLE,
    Outcome.SESSION_EXPIRED: Health.RETRYING,
}


def health_of(outcome: Outcome) -> Health:
    """What one check's outcome means on the board."""
    return _FROM_OUTCOME.get(outcome, Health.UNKNOWN_PAGE)


def health_label(health: Health) -> str:
    """A few plain words for the board (in the request's language)."""
    return {
        Health.SLOTS: _("Slots available"),
        Health.NO_SLOTS: _("No slots"),
        Health.HUMAN_CHECK: _("Needs a human check"),
        Health.BLOCKED: _("Blocked by the site"),
        Health.SLOWED: _("Site asked us to slow down"),
        Health.DOWN: _("Site unavailable"),
        Health.UNKNOWN_PAGE: _("Page not recognised"),
        Health.UNREACHABLE: _("Site unreachable"),
        Health.RETRYING: _("Check interrupted, retrying"),
        Health.PAUSED: _("Checks paused"),
        Health.STALE: _("Not checked recently"),
        Health.NOT_CHECKED: _("Not checked yet"),
    }[health]


@functools.cache
def labels_in(locale: str) -> dict[Health, str]:
    """Every health's label in `locale` (for the API, which gives both languages)."""
    token = i18n.use_locale(locale)
    try:
        return {h: health_label(h) for h in Health}
    finally:
        i18n.reset_locale(token)


def health_help(health: Health) -> str:
    """One sentence saying what the state means for the person waiting."""
    return {
        Health.SLOTS: _("The last check saw bookable slots on the official site. Go there now: they go fast."),
        Health.NO_SLOTS: _("The last check saw the official site's own “no slot” page."),
        Health.HUMAN_CHECK: _(
            "The site shows a security image. creneau never solves it by itself: checks resume when a "
            "volunteer answers it at the captcha desk."
        ),
        Health.BLOCKED: _("The site refused our check. We wait before trying again; check the site yourself."),
        Health.SLOWED: _("The site asked us to check less often; we obey and wait."),
        Health.DOWN: _("The site is down, overloaded or in maintenance."),
        Health.UNKNOWN_PAGE: _(
            "The site showed a page we do not recognise: we report nothing until a person has looked at it."
        ),
        Health.UNREACHABLE: _("We could not reach the site (network error)."),
        Health.RETRYING: _("The booking session expired during the check; the next check starts over."),
        Health.PAUSED: _("Checks are paused for now; we cannot see this page, check it yourself."),
        Health.STALE: _("This page has not been checked for a while: what you see may be out of date."),
        Health.NOT_CHECKED: _("Nobody watches this page yet, or its first check has not run."),
    }[health]


@dataclass(frozen=True, slots=True)
class BoardRow:
    target_id: str
    label: str
    system: str
    url: str
    office_id: str
    office_name: str
    departement: str
    demarche_key: str
    demarche_fr: str
    demarche_en: str
    health: Health
    last_outcome: str | None
    last_checked_at: datetime | None
    paused_until: datetime | None
    last_opening_at: datetime | None
    open_now: bool
    openings: int
    next_publication: datetime | None
    watched: bool

    @property
    def dom_id(self) -> str:
        """An HTML id safe in CSS selectors (target ids hold dots), stable across snapshots."""
        return "t-" + hashlib.sha1(self.target_id.encode(), usedforsecurity=False).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class Snapshot:
    generation: int
    built_at: datetime
    rows: tuple[BoardRow, ...]
    by_id: dict[str, BoardRow] = field(repr=False)
    by_departement: dict[str, list[BoardRow]] = field(init=False, repr=False)
    """The rows of each département, in board order (made once: pages and API calls filter by it)."""

    def __post_init__(self) -> None:
        groups: dict[str, list[BoardRow]] = {}
        for row in self.rows:
            groups.setdefault(row.departement, []).append(row)
        object.__setattr__(self, "by_departement", groups)

    def select(self, departement: str | None = None) -> list[BoardRow]:
        if not departement:
            return list(self.rows)
        return list(self.by_departement.get(departement, ()))

    def departements(self) -> tuple[str, ...]:
        return tuple(sorted(d for d in self.by_departement if d))


T = TypeVar("T")
KEPT_BYTES = 64 * 1024 * 1024
"""What `Board.keep` holds at most (pages and JSON answers count their length, other values 1 KiB)."""


class Board:
    """See the module docstring. One per app; `refresh()` forces a rebuild (tests, after a write)."""

    def __init__(
        self, store: Store, catalog: Catalog, clock: Clock, *, refresh_s: float, stale_after: timedelta
    ) -> None:
        self._store = store
        self._catalog = catalog
        self._clock = clock
        self._refresh_s = refresh_s
        self._stale_after = stale_after
        self._snapshot: Snapshot | None = None
        self._announced: dict[str, tuple[datetime | None, tuple[datetime, ...]]] = {}
        self._lock = asyncio.Lock()
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[Snapshot] | None = None
        self._cache: dict[tuple[Any, ...], Any] = {}
        self._kept: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._kept_bytes = 0
        self._fragments: dict[tuple[Any, ...], Any] = {}
        self.reader = Reader(store)
        """Read-only store work in one hop off the loop (`web.reader`): the rebuilds, the target details."""
        self.listeners = 0
        self.answers = SharedAnswers()
        """Whole answers alike for every visitor who is not signed in, per generation (`web.shared`)."""

    @property
    def generation(self) -> int:
        """The current snapshot's generation (0 before the first), without starting a rebuild."""
        return self._snapshot.generation if self._snapshot is not None else 0

    async def snapshot(self) -> Snapshot:
        """The current snapshot; a stale one is returned at once while a rebuild runs in the background."""
        current = self._snapshot
        if current is None:
            return await self.refresh()
        age = (self._clock.now() - current.built_at).total_seconds()
        if (age >= self._refresh_s or age < 0) and (self._task is None or self._task.done()):
            self._task = asyncio.create_task(self.refresh(), name="creneau-board-refresh")
        return current

    async def refresh(self) -> Snapshot:
        """Rebuild now (one rebuild at a time: a caller arriving during one gets its result)."""
        generation = self._snapshot.generation if self._snapshot else 0
        async with self._lock:
            if self._snapshot is not None and self._snapshot.generation != generation:
                return self._snapshot
            snapshot = await self._build(generation + 1)
            self._snapshot = snapshot
            self._cache.clear()
            current = set(snapshot.rows)
            self._fragments = {k: v for k, v in self._fragments.items() if k[0] in current}
        async with self._changed:
            self._changed.notify_all()
        return snapshot

    async def wait_newer(self, generation: int, wait_s: float) -> Snapshot:
        """Wait (at most `wait_s` seconds) for a snapshot newer than `generation`, asking for rebuilds meanwhile."""
        deadline = asyncio.get_running_loop().time() + wait_s
        while True:
            snapshot = await self.snapshot()
            remaining = deadline - asyncio.get_running_loop().time()
            if snapshot.generation > generation or remaining <= 0:
                return snapshot
            async with self._changed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), min(remaining, self._refresh_s))

    def cached(self, key: tuple[Any, ...], make: Callable[[], T]) -> T:
        """`make()` once per key and snapshot generation (rendered rows, API pages)."""
        if key not in self._cache:
            if len(self._cache) > 512:
                self._cache.clear()
            self._cache[key] = make()
        value: T = self._cache[key]
        return value

    def peek(self, key: tuple[Any, ...]) -> Any:
        """What `cached` or `keep` holds for `key`, or None."""
        found = self._cache.get(key)
        if found is None:
            found = self._kept.get(key)
            if found is not None:
                self._kept.move_to_end(key)
        return found

    def keep(self, key: tuple[Any, ...], value: T) -> T:
        """Keep `value` across snapshots (least recently used dropped first, `KEPT_BYTES` in all): for
        answers whose key already says when they change, e.g. a target's detail keyed by its board row."""
        old = self._kept.pop(key, None)
        if old is not None:
            self._kept_bytes -= _size(old)
        self._kept[key] = value
        self._kept_bytes += _size(value)
        while self._kept_bytes > KEPT_BYTES and len(self._kept) > 1:
            self._kept_bytes -= _size(self._kept.popitem(last=False)[1])
        return value

    def fragment(self, row: BoardRow, key: tuple[Any, ...], make: Callable[[], T]) -> T:
        """`make()` once per board row (its content, not its snapshot) and `key` (e.g. the language): a
        row that did not change between snapshots is not rendered again. Rows gone from the current
        snapshot are forgotten at the next rebuild."""
        full = (row, *key)
        found = self._fragments.get(full)
        if found is None:
            found = self._fragments[full] = make()
        value: T = found
        return value

    async def close(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await asyncio.to_thread(self.reader.close)

    async def _build(self, generation: int) -> Snapshot:
        now = self._clock.now()
        # One hop to a reader thread: the queries (one snapshot transaction) and the thousands of rows'
        # Python (tens of milliseconds) both stay off the event loop.
        return await self.reader.run(functools.partial(self._build_in, generation, now))

    def _build_in(self, generation: int, now: datetime, conn: Connection) -> Snapshot:
        rows = queries.target_rows(conn)
        openings = queries.opening_summaries(conn)
        changed = [r.id for r in rows if self._announced.get(r.id, (None, ()))[0] != r.last_checked_at]
        fresh = queries.announced(conn, changed)
        for row in rows:
            if row.id in fresh:
                self._announced[row.id] = (row.last_checked_at, fresh[row.id])
        built = [self._row(r, openings.get(r.id), now) for r in rows]
        built.sort(key=lambda b: (b.departement or "~", b.office_name, b.demarche_key, b.target_id))
        return Snapshot(generation, now, tuple(built), {r.target_id: r for r in built})

    def _row(self, r: Any, opening: queries.OpeningSummary | None, now: datetime) -> BoardRow:
        office = self._catalog.offices.get(r.office_id)
        demarche = self._catalog.demarches.get(r.demarche_key)
        instants = self._announced.get(r.id, (None, ()))[1]
        upcoming = [i for i in instants if i > now]
        return BoardRow(
            target_id=r.id,
            label=r.label,
            system=r.system,
            url=r.url,
            office_id=r.office_id,
            office_name=office.name if office else (r.label or r.office_id),
            departement=office.departement if office else "",
            demarche_key=r.demarche_key,
            demarche_fr=demarche.name_fr if demarche else r.demarche_key,
            demarche_en=demarche.name_en if demarche else r.demarche_key,
            health=self._health(r, now),
            last_outcome=r.last_outcome,
            last_checked_at=r.last_checked_at,
            paused_until=r.paused_until if r.paused_until and r.paused_until > now else None,
            last_opening_at=opening.last_started_at if opening else None,
            open_now=opening.open_now if opening else False,
            openings=opening.count if opening else 0,
            next_publication=min(upcoming) if upcoming else None,
            watched=bool(r.watched),
        )

    def _health(self, r: Any, now: datetime) -> Health:
        if r.paused_until is not None and r.paused_until > now:
            return Health.PAUSED
        if r.last_checked_at is None or r.last_outcome is None:
            return Health.NOT_CHECKED
        if r.watched and now - r.last_checked_at > self._stale_after:
            return Health.STALE
        try:
            return health_of(Outcome(r.last_outcome))
        except ValueError:
            return Health.UNKNOWN_PAGE


def _size(value: object) -> int:
    return len(value) if isinstance(value, str | bytes) else 1024


def page_of(rows: Sequence[BoardRow], page: int, size: int) -> tuple[list[BoardRow], int]:
    """One page of rows (1-based) and the number of pages (at least 1)."""
    pages = max(1, -(-len(rows) // size))
    page = min(max(page, 1), pages)
    return list(rows[(page - 1) * size : page * size]), pages
