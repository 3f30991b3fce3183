# SPDX-License-Identifier: AGPL-3.0-or-later
"""Hand-built worlds and browser-like walks shared by the simulator server tests."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import datetime, timedelta

from creneau.sim.model import Episode, Planning, Publication, RateRules, SimSlot, SimTarget, World
from creneau.sources.http import Flow, Page
from creneau.types import System

RDV = "www.rdv-prefecture.interieur.gouv.fr"
PISTE = "https://api.piste.gouv.fr/piste/captcha/simple-captcha-endpoint"
ESSONNE = "www.essonne.gouv.fr"
PP = "pprdv.interieur.gouv.fr"
ANTS = "api.rendezvouspasseport.ants.gouv.fr"
NO_SLOT_SENTENCE = (
    "Il n'existe plus de plage horaire libre pour votre demande de rendez-vous. Veuillez recommencer ultérieurement."
)
NO_RULES = RateRules(
    legacy_burst_rps=0, legacy_hourly_limit=0, rdvpref_challenge_per_min=0, ants_per_min=0, background_5xx_rate=0
)


def rdv_target(demarche_id: int = 3762, tid: str = "isere") -> SimTarget:
    return SimTarget(tid, System.RDVPREF, RDV, demarche_id, name="Titre de séjour - première demande", city="Grenoble")


def legacy_target(
    form_id: int = 23014,
    host: str = ESSONNE,
    plannings: Iterable[tuple[str, str]] = (("23018", "Guichet A"),),
    tid: str = "",
) -> SimTarget:
    return SimTarget(
        tid or f"legacy-{form_id}",
        System.LEGACY,
        host,
        form_id,
        plannings=tuple(Planning(pid, label) for pid, label in plannings),
        name="NATURALISATIONS - Module d'inscriptions",
    )


def ants_target(tid: str, lat: float, lon: float, city: str = "Lille") -> SimTarget:
    return SimTarget(
        tid,
        System.ANTS,
        ANTS,
        1000 + len(tid),
        name=f"Mairie de {city}",
        latitude=lat,
        longitude=lon,
        city=city,
        zip_code="59000",
    )


def slot(
    sid: int,
    target: SimTarget,
    start: datetime,
    *,
    visible_from: datetime | None = None,
    taken_at: datetime | None = None,
    planning: str | None = None,
) -> SimSlot:
    return SimSlot(sid, target.id, start, visible_from or start - timedelta(days=30), taken_at, planning_id=planning)


def world(
    *targets: SimTarget,
    slots: Iterable[SimSlot] = (),
    publications: Iterable[Publication] = (),
    episodes: Iterable[Episode] = (),
    rules: RateRules = NO_RULES,
    seed: int = 7,
    session_lifetime_s: float = 1500.0,
    captcha_ttl_s: float = 300.0,
) -> World:
    return World(
        {t.id: t for t in targets},
        list(slots),
        list(publications),
        list(episodes),
        rules=rules,
        seed=seed,
        session_lifetime_s=session_lifetime_s,
        captcha_ttl_s=captcha_ttl_s,
    )


def rdv_url(demarche_id: int, page: str = "") -> str:
    return f"https://{RDV}/rdvpref/reservation/demarche/{demarche_id}/{page}"


async def new_captcha(flow: Flow, demarche_id: int) -> tuple[str, str]:
    """Open `/cgu/` and ask the captcha endpoint as the page's component does: (token, captchaId)."""
    cgu = await flow.get(rdv_url(demarche_id, "cgu/"))
    token = re.search(r'<rdv-captchetat token="([^"]+)"', cgu.text)
    assert token, "no rdv-captchetat token on /cgu/"
    fragment = await flow.get(f"{PISTE}?get=html&c=captchaFR", headers=bearer(token.group(1)))
    captcha_id = re.search(r'id="BDC_VCID_captchaFR" value="([0-9a-f]+)"', fragment.text)
    assert captcha_id, fragment.text
    return token.group(1), captcha_id.group(1)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def answer_of(flow: Flow, captcha_id: str) -> str:
    """The test hook: what the human would read on the image."""
    page = await flow.get(f"https://{RDV}/__sim__/captcha/{captcha_id}")
    assert page.status == 200
    return page.text


async def pass_captcha(flow: Flow, demarche_id: int) -> Page:
    """The whole human step: cgu → captcha → answer → `_validerCaptcha` (redirects followed)."""
    _, captcha_id = await new_captcha(flow, demarche_id)
    code = await answer_of(flow, captcha_id)
    return await flow.post(
        rdv_url(demarche_id, "_validerCaptcha"), {"captchaId": captcha_id, "captchaUsercode": code.lower()}
    )


def vue_data(page: Page) -> dict[str, object]:
    found = re.search(r"VertigoUi\.vueData = (\{.*?\});\n", page.text)
    assert found, "no embedded vueData"
    data: dict[str, object] = json.loads(found.group(1))
    return data


def location(page: Page) -> str:
    return page.headers.get("Location", "")


async def legacy_to_plannings(flow: Flow, host: str, form_id: int) -> Page:
    """Terms → accept: the `/1` page (or wherever a single planning leads)."""
    await flow.get(f"https://{host}/booking/create/{form_id}/0")
    return await flow.post(
        f"https://{host}/booking/create/{form_id}/0",
        {"condition": "on", "nextButton": "Effectuer une demande de rendez-vous"},
    )
