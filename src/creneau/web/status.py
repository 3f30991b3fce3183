# SPDX-License-Identifier: AGPL-3.0-or-later
"""The status board (`/status`) and the page of one watched booking page (`/targets/{id}`).

The board's rows are rendered once per snapshot generation, language, filter and page (`Board.cached`),
so a crowd of visitors costs one rendering every few seconds. An htmx request (the département filter)
gets only the `board` block; without JavaScript the same filter is a plain GET form.
"""

from __future__ import annotations

import functools
import statistics
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request
from markupsafe import Markup, escape
from starlette.responses import Response

from creneau.catalog.official import is_official_url
from creneau.store import NotFound
from creneau.types import Outcome
from creneau.web import i18n, queries
from creneau.web.board import (
    BoardRow,
    Health,
    Snapshot,
    health_help,
    health_label,
    health_of,
    labels_in,
    page_of,
)
from creneau.web.deps import web
from creneau.web.i18n import _
from creneau.web.templating import html_for_everyone, is_htmx, render, render_shared, with_csrf

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 100
DEPT_PATTERN = r"^(\d{2,3}|2[ABab])$"
TARGET_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:~-]{0,199}$"

Departement = Annotated[str | None, Query(pattern=DEPT_PATTERN, description="Département code (75, 2A, 971)")]
PageNo = Annotated[int, Query(ge=1, le=10_000)]


def row_context(row: BoardRow) -> dict[str, Any]:
    """What a board row needs besides the row itself (words in the current language)."""
    return {
        "row": row,
        "label": health_label(row.health),
        "help": health_help(row.health),
        "demarche": row.demarche_fr if i18n.get_locale() == "fr" else row.demarche_en,
    }


_AGO_MARK = "<!--ago-->"
"""Where a cached row's relative check time goes: escaped text never holds a "<"."""


def render_rows(request: Request, snapshot: Snapshot, rows: list[BoardRow]) -> Markup:
    """The rows' HTML. Each row is rendered once per content and language (`Board.fragment`), with a mark
    where "3 minutes ago" goes, filled in for this snapshot: between two snapshots few rows change."""
    board = web(request).board
    template = request.app.state.templates.env.get_template("partials/board_rows.html")
    locale = i18n.get_locale()
    parts = []
    for row in rows:
        html: str = board.fragment(row, ("board-row", locale), functools.partial(_row_html, template, row))
        if row.last_checked_at is not None:
            html = html.replace(_AGO_MARK, str(escape(i18n.ago(row.last_checked_at, snapshot.built_at))))
        parts.append(html)
    # The template autoescapes everything it inserts, and the relative times are escaped: safe HTML.
    return Markup("".join(parts))  # noqa: S704


def _row_html(template: Any, row: BoardRow) -> str:
    return str(template.render(items=[row_context(row)], now=None, oob=False))


def render_row_oob(request: Request, snapshot: Snapshot, row: BoardRow) -> str:
    """One row marked for an htmx out-of-band swap (what the SSE stream sends when a row changes)."""
    template = request.app.state.templates.env.get_template("partials/board_rows.html")
    return str(template.render(items=[row_context(row)], now=snapshot.built_at, oob=True))


def departement_options(codes: Sequence[str], selected: str | None) -> Markup:
    """The filter's <option>s (a hundred départements, on every board page rendered)."""
    html = _options(tuple(codes))
    if selected:
        chosen = escape(selected)
        html = html.replace(f'<option value="{chosen}">', f'<option value="{chosen}" selected>', 1)
    return Markup(html)  # noqa: S704 - made of escaped codes


@functools.lru_cache(maxsize=4)
def _options(codes: tuple[str, ...]) -> str:
    return "".join(f'<option value="{escape(code)}">{escape(code)}</option>' for code in codes)


