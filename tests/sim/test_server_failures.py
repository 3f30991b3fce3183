# SPDX-License-Identifier: AGPL-3.0-or-later
"""Failure modes on the simulator: every scripted episode, the rate rules per client IP, and the public page
builders (checked against the project's own failure classifier)."""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import replace
from datetime import timedelta

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from creneau.sim.model import Episode, EpisodeKind, RateRules
from creneau.sim.sites import failures
from creneau.sources.common import classify_failure
from creneau.sources.errors import SourceError
from creneau.sources.http import Http
from creneau.types import Outcome, System

from .server_kit import (
    ANTS,
    ESSONNE,
    NO_RULES,
    NO_SLOT_SENTENCE,
    RDV,
    ants_target,
    legacy_target,
    legacy_to_plannings,
    pass_captcha,
    rdv_target,
    rdv_url,
    world,
)

FORM = legacy_target(23014, ESSONNE)
OTHER_FORM = legacy_target(14056, ESSONNE, tid="other")
RDV_TARGET = rdv_target()
TERMS = f"https://{ESSONNE}/booking/create/23014/0"
SURCHARGE_SHA256 = "b5ddcfa5a8f4bd623875bea2df95b21e5c4d4ac672b8e5e21d9fac86f7b3e8af"


def episode(kind: EpisodeKind, t0, **kw) -> Episode:
    return Episode(kind, t0 - timedelta(minutes=1), t0 + timedelta(minutes=10), **kw)


@pytest.mark.parametrize(
    ("kind", "status", "marker", "outcome"),
    [
        (EpisodeKind.FORBIDDEN, 403, "Request forbidden by administrative rules.", Outcome.BLOCKED),
        (EpisodeKind.RATE_LIMITED, 429, "429 Too Many Requests", Outcome.RATE_LIMITED),
        (EpisodeKind.BAD_GATEWAY, 502, "502 Bad Gateway", Outcome.UNAVAILABLE),
        (EpisodeKind.OVERLOADED, 200, "Service surchargé", Outcome.RATE_LIMITED),
        (EpisodeKind.MAINTENANCE, 503, "Site indisponible", Outcome.UNAVAILABLE),
        (EpisodeKind.CHALLENGE, 200, "Incapsula incident ID", Outcome.UNAVAILABLE),
    ],
    ids=lambda v: v.value if isinstance(v, EpisodeKind) else None,
)
async def test_scripted_episode_replaces_the_legacy_page(serve, http_for, t0, kind, status, marker, outcome) -> None:
    server = await serve(world(FORM, episodes=[episode(kind, t0, host=ESSONNE)]))
    page = await http_for(server).flow().get(TERMS)
    assert page.status == status
    assert marker in page.text
    verdict = classify_failure(page.status, page.text)
    assert verdict is not None
    assert verdict.outcome is outcome


async def test_rate_limited_episode_sends_retry_after(serve, http_for, t0) -> None:
    server = await serve(world(FORM, episodes=[episode(EpisodeKind.RATE_LIMITED, t0, retry_after_s=120)]))
    page = await http_for(server).flow().get(TERMS)
    assert page.headers["Retry-After"] == "120"


async def test_overloaded_episode_serves_the_real_capture_byte_for_byte(serve, http_for, t0) -> None:
    server = await serve(world(FORM, episodes=[episode(EpisodeKind.OVERLOADED, t0, target_id=FORM.id)]))
    page = await http_for(server).flow().get(TERMS)
    assert len(page.body) == 414
    assert hashlib.sha256(page.body).hexdigest() == SURCHARGE_SHA256
    assert "il n'y plus de créneaux" in page.text


async def test_challenge_on_rdv_prefecture_is_a_turnstile_page(serve, http_for, t0) -> None:
    server = await serve(world(RDV_TARGET, episodes=[episode(EpisodeKind.CHALLENGE, t0, host=RDV)]))
    page = await http_for(server).flow().get(rdv_url(RDV_TARGET.demarche_id, "cgu/"))
    assert page.status == 403
    assert "Vérification de sécurité" in page.text
    assert 'class="cf-turnstile"' in page.text
    assert page.headers["cf-mitigated"] == "challenge"
    assert classify_failure(page.status, page.text).outcome is Outcome.UNAVAILABLE  # type: ignore[union-attr]


