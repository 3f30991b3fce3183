# SPDX-License-Identifier: AGPL-3.0-or-later
"""Security plumbing shared by every page: response headers, the request's language, CSRF.

`WebMiddleware` (pure ASGI, so it never buffers a streamed response such as the SSE board) does three
things for every HTTP request:
- picks the language (`i18n.negotiate`) and puts it in the request scope and the gettext context;
- makes sure the browser has a CSRF cookie (`creneau_csrf`, a random value, HttpOnly, SameSite=Lax);
- adds the security headers below to every response, errors included.

CSRF: every unsafe request (POST, PUT, PATCH, DELETE) must carry `csrf_token` (form field) or the
`X-CSRF-Token` header (htmx sends it: `hx-headers` on <body>), equal to a signature of the browser's CSRF
cookie; a cross-site Origin is refused too. `csrf_protect` runs as an app-wide dependency, so a new route
is protected without doing anything; a route that must accept foreign POSTs (RFC 8058 one-click
unsubscribe, which proves itself with its own signed token) is marked with `@csrf_exempt`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from typing import Any, Final, TypeVar
from urllib.parse import urlsplit

from fastapi import HTTPException, Request
from itsdangerous import BadSignature, Signer
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from creneau.web import i18n

CSRF_COOKIE: Final = "creneau_csrf"
CSRF_FIELD: Final = "csrf_token"
CSRF_HEADER: Final = "x-csrf-token"
UNSAFE_METHODS: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})

CSP: Final = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS: Final = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "content-security-policy": CSP,
}


_SECURITY_RAW: Final = [(name.encode(), value.encode()) for name, value in SECURITY_HEADERS.items()]
_SECURITY_NAMES: Final = frozenset(name for name, _ in _SECURITY_RAW)


def apply_headers(headers: MutableHeaders) -> None:
    """Put the security headers on a response (also used by the 500 handler, which runs outside us)."""
    for name, value in SECURITY_HEADERS.items():
        headers[name] = value


def _cookies(scope: Scope) -> dict[str, str]:
    """The request's cookies (`name=value; …`, the last of a repeated name wins, as with SimpleCookie). Our
    cookies are plain tokens: this is read on every request, and SimpleCookie's parser cost more than
    serving a cached page."""
    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            cookies: dict[str, str] = {}
            for part in value.decode("latin-1").split(";"):
                key, sep, val = part.strip().partition("=")
                if sep and key:
                    val = val.strip()
                    cookies[key] = val[1:-1] if len(val) >= 2 and val[0] == val[-1] == '"' else val
            return cookies
    return {}


def _header(scope: Scope, wanted: bytes) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == wanted:
            return str(value.decode("latin-1"))
    return None


def is_https(scope: Scope) -> bool:
    return scope.get("scheme") == "https"


class WebMiddleware:
    """See the module docstring."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookies = _cookies(scope)
        locale = i18n.negotiate(cookies.get(i18n.COOKIE), _header(scope, b"accept-language"))
        i18n.set_locale(locale)
        state = scope.setdefault("state", {})
        state["locale"] = locale
        state["cookies"] = cookies
        csrf = cookies.get(CSRF_COOKIE, "")
        new_csrf = not _valid_cookie_value(csrf)
        if new_csrf:
            csrf = secrets.token_urlsafe(32)
        state["csrf_cookie"] = csrf
        path = scope.get("path", "")
        secure = "; Secure" if is_https(scope) else ""

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # One pass over the raw list (ASGI names are lower-case bytes): what `apply_headers` does.
                headers = [h for h in message.get("headers", ()) if h[0] not in _SECURITY_NAMES]
                headers.extend(_SECURITY_RAW)
                if new_csrf and not path.startswith(("/static/", "/api/")):
                    cookie = f"{CSRF_COOKIE}={csrf}; Path=/; HttpOnly; SameSite=Lax; Max-Age=31536000{secure}"
                    headers.append((b"set-cookie", cookie.encode("latin-1")))
                names = dict(headers)
                if names.get(b"content-type", b"").startswith(b"text/html") and b"vary" not in names:
                    headers.append((b"vary", b"Accept-Language, Cookie"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _valid_cookie_value(value: str) -> bool:
    return 32 <= len(value) <= 64 and all(c.isalnum() or c in "-_" for c in value)


class Csrf:
    """Issues and checks CSRF tokens: an HMAC signature (itsdangerous) of the browser's CSRF cookie."""

    def __init__(self, secret: bytes) -> None:
        self._signer = Signer(secret, salt="creneau-csrf", digest_method=hashlib.sha256)
        self._tokens: dict[str, str] = {}

    def token(self, request: Request) -> str:
        return self.token_of(request.scope["state"]["csrf_cookie"])

    def token_of(self, cookie: str) -> str:
        """The token for a CSRF cookie value (remembered: a browser sends the same cookie all along)."""
        token = self._tokens.get(cookie)
        if token is None:
            if len(self._tokens) >= 10_000:
                self._tokens.clear()
            token = self._tokens[cookie] = self._signer.get_signature(cookie).decode()
        return token

    def valid(self, request: Request, token: str) -> bool:
        cookie = request.scope["state"].get("csrf_cookie", "")
        if not token or not cookie or CSRF_COOKIE not in request.scope["state"].get("cookies", {}):
            return False
        try:
            return self._signer.verify_signature(cookie.encode(), token.encode())
        except BadSignature:  # pragma: no cover - verify_signature returns False for bad tokens
            return False


F = TypeVar("F", bound=Callable[..., Any])


def csrf_exempt(endpoint: F) -> F:
    """Mark a route that proves its requests another way (e.g. a signed one-click unsubscribe link)."""
    endpoint.csrf_exempt = True  # type: ignore[attr-defined]
    return endpoint


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    host = request.headers.get("host", "")
    return urlsplit(origin).netloc == host


async def csrf_protect(request: Request) -> None:
    """App-wide dependency: refuse an unsafe request without a valid CSRF token (403)."""
    if request.method not in UNSAFE_METHODS:
        return
    endpoint = request.scope.get("endpoint")
    if getattr(endpoint, "csrf_exempt", False):
        return
    csrf: Csrf = request.app.state.web.csrf
    token = request.headers.get(CSRF_HEADER, "")
    if not token and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        token = value if isinstance(value, str) else ""
    if not _same_origin(request) or not csrf.valid(request, token):
        raise HTTPException(status_code=403, detail="csrf")


def ip_hash(secret: bytes, request: Request) -> str:
    """A keyed hash of the client's IP address: enough to rate-limit, useless to anyone else."""
    ip = request.client.host if request.client else "unknown"
    return hmac.new(secret, f"ip|{ip}".encode(), hashlib.sha256).hexdigest()


def safe_next(value: str | None, default: str = "/") -> str:
    """A local path to go back to after a form (never another site: no scheme, no //host, no backslash)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    if any(ord(c) < 32 for c in value):
        return default
    return value
