# SPDX-License-Identifier: AGPL-3.0-or-later
"""Evidence pages: the owner uses them; a stranger gets 404, an anonymous visitor the sign-in page, an admin
reads only with a documented request. Every route is tested for each kind of visitor."""

from __future__ import annotations

import io
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx2
import pytest
from pypdf import PdfReader
from tests.web.kit import BASE, WebKit, csrf_of

from creneau.catalog.core import load_catalog
from creneau.config import Settings
from creneau.evidence.repo import EvidenceRepo
from creneau.notify.fakes.smtp import SmtpSink
from creneau.sim.clock import ManualClock
from creneau.store import Store
from creneau.web import create_app

from .conftest import T0, seed_watch

OWNER, STRANGER, ADMIN = "owner@example.org", "stranger@example.org", "ops@example.org"
DAY = "2026-03-02"


@pytest.fixture
def db_url(sqlite_url: str) -> str:
    return sqlite_url


@dataclass
class Site:
    kit: WebKit
    watch: int
    owner: httpx2.AsyncClient
    stranger: httpx2.AsyncClient
    admin: httpx2.AsyncClient
    anonymous: httpx2.AsyncClient


@pytest.fixture
async def site(db_url: str, tmp_path: Path) -> AsyncIterator[Site]:
    async with SmtpSink() as sink:
        settings = Settings(
            data_dir=tmp_path / "data",
            web_secret="test-secret-" + "x" * 32,
            web_base_url=BASE,
            smtp_host="127.0.0.1",
            smtp_port=sink.port,
            smtp_from="creneau <noreply@creneau.test>",
            web_admin_emails=[ADMIN],
            evidence_key="web-test-key",
        )
        store = await Store.open(db_url)
        clock = ManualClock(T0 + timedelta(days=1))
        app = create_app(settings, store, load_catalog(), clock=clock)
        transport = httpx2.ASGITransport(app=app, raise_app_exceptions=False)
        try:
            async with app.router.lifespan_context(app):
                kit = WebKit(
                    app, httpx2.AsyncClient(transport=transport, base_url=BASE), store, clock, sink, settings, transport
                )
                owner = await kit.sign_in(OWNER, kit.browser())
                stranger = await kit.sign_in(STRANGER, kit.browser())
                admin = await kit.sign_in(ADMIN, kit.browser())
                watch = await seed_watch(store, OWNER)
                yield Site(kit, watch, owner, stranger, admin, kit.browser())
                for client in (owner, stranger, admin, kit.client):
                    await client.aclose()
        finally:
            await store.close()


READS = [
    pytest.param("/watches/{w}/evidence", id="page"),
    pytest.param(f"/watches/{{w}}/evidence/dossier?first={DAY}&last={DAY}", id="dossier"),
    pytest.param("/watches/{w}/evidence/letters/email", id="letter-editor"),
    pytest.param("/watches/{w}/evidence/letters/email/export?format=txt", id="letter-export"),
    pytest.param(f"/watches/{{w}}/evidence/pack?first={DAY}&last={DAY}", id="pack"),
]


@pytest.mark.parametrize("path", READS)
async def test_evidence_routes_hide_the_watch_from_a_stranger(site: Site, path: str) -> None:
    response = await site.stranger.get(path.format(w=site.watch))
    assert response.status_code == 404
    assert b"Amina" not in response.content


@pytest.mark.parametrize("path", [*READS, pytest.param("/account/evidence", id="profile")])
async def test_evidence_routes_send_anonymous_visitors_to_sign_in(site: Site, path: str) -> None:
    response = await site.anonymous.get(path.format(w=site.watch))
    assert response.status_code in (302, 303, 307)
    assert "/login" in response.headers["location"]


@pytest.mark.parametrize(
    ("path", "action"),
    [
        pytest.param("/watches/{w}/evidence", {"action": "off"}, id="switch"),
        pytest.param("/watches/{w}/evidence/letters/email", {"text": "Madame, Monsieur"}, id="letter-save"),
    ],
)
async def test_evidence_changes_are_refused_to_anyone_but_the_owner(
    site: Site, path: str, action: dict[str, str]
) -> None:
    for client in (site.stranger, site.admin):
        response = await site.kit.post(path.format(w=site.watch), action, client=client, page="/account")
        assert response.status_code == 404
    info = await EvidenceRepo(site.kit.store).chain_info(site.watch)
    assert info is not None
    assert info.enabled


