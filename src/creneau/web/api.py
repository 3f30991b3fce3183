# SPDX-License-Identifier: AGPL-3.0-or-later
"""The public, read-only JSON API under `/api/v1/`: offices, démarches, targets, status and openings.

Anyone may read it (no account, `Access-Control-Allow-Origin: *`); it says nothing about people. The
status comes from the board's snapshot, so it costs no query per call. Shapes: `api_models.py`; the schema
is at `/api/openapi.json` and a readable page at `/api/docs`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request
from pydantic import AfterValidator, AwareDatetime, TypeAdapter
from starlette.responses import Response

from creneau.catalog.model import BookingTarget, DemarcheInfo, OfficeRecord
from creneau.catalog.portal import guide
from creneau.store import NotFound
from creneau.store.records import OpeningRecord
from creneau.types import PARIS
from creneau.web import i18n, queries
from creneau.web.api_models import (
    ApiError,
    CheckOut,
    DemarcheOut,
    FeeOut,
    OfficeOut,
    OpeningOut,
    PortalOut,
    SlotOut,
    StatusOut,
    StatusPage,
    TargetDetail,
    TargetOut,
    ValidationFailed,
)
from creneau.web.board import BoardRow, health_of, labels_in
from creneau.web.deps import WebState, web
from creneau.web.shared import share
from creneau.web.status import DEPT_PATTERN, TARGET_ID_PATTERN
from creneau.web.templating import render

ERRORS: dict[int | str, dict[str, object]] = {404: {"model": ApiError}, 422: {"model": ValidationFailed}}
router = APIRouter(prefix="/api/v1", tags=["public"], responses=ERRORS)
docs_router = APIRouter(include_in_schema=False)

KEY_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,99}$"


def _plausible(value: datetime) -> datetime:
    if not 2000 <= value.astimezone(UTC).year <= 2100:
        raise ValueError("must be between 2000 and 2100")
    return value.astimezone(UTC)


Since = Annotated[AwareDatetime | None, AfterValidator(lambda v: _plausible(v) if v else v), Query()]
Dept = Annotated[str | None, Query(pattern=DEPT_PATTERN, description="Département code (75, 2A, 971)")]
Limit = Annotated[int, Query(ge=1, le=500)]


_ANY: TypeAdapter[Any] = TypeAdapter(Any)


def _json(request: Request, key: tuple[Any, ...], make: Callable[[], Any]) -> Response:
    """The JSON answer for `key`, serialised once per board snapshot (the API is read by crowds)."""
    board = web(request).board
    body: bytes = board.cached(("api", *key), lambda: _ANY.dump_json(make()))
    return _body(request, body)


_CORS = {"access-control-allow-origin": "*"}


def _body(request: Request, body: bytes) -> Response:
    """The JSON answer, shared with the next identical request (`web.shared`): the API says nothing about
    people, so every caller gets the same answer."""
    share(request, body, "application/json", _CORS)
    return Response(body, media_type="application/json", headers=_CORS)


def _office(o: OfficeRecord) -> OfficeOut:
    return OfficeOut(
        id=o.id, kind=o.kind.value, departement=o.departement, name=o.name, address=o.address,
        postcode=o.postcode, town=o.town, website=o.website, phone=o.phone, last_verified=o.last_verified,
    )  # fmt: skip


def _demarche(w: WebState, d: DemarcheInfo) -> DemarcheOut:
    doc = guide(w.catalog, d, w.now().astimezone(PARIS).date())
    return DemarcheOut(
        key=d.key, name_fr=d.name_fr, name_en=d.name_en, category=d.category, competence=d.competence.value,
        watchable=d.watchable, portals=[PortalOut.model_validate(p) for p in doc["portals"]],  # type: ignore[attr-defined]
        prepare_fr=list(d.prepare_fr), prepare_en=list(d.prepare_en),
        fees=[FeeOut.model_validate(f) for f in doc["fees"]],  # type: ignore[attr-defined]
    )  # fmt: skip


def _target(w: WebState, t: BookingTarget) -> TargetOut:
    office = w.catalog.offices.get(t.target.office_id)
    return TargetOut(
        id=t.id, system=t.target.system.value, url=t.target.url, office_id=t.target.office_id,
        departement=office.departement if office else None, demarche_key=t.target.demarche_key, label=t.target.label,
    )  # fmt: skip


def _status(r: BoardRow) -> StatusOut:
    labels = {locale: labels_in(locale)[r.health] for locale in i18n.LOCALES}
    return StatusOut(
        target_id=r.target_id, office_id=r.office_id, office_name=r.office_name, departement=r.departement or None,
        demarche_key=r.demarche_key, health=r.health.value, health_label_fr=labels["fr"], health_label_en=labels["en"],
        last_outcome=r.last_outcome, last_checked_at=r.last_checked_at, paused_until=r.paused_until,
        last_opening_at=r.last_opening_at, open_now=r.open_now, next_publication=r.next_publication, watched=r.watched,
    )  # fmt: skip


def _opening(o: OpeningRecord, *, with_slots: bool) -> OpeningOut:
    slots = None
    if with_slots:
        slots = [
            SlotOut(start=s.slot.start, guichet=s.slot.guichet, guichet_label=s.slot.guichet_label,
                    place=s.slot.place, first_seen=s.first_seen, last_seen=s.last_seen, gone_at=s.gone_at)
            for s in o.slots
        ]  # fmt: skip
    return OpeningOut(
        id=o.id, target_id=o.target_id, started_at=o.started_at, ended_at=o.ended_at,
        duration_s=(o.ended_at - o.started_at).total_seconds() if o.ended_at else None,
        first_slot_count=len(o.first_slots), slots=slots,
    )  # fmt: skip


@router.get(
    "/offices",
    summary="Offices (prefectures, sub-prefectures, Préfecture de police sites)",
    response_model=list[OfficeOut],
)
async def offices(request: Request, departement: Dept = None) -> Response:
    dept = departement.upper() if departement else None
    items = web(request).catalog.offices.values()
    return _json(
        request, ("offices", dept), lambda: [_office(o) for o in items if dept is None or o.departement == dept]
    )


@router.get("/offices/{office_id}", summary="One office", response_model=OfficeOut)
async def office(request: Request, office_id: Annotated[str, Path(pattern=KEY_PATTERN)]) -> Response:
    found = web(request).catalog.offices.get(office_id)
    if found is None:
        raise HTTPException(status_code=404, detail="no such office")
    return _json(request, ("office", office_id), lambda: _office(found))


@router.get(
    "/demarches", summary="Démarches, their portals and their dated official fees", response_model=list[DemarcheOut]
)
async def demarches(request: Request) -> Response:
    w = web(request)
    items = sorted(w.catalog.demarches.values(), key=lambda d: d.key)
    return _json(request, ("demarches", _today(w)), lambda: [_demarche(w, d) for d in items])


@router.get("/demarches/{key}", summary="One démarche", response_model=DemarcheOut)
async def demarche(request: Request, key: Annotated[str, Path(pattern=KEY_PATTERN)]) -> Response:
    w = web(request)
    found = w.catalog.demarches.get(key)
    if found is None:
        raise HTTPException(status_code=404, detail="no such démarche")
    return _json(request, ("demarche", key, _today(w)), lambda: _demarche(w, found))


@router.get("/targets", summary="Booking pages creneau knows (office × démarche)", response_model=list[TargetOut])
async def targets(
    request: Request,
    departement: Dept = None,
    demarche: Annotated[str | None, Query(pattern=KEY_PATTERN)] = None,
    office: Annotated[str | None, Query(pattern=KEY_PATTERN)] = None,
) -> Response:
    w = web(request)
    dept = departement.upper() if departement else None

    def make() -> list[TargetOut]:
        items = [_target(w, t) for t in sorted(w.catalog.targets.values(), key=lambda t: t.id)]
        return [
            t
            for t in items
            if (dept is None or t.departement == dept)
            and (demarche is None or t.demarche_key == demarche)
            and (office is None or t.office_id == office)
        ]

    return _json(request, ("targets", dept, demarche, office), make)


@router.get(
    "/status", summary="The status board: the last check of every target, in plain words", response_model=StatusPage
)
async def status(
    request: Request,
    departement: Dept = None,
    limit: Limit = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    snapshot = await web(request).board.snapshot()
    dept = departement.upper() if departement else None

    board = web(request).board

    def make() -> bytes:
        rows = snapshot.select(dept)
        # Each row's JSON is made once per row content (`Board.fragment`): few rows change between snapshots.
        items = [
            board.fragment(r, ("api-status",), functools.partial(_status_json, r))
            for r in rows[offset : offset + limit]
        ]
        page = StatusPage(generated_at=snapshot.built_at, total=len(rows), limit=limit, offset=offset, items=[])
        head = _ANY.dump_json(page)
        assert head.endswith(b"[]}")  # `items` is the last field
        return head[:-2] + b",".join(items) + b"]}"

    return _body(request, board.cached(("api", "status", snapshot.generation, dept, limit, offset), make))


def _status_json(r: BoardRow) -> bytes:
    return _ANY.dump_json(_status(r))


@router.get(
    "/targets/{target_id}", summary="One target: its status, recent openings and checks", response_model=TargetDetail
)
async def target(request: Request, target_id: Annotated[str, Path(pattern=TARGET_ID_PATTERN)]) -> Response:
    w = web(request)
    snapshot = await w.board.snapshot()
    row = snapshot.by_id.get(target_id)
    # The board row changes whenever a check, an opening or the health changes: it keys the detail.
    key = ("api", "target", target_id, row if row is not None else snapshot.generation)
    known = w.board.peek(key)
    if known is not None:
        return _body(request, known)
    try:
        detail = await w.board.reader.quick(functools.partial(queries.target_detail, target_id=target_id))
    except NotFound:
        raise HTTPException(status_code=404, detail="no such target") from None
    t = detail.target
    office_rec = w.catalog.offices.get(t.office_id)

    def make() -> TargetDetail:
        return TargetDetail(
            target=TargetOut(
                id=t.id, system=t.system.value, url=t.url, office_id=t.office_id,
                departement=office_rec.departement if office_rec else None, demarche_key=t.demarche_key,
                label=t.label,
            ),
            status=_status(row) if row else None,
            openings=[_opening(o, with_slots=True) for o in detail.openings],
            checks=[
                CheckOut(checked_at=c.checked_at, outcome=c.outcome.value, health=health_of(c.outcome).value,
                         http_status=c.http_status, slot_count=c.slot_count)
                for c in detail.checks
            ],
        )  # fmt: skip

    return _body(request, w.board.keep(key, _ANY.dump_json(make())))


@router.get(
    "/openings",
    summary="Recent openings (periods with slots) of every target, newest first",
    response_model=list[OpeningOut],
)
async def openings(request: Request, since: Since = None, limit: Limit = 100) -> Response:
    board = web(request).board
    snapshot = await board.snapshot()
    # As fresh as the board (at most `web_board_refresh_s` old): read once per snapshot and question.
    key = ("api", "openings", snapshot.generation, since, limit)
    known = board.peek(key)
    if known is not None:
        return _body(request, known)
    rows = await board.reader.quick(functools.partial(queries.recent_openings_all, since=since, limit=limit))
    return _body(request, board.cached(key, lambda: _ANY.dump_json([_opening(o, with_slots=False) for o in rows])))


def _today(w: WebState) -> Any:
    return w.now().astimezone(PARIS).date()


@docs_router.get("/api/docs")
async def api_docs(request: Request) -> Response:
    """A readable page of the OpenAPI schema (no external script: the CSP forbids it)."""
    schema = request.app.openapi()
    return render(request, "api_docs.html", {"schema": schema, "now_utc": datetime.now(UTC)})