@pytest.mark.parametrize("offset_min", [-2, 11], ids=["before", "after"])
async def test_episode_plays_only_inside_its_window(serve, http_for, clock, t0, offset_min) -> None:
    server = await serve(world(FORM, episodes=[episode(EpisodeKind.FORBIDDEN, t0, host=ESSONNE)]))
    clock.set(t0 + timedelta(minutes=offset_min))
    assert (await http_for(server).flow().get(TERMS)).status == 200


async def test_target_episode_leaves_the_other_forms_of_the_host_alone(serve, http_for, t0) -> None:
    server = await serve(world(FORM, OTHER_FORM, episodes=[episode(EpisodeKind.MAINTENANCE, t0, target_id=FORM.id)]))
    flow = http_for(server).flow()
    assert (await flow.get(TERMS)).status == 503
    assert (await flow.get(f"https://{ESSONNE}/booking/create/14056/0")).status == 200


async def test_host_episode_leaves_the_other_hosts_alone(serve, http_for, t0) -> None:
    server = await serve(world(FORM, RDV_TARGET, episodes=[episode(EpisodeKind.BAD_GATEWAY, t0, host=ESSONNE)]))
    flow = http_for(server).flow()
    assert (await flow.get(TERMS)).status == 502
    assert (await flow.get(rdv_url(RDV_TARGET.demarche_id))).status == 200


async def test_slow_episode_answers_after_its_delay(serve, http_for, t0) -> None:
    server = await serve(world(FORM, episodes=[episode(EpisodeKind.SLOW, t0, delay_s=0.3)]))
    started = time.monotonic()
    page = await http_for(server).flow().get(TERMS)
    assert page.status == 200
    assert time.monotonic() - started >= 0.3


async def test_timeout_episode_hangs_until_the_client_gives_up(serve, http_for, t0) -> None:
    server = await serve(world(FORM, episodes=[episode(EpisodeKind.TIMEOUT, t0)]))
    started = time.monotonic()
    with pytest.raises(SourceError):
        await http_for(server, timeout_s=0.3).flow().get(TERMS)
    assert time.monotonic() - started < 5


async def test_truncated_episode_cuts_the_page_inside_a_tag(serve, http_for, t0) -> None:
    server = await serve(world(FORM, episodes=[episode(EpisodeKind.TRUNCATED, t0)]))
    flow = http_for(server).flow()
    await legacy_to_plannings(flow, ESSONNE, 23014)
    page = await flow.get(f"https://{ESSONNE}/booking/create/23014/2")
    assert page.status == 200
    assert 10_000 < len(page.body) < 45_000
    assert re.search(rb"<[^<>]{0,3}$", page.body)
    assert b"</html>" not in page.body


async def test_layout_changed_episode_removes_every_known_marker(serve, http_for, t0) -> None:
    episodes = [episode(EpisodeKind.LAYOUT_CHANGED, t0)]
    server = await serve(world(FORM, RDV_TARGET, ants_target("lille", 50.6, 3.0), episodes=episodes))
    flow = http_for(server).flow()
    await legacy_to_plannings(flow, ESSONNE, 23014)
    legacy = await flow.get(f"https://{ESSONNE}/booking/create/23014/2")
    assert legacy.status == 200
    assert NO_SLOT_SENTENCE not in legacy.text
    assert "FormBookingCreate" not in legacy.text
    rdv_flow = http_for(server).flow()
    slots = await pass_captcha(rdv_flow, RDV_TARGET.demarche_id)
    assert slots.path.endswith("/creneau/")
    for marker in ('"critere"', "rdv-choix-tranche", "Aucun créneau disponible", "tranches", "trhId"):
        assert marker not in slots.text
    query = (
        "longitude=3&latitude=50.6&start_date=2026-05-04&end_date=2026-05-30&radius_km=5&reason=CNI&documents_number=1"
    )
    ants = await flow.get(f"https://{ANTS}/api/SlotsFromPosition?{query}")
    assert not isinstance(json.loads(ants.text), list)


# --- by rate -------------------------------------------------------------------------------------------------


async def test_legacy_answers_502_for_a_minute_after_a_burst(serve, http_for, clock) -> None:
    server = await serve(world(FORM, rules=RateRules()))
    flow = http_for(server).flow()
    for _ in range(10):
        assert (await flow.get(TERMS)).status == 200
        clock.advance(0.5)
    assert (await flow.get(TERMS)).status == 502
    clock.advance(59)
    assert (await flow.get(TERMS)).status == 502
    clock.advance(2)
    assert (await flow.get(TERMS)).status == 200


