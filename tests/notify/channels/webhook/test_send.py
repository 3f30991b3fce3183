# SPDX-License-Identifier: AGPL-3.0-or-later
"""Webhook against the sink on a real port: schema v1 body, HMAC signature with timestamp, idempotency."""

from __future__ import annotations

import json

import pytest

from creneau.notify.base import Locale
from creneau.notify.channels.webhook.config import WebhookConfig
from creneau.notify.channels.webhook.signature import sign, verify
from creneau.notify.channels.webhook.transport import WebhookTransport
from creneau.notify.fakes.webhook import WebhookSink
from creneau.notify.message import Alert, Message

from .conftest import SECRET


@pytest.mark.parametrize("locale", ["fr", "en"])
async def test_webhook_send_posts_a_signed_versioned_body_when_an_alert_is_sent(
    transport: WebhookTransport,
    sink: WebhookSink,
    config: WebhookConfig,
    alert: Alert,
    locale: Locale,
    expected: dict[str, list[str]],
    official_url: str,
) -> None:
    receipt = await transport.send(alert, config, locale=locale)

    [got] = sink.received
    assert got.verified
    body = got.json
    assert (body["version"], body["type"], body["locale"]) == (1, "alert", locale)
    assert body["booking_url"] == official_url
    assert body["target"]["office"] == "Préfecture de l'Isère"
    assert body["slots"][0]["start"] == "2026-05-05T09:30:00+02:00"
    assert body["slots_total"] == 3
    for phrase in expected[locale]:
        assert phrase in body["text"], phrase
    assert got.headers["Idempotency-Key"] == alert.key == body["idempotency_key"]
    assert got.headers["X-Creneau-Delivery"] == str(alert.id)
    assert got.headers["X-Creneau-Event"] == "alert"
    assert receipt.provider_id == "r1"


async def test_webhook_send_repeats_the_same_body_and_key_when_the_delivery_is_retried(
    transport: WebhookTransport, sink: WebhookSink, config: WebhookConfig, alert: Alert
) -> None:
    await transport.send(alert, config, locale="fr")
    await transport.send(alert, config, locale="fr")

    first, second = sink.received
    assert first.body == second.body
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]


async def test_webhook_send_posts_each_notice_when_the_watch_changes(
    transport: WebhookTransport, sink: WebhookSink, config: WebhookConfig, notices: list[Message]
) -> None:
    for notice in notices:
        await transport.send(notice, config, locale="en")

    bodies = [r.json for r in sink.received]
    assert [b["type"] for b in bodies] == ["target_unavailable", "human_check", "channel_disabled"]
    assert bodies[0]["reason"] == "paused"
    assert bodies[2]["channel"] == {"kind": "telegram", "destination": "chat 12…89"}
    assert all(r.verified for r in sink.received)


def test_webhook_signature_verifies_only_when_body_timestamp_and_secret_match() -> None:
    body, secret, ts = b'{"a":1}', SECRET.encode(), 1_780_000_000
    header = sign(secret, ts, body)

    assert verify(secret, str(ts), header, body, now=ts + 10)
    assert not verify(secret, str(ts), header, body + b" ", now=ts)
    assert not verify(secret, str(ts + 1), header, body, now=ts)  # the timestamp is signed
    assert not verify(b"another-secret-value", str(ts), header, body, now=ts)
    assert not verify(secret, str(ts), header, body, now=ts + 301)  # replayed too late
    assert not verify(secret, None, header, body, now=ts)


async def test_webhook_sink_marks_a_delivery_unverified_when_signed_with_another_secret(
    transport: WebhookTransport, sink: WebhookSink, alert: Alert
) -> None:
    other = WebhookConfig(url=sink.endpoint(), secret="not-the-sink-secret-at-all")

    await transport.send(alert, other, locale="fr")

    assert not sink.received[0].verified


def test_webhook_config_hides_the_secret_when_shown(config: WebhookConfig) -> None:
    assert SECRET not in repr(config)
    assert SECRET not in str(config)
    assert SECRET not in config.model_dump_json()
    assert SECRET not in config.redacted()
    assert json.loads(config.model_dump_json())["secret"] == "**********"
