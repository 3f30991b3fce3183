# SPDX-License-Identifier: AGPL-3.0-or-later
"""Public pages: home, the find-my-office and which-portal wizard, démarche guides, help guides, language.

Everything here reads the catalog (and the board snapshot for the home page's numbers); nothing needs an
account. The wizard is plain GET forms, so it works without JavaScript and every answer has its own URL.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Query, Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from creneau.catalog.geo import Commune
from creneau.catalog.model import DemarcheInfo
from creneau.catalog.portal import guide
from creneau.catalog.resolver import Found, Located, Status
from creneau.types import PARIS
from creneau.web import i18n
from creneau.web.board import Health
from creneau.web.deps import CurrentUser, web
from creneau.web.i18n import _
from creneau.web.security import is_https, safe_next
from creneau.web.templating import render

router = APIRouter(include_in_schema=False)

GUIDES = ("prepare", "fees", "no-slot", "offline", "free")
MAX_QUERY = 100


def guide_titles() -> dict[str, str]:
    return {
        "prepare": _("What to bring to your appointment"),
        "fees": _("Fees and tax stamps"),
        "no-slot": _("When no slot ever comes"),
        "offline": _("Help without internet"),
        "free": _("Appointments are free: avoid scams"),
    }


def today(request: Request) -> date:
    """Today in Paris, on the app's clock (fees are dated)."""
    return web(request).now().astimezone(PARIS).date()


@router.get("/")
async def home(request: Request) -> Response:
    snapshot = await web(request).board.snapshot()
    counts = {
        "targets": len(snapshot.rows),
        "watched": sum(1 for r in snapshot.rows if r.watched),
        "open": sum(1 for r in snapshot.rows if r.health is Health.SLOTS),
    }
    return render(request, "home.html", {"counts": counts, "guides": guide_titles()})


@router.get("/healthz")
async def healthz() -> Response:
    return PlainTextResponse("ok")


@router.post("/lang")
async def switch_language(
    request: Request,
    user: CurrentUser,
    lang: Annotated[str, Form(max_length=5)],
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Remember the chosen language in a cookie (and in the account, where alerts read it)."""
    if lang not in i18n.LOCALES:
        raise HTTPException(status_code=400)
    if user is not None and user.locale != lang:
        await web(request).accounts.set_locale(user.subscriber_id, lang)
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        i18n.COOKIE, lang, max_age=365 * 86400, httponly=True, samesite="lax", secure=is_https(request.scope)
    )
    return response


def _demarches_by_category(request: Request) -> list[DemarcheInfo]:
    return sorted(web(request).catalog.demarches.values(), key=lambda d: (d.category, d.key))


@router.get("/find")
async def find(
    request: Request,
    q: Annotated[str, Query(max_length=MAX_QUERY)] = "",
    demarche: Annotated[str, Query(max_length=100)] = "sejour.first",
    commune: Annotated[str, Query(max_length=10)] = "",
) -> Response:
    """Which office handles my démarche where I live, which portal, and which pages creneau watches."""
    w = web(request)
    info = w.catalog.demarches.get(demarche)
    context: dict[str, object] = {
        "q": q,
        "demarche": demarche,
        "demarches": _demarches_by_category(request),
        "errors": {},
        "located": None,
        "found": None,
    }
    if info is None:
        context["errors"] = {"demarche": _("Choose a démarche from the list.")}
        return render(request, "find.html", context, status_code=422)
    located: Located | None = None
    if commune:
        record = w.catalog.geography.by_code(commune.upper())
        if record is not None:
            located = Located(Status.RESOLVED, record.name, "INSEE code", (record,))
    elif q.strip():
        located = w.resolver.locate(q)
    elif "q" in request.query_params:
        context["errors"] = {"q": _("Type your commune, its postcode or its INSEE code.")}
        return render(request, "find.html", context, status_code=422)
    if located is not None:
        context["located"] = located
        if located.status is Status.NOT_FOUND:
            context["errors"] = {"q": _("No commune matches “%(query)s”.", query=q)}
        elif located.status is Status.SUGGEST:
            context["suggestions"] = [
                c for key, _score in located.suggestions for c in w.resolver.suggestion_communes(key)[:3]
            ]
        elif located.status is Status.RESOLVED:
            found = w.resolver.answer(located, info)
            context["found"] = found
            context["reason"] = reason_text(found)
            snapshot = await w.board.snapshot()
            context["status"] = snapshot.by_id
    return render(request, "find.html", context)


def reason_text(found: Found) -> str:
    """Why this office, in the visitor's language (the catalog's own sentences are English)."""
    answer, commune = found.answer, found.located.commune
    basis = answer.basis
    if basis == "default":
        return _(
            "Default rule: the prefecture of the département where you live (%(dept)s) handles this démarche "
            "(CESEDA R. 431-20 for residence permits).",
            dept=commune.departement,
        )
    if basis == "general":
        return _("General competence: the office of the arrondissement where you live.")
    if basis.startswith("override:"):
        return _("A special rule applies to where you live:") + " " + answer.reason
    if basis == "online":
        return _("This démarche is done online: there is no office appointment to book.")
    if basis == "town-hall":
        return _("Town halls handle it, not prefectures: any equipped town hall in France takes the application.")
    return _("No self-booking: the administration convenes you.")


def commune_label(c: Commune) -> str:
    return f"{c.name} ({c.departement})"


@router.get("/demarches")
async def demarches(request: Request) -> Response:
    return render(request, "demarches.html", {"demarches": _demarches_by_category(request)})


@router.get("/demarches/{key}")
async def demarche_page(request: Request, key: str) -> Response:
    w = web(request)
    info = w.catalog.demarches.get(key)
    if info is None:
        raise HTTPException(status_code=404)
    day = today(request)
    doc = guide(w.catalog, info, day)
    count = sum(1 for t in w.catalog.targets.values() if t.target.demarche_key == key)
    fees = sorted((f for f in w.catalog.fees if key in f.demarches), key=lambda f: (f.id, f.valid_from))
    context = {"d": info, "guide": doc, "target_count": count, "fees": fees, "day": day}
    return render(request, "demarche.html", context)


@router.get("/guides")
async def guides(request: Request) -> Response:
    return render(request, "guides/index.html", {"guides": guide_titles()})


@router.get("/guides/{slug}")
async def guide_page(request: Request, user: CurrentUser, slug: str) -> Response:
    if slug not in GUIDES:
        raise HTTPException(status_code=404)
    w = web(request)
    context: dict[str, object] = {"slug": slug, "title": guide_titles()[slug], "guides": guide_titles()}
    if slug in ("fees", "prepare"):
        day = today(request)
        context["day"] = day
        context["fees"] = sorted(w.catalog.fees, key=lambda f: (f.id, f.valid_from))
        context["demarches"] = _demarches_by_category(request)
        context["notice"] = w.catalog.notice
    return render(request, f"guides/{i18n.get_locale()}/{slug}.html", context)
