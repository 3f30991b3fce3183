# SPDX-License-Identifier: AGPL-3.0-or-later
"""The legacy booking module on the simulator: steps, eZSESSID, plannings, the exact no-slot page, the PP
variant and the AJAX week fragment."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from PIL import Image
from selectolax.lexbor import LexborHTMLParser

from .server_kit import ESSONNE, NO_SLOT_SENTENCE, PP, legacy_target, legacy_to_plannings, slot, world

PLANNINGS = (("23018", "Guichet A"), ("23198", "Guichet B"), ("23199", "Guichet C"))
FORM = legacy_target(23014, ESSONNE, PLANNINGS)
BASE = f"https://{ESSONNE}/booking/create/23014"


def form_text(html: str) -> str:
    form = LexborHTMLParser(html).css_first("form#FormBookingCreate")
    assert form is not None
    return " ".join(form.text().split())


async def to_calendar(flow, base: str, planning: str):
    """POST /1 for a planning with slots and walk on to the /4 calendar (through /3 when the form has it)."""
    page = await flow.post(f"{base}/1", {"planning": planning, "nextButton": "Etape suivante"})
    if page.path.endswith("/3"):
        assert LexborHTMLParser(page.text).css_first("input[name=nextButton]").attributes["value"] == "Etape suivante"
        page = await flow.post(f"{base}/3", {"nextButton": "Etape suivante"})
    assert page.path.endswith("/4"), page.url
    return page


async def test_terms_page_has_the_checkbox_and_button_and_sets_ezsessid(serve, http_for) -> None:
    server = await serve(world(FORM))
    flow = http_for(server).flow()
    for url in (BASE, f"{BASE}/0"):
        page = await flow.get(url, follow=False)
        assert page.status == 200
        tree = LexborHTMLParser(page.text)
        box = tree.css_first("input#condition")
        assert box is not None
        assert box.attributes["name"] == "condition"
        button = tree.css_first("#submit_Booking input[name=nextButton]")
        assert button is not None
        assert button.attributes["value"] == "Effectuer une demande de rendez-vous"
        assert tree.css_first("img[src$='etape_1r.png']") is not None
    first = await http_for(server).flow().get(f"{BASE}/0", follow=False)
    assert re.fullmatch(r"eZSESSID=[0-9a-v]{26}; Path=/", first.headers["Set-Cookie"])
    assert 50_000 <= len(first.body) <= 80_000


async def test_accepting_the_terms_redirects_to_step_1_and_lists_every_planning(serve, http_for) -> None:
    server = await serve(world(FORM))
    flow = http_for(server).flow()
    await flow.get(f"{BASE}/0")
    posted = await flow.post(
        f"{BASE}/0", {"condition": "on", "nextButton": "Effectuer une demande de rendez-vous"}, follow=False
    )
    assert posted.status == 302
    assert posted.headers["Location"] == f"{BASE}/1"
    page = await flow.get(f"{BASE}/1")
    tree = LexborHTMLParser(page.text)
    radios = tree.css("input[type=radio][name=planning]")
    assert [(r.attributes["value"], r.attributes["id"]) for r in radios] == [(p, f"planning{p}") for p, _ in PLANNINGS]
    labels = {node.attributes["for"]: node.text() for node in tree.css("label")}
    assert labels["planning23198"] == "Guichet B"
    assert tree.css_first("input[name=nextButton]").attributes["value"] == "Etape suivante"


async def test_terms_without_the_checkbox_stay_on_step_0_with_an_error(serve, http_for) -> None:
    server = await serve(world(FORM))
    flow = http_for(server).flow()
    await flow.get(f"{BASE}/0")
    page = await flow.post(f"{BASE}/0", {"nextButton": "Effectuer une demande de rendez-vous"}, follow=False)
    assert page.status == 200
    assert "Vous devez accepter les conditions" in page.text


async def test_no_slot_page_has_the_exact_sentence_as_the_whole_form_text(serve, http_for) -> None:
    server = await serve(world(FORM))
    flow = http_for(server).flow()
    await legacy_to_plannings(flow, ESSONNE, 23014)
    posted = await flow.post(f"{BASE}/1", {"planning": "23018", "nextButton": "Etape suivante"}, follow=False)
    assert posted.status == 302
    assert posted.headers["Location"] == f"{BASE}/2"
    page = await flow.get(f"{BASE}/2")
    assert NO_SLOT_SENTENCE.encode() in page.body  # ASCII apostrophe, as served
    assert form_text(page.text) == NO_SLOT_SENTENCE
    tree = LexborHTMLParser(page.text)
    assert tree.css_first("form#FormBookingCreate").attributes["action"] == "/booking/create/23014/2"
    assert tree.css_first("input[name=finishButton]").attributes["value"] == "Terminer"
    assert [i.attributes["src"].rsplit("/", 1)[1] for i in tree.css("#Progress_Booking img")] == [
        "etape_1G.png",
        "etape_3.png",
        "etape_4.png",
        "etape_6.png",
        "etape_8.png",
        "etape_9.png",
    ]
    assert "dans l'Essonne" in page.text
    assert 50_000 <= len(page.body) <= 80_000


async def test_a_planning_with_slots_leads_to_the_calendar_and_its_week_fragment(serve, http_for, t0) -> None:
    start = t0 + timedelta(days=2, hours=1)  # Wednesday 06/05 09:00 Paris
    slots = [
        slot(1, FORM, start, planning="23198"),
        slot(2, FORM, start + timedelta(minutes=20), planning="23198"),
        slot(3, FORM, start + timedelta(days=14), planning="23198"),
        slot(4, FORM, start, planning="23199"),
    ]
    server = await serve(world(FORM, slots=slots))
    flow = http_for(server).flow()
    await legacy_to_plannings(flow, ESSONNE, 23014)
    page = await to_calendar(flow, BASE, "23198")
    tree = LexborHTMLParser(page.text)
    assert tree.css_first("form#FormBookingCreate").attributes["action"] == "/booking/create/23014/4"
    assert tree.css_first("input[name=nextButton]").attributes["value"] == "Première plage horaire libre"
    assert tree.css_first("img[src$='etape_4r.png']") is not None
    ajax = "/ezjscore/call/bookingserver::planning::assign::23014::23198::0"
    assert ajax in page.text
    week = await flow.get(f"https://{ESSONNE}{ajax}")
    fragment = LexborHTMLParser(week.text)
    assert fragment.css_first("th[colspan='7']").text() == "4-10 mai"
    links = [a.attributes["href"] for a in fragment.css("td.libre a")]
    assert links == [
        f"{BASE}/5/{int(start.timestamp())}",
        f"{BASE}/5/{int((start + timedelta(minutes=20)).timestamp())}",
    ]
    assert all("libre" in a.text() for a in fragment.css("td.libre a"))
    assert fragment.css_first(".legende h4").text() == "Légende"
    assert fragment.css_first("a.nextWeek") is not None
    posted = await flow.post(f"https://{ESSONNE}{ajax}", {})  # a C# bot posts with an empty body
    assert posted.text == week.text


async def test_fragment_marks_the_last_bookable_week_by_leaving_out_the_next_link(serve, http_for, t0) -> None:
    start = t0 + timedelta(days=9)  # the week after this one
    server = await serve(world(FORM, slots=[slot(1, FORM, start, planning="23018")]))
    flow = http_for(server).flow()
    url = f"https://{ESSONNE}/ezjscore/call/bookingserver::planning::assign::23014::23018::"
    this_week = LexborHTMLParser((await flow.get(url + "0")).text)
    assert this_week.css("td.libre") == []
    assert this_week.css_first("a.nextWeek").attributes["href"].endswith("::7")
    last_week = LexborHTMLParser((await flow.get(url + "7")).text)
    assert len(last_week.css("td.libre a")) == 1
    assert last_week.css_first("a.nextWeek") is None
    assert last_week.css_first("span.nextWeek.inactive") is not None
    assert last_week.css_first("a.prevWeek").attributes["href"].endswith("::0")


async def test_first_free_button_leads_to_the_slot_link(serve, http_for, t0) -> None:
    start = t0 + timedelta(days=3)
    server = await serve(world(FORM, slots=[slot(1, FORM, start, planning="23018")]))
    flow = http_for(server).flow()
    await legacy_to_plannings(flow, ESSONNE, 23014)
    await to_calendar(flow, BASE, "23018")
    page = await flow.post(f"{BASE}/4", {"nextButton": "Première plage horaire libre"})
    assert page.path == f"/booking/create/23014/5/{int(start.timestamp())}"
    assert "jeudi 7 mai 2026 à 08:00" in page.text


async def test_single_planning_form_skips_the_planning_choice(serve, http_for, t0) -> None:
    single = legacy_target(801, "rdv.puy-de-dome.gouv.fr", (("809", "Accueil des étrangers"),))
    server = await serve(world(single))
    flow = http_for(server).flow()
    page = await legacy_to_plannings(flow, "rdv.puy-de-dome.gouv.fr", 801)
    assert page.path == "/booking/create/801/2"
    assert form_text(page.text) == NO_SLOT_SENTENCE
    assert "dans le Puy-de-Dôme" in page.text


async def test_prefecture_de_police_keeps_the_no_slot_sentence_on_step_1(serve, http_for) -> None:
    pp = legacy_target(989, PP, (("990", "Guichet 1"), ("1000", "Guichet 2")))
    server = await serve(world(pp))
    flow = http_for(server).flow()
    await legacy_to_plannings(flow, PP, 989)
    page = await flow.post(
        f"https://{PP}/booking/create/989/1", {"planning": "990", "nextButton": "Etape suivante"}, follow=False
    )
    assert page.status == 200
    assert form_text(page.text) == NO_SLOT_SENTENCE


async def test_prefecture_de_police_goes_straight_to_step_4_when_slots_exist(serve, http_for, t0) -> None:
    pp = legacy_target(989, PP, (("990", "Guichet 1"), ("1000", "Guichet 2")))
    server = await serve(world(pp, slots=[slot(1, pp, t0 + timedelta(days=1), planning="1000")]))
    flow = http_for(server).flow()
    await legacy_to_plannings(flow, PP, 989)
    page = await flow.post(
        f"https://{PP}/booking/create/989/1", {"planning": "1000", "nextButton": "Etape suivante"}, follow=False
    )
    assert page.headers["Location"] == f"https://{PP}/booking/create/989/4"


@pytest.mark.parametrize("step", ["1", "2", "3", "4", "5/1778137200"])
async def test_steps_redirect_to_step_0_when_there_is_no_session(serve, http_for, step) -> None:
    server = await serve(world(FORM))
    page = await http_for(server).flow().get(f"{BASE}/{step}", follow=False)
    assert page.status == 302
    assert page.headers["Location"] == f"{BASE}/0"


async def test_session_expires_after_the_idle_lifetime(serve, http_for, clock) -> None:
    server = await serve(world(FORM, session_lifetime_s=600))
    flow = http_for(server).flow()
    await legacy_to_plannings(flow, ESSONNE, 23014)
    clock.advance(601)
    page = await flow.get(f"{BASE}/1", follow=False)
    assert page.headers["Location"] == f"{BASE}/0"


async def test_unknown_form_or_planning_gets_a_404(serve, http_for) -> None:
    server = await serve(world(FORM))
    flow = http_for(server).flow()
    assert (await flow.get(f"https://{ESSONNE}/booking/create/1/0")).status == 404
    assert (
        await flow.get(f"https://{ESSONNE}/ezjscore/call/bookingserver::planning::assign::23014::1::0")
    ).status == 404


async def test_step_images_are_pngs(serve, http_for) -> None:
    server = await serve(world(FORM))
    page = (
        await http_for(server).flow().get(f"https://{ESSONNE}/extension/ezbooking/design/ezbooking/images/etape_4r.png")
    )
    assert Image.open(io.BytesIO(page.body)).size == (129, 45)
