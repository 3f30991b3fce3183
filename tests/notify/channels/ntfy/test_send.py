# SPDX-License-Identifier: AGPL-3.0-or-later
"""ntfy against the sink on a real port: JSON publish content, per-target topics, tokens, the sink's protocol."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp
import pytest

from creneau.notify.base import Locale
from creneau.notify.channels.ntfy.config import NtfyConfig, target_topic
from creneau.notify.channels.ntfy.transport import NtfyTransport
from creneau.notify.fakes.ntfy import NtfySink
from creneau.notify.message import Alert, Message
from creneau.types import Office

TOPIC = NtfyConfig(topic="creneau-isere-titres", scope="target")


@pytest.mark.parametrize("locale", ["fr", "en"])
async def test_ntfy_send_publishes_the_alert_content_when_sent_to_a_topic(
    transport: NtfyTransport,
    sink: NtfySink,
    alert: Alert,
    locale: Locale,
    expected: dict[str, list[str]],
    official_url: str,
) -> None:
    receipt = await transport.send(alert, TOPIC, locale=locale)

    [published] = sink.on("creneau-isere-titres")
    for phrase in expected[locale]:
        assert phrase in published.message, phrase
    assert published.title is not None
    assert "Préfecture de l'Isère" in published.title
    assert published.click == official_url
    assert published.actions[0]["url"] == official_url
    assert published.priority == 4
    assert published.markdown
    assert "date" in published.tags
    assert receipt.provider_id == published.id


async def test_ntfy_send_uses_the_destination_server_and_token_when_configured(
    transport: NtfyTransport, http: aiohttp.ClientSession, alert: Alert
) -> None:
    async with NtfySink() as own:
        own.protected["camille-8f3k2"] = "tk_secret_token"
        config = NtfyConfig(topic="camille-8f3k2", server=own.url, token="tk_secret_token")

        await transport.send(alert, config, locale="fr")

        assert own.on("camille-8f3k2")[0].authorization == "Bearer tk_secret_token"


async def test_ntfy_send_publishes_notices_at_default_priority_when_the_watch_changes(
    transport: NtfyTransport, sink: NtfySink, notices: list[Message]
) -> None:
    for notice in notices:
        await transport.send(notice, TOPIC, locale="en")

    assert [m.priority for m in sink.messages] == [3, 3, 3]
    assert sink.messages[-1].click is None
    assert "bot was blocked by the user" in sink.messages[-1].message


async def test_ntfy_send_escapes_markdown_when_names_contain_it(
    transport: NtfyTransport, sink: NtfySink, alert_factory: Callable[..., Alert]
) -> None:
    office = Office(id="x", name="Préfecture *Paris* [75]", kind="prefecture", departement="75")

    await transport.send(alert_factory(office=office), TOPIC, locale="fr")

    assert r"Préfecture \*Paris\* \[75\]" in sink.messages[-1].message


async def test_ntfy_send_stays_under_4096_bytes_when_many_slots_are_seen(
    transport: NtfyTransport, sink: NtfySink, alert_factory: Callable[..., Alert]
) -> None:
    await transport.send(alert_factory(count=300), TOPIC, locale="fr")

    assert len(sink.messages[-1].message.encode()) <= 4096
    assert "autres créneaux sur le site officiel" in sink.messages[-1].message


@pytest.mark.parametrize(
    ("target_id", "topic"),
    [("isere-titres", "creneau-isere-titres"), ("38/rdvpref:3762", "creneau-38-rdvpref-3762")],
    ids=["plain", "punctuation"],
)
def test_target_topic_is_a_valid_topic_when_built_from_a_target_id(target_id: str, topic: str) -> None:
    assert target_topic("creneau-", target_id) == topic


def test_target_topic_stays_within_64_characters_when_the_target_id_is_long() -> None:
    topic = target_topic("creneau-", "x" * 200)
    assert len(topic) <= 64
    assert NtfyConfig(topic=topic).topic == topic


async def test_ntfy_sink_accepts_header_publishing_when_posting_to_the_topic(
    sink: NtfySink, http: aiohttp.ClientSession
) -> None:
    headers = {"Title": "=?UTF-8?B?Q3LDqW5lYXU=?=", "Priority": "high", "Tags": "date,warning",
               "Click": "https://www.isere.gouv.fr/", "Actions": "view, Réserver, https://www.isere.gouv.fr/, clear=true",
               "Markdown": "yes"}  # fmt: skip
    async with http.put(f"{sink.url}/alerts", data=b"Bonjour", headers=headers) as response:
        body = await response.json()

    [published] = sink.on("alerts")
    assert (published.title, published.priority, published.tags) == ("Créneau", 4, ("date", "warning"))
    assert published.actions[0] == {
        "action": "view",
        "label": "Réserver",
        "url": "https://www.isere.gouv.fr/",
        "clear": "true",
    }
    assert body["id"] == published.id
    async with http.get(f"{sink.url}/alerts/json", params={"poll": "1"}) as response:
        assert (await response.text()).count("\n") == 1


async def test_ntfy_sink_answers_ntfy_404_when_the_path_is_unknown(sink: NtfySink, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{sink.url}/a/b/c") as response:
        assert response.status == 404
        assert (await response.json())["code"] == 40401
