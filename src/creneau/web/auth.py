# SPDX-License-Identifier: AGPL-3.0-or-later
"""Accounts: sign-in by e-mailed link, sessions, sign-out, and the person's own data (export, deletion).

Sign-in (there is no password and no separate sign-up):
1. `POST /login` with an address → a one-time link is e-mailed (rate-limited per address and per IP);
2. `GET /auth/magic?token=…` shows a "Sign in" button and changes nothing, because mail scanners open
   links by themselves;
3. `POST /auth/magic` uses the token (once, within `web_login_token_minutes`), creates the account on first
   use, opens a server-side session (cookie `creneau_session`: random, HttpOnly, SameSite=Lax, Secure over
   https) and goes to the page the person came from.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated
from urllib.parse import quote

from email_validator import EmailNotValidError, validate_email
from fastapi import APIRouter, Form, HTTPException, Query, Request
from starlette.responses import RedirectResponse, Response

from creneau.store import SessionUser
from creneau.store.accounts import RateLimited, TokenProblem
from creneau.web import account_data
from creneau.web.deps import SESSION_COOKIE, CurrentUser, SignedIn, web
from creneau.web.i18n import _, get_locale
from creneau.web.mailer import MailError
from creneau.web.security import ip_hash, is_https, safe_next
from creneau.web.templating import render

router = APIRouter(include_in_schema=False)


def normalise_email(value: str) -> str | None:
    """The address as stored (ASCII, lower case), or None when it is not a valid address."""
    try:
        checked = validate_email(value.strip(), check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        return None
    return (checked.ascii_email or checked.normalized).lower()


@router.get("/login")
async def login_form(request: Request, user: CurrentUser, next: str = "/account") -> Response:
    if user is not None:
        return RedirectResponse(safe_next(next, "/account"), status_code=303)
    return render(request, "login.html", {"email": "", "next": safe_next(next, "/account"), "errors": {}})


@router.post("/login")
async def login_send(
    request: Request,
    email: Annotated[str, Form(max_length=320)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/account",
) -> Response:
    w = web(request)
    back = safe_next(next, "/account")
    address = normalise_email(email)
    context: dict[str, object] = {"email": email, "next": back, "errors": {}}
    if address is None:
        context["errors"] = {"email": _("Enter a valid e-mail address, like name@example.org.")}
        return render(request, "login.html", context, status_code=422)
    s = w.settings
    try:
        token = await w.accounts.request_link(
            address,
            ip_hash=ip_hash(w.secret, request),
            locale=get_locale(),
            next_path=back,
            now=w.now(),
            ttl=timedelta(minutes=s.web_login_token_minutes),
            per_email=s.web_login_per_email_hour,
            per_ip=s.web_login_per_ip_hour,
        )
    except RateLimited:
        context["errors"] = {"email": _("Too many sign-in links were asked for. Wait an hour, then try again.")}
        return render(request, "login.html", context, status_code=429)
    url = f"{w.base_url()}/auth/magic?token={quote(token)}"
    try:
        await w.mailer.send_sign_in(address, url, minutes=int(s.web_login_token_minutes))
    except MailError:
        context["errors"] = {"email": _("We could not send the e-mail right now. Please try again later.")}
        return render(request, "login.html", context, status_code=503)
    return render(request, "login_sent.html", {"email": address, "minutes": int(s.web_login_token_minutes)})


def _problem_page(request: Request, problem: TokenProblem) -> Response:
    texts = {
        TokenProblem.UNKNOWN: _("This sign-in link is not valid. Ask for a new one."),
        TokenProblem.USED: _("This sign-in link was already used. Ask for a new one."),
        TokenProblem.EXPIRED: _("This sign-in link has expired. Ask for a new one."),
    }
    status = 400 if problem is TokenProblem.UNKNOWN else 410
    return render(request, "magic_invalid.html", {"text": texts[problem]}, status_code=status)


@router.get("/auth/magic")
async def magic_confirm(request: Request, token: Annotated[str, Query(max_length=200)] = "") -> Response:
    """Only shows the "Sign in" button: opening the link (as mail scanners do) uses nothing."""
    w = web(request)
    link = await w.accounts.peek_link(token, now=w.now())
    if isinstance(link, TokenProblem):
        return _problem_page(request, link)
    return render(request, "magic_confirm.html", {"token": token, "email": link.email})


@router.post("/auth/magic")
async def magic_use(request: Request, token: Annotated[str, Form(max_length=200)] = "") -> Response:
    w = web(request)
    now = w.now()
    link = await w.accounts.use_link(token, now=now)
    if isinstance(link, TokenProblem):
        return _problem_page(request, link)
    admin = link.email in {e.strip().lower() for e in w.settings.web_admin_emails}
    subscriber_id = await w.accounts.sign_in(link.email, locale=link.locale, now=now, admin=admin)
    raw = await w.accounts.open_session(
        subscriber_id, now=now, ttl=w.session_ttl, user_agent=request.headers.get("user-agent", "")
    )
    response = RedirectResponse(safe_next(link.next_path, "/account"), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        raw,
        max_age=int(w.session_ttl.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=is_https(request.scope),
        path="/",
    )
    return response


def _signed_out(request: Request, target: str) -> Response:
    response = RedirectResponse(target, status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=is_https(request.scope))
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    raw = request.state.cookies.get(SESSION_COOKIE)
    if raw:
        await web(request).accounts.close_session(raw)
    return _signed_out(request, "/")


async def _account_context(request: Request, user: SessionUser) -> dict[str, object]:
    w = web(request)
    return {
        "sessions": await w.accounts.list_sessions(user.subscriber_id, now=w.now()),
        "current_session": user.session_id,
        "errors": {},
    }


@router.get("/account")
async def account(request: Request, user: SignedIn) -> Response:
    return render(request, "account.html", await _account_context(request, user))


@router.post("/account/sessions/{session_id}/revoke")
async def revoke_session(request: Request, user: SignedIn, session_id: int) -> Response:
    if not await web(request).accounts.revoke_session(user.subscriber_id, session_id):
        raise HTTPException(status_code=404)
    if session_id == user.session_id:
        return _signed_out(request, "/")
    return RedirectResponse("/account", status_code=303)


@router.get("/account/export")
async def export(request: Request, user: SignedIn) -> Response:
    """Everything creneau keeps about the signed-in person, as one JSON document (nobody else's)."""
    w = web(request)
    doc = await account_data.export_user(w.store, user.subscriber_id, now=w.now())
    body = json.dumps(doc, ensure_ascii=False, indent=2, default=str)
    stamp = w.now().strftime("%Y%m%d")
    return Response(
        body,
        media_type="application/json",
        headers={
            "content-disposition": f'attachment; filename="creneau-data-{stamp}.json"',
            "cache-control": "no-store",
        },
    )


@router.get("/account/delete")
async def delete_form(request: Request, user: SignedIn) -> Response:
    return render(request, "account_delete.html", {"errors": {}, "confirm": ""})


@router.post("/account/delete")
async def delete_account(
    request: Request, user: SignedIn, confirm: Annotated[str, Form(max_length=320)] = ""
) -> Response:
    """Erase the account and all its data, once the person typed their own address to confirm."""
    if confirm.strip().lower() != user.email.lower():
        errors = {"confirm": _("Type your e-mail address exactly as shown to confirm.")}
        return render(request, "account_delete.html", {"errors": errors, "confirm": confirm}, status_code=422)
    await web(request).accounts.delete_account(user.subscriber_id)
    request.state.user = None
    response = render(request, "account_deleted.html", {})
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=is_https(request.scope))
    return response
