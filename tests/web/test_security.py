# SPDX-License-Identifier: AGPL-3.0-or-later
"""Security headers on every response, CSRF on every state-changing request, user strings escaped."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.routing import APIRoute
from starlette.routing import Route

from creneau.types import Outcome
from creneau.web.security import CSP, CSRF_COOKIE, SECURITY_HEADERS, safe_next

from .kit import WebKit, record_check, target

EVERY_KIND = [
    "/",
    "/status",
    "/static/app.css",
    "/api/v1/status",
    "/api/v1/offices/nope",
    "/api/openapi.json",
    "/no/such/page",
    "/login",
    "/account",
]


@pytest.mark.parametrize("path", EVERY_KIND)
async def test_security_headers_are_on_every_response(kit: WebKit, path: str) -> None:
    response = await kit.client.get(path)
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, name
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp
    assert "script-src 'self'" in csp


async def test_pages_carry_no_inline_script_or_style(kit: WebKit) -> None:
    for path in ("/", "/status", "/login", "/find?q=Paris", "/guides/no-slot", "/api/docs"):
        html = (await kit.client.get(path)).text
        assert "<script>" not in html
        assert "<style" not in html
        assert " style=" not in html
        assert " onclick=" not in html
        assert " onload=" not in html


def _routes(routes: list[Any], prefix: str = "") -> list[tuple[str, str]]:
    found = []
    for route in routes:
        inner = getattr(route, "original_router", None)  # FastAPI keeps included routers as they were
        if inner is not None:
            found += _routes(inner.routes, prefix + inner.prefix)
        elif isinstance(route, APIRoute | Route) and not getattr(route.endpoint, "csrf_exempt", False):
            found += [(method, prefix + route.path) for method in route.methods or ()]  # exempt: own signed token
    return found


def _unsafe_routes(kit: WebKit) -> list[tuple[str, str]]:
    unsafe = {"POST", "PUT", "PATCH", "DELETE"}
    return [(m, p.replace("{session_id}", "1")) for m, p in _routes(kit.app.routes) if m in unsafe]


async def test_every_state_changing_route_refuses_request_without_csrf_token(kit: WebKit) -> None:
    await kit.client.get("/")  # the browser has its CSRF cookie
    routes = _unsafe_routes(kit)
    assert ("POST", "/login") in routes
    assert ("POST", "/account/delete") in routes
    for method, path in routes:
        response = await kit.client.request(method, path, data={"email": "a@example.org", "lang": "en"})
        assert response.status_code == 403, (method, path)


async def test_csrf_refuses_token_of_another_browser(kit: WebKit) -> None:
    other = kit.browser()
    try:
        foreign = await kit.token(other)
        await kit.client.get("/")
        response = await kit.client.post("/login", data={"csrf_token": foreign, "email": "a@example.org"})
        assert response.status_code == 403
    finally:
        await other.aclose()


async def test_csrf_refuses_post_when_browser_has_no_csrf_cookie(kit: WebKit) -> None:
    token = await kit.token()
    kit.client.cookies.delete(CSRF_COOKIE)
    response = await kit.client.post("/login", data={"csrf_token": token, "email": "a@example.org"})
    assert response.status_code == 403


async def test_csrf_refuses_cross_site_origin_even_with_token(kit: WebKit) -> None:
    token = await kit.token()
    response = await kit.client.post(
        "/login", data={"csrf_token": token, "email": "a@example.org"}, headers={"origin": "https://evil.example"}
    )
    assert response.status_code == 403


@pytest.mark.parametrize(("locale", "text"), [("fr", "Ce formulaire a expiré"), ("en", "This form has expired")])
async def test_csrf_refusal_is_a_page_in_visitor_language(kit: WebKit, locale: str, text: str) -> None:
    await kit.client.get("/")
    response = await kit.client.post("/login", data={"email": "a@example.org"}, headers={"accept-language": locale})
    assert response.status_code == 403
    assert text in response.text


async def test_csrf_accepts_header_token_as_htmx_sends_it(kit: WebKit) -> None:
    token = await kit.token()
    response = await kit.client.post(
        "/lang", data={"lang": "en"}, headers={"x-csrf-token": token, "hx-request": "true"}
    )
    assert response.status_code == 303


async def test_page_puts_csrf_token_in_htmx_headers(kit: WebKit) -> None:
    html = (await kit.client.get("/status")).text
    token = await kit.token()
    assert f'hx-headers=\'{{"X-CSRF-Token": "{token}"}}\'' in html


XSS = '<script>alert("x")</script>'


async def test_find_escapes_query_when_it_holds_markup(kit: WebKit) -> None:
    response = await kit.client.get("/find", params={"q": XSS, "demarche": "sejour.first"})
    assert XSS not in response.text
    assert "&lt;script&gt;" in response.text


async def test_login_escapes_address_when_form_is_re_rendered(kit: WebKit) -> None:
    response = await kit.post("/login", {"email": XSS, "next": '/x"><script>'})
    assert response.status_code == 422
    assert XSS not in response.text
    assert '"><script>' not in response.text


async def test_board_and_target_page_escape_labels_from_the_store(kit: WebKit) -> None:
    await kit.store.targets.upsert(target("rdvpref-4242", label=XSS, office="nope"), now=kit.clock.now())
    await record_check(kit.store, "rdvpref-4242", Outcome.NO_SLOTS, kit.clock.now())
    for path in ("/status", "/targets/rdvpref-4242"):
        html = (await kit.client.get(path)).text
        assert XSS not in html
        assert "&lt;script&gt;" in html


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/account", "/account"),
        ("/status?dept=38", "/status?dept=38"),
        ("https://evil.example/", "/"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("/ok\r\nSet-Cookie: x=1", "/"),
        ("", "/"),
    ],
)
def test_safe_next_keeps_only_local_paths(value: str, expected: str) -> None:
    assert safe_next(value) == expected


def test_csp_forbids_inline_code_and_framing() -> None:
    assert "'unsafe-inline'" not in CSP
    assert "'unsafe-eval'" not in CSP
    assert "frame-ancestors 'none'" in CSP