async def test_admin_reads_a_dossier_only_with_a_documented_request(site: Site) -> None:
    path = f"/watches/{site.watch}/evidence/dossier?first={DAY}&last={DAY}"
    assert (await site.admin.get(path)).status_code == 403
    response = await site.admin.get(path + "&request=DPO-2026-014")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert (await site.admin.get(f"/watches/{site.watch}/evidence")).status_code == 404


async def test_owner_downloads_a_dossier_with_the_expected_counts(site: Site) -> None:
    response = await site.owner.get(f"/watches/{site.watch}/evidence/dossier?first={DAY}&last={DAY}&lang=en")
    assert response.status_code == 200
    assert "no-store" in response.headers["cache-control"]
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert "Attempts" in text
    assert "3" in text


async def test_owner_edits_a_letter_and_blanks_are_refused(site: Site) -> None:
    kit, w = site.kit, site.watch
    saved = await kit.post(
        "/account/evidence",
        {
            "full_name": "Amina Diallo",
            "numero_etranger": "7501234567",
            "postal_address": "12 rue des Lilas\n75019 Paris",
            "permit_expiry": "2026-05-31",
        },
        client=site.owner,
        page="/account/evidence",
    )
    assert saved.status_code == 303
    page = await site.owner.get(f"/watches/{w}/evidence/letters/lrar")
    assert page.status_code == 200
    assert "Amina Diallo" in page.text
    assert "7501234567" in page.text
    blank = await site.owner.post(
        f"/watches/{w}/evidence/letters/lrar", data={"csrf_token": csrf_of(page.text), "text": "Je soussigné [NOM]"}
    )
    assert blank.status_code == 422
    edited = "Madame, Monsieur,\n\nJe soussignée Amina Diallo demande un rendez-vous.\n"
    done = await site.owner.post(
        f"/watches/{w}/evidence/letters/lrar", data={"csrf_token": csrf_of(page.text), "text": edited}
    )
    assert done.status_code == 303
    exported = await site.owner.get(f"/watches/{w}/evidence/letters/lrar/export?format=txt")
    assert exported.text == edited
    pack = await site.owner.get(f"/watches/{w}/evidence/pack?first={DAY}&last={DAY}")
    assert pack.status_code == 200
    assert "lettres/lrar.pdf" in zipfile.ZipFile(io.BytesIO(pack.content)).namelist()


async def test_owner_switches_evidence_mode_off_and_on(site: Site) -> None:
    response = await site.kit.post(
        f"/watches/{site.watch}/evidence", {"action": "off"}, client=site.owner, page="/account"
    )
    assert response.status_code == 303
    page = await site.owner.get(f"/watches/{site.watch}/evidence")
    assert "Le mode preuve est désactivé" in page.text or "Evidence mode is off" in page.text


async def test_calendar_feed_answers_only_to_its_current_token(site: Site) -> None:
    await site.kit.post(
        "/account/evidence", {"permit_expiry": "2026-05-31"}, client=site.owner, page="/account/evidence"
    )
    page = await site.kit.post("/account/evidence", {"action": "calendar"}, client=site.owner, page="/account/evidence")
    url = next(part for part in page.text.split("<code>")[1:]).split("</code>")[0]
    feed = await site.anonymous.get(url.replace(BASE, ""))
    assert feed.status_code == 200
    assert feed.headers["content-type"].startswith("text/calendar")
    assert "DTSTART;VALUE=DATE:20260531" in feed.text
    assert (await site.anonymous.get("/calendar/not-a-token.ics")).status_code == 404


async def test_account_deletion_removes_the_evidence(site: Site) -> None:
    response = await site.kit.post("/account/delete", {"confirm": OWNER}, client=site.owner, page="/account/delete")
    assert response.status_code == 200
    repo = EvidenceRepo(site.kit.store)
    assert await repo.chain_info(site.watch) is None
    assert await repo.collect_garbage() == (1, 1)


async def test_data_export_lists_only_the_persons_own_evidence(site: Site) -> None:
    mine = (await site.owner.get("/account/export")).json()["evidence"]
    theirs = (await site.stranger.get("/account/export")).json()["evidence"]
    assert [c["watch_id"] for c in mine["chains"]] == [site.watch]
    assert theirs["chains"] == []
