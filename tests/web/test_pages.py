# SPDX-License-Identifier: AGPL-3.0-or-later
"""Every page renders in French and English, the language comes from the cookie or Accept-Language, the
switch remembers it, and errors are pages in the visitor's language (never a traceback)."""

from __future__ import annotations

import pytest
from fastapi import APIRouter

from creneau.catalog.core import Catalog
from creneau.web.security import SECURITY_HEADERS

from .kit import WebKit

PAGES = [
    "/",
    "/status",
    "/status?dept=38",
    "/status?page=2",
    "/find",
    "/find?q=Paris+15e&demarche=sejour.first",
    "/find?q=91190&demarche=sejour.renewal",
    "/find?q=Grenobel&demarche=sejour.first",
    "/find?commune=38185&demarche=id.passport",
    "/demarches",
    "/demarches/sejour.first",
    "/demarches/natz.decree",
    "/guides",
    "/guides/prepare",
    "/guides/fees",
    "/guides/no-slot",
    "/guides/offline",
    "/guides/free",
    "/login",
    "/targets/rdvpref-3762",
    "/api/docs",
]
MARKERS = {"fr": ("Tableau d'état", "Aller au contenu"), "en": ("Status board", "Skip to content")}


@pytest.fixture
async def seeded(kit: WebKit, catalog: Catalog) -> WebKit:
    await kit.store.targets.upsert_many(catalog.watch_targets(), now=kit.clock.now())
    return kit


@pytest.mark.parametrize("locale", ["fr", "en"])
@pytest.mark.parametrize("path", PAGES)
async def test_page_renders_in_language_when_browser_asks_for_it(seeded: WebKit, path: str, locale: str) -> None:
    response = await seeded.client.get(path, headers={"accept-language": f"{locale};q=0.9"})
    assert response.status_code == 200, response.text[:500]
    html = response.text
    assert f'<html lang="{locale}">' in html
    for marker in MARKERS[locale]:
        assert marker in html
    other = "en" if locale == "fr" else "fr"
    assert MARKERS[other][1] not in html
    assert "Traceback" not in html


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        pytest.param(None, "fr", id="none"),
        pytest.param("en-GB,en;q=0.9", "en", id="english"),
        pytest.param("de-DE,de;q=0.9,en;q=0.5", "en", id="german-then-english"),
        pytest.param("es,it;q=0.8", "fr", id="unsupported"),
        pytest.param("en;q=0.4,fr;q=0.8", "fr", id="quality-order"),
        pytest.param("en;q=nonsense", "fr", id="bad-quality"),
    ],
)
async def test_language_defaults_from_accept_language_when_no_cookie(
    kit: WebKit, accept: str | None, expected: str
) -> None:
    headers = {"accept-language": accept} if accept else {}
    response = await kit.client.get("/", headers=headers)
    assert f'<html lang="{expected}">' in response.text


async def test_language_switch_remembers_choice_when_posted(kit: WebKit) -> None:
    response = await kit.post("/lang", {"lang": "en", "next": "/guides"}, page="/")
    assert response.status_code == 303
    assert response.headers["location"] == "/guides"
    cookie = response.headers["set-cookie"]
    assert "creneau_lang=en" in cookie
    assert "httponly" in cookie.lower()
    assert "samesite=lax" in cookie.lower()
    page = await kit.client.get("/guides", headers={"accept-language": "fr"})
    assert '<html lang="en">' in page.text


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example"])
async def test_language_switch_stays_on_site_when_next_points_elsewhere(kit: WebKit, target: str) -> None:
    response = await kit.post("/lang", {"lang": "fr", "next": target}, page="/")
    assert response.headers["location"] == "/"


async def test_language_switch_refuses_unknown_language(kit: WebKit) -> None:
    response = await kit.post("/lang", {"lang": "de"}, page="/")
    assert response.status_code == 400


@pytest.mark.parametrize(("locale", "title"), [("fr", "Page introuvable"), ("en", "Page not found")])
async def test_missing_page_is_a_404_page_in_visitor_language(kit: WebKit, locale: str, title: str) -> None:
    response = await kit.client.get("/no/such/page", headers={"accept-language": locale})
    assert response.status_code == 404
    assert title in response.text
    assert response.headers["content-type"].startswith("text/html")


async def test_unknown_target_page_is_a_404(kit: WebKit) -> None:
    response = await kit.client.get("/targets/rdvpref-999999")
    assert response.status_code == 404


@pytest.mark.parametrize(("path", "status"), [("/status?page=zero", 400), ("/status?dept=%3Cb%3E", 400)])
async def test_bad_query_is_a_400_page_when_parameter_is_invalid(kit: WebKit, path: str, status: int) -> None:
    response = await kit.client.get(path, headers={"accept-language": "fr"})
    assert response.status_code == status
    assert "Requête invalide" in response.text


async def test_server_error_is_a_page_without_traceback_when_a_route_fails(kit: WebKit) -> None:
    router = APIRouter()

    @router.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    kit.app.include_router(router)
    for locale, title in (("fr", "Une erreur s&#39;est produite"), ("en", "Something went wrong")):
        response = await kit.client.get("/boom", headers={"accept-language": locale})
        assert response.status_code == 500
        assert title in response.text
        assert "secret internals" not in response.text
        assert "Traceback" not in response.text
        for name in SECURITY_HEADERS:
            assert name in response.headers


async def test_find_reports_unknown_commune_as_field_error_in_language(kit: WebKit) -> None:
    response = await kit.client.get("/find?q=zzzzqqqq&demarche=sejour.first", headers={"accept-language": "fr"})
    assert "Aucune commune ne correspond" in response.text
    assert 'aria-invalid="true"' in response.text


@pytest.mark.parametrize(("locale", "text"), [("fr", "Choisissez une démarche"), ("en", "Choose a démarche")])
async def test_find_rejects_unknown_demarche_with_field_error(kit: WebKit, locale: str, text: str) -> None:
    response = await kit.client.get("/find?q=Paris&demarche=nope", headers={"accept-language": locale})
    assert response.status_code == 422
    assert text in response.text


async def test_find_names_competent_office_when_commune_resolves(seeded: WebKit) -> None:
    response = await seeded.client.get("/find?q=Grenoble&demarche=sejour.other", headers={"accept-language": "en"})
    assert "Préfecture - Isère" in response.text
    assert "/targets/rdvpref-3762" in response.text


async def test_static_files_are_served_locally(kit: WebKit) -> None:
    for path in ("/static/htmx-2.0.11.min.js", "/static/htmx-ext-sse-2.2.4.js", "/static/app.css"):
        response = await kit.client.get(path)
        assert response.status_code == 200
    page = await kit.client.get("/")
    assert "https://" not in page.text.split("<body")[0], "the head loads nothing from another site"
