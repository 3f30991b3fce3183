# SPDX-License-Identifier: AGPL-3.0-or-later
"""The fakes speak their protocols strictly, and all four run together for the demo: one alert, four inboxes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import aiohttp
import pytest

from creneau.config import load_settings
from creneau.notify.fakes.providers import FakeProviders
from creneau.notify.fakes.telegram import FakeTelegram, parse_html
from creneau.notify.message import Alert
from creneau.notify.registry import Transports, parse_destination


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def test_fake_telegram_answers_get_me_when_the_token_is_right(
    telegram: FakeTelegram, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{telegram.url}/bot{telegram.token}/getMe") as response:
        body = await response.json()
    assert body["ok"]
    assert body["result"]["is_bot"]


@pytest.mark.parametrize(
    ("path", "status", "description"),
    [("/bot1:wrong/getMe", 401, "Unauthorized"), ("/bot{token}/deleteEverything", 404, "Not Found"),
     ("/nothing-here", 404, None)],
    ids=["token", "method", "path"],
)  # fmt: skip
async def test_fake_telegram_refuses_like_the_real_api_when_token_or_method_is_wrong(
    telegram: FakeTelegram, http: aiohttp.ClientSession, path: str, status: int, description: str | None
) -> None:
    async with http.post(telegram.url + path.format(token=telegram.token)) as response:
        assert response.status == status
        if description:
            assert await response.json() == {"ok": False, "error_code": status, "description": description}


async def test_fake_telegram_accepts_json_bodies_and_photos_when_posted(
    telegram: FakeTelegram, http: aiohttp.ClientSession
) -> None:
    base = f"{telegram.url}/bot{telegram.token}"
    async with http.post(f"{base}/sendMessage", json={"chat_id": 5, "text": "hello"}) as response:
        assert (await response.json())["result"]["text"] == "hello"
    async with http.post(
        f"{base}/sendPhoto", data={"chat_id": "6", "photo": "https://x.gouv.fr/p.png", "caption": "c"}
    ) as response:
        body = await response.json()
    assert body["result"]["photo"][0]["file_id"] == "photo-2"
    assert [m.method for m in telegram.messages] == ["sendMessage", "sendPhoto"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [("<b>ok</b> &amp; <a href='x'>y</a>", ""), ("<div>x</div>", 'Unsupported start tag "div"'),
     ("<b>x", "Can't find end tag"), ("<b><i>x</b></i>", "Unmatched end tag")],
    ids=["valid", "div", "unclosed", "crossed"],
)  # fmt: skip
def test_parse_html_applies_telegram_rules_when_parse_mode_is_html(text: str, problem: str) -> None:
    plain, error = parse_html(text)
    assert problem in error if problem else error == ""
    if not problem:
        assert plain == "ok & y"


async def test_fake_telegram_answers_400_when_the_html_is_invalid(
    telegram: FakeTelegram, http: aiohttp.ClientSession
) -> None:
    data = {"chat_id": 5, "text": "<div>x</div>", "parse_mode": "HTML"}
    async with http.post(f"{telegram.url}/bot{telegram.token}/sendMessage", json=data) as response:
        body = await response.json()
    assert response.status == 400
    assert body["description"].startswith("Bad Request: can't parse entities")


async def test_fake_providers_receive_one_alert_per_channel_when_every_kind_is_used(alert: Alert) -> None:
    async with FakeProviders(webhook_secret="whsec-0123456789abcdef") as fakes, aiohttp.ClientSession() as http:
        settings = load_settings(**fakes.settings_overrides())
        destinations = {
            "email": {"address": "camille@example.org"},
            "telegram": {"chat": 42},
            "ntfy": {"topic": "creneau-isere-titres", "scope": "target"},
            "webhook": {"url": fakes.webhook.endpoint("/hook"), "secret": "whsec-0123456789abcdef"},
        }
        transports = Transports(settings, http)
        try:
            for kind, data in destinations.items():
                transport = await transports.get(kind)
                await transport.send(alert, parse_destination(kind, data), locale="fr")
        finally:
            await transports.close()

        await fakes.smtp.messages.wait_for(1)
        assert len(fakes.telegram.sent_to(42)) == 1
        assert len(fakes.ntfy.on("creneau-isere-titres")) == 1
        assert fakes.webhook.received[0].verified
        assert json.loads(fakes.webhook.received[0].body)["booking_url"] == alert.booking_url