def board_page(request: Request, snapshot: Snapshot, departement: str | None, page: int) -> dict[str, Any]:
    selected = snapshot.select(departement)
    rows, pages = page_of(selected, page, PAGE_SIZE)
    page = min(page, pages)
    key = ("board-rows", snapshot.generation, i18n.get_locale(), departement, page)
    rows_html = web(request).board.cached(key, lambda: render_rows(request, snapshot, rows))
    counts: dict[Health, int] = {}
    for r in selected:
        counts[r.health] = counts.get(r.health, 0) + 1
    return {
        "rows_html": rows_html,
        "total": len(selected),
        "page": page,
        "pages": pages,
        "departement": departement or "",
        "departement_options": departement_options(snapshot.departements(), departement),
        "counts": [(h, health_label(h), n) for h, n in sorted(counts.items(), key=lambda kv: -kv[1])],
        "built_at": snapshot.built_at,
        "generation": snapshot.generation,
        "legend": [(h, health_label(h), health_help(h)) for h in Health],
    }


@router.get("/status")
async def status_board(request: Request, dept: Departement = None, page: PageNo = 1) -> Response:
    departement = dept.upper() if dept else None
    snapshot = await web(request).board.snapshot()
    block = "board" if is_htmx(request) else None
    return render_shared(
        request, (snapshot.generation,), "status.html", lambda: board_page(request, snapshot, departement, page),
        block=block,
    )  # fmt: skip


def lifetime_stats(openings: list[Any]) -> dict[str, float | None]:
    """How long slots stayed visible: the median of (first sighting → check that found them gone), and
    how long openings lasted; only finished ones count."""
    slot_lives = [
        (life.gone_at - life.first_seen).total_seconds()
        for opening in openings
        for life in opening.slots
        if life.gone_at is not None
    ]
    opening_lives = [(o.ended_at - o.started_at).total_seconds() for o in openings if o.ended_at is not None]
    return {
        "slot_median_s": statistics.median(slot_lives) if slot_lives else None,
        "opening_median_s": statistics.median(opening_lives) if opening_lives else None,
        "slots_measured": len(slot_lives),
    }


def check_rows(checks: Sequence[queries.Check]) -> Markup:
    """The check history's rows (up to 50 a page), built here rather than in a template loop: the page is
    read for random targets, so it is rendered often, and this loop was a third of its rendering."""
    l_at, l_result, l_seen = escape(_("Checked at")), escape(_("Result")), escape(_("Slots seen"))
    words = _outcome_words(i18n.get_locale())
    cells = (
        f'<tr><td data-label="{l_at}">{escape(i18n.when(c.checked_at))}</td><td data-label="{l_result}">{words[c.outcome]}</td><td data-label="{l_seen}">{int(c.slot_count)}</td></tr>'
        for c in checks
    )  # fmt: skip
    return Markup("\n".join(cells))  # noqa: S704 - every text is escaped, the count is an int


@functools.cache
def _outcome_words(locale: str) -> dict[Outcome, Markup]:
    labels = labels_in(locale)
    return {outcome: escape(labels[health_of(outcome)]) for outcome in Outcome}


@router.get("/targets/{target_id}")
async def target_page(request: Request, target_id: Annotated[str, Path(pattern=TARGET_ID_PATTERN)]) -> Response:
    w = web(request)
    snapshot = await w.board.snapshot()
    row = snapshot.by_id.get(target_id)
    # For visitors who are not signed in the page is kept across snapshots, keyed by its board row (which
    # changes with every check, opening or pause) and the "3 minutes ago" it shows.
    key: tuple[Any, ...] | None = None
    if row is not None and getattr(request.state, "user", None) is None:
        ago = i18n.ago(row.last_checked_at, w.now()) if row.last_checked_at else ""
        key = ("target-page", row, i18n.get_locale(), ago)
        kept = w.board.peek(key)
        if kept is not None:
            return with_csrf(request, kept)
    try:
        detail = await w.board.reader.quick(functools.partial(queries.target_detail, target_id=target_id))
    except NotFound:
        raise HTTPException(status_code=404) from None
    if row is None:  # added since the snapshot: rebuild once
        row = (await w.board.refresh()).by_id.get(target_id)
    context = {
        "target": detail.target,
        "state": detail.state,
        "office": w.catalog.offices.get(detail.target.office_id),
        "official": is_official_url(detail.target.url),
        "row": row_context(row) if row is not None else None,
        "openings": detail.openings,
        "stats": lifetime_stats(detail.openings),
        "checks": detail.checks,
        "check_rows": check_rows(detail.checks),
    }
    if key is None:
        return render(request, "target.html", context)
    return with_csrf(request, w.board.keep(key, html_for_everyone(request, "target.html", context)))
