# SPDX-License-Identifier: AGPL-3.0-or-later
"""`/metrics`: loopback only by default, a bearer token when one is set, and the outbox gauges read from
the store at scrape time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx2
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from creneau.detector import DetectorState, detect
from creneau.types import Observation, Outcome, Slot

from .kit import BASE, WebKit
from .people import TARGET, email_channel, sign_in, watch


def _client(kit: WebKit, host: str) -> httpx2.AsyncClient:
    transport = httpx2.ASGITransport(app=kit.app, client=(host, 40000), raise_app_exceptions=False)
    return httpx2.AsyncClient(transport=transport, base_url=BASE)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition, keyed by (name, sorted labels)."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"], ids=["ipv4", "ipv6"])
async def test_metrics_answers_this_machine_when_no_token_is_set(kit: WebKit, host: str) -> None:
    async with _client(kit, host) as client:
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "creneau_checks_total" in response.text


@pytest.mark.parametrize("host", ["203.0.113.7", "10.0.0.2", "testclient"], ids=["public", "private", "name"])
async def test_metrics_hides_from_other_machines_when_no_token_is_set(kit: WebKit, host: str) -> None:
    async with _client(kit, host) as client:
        response = await client.get("/metrics")
    assert response.status_code == 404
    assert "creneau_" not in response.text


@pytest.mark.parametrize(
    ("authorization", "status"),
    [(None, 401), ("Bearer wrong-token", 401), ("Basic czNjcmV0", 401), ("Bearer s3cret-token-0123", 200)],
    ids=["none", "wrong", "basic", "right"],
)
async def test_metrics_wants_the_bearer_token_when_one_is_set(
    kit: WebKit, authorization: str | None, status: int
) -> None:
    kit.settings.metrics_token = SecretStr("s3cret-token-0123")
    headers = {"authorization": authorization} if authorization else {}
    async with _client(kit, "203.0.113.7") as client:
        response = await client.get("/metrics", headers=headers)
    assert response.status_code == status
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")


async def test_metrics_reads_the_outbox_backlog_from_the_store(kit: WebKit) -> None:
    person = await sign_in(kit, "someone@example.org")
    await watch(person, kit.store)
    await email_channel(person, kit.store)
    now = kit.clock.now()
    slot = Slot(datetime(2026, 5, 12, 7, 0, tzinfo=UTC), guichet="1")
    (transition,) = detect(DetectorState(), Observation(TARGET, now, Outcome.SLOTS_AVAILABLE, "t", (slot,))).transitions
    await kit.store.outbox.open_opening_and_enqueue(transition, now=now)
    kit.clock.advance(90)
    found = samples((await kit.client.get("/metrics")).text)
    assert found[("creneau_outbox_backlog", (("status", "pending"),))] == 1
    assert found[("creneau_outbox_backlog", (("status", "dead"),))] == 0
    assert found[("creneau_outbox_oldest_pending_seconds", ())] == pytest.approx(timedelta(seconds=90).total_seconds())
    await person.client.aclose()