async def test_legacy_bans_the_ip_with_request_forbidden_after_200_requests_an_hour(serve, http_for, clock) -> None:
    server = await serve(world(FORM, rules=RateRules(legacy_ban_s=7200)))
    flow = http_for(server).flow()
    for _ in range(200):
        assert (await flow.get(TERMS)).status == 200
        clock.advance(2)  # 0.5 req/s: under the burst rule
    banned = await flow.get(TERMS)
    assert banned.status == 403
    assert "Request forbidden by administrative rules" in banned.text
    clock.advance(3600)
    assert (await flow.get(TERMS)).status == 403
    clock.advance(3601)
    assert (await flow.get(TERMS)).status == 200


async def test_rdv_prefecture_shows_the_edge_challenge_above_30_requests_a_minute(serve, http_for, clock) -> None:
    server = await serve(world(RDV_TARGET, rules=RateRules()))
    flow = http_for(server).flow()
    for _ in range(30):
        assert (await flow.get(rdv_url(RDV_TARGET.demarche_id))).status == 200
        clock.advance(1)
    challenged = await flow.get(rdv_url(RDV_TARGET.demarche_id))
    assert challenged.status == 403
    assert "cf-turnstile" in challenged.text
    clock.advance(299)
    assert "cf-turnstile" in (await flow.get(rdv_url(RDV_TARGET.demarche_id))).text
    clock.advance(302)
    assert (await flow.get(rdv_url(RDV_TARGET.demarche_id))).status == 200


@pytest.mark.parametrize(("rate", "expected"), [(0.0, {200}), (1.0, {502})], ids=["never", "always"])
async def test_background_5xx_rate_applies_to_every_host(serve, http_for, rate, expected) -> None:
    server = await serve(world(FORM, RDV_TARGET, rules=replace(NO_RULES, background_5xx_rate=rate)))
    flow = http_for(server).flow()
    statuses = {(await flow.get(TERMS)).status for _ in range(5)}
    statuses |= {(await flow.get(rdv_url(RDV_TARGET.demarche_id))).status for _ in range(5)}
    assert statuses == expected


async def test_rate_rules_count_each_client_ip_separately(serve, clock) -> None:
    server = await serve(world(FORM, rules=RateRules()))
    overrides = server.route_overrides
    first = Http(user_agent="a", route_overrides=overrides)
    second_session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(local_addr=("127.0.0.2", 0)), cookie_jar=aiohttp.DummyCookieJar()
    )
    second = Http(user_agent="b", route_overrides=overrides, session=second_session)
    try:
        for _ in range(11):
            last = await first.flow().get(TERMS)
        assert last.status == 502
        assert (await second.flow().get(TERMS)).status == 200
    finally:
        await first.close()
        await second_session.close()


# --- public page builders ------------------------------------------------------------------------------------


def test_service_surcharge_page_is_the_real_capture() -> None:
    body = failures.service_surcharge_page()
    assert len(body) == 414
    assert hashlib.sha256(body).hexdigest() == SURCHARGE_SHA256


@pytest.mark.parametrize("vendor", ["cloudflare", "imperva"])
def test_challenge_pages_are_classified_unavailable(vendor) -> None:
    status, _, body = failures.challenge_page(vendor, "www.example.gouv.fr", "seed")
    verdict = classify_failure(status, body.decode())
    assert verdict is not None
    assert verdict.outcome is Outcome.UNAVAILABLE


@pytest.mark.parametrize("system", list(System), ids=str)
def test_changed_layout_page_has_no_known_marker(system) -> None:
    body = failures.changed_layout_page(system).decode()
    for marker in ("critere", "rdv-choix-tranche", "FormBookingCreate", "Il n'existe plus", "available_slots", "trhId"):
        assert marker not in body


@given(st.binary(min_size=16, max_size=4000), st.floats(0.05, 0.95))
def test_truncate_html_returns_a_strict_prefix(body: bytes, fraction: float) -> None:
    cut = failures.truncate_html(body, fraction)
    assert body.startswith(cut)
    assert len(cut) < len(body)
