# SPDX-License-Identifier: AGPL-3.0-or-later
"""Error pages in the visitor's language, JSON errors under /api/, and never a traceback.

The 500 handler runs outside `WebMiddleware` (Starlette calls it from its outermost middleware), so it puts
the security headers on itself.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response

from creneau.web.deps import SignInRequired
from creneau.web.i18n import _
from creneau.web.security import apply_headers
from creneau.web.templating import render

log = logging.getLogger("creneau.web")


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _messages(status: int, detail: str | None) -> tuple[str, str]:
    if status == 404:
        return _("Page not found"), _("This page does not exist, or no longer exists.")
    if status == 403 and detail == "csrf":
        return _("This form has expired"), _(
            "The form was too old or did not come from this site. Go back, reload the page and try again."
        )
    if status == 403:
        return _("Not allowed"), _("You cannot see this page with this account.")
    if status == 405:
        return _("Not allowed"), _("This address does not accept this kind of request.")
    if status == 429:
        return _("Too many requests"), _("Please wait a little before trying again.")
    if status in (400, 422):
        return _("Bad request"), _("The address or the form was not valid.")
    return _("Something went wrong"), _(
        "An error happened on our side. It has been recorded; please try again in a few minutes."
    )


def error_page(request: Request, status: int, detail: str | None = None) -> Response:
    title, text = _messages(status, detail)
    return render(request, "error.html", {"title": title, "text": text, "status": status}, status_code=status)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if _is_api(request):
        phrase = HTTPStatus(exc.status_code).phrase if exc.status_code in HTTPStatus._value2member_map_ else ""
        detail = exc.detail if isinstance(exc.detail, str) and exc.detail else phrase
        return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=exc.headers)
    detail = exc.detail if isinstance(exc.detail, str) else None
    response = error_page(request, exc.status_code, detail)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


async def validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if _is_api(request):
        errors = [
            {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
            for e in exc.errors()
        ]
        return JSONResponse({"detail": errors}, status_code=422)
    return error_page(request, 400)


async def sign_in_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    return RedirectResponse(f"/login?next={quote(exc.next_path, safe='/')}", status_code=303)


async def server_error(request: Request, exc: Exception) -> Response:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    response: Response
    if _is_api(request):
        response = JSONResponse({"detail": "Internal Server Error"}, status_code=500)
    else:
        try:
            response = error_page(request, 500)
        except Exception:  # noqa: BLE001 - the error page itself failed: a plain line, still no traceback
            response = PlainTextResponse("500 Internal Server Error", status_code=500)
    apply_headers(response.headers)
    return response


def install(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(SignInRequired, sign_in_required)
    app.add_exception_handler(Exception, server_error)
