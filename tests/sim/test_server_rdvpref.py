# SPDX-License-Identifier: AGPL-3.0-or-later
"""RDV Préfecture on the simulator: pages, JSESSIONID, the captcha gate's redirects and the slot page states."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from selectolax.lexbor import LexborHTMLParser

from creneau.sim.model import Publication

from .server_kit import (
    RDV,
    answer_of,
    location,
    new_captcha,
    pass_captcha,
    rdv_target,
    rdv_url,
    slot,
    vue_data,
    world,
)

TARGET = rdv_target()
ID = TARGET.demarche_id


async def test_landing_offers_the_booking_button_when_the_demarche_exists(serve, http_for) -> None:
    server = await serve(world(TARGET))
    page = await http_for(server).flow().get(rdv_url(ID))
    assert page.status == 200
    link = LexborHTMLParser(page.text).css_first("a#boutonPrendreRdv")
    assert link is not None
    assert link.text(strip=True) == "Prendre un rendez-vous"
    assert link.attributes["href"] == f"/rdvpref/reservation/demarche/{ID}/cgu/"


async def test_landing_sets_jsessionid_with_path_secure_and_httponly_when_first_visited(serve, http_for) -> None:
    server = await serve(world(TARGET))
    page = await http_for(server).flow().get(rdv_url(ID), follow=False)
    raw = page.headers["Set-Cookie"]
    value = re.match(r"JSESSIONID=([^;]+);", raw)
    assert value is not None
    assert re.fullmatch(r"(VM-\d\d-\d\d-\d\d-\d{3})~\1[0-9A-F]{32}\.\1", value.group(1))
    attributes = {a.strip().split("=")[0].lower(): a.strip() for a in raw.split(";")[1:]}
    assert attributes["path"] == "Path=/rdvpref"
    assert "secure" in attributes
    assert "httponly" in attributes


async def test_cgu_carries_the_captcha_component_and_form_when_opened(serve, http_for) -> None:
    server = await serve(world(TARGET))
    page = await http_for(server).flow().get(rdv_url(ID, "cgu/"))
    tree = LexborHTMLParser(page.text)
    component = tree.css_first("rdv-captchetat")
    assert component is not None
    assert component.attributes["endpoint-url"] == "https://api.piste.gouv.fr/piste/captcha/simple-captcha-endpoint"
    assert component.attributes["captcha-style-name"] == "captchaFR"
    assert len(component.attributes["token"] or "") >= 32
    answer = tree.css_first("input#captchaFormulaireExtInput")
    assert answer is not None
    assert answer.attributes["name"] == "captchaUsercode"
    assert tree.css_first("input[type=hidden][name=captchaId]") is not None
    button = tree.css_first("button[formaction]")
    assert button is not None
    assert button.text(strip=True) == "Suivant"
    assert "_validerCaptcha" in (button.attributes["formaction"] or "")
    assert "code de sécurité" in page.text
    assert 50_000 <= len(page.body) <= 100_000


@pytest.mark.parametrize(
    ("error", "selector", "text"),
    [
        ("invalidCaptcha", "#text-input-captcha-desc-error", "Le code de sécurité saisi est incorrect."),
        ("errorSessionInvalide", "#alerte-session", "Votre session a expiré."),
    ],
    ids=["invalid-captcha", "session-invalid"],
)
async def test_cgu_shows_the_error_text_when_redirected_with_an_error(serve, http_for, error, selector, text) -> None:
    server = await serve(world(TARGET))
    page = await http_for(server).flow().get(rdv_url(ID, f"cgu/?error={error}"))
    node = LexborHTMLParser(page.text).css_first(selector)
    assert node is not None
    assert text in node.text()


async def test_creneau_redirects_to_cgu_when_there_is_no_session_cookie(serve, http_for) -> None:
    server = await serve(world(TARGET))
    page = await http_for(server).flow().get(rdv_url(ID, "creneau/"), follow=False)
    assert page.status == 302
    assert location(page) == f"/rdvpref/reservation/demarche/{ID}/cgu/"


async def test_creneau_redirects_to_cgu_when_the_session_has_not_passed_the_captcha(serve, http_for) -> None:
    server = await serve(world(TARGET))
    flow = http_for(server).flow()
    await flow.get(rdv_url(ID, "cgu/"))
    page = await flow.get(rdv_url(ID, "creneau/"), follow=False)
    assert location(page) == f"/rdvpref/reservation/demarche/{ID}/cgu/"


async def test_creneau_redirects_with_session_invalid_when_the_cookie_is_unknown(serve, http_for) -> None:
    server = await serve(world(TARGET))
    flow = http_for(server).flow()
    page = await flow.get(rdv_url(ID, "creneau/"), headers={"Cookie": "JSESSIONID=VM-01~forged.VM-01"}, follow=False)
    assert location(page) == f"/rdvpref/reservation/demarche/{ID}/cgu/?error=errorSessionInvalide"


async def test_validation_redirects_to_creneau_when_the_code_is_right(serve, http_for) -> None:
    server = await serve(world(TARGET))
    flow = http_for(server).flow()
    _, captcha_id = await new_captcha(flow, ID)
    code = await answer_of(flow, captcha_id)
    page = await flow.post(
        rdv_url(ID, "_validerCaptcha"), {"captchaId": captcha_id, "captchaUsercode": code}, follow=False
    )
    assert page.status == 302
    assert location(page) == f"/rdvpref/reservation/demarche/{ID}/creneau/"
    slots = await flow.get(rdv_url(ID, "creneau/"))
    assert slots.status == 200
    assert '"critere":{' in slots.text


@pytest.mark.parametrize("mistake", ["wrong-code", "unknown-captcha", "expired-captcha", "used-captcha"])
async def test_validation_redirects_with_invalid_captcha_when_the_answer_is_not_accepted(
    serve, http_for, clock, mistake
) -> None:
    server = await serve(world(TARGET, captcha_ttl_s=300))
    flow = http_for(server).flow()
    _, captcha_id = await new_captcha(flow, ID)
    code = await answer_of(flow, captcha_id)
    form = {"captchaId": captcha_id, "captchaUsercode": code}
    if mistake == "wrong-code":
        form["captchaUsercode"] = "ZZZZZZZ"
    elif mistake == "unknown-captcha":
        form["captchaId"] = "0" * 32
    elif mistake == "expired-captcha":
        clock.advance(301)
    else:
        await flow.post(rdv_url(ID, "_validerCaptcha"), {**form, "captchaUsercode": "WRONG1"}, follow=False)
    page = await flow.post(rdv_url(ID, "_validerCaptcha"), form, follow=False)
    assert location(page) == f"/rdvpref/reservation/demarche/{ID}/cgu/?error=invalidCaptcha"


async def test_validation_refuses_a_captcha_solved_for_another_demarche(serve, http_for) -> None:
    other = rdv_target(4083, "yvelines")
    server = await serve(world(TARGET, other))
    flow = http_for(server).flow()
    _, captcha_id = await new_captcha(flow, other.demarche_id)
    code = await answer_of(flow, captcha_id)
    page = await flow.post(
        rdv_url(ID, "_validerCaptcha"), {"captchaId": captcha_id, "captchaUsercode": code}, follow=False
    )
    assert location(page).endswith("?error=invalidCaptcha")


async def test_creneau_keeps_the_session_while_it_is_used_and_expires_it_when_idle(serve, http_for, clock) -> None:
    server = await serve(world(TARGET, session_lifetime_s=1500))
    flow = http_for(server).flow()
    await pass_captcha(flow, ID)
    for _ in range(3):  # each visit restarts the idle lifetime
        clock.advance(1400)
        page = await flow.get(rdv_url(ID, "creneau/"), follow=False)
        assert page.status == 200
    clock.advance(1501)
    page = await flow.get(rdv_url(ID, "creneau/"), follow=False)
    assert page.status == 302
    assert location(page) == f"/rdvpref/reservation/demarche/{ID}/cgu/?error=errorSessionInvalide"


async def test_unknown_demarche_gets_a_404_page(serve, http_for) -> None:
    server = await serve(world(TARGET))
    for page in ("", "cgu/", "creneau/"):
        response = await http_for(server).flow().get(rdv_url(999999, page), follow=False)
        assert response.status == 404
        assert "Page non trouvée" in response.text


# --- slot page states ------------------------------------------------------------------------------


async def slot_page(serve, http_for, w, query: str = ""):
    server = await serve(w)
    flow = http_for(server).flow()
    await pass_captcha(flow, ID)
    return await flow.get(rdv_url(ID, "creneau/" + query))


async def test_creneau_embeds_an_empty_state_when_no_slot_is_free(serve, http_for) -> None:
    page = await slot_page(serve, http_for, world(TARGET))
    data = vue_data(page)
    assert data["tranches"] == []
    assert data["isDisplayCalendar"] is False
    assert data["premiereDispo"] == ""
    assert re.search(r'"critere":\{[^}]*"datePremiereDispo":""\}', page.text)
    heading = LexborHTMLParser(page.text).css_first("#titreAucunCreneau")
    assert heading is not None
    assert heading.text(strip=True) == "Aucun créneau disponible"
    assert 50_000 <= len(page.body) <= 100_000


async def test_creneau_embeds_the_free_slots_of_the_week_when_slots_exist(serve, http_for, t0) -> None:
    first = t0 + timedelta(days=1, hours=1, minutes=30)  # Tuesday 05/05 09:30 Paris
    slots = [
        slot(11, TARGET, first),
        slot(12, TARGET, first + timedelta(minutes=20)),
        slot(13, TARGET, first + timedelta(days=8)),
    ]
    page = await slot_page(serve, http_for, world(TARGET, slots=slots))
    data = vue_data(page)
    assert data["tranches"] == [
        {"trhId": 11, "dateLocale": "05/05/2026", "minutesDebut": 570},
        {"trhId": 12, "dateLocale": "05/05/2026", "minutesDebut": 590},
    ]
    assert data["premierJour"] == "04/05/2026"
    assert data["premiereDispo"] == "05/05/2026"
    assert data["isDisplayCalendar"] is True
    assert data["isCurrentMinWeek"] is True
    assert data["isCurrentMaxWeek"] is False
    assert data["nombreDeJour"] == 5
    critere = data["critere"]
    assert isinstance(critere, dict)
    assert critere["datePremiereDispo"] == "05/05/2026"
    assert critere["dateMin"] == "04/05/2026"
    assert "Aucun créneau disponible" not in page.text


async def test_creneau_hides_taken_past_and_not_yet_visible_slots(serve, http_for, clock, t0) -> None:
    start = t0 + timedelta(days=2)
    slots = [
        slot(1, TARGET, start, taken_at=t0 - timedelta(minutes=1)),
        slot(2, TARGET, t0 - timedelta(hours=1)),
        slot(3, TARGET, start, visible_from=t0 + timedelta(minutes=10)),
    ]
    w = world(TARGET, slots=slots)
    server = await serve(w)
    flow = http_for(server).flow()
    await pass_captcha(flow, ID)
    assert vue_data(await flow.get(rdv_url(ID, "creneau/")))["tranches"] == []
    clock.advance(600)
    assert [t["trhId"] for t in vue_data(await flow.get(rdv_url(ID, "creneau/")))["tranches"]] == [3]  # type: ignore[index, union-attr]
    w.take(3, clock.advance(30))
    assert vue_data(await flow.get(rdv_url(ID, "creneau/")))["tranches"] == []


async def test_creneau_opens_on_the_first_available_week_and_navigates_by_premier_jour(serve, http_for, t0) -> None:
    later = t0 + timedelta(days=15, hours=2)  # Tuesday 19/05
    w = world(TARGET, slots=[slot(5, TARGET, later)])
    server = await serve(w)
    flow = http_for(server).flow()
    await pass_captcha(flow, ID)
    default = vue_data(await flow.get(rdv_url(ID, "creneau/")))
    assert default["premierJour"] == "18/05/2026"
    assert default["isCurrentMaxWeek"] is True
    empty_week = vue_data(await flow.get(rdv_url(ID, "creneau/?premierJour=06/05/2026")))
    assert empty_week["premierJour"] == "04/05/2026"
    assert empty_week["tranches"] == []
    assert empty_week["premiereDispo"] == "19/05/2026"  # "Prochaine disponibilité le 19/05/2026"
    clamped = vue_data(await flow.get(rdv_url(ID, "creneau/?premierJour=01/01/2030")))
    assert clamped["premierJour"] == "18/05/2026"


async def test_creneau_carries_publication_notices_when_batches_are_announced(serve, http_for, t0) -> None:
    at = datetime(2026, 5, 3, 9, 58, tzinfo=UTC)
    last = Publication(1, TARGET.id, at, at, (t0 + timedelta(days=14)).date())
    upcoming = Publication(
        2,
        TARGET.id,
        t0 + timedelta(days=3, hours=2, minutes=30),
        t0 + timedelta(days=3, hours=2, minutes=31),
        (t0 + timedelta(days=21)).date(),
        announced_at=t0 - timedelta(hours=2),
    )
    unannounced = Publication(
        3, TARGET.id, t0 + timedelta(days=1), t0 + timedelta(days=1), (t0 + timedelta(days=28)).date()
    )
    page = await slot_page(serve, http_for, world(TARGET, publications=[last, upcoming, unannounced]))
    data = vue_data(page)
    assert data["precedentePub"] == {
        "dateMin": "18/05/2026",
        "dateMax": "24/05/2026",
        "instantPublication": "03/05/2026 11:58",
    }
    assert data["prochainePub"] == {
        "dateMin": "25/05/2026",
        "dateMax": "31/05/2026",
        "instantPublication": "07/05/2026 10:30",
    }
    assert data["isDisplayCalendar"] is False
    assert data["critere"]["dateMax"] == "24/05/2026"  # type: ignore[index]


async def test_creneau_shows_a_batch_only_from_its_visible_instant(serve, http_for, clock, t0) -> None:
    instant = t0 + timedelta(hours=2)
    pub = Publication(
        1, TARGET.id, instant, instant + timedelta(seconds=40), (t0 + timedelta(days=7)).date(), announced_at=t0
    )
    slots = [
        slot(i, TARGET, t0 + timedelta(days=8, minutes=20 * i), visible_from=instant + timedelta(seconds=40))
        for i in range(1, 4)
    ]
    w = world(TARGET, slots=slots, publications=[pub], session_lifetime_s=10_000)
    server = await serve(w)
    flow = http_for(server).flow()
    await pass_captcha(flow, ID)
    before = vue_data(await flow.get(rdv_url(ID, "creneau/")))
    assert before["tranches"] == []
    assert before["prochainePub"] is not None
    clock.set(instant + timedelta(seconds=39))
    assert vue_data(await flow.get(rdv_url(ID, "creneau/")))["tranches"] == []
    clock.set(instant + timedelta(seconds=41))
    after = vue_data(await flow.get(rdv_url(ID, "creneau/")))
    assert len(after["tranches"]) == 3  # type: ignore[arg-type]
    assert after["prochainePub"] is None
    assert after["precedentePub"] is not None


async def test_slot_page_hook_serves_the_page_without_a_session(serve, http_for, t0) -> None:
    w = world(TARGET, slots=[slot(1, TARGET, t0 + timedelta(days=1))])
    server = await serve(w)
    page = await http_for(server).flow().get(f"https://{RDV}/__sim__/rdvpref/{ID}/creneau/")
    assert page.status == 200
    assert 'src="/__sim__/static/js/rdv-choix-tranche.js"' in page.text
    script = await http_for(server).flow().get(f"https://{RDV}/__sim__/static/js/rdv-choix-tranche.js")
    assert script.status == 200
    assert "celulleHeader" in script.text
