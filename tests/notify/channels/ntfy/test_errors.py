# SPDX-License-Identifier: AGPL-3.0-or-later
"""ntfy answers: rejected token, lost access and gone topics disable; other 4xx do not; 429/5xx retry."""

from __future__ import annotations

import pytest

from creneau.notify.channels.ntfy.config import NtfyConfig
from creneau.notify.channels.ntfy.errors import PERMANENT
from creneau.notify.channels.ntfy.transport import NtfyTransport
from creneau.notify.errors import PermanentError, TransientError
from creneau.notify.fakes.ntfy import NtfySink
from creneau.notify.message import Alert

TOPIC = NtfyConfig(topic="camille-8f3k2")

KNOWN_ANSWERS = {
    "ntfy.unauthorized": (401, 40101, "unauthorized"),
    "ntfy.forbidden": (403, 40301, "forbidden"),
    "ntfy.gone": (410, 41001, "gone"),
}


def test_ntfy_known_errors_have_one_sample_each() -> None:
    assert {entry.code for entry in PERMANENT} == set(KNOWN_ANSWERS)


@pytest.mark.parametrize(("code", "answer"), list(KNOWN_ANSWERS.items()), ids=list(KNOWN_ANSWERS))
async def test_ntfy_send_disables_the_channel_when_the_topic_is_dead(
    transport: NtfyTransport, sink: NtfySink, alert: Alert, code: str, answer: tuple[int, int, str]
) -> None:
    sink.errors[TOPIC.topic] = answer

    with pytest.raises(PermanentError) as caught:
        await transport.send(alert, TOPIC, locale="fr")

    assert caught.value.disable_channel
    assert caught.value.code == code


async def test_ntfy_send_disables_the_channel_when_the_token_is_wrong(
    transport: NtfyTransport, sink: NtfySink, alert: Alert
) -> None:
    sink.protected[TOPIC.topic] = "tk_right"

    with pytest.raises(PermanentError) as caught:
        await transport.send(alert, NtfyConfig(topic=TOPIC.topic, token="tk_wrong"), locale="fr")

    assert caught.value.code == "ntfy.unauthorized"
    assert "tk_wrong" not in str(caught.value)


@pytest.mark.parametrize(
    "answer",
    [(403, 40399, "forbidden: something else"), (401, 40199, "unauthorized: other"), (400, 40009, "invalid")],
    ids=["403-unknown", "401-unknown", "400"],
)
async def test_ntfy_send_keeps_the_channel_when_the_error_is_unknown(
    transport: NtfyTransport, sink: NtfySink, alert: Alert, answer: tuple[int, int, str]
) -> None:
    sink.errors[TOPIC.topic] = answer

    with pytest.raises(PermanentError) as caught:
        await transport.send(alert, TOPIC, locale="fr")

    assert not caught.value.disable_channel


@pytest.mark.parametrize(
    "answer",
    [(429, 42901, "limit reached: too many requests"), (500, 50001, "internal server error"), (503, 50301, "down")],
    ids=["429", "500", "503"],
)
async def test_ntfy_send_is_transient_when_the_server_is_overloaded_or_failing(
    transport: NtfyTransport, sink: NtfySink, alert: Alert, answer: tuple[int, int, str]
) -> None:
    sink.errors[TOPIC.topic] = answer

    with pytest.raises(TransientError):
        await transport.send(alert, TOPIC, locale="fr")


async def test_ntfy_send_is_transient_when_the_server_is_unreachable(transport: NtfyTransport, alert: Alert) -> None:
    async with NtfySink() as gone:
        url = gone.url

    with pytest.raises(TransientError) as caught:
        await transport.send(alert, NtfyConfig(topic="t", server=url), locale="fr")

    assert caught.value.code == "ntfy.network"
