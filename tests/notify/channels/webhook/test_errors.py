# SPDX-License-Identifier: AGPL-3.0-or-later
"""Webhook answers: 410 Gone disables; other 4xx fail one delivery; 408/429/5xx and timeouts retry."""

from __future__ import annotations

import pytest

from creneau.notify.channels.webhook.config import WebhookConfig
from creneau.notify.channels.webhook.errors import PERMANENT
from creneau.notify.channels.webhook.transport import WebhookTransport
from creneau.notify.errors import PermanentError, TransientError
from creneau.notify.fakes.webhook import WebhookSink
from creneau.notify.message import Alert


def test_webhook_known_errors_are_410_gone_only() -> None:
    assert [(entry.code, entry.status) for entry in PERMANENT] == [("webhook.gone", 410)]


@pytest.mark.parametrize("body", ["", "endpoint removed", '{"error":"gone"}'], ids=["empty", "text", "json"])
async def test_webhook_send_disables_the_channel_when_the_endpoint_answers_410(
    transport: WebhookTransport, sink: WebhookSink, config: WebhookConfig, alert: Alert, body: str
) -> None:
    sink.answers["/hook"] = (410, body, {})

    with pytest.raises(PermanentError) as caught:
        await transport.send(alert, config, locale="fr")

    assert caught.value.disable_channel
    assert caught.value.code == "webhook.gone"


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422], ids=str)
async def test_webhook_send_keeps_the_channel_when_another_4xx_is_answered(
    transport: WebhookTransport, sink: WebhookSink, config: WebhookConfig, alert: Alert, status: int
) -> None:
    sink.answers["/hook"] = (status, "nope", {})

    with pytest.raises(PermanentError) as caught:
        await transport.send(alert, config, locale="fr")

    assert not caught.value.disable_channel
    assert caught.value.code == f"webhook.{status}"


@pytest.mark.parametrize(
    ("status", "headers", "retry_after"),
    [(408, {}, None), (429, {"Retry-After": "7"}, 7.0), (500, {}, None), (503, {"Retry-After": "30"}, 30.0)],
    ids=["408", "429", "500", "503"],
)
async def test_webhook_send_is_transient_when_the_receiver_is_busy_or_failing(
    transport: WebhookTransport,
    sink: WebhookSink,
    config: WebhookConfig,
    alert: Alert,
    status: int,
    headers: dict[str, str],
    retry_after: float | None,
) -> None:
    sink.answers["/hook"] = (status, "", headers)

    with pytest.raises(TransientError) as caught:
        await transport.send(alert, config, locale="fr")

    assert caught.value.retry_after_s == retry_after


async def test_webhook_send_does_not_follow_redirects_when_the_receiver_answers_3xx(
    transport: WebhookTransport, sink: WebhookSink, config: WebhookConfig, alert: Alert
) -> None:
    sink.answers["/hook"] = (307, "", {"Location": "http://169.254.169.254/latest/meta-data/"})

    with pytest.raises(PermanentError) as caught:
        await transport.send(alert, config, locale="fr")

    assert caught.value.code == "webhook.redirect"
    assert len(sink.received) == 1


async def test_webhook_send_is_transient_when_the_receiver_does_not_answer_in_time(
    sink: WebhookSink, config: WebhookConfig, alert: Alert
) -> None:
    from .conftest import make_transport

    transport = make_transport(allow_private=True, timeout_s=0.2)
    sink.held.add("/hook")
    try:
        with pytest.raises(TransientError) as caught:
            await transport.send(alert, config, locale="fr")
    finally:
        sink.release.set()
        await transport.close()

    assert caught.value.code == "webhook.timeout"
