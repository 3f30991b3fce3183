# SPDX-License-Identifier: AGPL-3.0-or-later
"""The shipped slot-picker script, run by Chromium on the slot page: the DOM a person sees (§1.3b)."""

from __future__ import annotations

import asyncio
import shutil
from datetime import timedelta

import pytest
from selectolax.lexbor import LexborHTMLParser

from creneau.sim.model import Publication

from .server_kit import rdv_target, slot, world

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
TARGET = rdv_target()


async def rendered(server, query: str = "") -> LexborHTMLParser:
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed")
    url = f"{server.base_url}/__sim__/rdvpref/{TARGET.demarche_id}/creneau/{query}"
    args = ("--headless", "--no-sandbox", "--disable-gpu", "--window-size=1280,900", "--dump-dom", url)
    proc = await asyncio.create_subprocess_exec(
        CHROMIUM, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
    )
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=60)
    return LexborHTMLParser(out.decode())


def texts(tree: LexborHTMLParser, selector: str) -> list[str]:
    return [" ".join(node.text().split()) for node in tree.css(selector)]


async def test_picker_renders_days_radios_and_hhmm_labels_when_slots_exist(serve, t0) -> None:
    tuesday = t0 + timedelta(days=1, hours=1, minutes=30)  # 05/05 09:30 Paris
    slots = [slot(i, TARGET, tuesday + timedelta(minutes=20 * (i - 1))) for i in range(1, 9)]
    server = await serve(world(TARGET, slots=[*slots, slot(20, TARGET, tuesday + timedelta(days=1))]))
    tree = await rendered(server)
    assert texts(tree, "h2.fr-h4") == ["Choisissez votre créneau"]
    assert texts(tree, "h3.celulleHeader") == [
        "lundi 04/05",
        "mardi 05/05",
        "mercredi 06/05",
        "jeudi 07/05",
        "vendredi 08/05",
    ]
    items = tree.css("li.row.cellule.justify-center.radio-card")
    assert len(items) == 7  # 6 rows shown on Tuesday ("Voir plus de créneaux"), 1 on Wednesday
    first = items[0].css_first("input[type=radio][name=trhId]")
    assert first.attributes["id"] == "trhId_1"
    assert first.attributes["data-value"] == "1"
    assert items[0].css_first("label.fr-label").attributes["for"] == "trhId_1"
    assert texts(tree, "li.radio-card label.fr-label")[:3] == ["09h30", "09h50", "10h10"]
    assert ["even" in (li.attributes["class"] or "") for li in items[:4]] == [False, True, False, True]
    assert "Voir plus de créneaux" in texts(tree, "button")
    assert tree.css_first("rdv-choix-tranche") is None  # replaced by the rendered component


async def test_picker_renders_the_no_slot_texts_and_italic_notices(serve, t0) -> None:
    upcoming = Publication(
        1,
        TARGET.id,
        t0 + timedelta(days=2, hours=2, minutes=30),
        t0 + timedelta(days=2, hours=2, minutes=31),
        (t0 + timedelta(days=14)).date(),
        announced_at=t0 - timedelta(hours=1),
    )
    server = await serve(world(TARGET, publications=[upcoming]))
    tree = await rendered(server)
    assert "Veuillez réessayer ultérieurement." in texts(tree, ".rdv-choix-tranche p")
    assert texts(tree, "span.fr-text--italic") == [
        "Prochaine mise en ligne de nouveaux rendez-vous : le 06/05/2026 à 10:30",
        "pour des créneaux de la semaine du 18/05/2026",
    ]
    assert texts(tree, "#titreAucunCreneau") == ["Aucun créneau disponible"]
    assert tree.css("li.radio-card") == []


async def test_picker_renders_the_empty_week_and_last_week_texts(serve, t0) -> None:
    slots = [slot(1, TARGET, t0 + timedelta(days=1)), slot(2, TARGET, t0 + timedelta(days=15))]  # 05/05, 19/05
    last = Publication(1, TARGET.id, t0 - timedelta(days=1), t0 - timedelta(days=1), (t0 + timedelta(days=21)).date())
    server = await serve(world(TARGET, slots=slots, publications=[last]))
    empty_week = await rendered(server, "?premierJour=11/05/2026")
    assert texts(empty_week, "p.aucun-creneau") == ["Aucun créneau disponible sur cette semaine"]
    assert "Prochaine disponibilité le 19/05/2026" in texts(empty_week, "button")
    assert empty_week.css("span.fr-text--italic") == []  # notices only when hidden or on the last week
    last_week = await rendered(server, "?premierJour=25/05/2026")
    message = last_week.css_first("p.aucun-creneau")
    assert message is not None
    assert "Aucun créneau disponible à partir de cette date.<br>Veuillez réessayer ultérieurement." in message.html
    assert texts(last_week, "span.fr-text--italic")[0].startswith(
        "Dernière mise en ligne de rendez-vous : le 03/05/2026 à "
    )
